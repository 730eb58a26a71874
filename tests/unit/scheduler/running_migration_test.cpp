// In-flight migration: at the end of a job, a kernel subtask running on a slow worker while a fast
// one idles is asked to checkpoint; its state continues on the fast worker, recorded in /events.
#include <cstdint>

#include <gtest/gtest.h>

#include "scheduler/scheduler.hpp"
#include "support/recording.hpp"
#include "unit/scheduler/scheduler_fixtures.hpp"

namespace fastgpu::scheduler {
namespace {

using fixtures::make_job;
using fixtures::with_costs;
using fixtures::worker;

/// Worker 1 runs at factor 1, worker 2 1.6 times slower: 1 s per unit of cost. Two subtasks of
/// cost 10 go one to each (16 s on worker 2 beats 20 s behind the first on worker 1).
CostModelSnapshot fast_and_slow() {
  CostModelSnapshot history;
  history.classes.push_back({"dp_train", 0.0, 1.0, 100});
  history.workers.push_back({1, "h", "cpu", 1.0, 0.05, 100});
  history.workers.push_back({2, "h", "cpu", 1.6, 0.05, 100});
  return history;
}

JobSpec kernel_job() {
  JobSpec job = make_job("migrate");
  job.task.command.clear();
  job.task.kernel = "dp_train";
  return job;
}

SchedulerConfig cost_policy() {
  SchedulerConfig config;
  config.policy = Policy::cost;
  config.expected_workers = 2;
  config.rebalance_interval_s = 1;
  config.speculation = false;
  return config;
}

template <typename T>
std::vector<T> sent_of_type(testing::RecordingSink& out, int to) {
  std::vector<T> found;
  for (const auto& [dest, message] : out.sent) {
    if (dest == to && std::holds_alternative<T>(message)) found.push_back(std::get<T>(message));
  }
  return found;
}

std::size_t events_of(const testing::MemoryResults& results, const std::string& kind) {
  return static_cast<std::size_t>(std::count_if(results.events.begin(), results.events.end(),
                                                [&](const EventRecord& e) { return e.kind == kind; }));
}

struct RunningMigrationTest : ::testing::Test {
  testing::RecordingSink out;
  testing::MemoryResults results;
  CostModelSnapshot history = fast_and_slow();
  Scheduler scheduler{kernel_job(), with_costs({10, 10}), cost_policy(), out, results, &history};

  /// Both subtasks placed and started, one on each worker; returns the slow worker's launch.
  comm::TaskLaunch start_both() {
    scheduler.on_worker_joined(worker(1), 0);
    scheduler.on_worker_joined(worker(2), 0);
    const auto fast = out.launches_to(1), slow = out.launches_to(2);
    EXPECT_EQ(fast.size(), 1u);
    EXPECT_EQ(slow.size(), 1u);
    scheduler.on_report(1, comm::WorkerReport{{{fast.at(0).task, fast.at(0).attempt, 0.0}}, {}}, 0.0);
    scheduler.on_report(2, comm::WorkerReport{{{slow.at(0).task, slow.at(0).attempt, 0.0}}, {}}, 0.0);
    comm::WorkerReport done;
    done.finished.push_back(fixtures::result(fast.at(0), AttemptStatus::done, 0, 10));
    scheduler.on_report(1, done, 10.0);
    return slow.at(0);
  }
};

TEST_F(RunningMigrationTest, ASlowRunningKernelIsCheckpointedAndContinuesOnTheIdleFastWorker) {
  const comm::TaskLaunch slow = start_both();
  scheduler.on_tick(10.5);
  const auto asks = sent_of_type<comm::MigrateAttempt>(out, 2);
  ASSERT_EQ(asks.size(), 1u);
  EXPECT_EQ(asks[0].attempt.task, slow.task);
  EXPECT_EQ(events_of(results, "checkpoint_request"), 1u);
  scheduler.on_tick(12.0);
  EXPECT_EQ(sent_of_type<comm::MigrateAttempt>(out, 2).size(), 1u) << "asked once";

  comm::WorkerReport stopped;
  stopped.finished.push_back(fixtures::result(slow, AttemptStatus::cancelled, 0, 12));
  stopped.finished.back().checkpoint = std::string("state\0bytes", 11);
  scheduler.on_report(2, stopped, 12.0);
  const auto moved = out.launches_to(1);
  ASSERT_EQ(moved.size(), 1u) << "the subtask continues on the fast worker";
  EXPECT_EQ(moved[0].task, slow.task);
  EXPECT_EQ(moved[0].attempt, slow.attempt + 1);
  EXPECT_EQ(moved[0].restore, std::string("state\0bytes", 11));
  EXPECT_EQ(events_of(results, "migrate_running"), 1u);
  ASSERT_EQ(results.attempts.size(), 2u);
  EXPECT_EQ(results.attempts.back().status, AttemptStatus::interrupted);
  EXPECT_EQ(results.attempts.back().checkpoint, std::string("state\0bytes", 11));

  comm::WorkerReport finished;
  finished.started.push_back({moved[0].task, moved[0].attempt, 12.1});
  finished.finished.push_back(fixtures::result(moved[0], AttemptStatus::done, 12.1, 15));
  scheduler.on_report(1, finished, 15.0);
  EXPECT_TRUE(scheduler.finished());
  EXPECT_TRUE(results.attempts.back().migrated);
  EXPECT_EQ(results.tasks.at(slow.task).status, TaskStatus::done);
}

// Worker 2's report that `slow` checkpointed and its 4,096-byte state went straight to `target`.
comm::WorkerReport stopped_with_state_sent_to(std::int32_t target, const comm::TaskLaunch& slow) {
  comm::WorkerReport stopped;
  stopped.finished.push_back(fixtures::result(slow, AttemptStatus::cancelled, 0, 12));
  stopped.finished.back().state_sent_to = target;
  stopped.finished.back().state_bytes = 4096;
  return stopped;
}

TEST_F(RunningMigrationTest, AStateSentWorkerToWorkerIsTakenFromTheSourceByTheContinuation) {
  const comm::TaskLaunch slow = start_both();
  scheduler.on_tick(10.5);
  const auto asks = sent_of_type<comm::MigrateAttempt>(out, 2);
  ASSERT_EQ(asks.size(), 1u);
  EXPECT_EQ(asks[0].to, 1) << "the request names the worker it continues on";

  scheduler.on_report(2, stopped_with_state_sent_to(1, slow), 12.0);
  const auto moved = out.launches_to(1);
  ASSERT_EQ(moved.size(), 1u) << "the continuation goes where the state went";
  EXPECT_EQ(moved[0].task, slow.task);
  EXPECT_EQ(moved[0].restore_from, 2);
  EXPECT_EQ(moved[0].restore_bytes, 4096u);
  EXPECT_TRUE(moved[0].restore.empty()) << "rank 0 never held the state";
  EXPECT_EQ(events_of(results, "migrate_running"), 1u);
  EXPECT_EQ(results.attempts.back().status, AttemptStatus::interrupted);
  EXPECT_TRUE(results.attempts.back().checkpoint.empty());

  comm::WorkerReport finished;
  finished.started.push_back({moved[0].task, moved[0].attempt, 12.1});
  finished.finished.push_back(fixtures::result(moved[0], AttemptStatus::done, 12.1, 15));
  scheduler.on_report(1, finished, 15.0);
  EXPECT_TRUE(scheduler.finished());
  EXPECT_TRUE(results.attempts.back().migrated);
}

TEST_F(RunningMigrationTest, AStateSentToAWorkerThatRetiredStartsOverElsewhere) {
  const comm::TaskLaunch slow = start_both();
  scheduler.on_tick(10.5);
  ASSERT_EQ(sent_of_type<comm::MigrateAttempt>(out, 2).size(), 1u);
  scheduler.on_worker_retired(1, comm::WorkerRetired{"device lost", {}}, 11.0);

  scheduler.on_report(2, stopped_with_state_sent_to(1, slow), 12.0);
  EXPECT_TRUE(out.launches_to(1).empty()) << "nothing goes to the retired worker";
  const auto again = out.launches_to(2);
  ASSERT_EQ(again.size(), 1u) << "the only worker left runs it again, from the start";
  EXPECT_EQ(again[0].restore_from, -1);
  EXPECT_TRUE(again[0].restore.empty());
}

TEST_F(RunningMigrationTest, AKernelThatCannotCheckpointFinishesWhereItIs) {
  const comm::TaskLaunch slow = start_both();
  scheduler.on_tick(10.5);
  ASSERT_EQ(sent_of_type<comm::MigrateAttempt>(out, 2).size(), 1u);
  comm::WorkerReport done;  // the worker ignored the request
  done.finished.push_back(fixtures::result(slow, AttemptStatus::done, 0, 16));
  scheduler.on_report(2, done, 16.0);
  EXPECT_TRUE(scheduler.finished());
  EXPECT_TRUE(out.launches_to(1).empty());
  EXPECT_EQ(events_of(results, "migrate_running"), 0u);
}

TEST_F(RunningMigrationTest, AKernelThatCannotCheckpointIsNotAskedToAndMayGetACopyInstead) {
  // The same run with speculation on. Where the kernel can checkpoint it is asked to move, and
  // that is its rescue; where it cannot, asking would only keep it from getting a copy.
  for (const bool checkpoints : {true, false}) {
    SCOPED_TRACE(checkpoints ? "checkpointable" : "not checkpointable");
    testing::RecordingSink sent;
    testing::MemoryResults recorded;
    SchedulerConfig config = cost_policy();
    config.speculation = true;
    config.running_migration = checkpoints;
    Scheduler run(kernel_job(), with_costs({10, 10}), config, sent, recorded, &history);
    run.on_worker_joined(worker(1), 0);
    run.on_worker_joined(worker(2), 0);
    const comm::TaskLaunch fast = sent.launches_to(1).at(0), slow = sent.launches_to(2).at(0);
    run.on_report(1, comm::WorkerReport{{{fast.task, fast.attempt, 0.0}}, {}}, 0.0);
    run.on_report(2, comm::WorkerReport{{{slow.task, slow.attempt, 0.0}}, {}}, 0.0);
    comm::WorkerReport done;
    done.finished.push_back(fixtures::result(fast, AttemptStatus::done, 0, 10));
    run.on_report(1, done, 10.0);
    for (double now = 10.5; now < 40; now += 1) run.on_tick(now);  // the slow one overruns: 16 s predicted

    const auto later = sent.launches_to(1);  // after the first (taken above)
    const bool copied = later.size() == 1 && later[0].task == slow.task;
    EXPECT_EQ(sent_of_type<comm::MigrateAttempt>(sent, 2).size(), checkpoints ? 1u : 0u);
    EXPECT_EQ(events_of(recorded, "checkpoint_request"), checkpoints ? 1u : 0u);
    EXPECT_EQ(copied, !checkpoints) << "a copy on the idle fast worker only where it cannot move";
    EXPECT_EQ(events_of(recorded, "speculate"), checkpoints ? 0u : 1u);
  }
}

TEST_F(RunningMigrationTest, NothingMovesWhileWorkIsStillPending) {
  Scheduler busy(kernel_job(), with_costs({10, 10, 10, 10, 10, 10}), cost_policy(), out, results, &history);
  busy.on_worker_joined(worker(1), 0);
  busy.on_worker_joined(worker(2), 0);
  busy.on_tick(5.0);
  EXPECT_TRUE(sent_of_type<comm::MigrateAttempt>(out, 2).empty());
}

}  // namespace
}  // namespace fastgpu::scheduler
