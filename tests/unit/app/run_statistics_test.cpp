// What `inspect` computes from a results file: efficiency against the lower bound, failure
// causes, migrations and speculative copies, remaining work, GPU-hours and cost. Results are
// built in memory with known answers.
#include "app/run_statistics.hpp"

#include <gtest/gtest.h>

namespace fastgpu::app {
namespace {

WorkerRecord worker(std::int32_t rank) {
  WorkerRecord w;
  w.rank = rank;
  w.host = "node";
  w.device = "cuda:" + std::to_string(rank - 1);
  return w;
}

AttemptRecord attempt(std::int64_t task, std::int32_t rank, double start, double end,
                      AttemptStatus status = AttemptStatus::done, std::string error = "") {
  AttemptRecord a;
  a.task = task;
  a.worker = rank;
  a.start = start;
  a.end = end;
  a.status = status;
  a.error = std::move(error);
  return a;
}

TaskRecord task(std::string id, TaskStatus status, double cost = 1) {
  TaskRecord t;
  t.id = std::move(id);
  t.status = status;
  t.cost = cost;
  return t;
}

// Two workers, four subtasks of 2 s each (one fails once first), makespan 0..5.
Results two_workers() {
  Results r;
  r.workers = {worker(1), worker(2)};
  for (int i = 0; i < 4; ++i) r.tasks.push_back(task("t" + std::to_string(i), TaskStatus::done));
  r.attempts = {attempt(0, 1, 0, 2), attempt(1, 2, 0, 1, AttemptStatus::failed, "exit code 1"),
                attempt(1, 2, 1, 3), attempt(2, 1, 2, 4), attempt(3, 2, 3, 5)};
  return r;
}

TEST(Efficiency, WithEqualSpeedsIsTotalWorkOverWorkersAgainstTheMakespan) {
  const auto stats = compute_statistics(two_workers());
  EXPECT_DOUBLE_EQ(stats.makespan_s, 5);
  EXPECT_EQ(stats.efficiency.speeds_from, "equal");
  EXPECT_DOUBLE_EQ(stats.efficiency.total_work_s, 8);  // the failed try is not work the job needed
  EXPECT_DOUBLE_EQ(stats.efficiency.longest_work_s, 2);
  EXPECT_DOUBLE_EQ(stats.efficiency.speed_sum, 2);
  EXPECT_DOUBLE_EQ(stats.efficiency.lower_bound_s, 4);
  EXPECT_DOUBLE_EQ(stats.efficiency.efficiency, 0.8);
}

TEST(Efficiency, TheLongestSubtaskOnTheFastestWorkerCanBeTheBound) {
  Results r;
  r.workers = {worker(1), worker(2), worker(3)};
  r.tasks = {task("long", TaskStatus::done), task("short", TaskStatus::done)};
  r.attempts = {attempt(0, 1, 0, 10), attempt(1, 2, 0, 1)};
  const auto stats = compute_statistics(r);
  EXPECT_DOUBLE_EQ(stats.efficiency.lower_bound_s, 10);  // not 11 / 3
  EXPECT_DOUBLE_EQ(stats.efficiency.efficiency, 1);
}

TEST(Efficiency, UsesTheModelsSpeedFactors) {
  // Worker 2 is twice as slow (factor 2): its 4 s of attempts are 2 s of reference work.
  Results r;
  r.workers = {worker(1), worker(2)};
  r.tasks = {task("a", TaskStatus::done), task("b", TaskStatus::done), task("c", TaskStatus::done)};
  r.attempts = {attempt(0, 1, 0, 2), attempt(1, 1, 2, 4), attempt(2, 2, 0, 4)};
  CostModelSnapshot model;
  model.workers = {{1, "node", "cuda:0", 1.0, 0, 2}, {2, "node", "cuda:1", 2.0, 0, 1}};
  StatisticsInputs inputs;
  inputs.model = &model;
  const auto stats = compute_statistics(r, inputs);
  EXPECT_EQ(stats.efficiency.speeds_from, "model");
  EXPECT_DOUBLE_EQ(stats.workers[1].speed, 0.5);
  EXPECT_DOUBLE_EQ(stats.efficiency.total_work_s, 6);
  EXPECT_DOUBLE_EQ(stats.efficiency.speed_sum, 1.5);
  EXPECT_DOUBLE_EQ(stats.efficiency.lower_bound_s, 4);
  EXPECT_DOUBLE_EQ(stats.efficiency.efficiency, 1);
}

TEST(Efficiency, AWorkerMissingFromTheModelGetsTheMedianFactor) {
  Results r;
  r.workers = {worker(1), worker(2), worker(3)};
  CostModelSnapshot model;
  model.workers = {{1, "node", "cuda:0", 2.0, 0, 2}, {2, "other", "cuda:9", 4.0, 0, 1}};
  StatisticsInputs inputs;
  inputs.model = &model;
  const auto stats = compute_statistics(r, inputs);
  EXPECT_DOUBLE_EQ(stats.workers[0].speed, 0.5);
  EXPECT_DOUBLE_EQ(stats.workers[1].speed, 0.25);  // same rank, other host: still its factor
  EXPECT_DOUBLE_EQ(stats.workers[2].speed, 0.25);  // median of {2, 4} as nth_element takes it: 4
  EXPECT_EQ(stats.efficiency.lower_bound_s, 0);    // nothing done
}

TEST(Statistics, CountsAttemptsByStatusAndGroupsFailuresByCause) {
  Results r;
  r.workers = {worker(1)};
  r.tasks = {task("a", TaskStatus::failed), task("b", TaskStatus::failed), task("c", TaskStatus::failed),
             task("d", TaskStatus::done)};
  r.attempts = {attempt(0, 1, 0, 1, AttemptStatus::failed, "exit code 3"),
                attempt(1, 1, 1, 2, AttemptStatus::timed_out, "timed out after 1 s"),
                attempt(2, 1, 2, 3, AttemptStatus::failed, "exit code 3"), attempt(3, 1, 3, 4)};
  const auto stats = compute_statistics(r);
  EXPECT_EQ(stats.attempt_counts[static_cast<std::size_t>(AttemptStatus::failed)], 2u);
  EXPECT_EQ(stats.attempt_counts[static_cast<std::size_t>(AttemptStatus::timed_out)], 1u);
  EXPECT_EQ(stats.attempt_counts[static_cast<std::size_t>(AttemptStatus::done)], 1u);
  ASSERT_EQ(stats.failure_causes.size(), 2u);
  EXPECT_EQ(stats.failure_causes[0].error, "exit code 3");
  EXPECT_EQ(stats.failure_causes[0].subtasks, 2u);
  EXPECT_EQ(stats.failure_causes[0].examples, (std::vector<std::size_t>{0, 2}));
  EXPECT_EQ(stats.failure_causes[1].error, "timed out after 1 s");
}

TEST(Statistics, CountsMigrationsAndSpeculativeCopies) {
  Results r = two_workers();
  r.attempts[3].migrated = true;
  r.attempts.push_back(attempt(3, 1, 4, 4.5, AttemptStatus::superseded));
  r.events = {{1, "migrate", 2, 2, 1, ""}, {1.5, "retract", 2, 2, 1, ""}, {4, "speculate", 3, 2, 1, ""},
              {4.5, "speculation_won", 3, 1, -1, ""}};
  const auto stats = compute_statistics(r);
  EXPECT_EQ(stats.migrate_events, 1u);
  EXPECT_EQ(stats.migrated_attempts, 1u);
  EXPECT_EQ(stats.speculative_copies, 1u);
  EXPECT_EQ(stats.speculation_won, 1u);
  EXPECT_EQ(stats.attempt_counts[static_cast<std::size_t>(AttemptStatus::superseded)], 1u);
}

TEST(Remaining, PredictsTheSubtasksNotDoneFromTheModelsClassLine) {
  Results r = two_workers();
  r.tasks[2].status = TaskStatus::pending;
  r.tasks[2].cost = 3;
  r.tasks[3].status = TaskStatus::failed;
  r.tasks[3].cost = 1;
  r.tasks.push_back(task("e", TaskStatus::running, 2));
  CostModelSnapshot model;
  model.classes = {{"noop", 9, 9, 1}, {"spin", 0.5, 2, 10}};
  StatisticsInputs inputs;
  inputs.model = &model;
  inputs.task_class = "spin";
  const auto stats = compute_statistics(r, inputs);
  EXPECT_EQ(stats.remaining.subtasks, 3u);
  EXPECT_EQ(stats.remaining.pending, 1u);
  EXPECT_EQ(stats.remaining.failed, 1u);
  EXPECT_EQ(stats.remaining.running, 1u);
  EXPECT_EQ(stats.remaining.basis, "model");
  // 0.5 + 2 * 3, 0.5 + 2 * 1, 0.5 + 2 * 2 = 6.5 + 2.5 + 4.5
  EXPECT_DOUBLE_EQ(*stats.remaining.predicted_work_s, 13.5);
  EXPECT_DOUBLE_EQ(*stats.remaining.predicted_wall_s, 6.75);  // over two workers of speed 1
}

TEST(Remaining, WithoutAModelUsesTheDoneSubtasksSecondsPerCost) {
  Results r = two_workers();  // done attempts: 4 x 2 s at cost 1
  r.tasks.push_back(task("late", TaskStatus::pending, 5));
  const auto stats = compute_statistics(r);
  EXPECT_EQ(stats.remaining.basis, "observed");
  EXPECT_DOUBLE_EQ(*stats.remaining.predicted_work_s, 10);
  EXPECT_DOUBLE_EQ(*stats.remaining.predicted_wall_s, 10);  // one subtask: the longest bounds it
}

TEST(Remaining, NothingDoneAndNoModelGivesNoPrediction) {
  Results r;
  r.workers = {worker(1)};
  r.tasks = {task("a", TaskStatus::pending)};
  const auto stats = compute_statistics(r);
  EXPECT_EQ(stats.remaining.subtasks, 1u);
  EXPECT_EQ(stats.remaining.basis, "none");
  EXPECT_FALSE(stats.remaining.predicted_work_s);
}

TEST(Cost, GpuHoursAreWorkersTimesMakespanAndMoneyNeedsAPrice) {
  Results r = two_workers();
  for (auto& a : r.attempts) {  // stretch to hours: makespan 5 h, busy 9 h of 10
    a.start *= 3600;
    a.end *= 3600;
  }
  auto stats = compute_statistics(r);
  EXPECT_DOUBLE_EQ(stats.cost.gpu_hours, 10);
  EXPECT_DOUBLE_EQ(stats.cost.busy_gpu_hours, 9);
  EXPECT_DOUBLE_EQ(stats.cost.idle_gpu_hours, 1);
  EXPECT_FALSE(stats.cost.cost);
  StatisticsInputs inputs;
  inputs.prices = {2.5, {}, "job file"};
  stats = compute_statistics(r, inputs);
  EXPECT_DOUBLE_EQ(*stats.cost.cost, 25);
  EXPECT_DOUBLE_EQ(*stats.cost.idle_cost, 2.5);
  EXPECT_EQ(stats.cost.price_from, "job file");
  EXPECT_DOUBLE_EQ(stats.mean_busy_fraction, 0.9);
}

TEST(Statistics, AnEmptyRunHasZerosAndNoNaNs) {
  Results r;
  const auto stats = compute_statistics(r);
  EXPECT_EQ(stats.makespan_s, 0);
  EXPECT_EQ(stats.efficiency.efficiency, 0);
  EXPECT_EQ(stats.cost.gpu_hours, 0);
  EXPECT_EQ(stats.mean_busy_fraction, 0);
  EXPECT_EQ(stats.remaining.subtasks, 0u);
}

}  // namespace
}  // namespace fastgpu::app
