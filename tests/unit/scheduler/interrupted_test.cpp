// An attempt its worker reports `interrupted` (killed by a stop signal the worker saw: Slurm
// signals every process at once) is not a failure: it runs again, and uses up no retry.
#include <gtest/gtest.h>

#include "scheduler/scheduler.hpp"
#include "support/recording.hpp"
#include "unit/scheduler/scheduler_fixtures.hpp"

namespace fastgpu::scheduler {
namespace {

using fixtures::make_job;
using fixtures::with_costs;
using fixtures::worker;

comm::WorkerReport finished(const comm::TaskLaunch& launch, AttemptStatus status, double start, double end) {
  comm::WorkerReport report;
  report.started.push_back({launch.task, launch.attempt, start});
  report.finished.push_back(fixtures::result(launch, status, start, end));
  report.finished.back().signal = 15;
  report.finished.back().error = "killed by signal 15 (SIGTERM)";
  return report;
}

SchedulerConfig one_greedy_worker() {
  SchedulerConfig config;
  config.policy = Policy::greedy;
  config.expected_workers = 1;
  return config;
}

TEST(InterruptedByItsWorker, RunsAgainWithoutUsingARetry) {
  testing::RecordingSink out;
  testing::MemoryResults results;
  auto subtasks = with_costs({1});
  subtasks[0].retries = 0;  // a failure would be final
  Scheduler scheduler(make_job(), subtasks, one_greedy_worker(), out, results);
  scheduler.on_worker_joined(worker(1), 0.0);
  const auto first = out.launches_to(1).at(0);
  scheduler.on_report(1, finished(first, AttemptStatus::interrupted, 0.0, 0.5), 0.5);
  EXPECT_FALSE(scheduler.finished());
  const auto again = out.launches_to(1);
  ASSERT_EQ(again.size(), 1u) << "placed again";
  EXPECT_EQ(again[0].attempt, first.attempt + 1);
  scheduler.on_report(1, finished(again[0], AttemptStatus::done, 0.6, 1.0), 1.0);
  EXPECT_TRUE(scheduler.finished());
  EXPECT_EQ(results.tasks.at(0).status, TaskStatus::done);
  ASSERT_EQ(results.attempts.size(), 2u);
  EXPECT_EQ(results.attempts[0].status, AttemptStatus::interrupted);
}

TEST(InterruptedByItsWorker, WhileTheRunStopsItStaysPendingForResume) {
  testing::RecordingSink out;
  testing::MemoryResults results;
  Scheduler scheduler(make_job(), with_costs({1}), one_greedy_worker(), out, results);
  scheduler.on_worker_joined(worker(1), 0.0);
  const auto first = out.launches_to(1).at(0);
  scheduler.stop(0.2, "SIGTERM");
  scheduler.on_report(1, finished(first, AttemptStatus::interrupted, 0.0, 0.5), 0.5);
  EXPECT_EQ(results.tasks.at(0).status, TaskStatus::pending);
  EXPECT_TRUE(out.launches_to(1).empty()) << "nothing starts while the run stops";
}

}  // namespace
}  // namespace fastgpu::scheduler
