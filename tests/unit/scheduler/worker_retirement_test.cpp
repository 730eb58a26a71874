// A worker whose device became unusable retires (WorkerRetired): nothing more is placed on it,
// the attempts it returned run elsewhere, and with no worker left what remains fails for good.
#include <gtest/gtest.h>

#include <algorithm>

#include "scheduler/scheduler.hpp"
#include "support/recording.hpp"
#include "unit/scheduler/scheduler_fixtures.hpp"

namespace fastgpu::scheduler {
namespace {

using fixtures::make_job;
using fixtures::with_costs;
using fixtures::worker;

SchedulerConfig two_deep(Policy policy, int workers) {
  SchedulerConfig config = fixtures::config_for(policy, workers);
  config.prefetch = 2;
  config.speculation = false;
  return config;
}

/// `n` subtasks of cost 1 that may be retried once (the attempt that lost the device fails).
std::vector<Subtask> retried_once(std::size_t n) {
  std::vector<Subtask> subtasks = with_costs(std::vector<double>(n, 1.0));
  for (Subtask& subtask : subtasks) subtask.retries = 1;
  return subtasks;
}

std::size_t events_of(const testing::MemoryResults& results, const std::string& kind) {
  return static_cast<std::size_t>(std::ranges::count_if(results.events, [&](const EventRecord& e) { return e.kind == kind; }));
}

struct WorkerRetirementTest : ::testing::TestWithParam<Policy> {
  testing::RecordingSink out;
  testing::MemoryResults results;

  /// As a worker does: its first launch fails with the device lost; it retires, returning the
  /// rest of what it was sent, then reports the failed attempt.
  void lose_device(Scheduler& scheduler, int rank, double now) {
    std::vector<comm::TaskLaunch> sent = out.launches_to(rank);
    ASSERT_FALSE(sent.empty());
    comm::TaskResult lost = fixtures::result(sent[0], AttemptStatus::failed, now, now);
    lost.error = "kernel 'k': illegal address; the device is unusable, so this worker retires";
    comm::WorkerRetired retired{lost.error, {}};
    for (std::size_t i = 1; i < sent.size(); ++i) retired.returned.push_back({sent[i].task, sent[i].attempt});
    scheduler.on_worker_retired(rank, retired, now);
    comm::WorkerReport report;
    report.started.push_back({sent[0].task, sent[0].attempt, now});
    report.finished.push_back(lost);
    scheduler.on_report(rank, report, now);
  }

  /// Runs everything sent to `rank` to done, one second each, until nothing more comes.
  void run_all_on(Scheduler& scheduler, int rank, double& now) {
    for (auto sent = out.launches_to(rank); !sent.empty(); sent = out.launches_to(rank)) {
      for (const comm::TaskLaunch& launch : sent) {
        scheduler.on_report(rank, comm::WorkerReport{{{launch.task, launch.attempt, now}}, {}}, now);
        scheduler.on_report(rank, fixtures::finished(launch, now, now + 1), now + 1);
        now += 1;
      }
    }
  }
};

TEST_P(WorkerRetirementTest, NothingMoreGoesToTheRetiredWorkerAndTheRestRunsElsewhere) {
  Scheduler scheduler(make_job(), retried_once(8), two_deep(GetParam(), 2), out, results);
  scheduler.on_worker_joined(worker(1), 0);
  scheduler.on_worker_joined(worker(2), 0);
  lose_device(scheduler, 1, 0.5);
  EXPECT_EQ(scheduler.retired_workers(), std::vector<std::int32_t>{1});
  EXPECT_EQ(events_of(results, "worker_retired"), 1u);

  double now = 1;
  run_all_on(scheduler, 2, now);
  EXPECT_TRUE(out.launches_to(1).empty()) << "a retired worker is given nothing";
  for (const TaskRecord& task : scheduler.tasks()) EXPECT_EQ(task.status, TaskStatus::done) << task.id;
  ASSERT_TRUE(scheduler.finished());
  const auto& failed = std::ranges::find_if(results.attempts, [](const AttemptRecord& a) { return a.status == AttemptStatus::failed; });
  ASSERT_NE(failed, results.attempts.end());
  EXPECT_EQ(failed->worker, 1);
}

TEST_P(WorkerRetirementTest, ALateRetirementMessageChangesNothingTwice) {
  Scheduler scheduler(make_job(), retried_once(4), two_deep(GetParam(), 2), out, results);
  scheduler.on_worker_joined(worker(1), 0);
  scheduler.on_worker_joined(worker(2), 0);
  lose_device(scheduler, 1, 0.5);
  scheduler.on_worker_retired(1, comm::WorkerRetired{"retired earlier", {}}, 0.6);
  EXPECT_EQ(events_of(results, "worker_retired"), 1u);
  double now = 1;
  run_all_on(scheduler, 2, now);
  EXPECT_TRUE(scheduler.finished());
  EXPECT_EQ(scheduler.counts().done, 4u);
}

TEST_P(WorkerRetirementTest, WithEveryWorkerRetiredWhatIsLeftFails) {
  Scheduler scheduler(make_job(), retried_once(5), two_deep(GetParam(), 1), out, results);
  scheduler.on_worker_joined(worker(1), 0);
  lose_device(scheduler, 1, 0.5);
  ASSERT_TRUE(scheduler.finished()) << "nothing may stay pending with no worker to run it";
  EXPECT_EQ(scheduler.counts().failed, 5u);
  ASSERT_FALSE(scheduler.failures().empty());
  EXPECT_NE(scheduler.failures().back().error.find("no worker left"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Policies, WorkerRetirementTest, ::testing::Values(Policy::cost, Policy::greedy, Policy::static_),
                         [](const auto& info) { return std::string(to_string(info.param)) == "static" ? std::string("static_policy") : std::string(to_string(info.param)); });

}  // namespace
}  // namespace fastgpu::scheduler
