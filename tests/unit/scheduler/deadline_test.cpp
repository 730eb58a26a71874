// Deadlines: no subtask starts unless predicted to end in time; idle with nothing that fits is
// "out of time"; without a deadline nothing changes.
#include <gtest/gtest.h>

#include "scheduler/scheduler.hpp"
#include "support/recording.hpp"
#include "unit/scheduler/scheduler_fixtures.hpp"

namespace fastgpu::scheduler {
namespace {

using testing::MemoryResults;
using testing::RecordingSink;
using fixtures::make_job;
using fixtures::with_costs;
using fixtures::worker;


SchedulerConfig config_for(Policy policy, int workers) {
  SchedulerConfig config;
  config.policy = policy;
  config.prefetch = 1;
  config.expected_workers = workers;
  config.speculation = false;
  return config;
}

class DeadlineTest : public ::testing::TestWithParam<Policy> {
 protected:
  RecordingSink out;
  MemoryResults results;
};

TEST_P(DeadlineTest, ASubtaskPredictedToEndAfterTheDeadlineIsNotStarted) {
  // 0.1 s and 100 s: with 10 s left only the short one may start.
  Scheduler scheduler(make_job(), with_costs({100, 0.1}), config_for(GetParam(), 1), out, results);
  scheduler.set_deadline(10);
  scheduler.on_worker_joined(worker(1), 0.0);
  auto launches = out.launches_to(1);
  ASSERT_EQ(launches.size(), 1u);
  EXPECT_EQ(launches[0].task, 1u);
  EXPECT_FALSE(scheduler.out_of_time());
  scheduler.on_report(1, fixtures::finished(launches[0], 0.0, 0.1), 0.1);
  EXPECT_TRUE(out.launches_to(1).empty());  // the long one never goes
  EXPECT_TRUE(scheduler.out_of_time());
  const auto holds = std::count_if(results.events.begin(), results.events.end(),
                                   [](const EventRecord& e) { return e.kind == "deadline_hold"; });
  EXPECT_EQ(holds, 1);
}

TEST_P(DeadlineTest, WithoutADeadlineEverythingRuns) {
  Scheduler scheduler(make_job(), with_costs({100, 0.1}), config_for(GetParam(), 1), out, results);
  scheduler.on_worker_joined(worker(1), 0.0);
  auto first = out.launches_to(1);
  ASSERT_EQ(first.size(), 1u);
  scheduler.on_report(1, fixtures::finished(first[0], 0.0, 1.0), 1.0);
  EXPECT_EQ(out.launches_to(1).size(), 1u);
  EXPECT_FALSE(scheduler.out_of_time());
}

TEST_P(DeadlineTest, NotOutOfTimeBeforeEveryWorkerJoined) {
  Scheduler scheduler(make_job(), with_costs({100}), config_for(GetParam(), 2), out, results);
  scheduler.set_deadline(10);
  EXPECT_FALSE(scheduler.out_of_time());
  scheduler.on_worker_joined(worker(1), 0.0);
  EXPECT_FALSE(scheduler.out_of_time());
  scheduler.on_worker_joined(worker(2), 0.0);
  EXPECT_TRUE(scheduler.out_of_time());
}

INSTANTIATE_TEST_SUITE_P(Policies, DeadlineTest, ::testing::Values(Policy::cost, Policy::greedy, Policy::static_),
                         [](const auto& info) {
                           return std::string(info.param == Policy::cost     ? "cost"
                                              : info.param == Policy::greedy ? "greedy"
                                                                             : "static");
                         });

TEST(DeadlineLongQueue, ShortSubtasksBehindManyLongOnesStillRun) {
  // 100 long subtasks first in the queue (beyond one scan), then a short one.
  std::vector<double> costs(100, 1000.0);
  costs.push_back(0.5);
  RecordingSink out;
  MemoryResults results;
  Scheduler scheduler(make_job(), with_costs(costs), config_for(Policy::cost, 1), out, results);
  scheduler.set_deadline(10);
  scheduler.on_worker_joined(worker(1), 0.0);
  const auto launches = out.launches_to(1);
  ASSERT_EQ(launches.size(), 1u);
  EXPECT_EQ(launches[0].task, 100u);
}

}  // namespace
}  // namespace fastgpu::scheduler
