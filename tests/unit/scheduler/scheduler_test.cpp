#include "scheduler/scheduler.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "support/recording.hpp"

namespace fastgpu::scheduler {
namespace {

using testing::MemoryResults;
using testing::RecordingSink;

JobSpec make_job() {
  JobSpec job;
  job.name = "unit";
  job.output = "unit.h5";
  job.output_dir = "/tmp/unit.outputs";
  job.task.command = {"prog", "{x}", "{task_id}", "{attempt}"};
  job.task.output_tail_bytes = 100;
  return job;
}

std::vector<Subtask> make_subtasks(int n, int retries = 0) {
  std::vector<Subtask> subtasks;
  for (int i = 0; i < n; ++i) {
    Subtask s;
    s.id = "x=" + std::to_string(i);
    s.name = "x=" + std::to_string(i);
    s.params = {{"x", std::int64_t{i}}};
    s.retries = retries;
    subtasks.push_back(s);
  }
  return subtasks;
}

SchedulerConfig greedy(int prefetch, int expected_workers = 0) {
  SchedulerConfig config;
  config.policy = Policy::greedy;
  config.prefetch = prefetch;
  config.expected_workers = expected_workers;
  return config;
}

WorkerRecord worker(int rank) { return {rank, "host", rank - 1, "cpu", "", ""}; }

comm::WorkerReport finished(const comm::TaskLaunch& launch, AttemptStatus status, int exit_code, double start,
                            double end) {
  comm::WorkerReport report;
  comm::TaskResult result;
  result.task = launch.task;
  result.attempt = launch.attempt;
  result.status = status;
  result.exit_code = exit_code;
  result.start = start;
  result.end = end;
  result.error = status == AttemptStatus::done ? "" : "exit code " + std::to_string(exit_code);
  result.stderr_tail = "boom\n";
  report.finished.push_back(result);
  return report;
}

struct SchedulerTest : ::testing::Test {
  RecordingSink out;
  MemoryResults results;
};

TEST_F(SchedulerTest, FillsEachWorkerUpToThePrefetchDepthInOneMessage) {
  Scheduler scheduler(make_job(), make_subtasks(5), greedy(2), out, results);
  scheduler.on_worker_joined(worker(1), 0.0);
  scheduler.on_worker_joined(worker(2), 0.0);
  ASSERT_EQ(out.sent.size(), 2u);  // one batched AssignTasks per worker
  auto to1 = out.launches_to(1), to2 = out.launches_to(2);
  ASSERT_EQ(to1.size(), 2u);
  ASSERT_EQ(to2.size(), 2u);
  EXPECT_EQ(to1[0].task, 0u);
  EXPECT_EQ(to1[1].task, 1u);
  EXPECT_EQ(to2[0].task, 2u);
  EXPECT_EQ(results.workers.size(), 2u);
}

TEST_F(SchedulerTest, UntilEveryExpectedWorkerJoinedEachGetsOneAttempt) {
  Scheduler scheduler(make_job(), make_subtasks(6), greedy(2, 2), out, results);
  scheduler.on_worker_joined(worker(1), 0.0);
  EXPECT_EQ(out.launches_to(1).size(), 1u);
  scheduler.on_worker_joined(worker(2), 0.0);
  EXPECT_EQ(out.launches_to(1).size(), 1u);  // now topped up to the prefetch depth
  EXPECT_EQ(out.launches_to(2).size(), 2u);
}

TEST_F(SchedulerTest, IdleWorkersGetWorkBeforeBusyOnesQueueMore) {
  Scheduler scheduler(make_job(), make_subtasks(8), greedy(3), out, results);
  scheduler.on_worker_joined(worker(1), 0.0);
  scheduler.on_worker_joined(worker(2), 0.0);
  auto first = out.launches_to(1);
  ASSERT_EQ(first.size(), 3u);
  ASSERT_EQ(out.launches_to(2).size(), 3u);
  // Worker 1 finishes all three; the two remaining tasks: one for each slot it frees, in order.
  comm::WorkerReport report;
  for (const auto& launch : first) report.finished.push_back(finished(launch, AttemptStatus::done, 0, 0, 1).finished[0]);
  scheduler.on_report(1, report, 1.0);
  EXPECT_EQ(out.launches_to(1).size(), 2u);
  EXPECT_TRUE(out.launches_to(2).empty());
}

TEST_F(SchedulerTest, RendersTheLaunchWithParametersBuiltinsAndEnvironment) {
  Scheduler scheduler(make_job(), make_subtasks(1), greedy(2), out, results);
  scheduler.on_worker_joined(worker(1), 0.0);
  auto launches = out.launches_to(1);
  ASSERT_EQ(launches.size(), 1u);
  EXPECT_EQ(launches[0].launch.argv, (std::vector<std::string>{"prog", "0", "x=0", "0"}));
  EXPECT_EQ(launches[0].tail_bytes, 100u);
  auto& env = launches[0].launch.env;
  auto has = [&](const std::string& k, const std::string& v) {
    return std::find(env.begin(), env.end(), std::pair{k, v}) != env.end();
  };
  EXPECT_TRUE(has("FASTGPU_TASK_ID", "x=0"));
  EXPECT_TRUE(has("FASTGPU_ATTEMPT", "0"));
  EXPECT_TRUE(has("FASTGPU_JOB", "unit"));
  EXPECT_TRUE(has("FASTGPU_OUTPUT_DIR", "/tmp/unit.outputs"));
}

TEST_F(SchedulerTest, TopsUpAWorkerAsItReportsAndFinishesWhenAllAreDone) {
  Scheduler scheduler(make_job(), make_subtasks(3), greedy(1), out, results);
  scheduler.on_worker_joined(worker(1), 0.0);
  for (int i = 0; i < 3; ++i) {
    auto launches = out.launches_to(1);
    ASSERT_EQ(launches.size(), 1u) << "step " << i;
    EXPECT_EQ(launches[0].task, static_cast<std::uint32_t>(i));
    EXPECT_FALSE(scheduler.finished());
    scheduler.on_report(1, finished(launches[0], AttemptStatus::done, 0, i, i + 1.0), i + 1.0);
  }
  EXPECT_TRUE(scheduler.finished());
  EXPECT_EQ(scheduler.counts().done, 3u);
  ASSERT_EQ(results.attempts.size(), 3u);
  EXPECT_EQ(results.tasks.at(2).status, TaskStatus::done);
  EXPECT_DOUBLE_EQ(results.tasks.at(2).end, 3.0);
}

TEST_F(SchedulerTest, MarksARunningTaskWhenTheWorkerReportsItsStart) {
  Scheduler scheduler(make_job(), make_subtasks(1), greedy(1), out, results);
  scheduler.on_worker_joined(worker(1), 0.0);
  auto launch = out.launches_to(1).at(0);
  comm::WorkerReport report;
  report.started.push_back({launch.task, launch.attempt, 0.5});
  scheduler.on_report(1, report, 0.6);
  EXPECT_EQ(results.tasks.at(0).status, TaskStatus::running);
  EXPECT_DOUBLE_EQ(results.tasks.at(0).start, 0.5);
  EXPECT_EQ(results.tasks.at(0).worker, 1);
}

TEST_F(SchedulerTest, RetriesAFailedTaskOnAnotherWorkerThenGivesUp) {
  Scheduler scheduler(make_job(), make_subtasks(1, /*retries=*/1), greedy(1), out, results);
  scheduler.on_worker_joined(worker(1), 0.0);
  scheduler.on_worker_joined(worker(2), 0.0);
  auto first = out.launches_to(1).at(0);
  EXPECT_TRUE(out.launches_to(2).empty());
  scheduler.on_report(1, finished(first, AttemptStatus::failed, 3, 0, 1), 1.0);
  // Worker 1 failed it: the retry must not go back to worker 1 while worker 2 is there.
  // ... and goes at once to worker 2, which is idle and will not report on its own.
  EXPECT_TRUE(out.launches_to(1).empty());
  auto second = out.launches_to(2).at(0);
  EXPECT_EQ(second.task, 0u);
  EXPECT_EQ(second.attempt, 1);
  EXPECT_EQ(second.launch.argv.back(), "1");  // {attempt}
  EXPECT_FALSE(scheduler.finished());
  scheduler.on_report(2, finished(second, AttemptStatus::failed, 3, 1, 2), 2.0);
  EXPECT_TRUE(scheduler.finished());
  EXPECT_EQ(results.tasks.at(0).status, TaskStatus::failed);
  EXPECT_EQ(results.tasks.at(0).attempts, 2);
  EXPECT_EQ(results.tasks.at(0).exit_code, 3);
  ASSERT_EQ(scheduler.failures().size(), 1u);
  EXPECT_EQ(scheduler.failures()[0].stderr_tail, "boom\n");
  auto kinds = std::count_if(results.events.begin(), results.events.end(),
                             [](const EventRecord& e) { return e.kind == "retry"; });
  EXPECT_EQ(kinds, 1);
}

TEST_F(SchedulerTest, RetriesOnTheSameWorkerWhenItIsTheOnlyOne) {
  Scheduler scheduler(make_job(), make_subtasks(1, 2), greedy(1), out, results);
  scheduler.on_worker_joined(worker(1), 0.0);
  auto first = out.launches_to(1).at(0);
  scheduler.on_report(1, finished(first, AttemptStatus::timed_out, 143, 0, 1), 1.0);
  auto second = out.launches_to(1).at(0);
  EXPECT_EQ(second.attempt, 1);
  scheduler.on_report(1, finished(second, AttemptStatus::done, 0, 1, 2), 2.0);
  EXPECT_TRUE(scheduler.finished());
  EXPECT_EQ(results.tasks.at(0).status, TaskStatus::done);
  EXPECT_EQ(results.attempts.size(), 2u);
  EXPECT_EQ(results.attempts[0].status, AttemptStatus::timed_out);
}

TEST_F(SchedulerTest, AFailureDoesNotStopTheOtherSubtasks) {
  Scheduler scheduler(make_job(), make_subtasks(3), greedy(3), out, results);
  scheduler.on_worker_joined(worker(1), 0.0);
  auto launches = out.launches_to(1);
  ASSERT_EQ(launches.size(), 3u);
  scheduler.on_report(1, finished(launches[0], AttemptStatus::spawn_failed, 127, 0, 0), 0.1);
  scheduler.on_report(1, finished(launches[1], AttemptStatus::done, 0, 0, 1), 1.0);
  scheduler.on_report(1, finished(launches[2], AttemptStatus::done, 0, 1, 2), 2.0);
  EXPECT_TRUE(scheduler.finished());
  EXPECT_EQ(scheduler.counts().failed, 1u);
  EXPECT_EQ(scheduler.counts().done, 2u);
}

TEST_F(SchedulerTest, IgnoresALateDuplicateResult) {
  Scheduler scheduler(make_job(), make_subtasks(2), greedy(1), out, results);
  scheduler.on_worker_joined(worker(1), 0.0);
  auto launch = out.launches_to(1).at(0);
  scheduler.on_report(1, finished(launch, AttemptStatus::done, 0, 0, 1), 1.0);
  scheduler.on_report(1, finished(launch, AttemptStatus::done, 0, 0, 1), 1.0);
  EXPECT_FALSE(scheduler.finished());
  EXPECT_EQ(scheduler.counts().done, 1u);
}

TEST_F(SchedulerTest, AJobWithNoSubtasksIsFinishedAtOnce) {
  Scheduler scheduler(make_job(), {}, greedy(2), out, results);
  EXPECT_TRUE(scheduler.finished());
}

}  // namespace
}  // namespace fastgpu::scheduler
