// The cost policy through the pure scheduler: longest-first placement, the static split, the
// rebalance round and its retract protocol (races included), and speculative copies in the tail.
#include <gtest/gtest.h>

#include <algorithm>

#include "scheduler/scheduler.hpp"
#include "support/recording.hpp"

namespace fastgpu::scheduler {
namespace {

using testing::MemoryResults;
using testing::RecordingSink;

JobSpec make_job() {
  JobSpec job;
  job.name = "cost";
  job.output = "cost.h5";
  job.output_dir = "/tmp/cost.outputs";
  job.task.command = {"prog", "{c}"};
  return job;
}

std::vector<Subtask> with_costs(const std::vector<double>& costs) {
  std::vector<Subtask> subtasks;
  for (std::size_t i = 0; i < costs.size(); ++i) {
    Subtask s;
    s.id = "t" + std::to_string(i);
    s.params = {{"c", costs[i]}};
    s.cost = costs[i];
    subtasks.push_back(s);
  }
  return subtasks;
}

SchedulerConfig config(Policy policy, int expected_workers, int prefetch = 0) {
  SchedulerConfig c;
  c.policy = policy;
  c.expected_workers = expected_workers;
  c.prefetch = prefetch;
  c.rebalance_interval_s = 0.5;
  return c;
}

/// A model where worker 1 runs at factor 1 and worker 2 four times slower: 1 s per unit of cost.
CostModelSnapshot fast_and_slow() {
  CostModelSnapshot history;
  history.classes.push_back({"command", 0.0, 1.0, 100});
  history.workers.push_back({1, "h", "cpu", 1.0, 0.05, 100});
  history.workers.push_back({2, "h", "cpu", 4.0, 0.05, 100});
  return history;
}

WorkerRecord worker(int rank) { return {rank, "h", rank - 1, "cpu", "", ""}; }

comm::TaskResult result(const comm::TaskLaunch& launch, AttemptStatus status, double start, double end) {
  comm::TaskResult r;
  r.task = launch.task;
  r.attempt = launch.attempt;
  r.status = status;
  r.exit_code = status == AttemptStatus::done ? 0 : 1;
  r.start = start;
  r.end = end;
  return r;
}

template <typename T>
std::vector<T> sent_of_type(RecordingSink& out, int to) {
  std::vector<T> found;
  for (const auto& [dest, message] : out.sent) {
    if (dest == to && std::holds_alternative<T>(message)) found.push_back(std::get<T>(message));
  }
  return found;
}

std::size_t count_events(const MemoryResults& results, const std::string& kind) {
  return static_cast<std::size_t>(std::count_if(results.events.begin(), results.events.end(),
                                                [&](const EventRecord& e) { return e.kind == kind; }));
}

struct CostPolicyTest : ::testing::Test {
  RecordingSink out;
  MemoryResults results;
};

TEST_F(CostPolicyTest, StartsTheLongestPredictedSubtasksFirst) {
  Scheduler scheduler(make_job(), with_costs({1, 5, 3, 2}), config(Policy::cost, 1), out, results);
  scheduler.on_worker_joined(worker(1), 0);
  auto launches = out.launches_to(1);
  ASSERT_EQ(launches.size(), 2u);  // one running, one next: enough to hide the round trip
  EXPECT_EQ(launches[0].task, 1u);  // cost 5
  EXPECT_EQ(launches[1].task, 2u);  // cost 3
}

TEST_F(CostPolicyTest, StaticSplitsTheJobInBlocksOnceEveryWorkerJoined) {
  Scheduler scheduler(make_job(), with_costs({1, 1, 1, 1, 1, 1}), config(Policy::static_, 2, 3), out, results);
  scheduler.on_worker_joined(worker(1), 0);
  EXPECT_TRUE(out.sent.empty());  // waits for the whole allocation, as a job array would
  scheduler.on_worker_joined(worker(2), 0);
  auto first = out.launches_to(1), second = out.launches_to(2);
  ASSERT_EQ(first.size(), 3u);
  ASSERT_EQ(second.size(), 3u);
  EXPECT_EQ(first[0].task, 0u);
  EXPECT_EQ(first[2].task, 2u);
  EXPECT_EQ(second[0].task, 3u);
  // Worker 1 finishing early does not take worker 2's block.
  comm::WorkerReport report;
  for (const auto& launch : first) report.finished.push_back(result(launch, AttemptStatus::done, 0, 1));
  scheduler.on_report(1, report, 1);
  EXPECT_TRUE(out.launches_to(1).empty());
}

TEST_F(CostPolicyTest, LeavesTheLastSubtasksToTheWorkerThatFinishesThemSooner) {
  auto history = fast_and_slow();
  Scheduler scheduler(make_job(), with_costs({1, 1, 1}), config(Policy::cost, 2), out, results, &history);
  scheduler.on_worker_joined(worker(1), 0);
  scheduler.on_worker_joined(worker(2), 0);
  // Three 1 s subtasks: the fast worker finishes all three by t = 3, the slow one needs 4 s for
  // one. So the slow worker is left idle rather than handed a subtask it would finish last.
  EXPECT_TRUE(out.launches_to(2).empty());
  auto first = out.launches_to(1);
  ASSERT_EQ(first.size(), 2u);
  scheduler.on_report(1, comm::WorkerReport{{}, {result(first[0], AttemptStatus::done, 0, 1)}}, 1);
  EXPECT_EQ(out.launches_to(1).size(), 1u);
  EXPECT_TRUE(out.launches_to(2).empty());
}

TEST_F(CostPolicyTest, RebalanceMigratesQueuedWorkFromTheSlowWorkerThroughTheRetractProtocol) {
  auto history = fast_and_slow();
  Scheduler scheduler(make_job(), with_costs({1, 1, 1, 1, 1, 1}), config(Policy::cost, 2), out, results, &history);
  scheduler.on_worker_joined(worker(1), 0);
  scheduler.on_worker_joined(worker(2), 0);
  auto to_slow = out.launches_to(2);
  ASSERT_EQ(to_slow.size(), 2u);
  out.launches_to(1);

  scheduler.on_tick(0.1);  // not due yet
  EXPECT_TRUE(sent_of_type<comm::RetractTasks>(out, 2).empty());
  scheduler.on_tick(0.5);
  auto retracts = sent_of_type<comm::RetractTasks>(out, 2);
  ASSERT_EQ(retracts.size(), 1u);
  ASSERT_EQ(retracts[0].attempts.size(), 1u);
  const auto moved = retracts[0].attempts[0];
  EXPECT_EQ(moved.task, to_slow[1].task);  // the last in the slow worker's queue
  EXPECT_EQ(count_events(results, "rebalance"), 1u);

  // Nothing moves before the slow worker acknowledges: the attempt must not run twice.
  EXPECT_TRUE(out.launches_to(1).empty());
  scheduler.on_retract_ack(2, comm::RetractAck{{moved}, {}}, 0.51);
  auto to_fast = out.launches_to(1);
  ASSERT_EQ(to_fast.size(), 1u);
  EXPECT_EQ(to_fast[0].task, moved.task);
  EXPECT_EQ(to_fast[0].attempt, moved.attempt);  // moved, not repeated
  EXPECT_EQ(count_events(results, "migrate"), 1u);

  // The migrated attempt is recorded as such when it finishes.
  scheduler.on_report(1, comm::WorkerReport{{}, {result(to_fast[0], AttemptStatus::done, 0.6, 1.6)}}, 1.6);
  auto it = std::find_if(results.attempts.begin(), results.attempts.end(),
                         [&](const AttemptRecord& a) { return a.task == moved.task; });
  ASSERT_NE(it, results.attempts.end());
  EXPECT_TRUE(it->migrated);
  EXPECT_NEAR(it->predicted_s, 1.0, 0.2);
}

TEST_F(CostPolicyTest, AMigratedAttemptStuckBehindAnOverrunningSubtaskCanMoveAgainLater) {
  auto history = fast_and_slow();
  Scheduler scheduler(make_job(), with_costs({1, 1, 1, 1, 1, 1}), config(Policy::cost, 2), out, results, &history);
  scheduler.on_worker_joined(worker(1), 0);
  scheduler.on_worker_joined(worker(2), 0);
  auto to_fast = out.launches_to(1);
  out.launches_to(2);
  scheduler.on_tick(0.5);
  const auto moved = sent_of_type<comm::RetractTasks>(out, 2).at(0).attempts.at(0);
  scheduler.on_retract_ack(2, comm::RetractAck{{moved}, {}}, 0.51);
  scheduler.on_report(1, comm::WorkerReport{{{to_fast[0].task, to_fast[0].attempt, 0.5}}, {}}, 0.52);
  out.sent.clear();

  // Soon after, it stays put (hysteresis)...
  scheduler.on_tick(1.0);
  for (const auto& retract : sent_of_type<comm::RetractTasks>(out, 1)) {
    for (const auto& ref : retract.attempts) EXPECT_NE(ref.task, moved.task);
  }
  // ...but when the subtask ahead of it runs far past its prediction, it moves on.
  scheduler.on_tick(30.0);
  bool moved_again = false;
  for (const auto& retract : sent_of_type<comm::RetractTasks>(out, 1)) {
    for (const auto& ref : retract.attempts) moved_again |= ref.task == moved.task;
  }
  EXPECT_TRUE(moved_again);
}

TEST_F(CostPolicyTest, AnAttemptThatStartsWhileItsRetractionIsInFlightStaysWhereItIs) {
  auto history = fast_and_slow();
  Scheduler scheduler(make_job(), with_costs({1, 1, 1, 1, 1, 1}), config(Policy::cost, 2), out, results, &history);
  scheduler.on_worker_joined(worker(1), 0);
  scheduler.on_worker_joined(worker(2), 0);
  auto to_slow = out.launches_to(2);
  out.launches_to(1);
  scheduler.on_tick(0.5);
  const auto moved = sent_of_type<comm::RetractTasks>(out, 2).at(0).attempts.at(0);

  // The slow worker started it before the retraction reached it; it says so in its ack.
  comm::WorkerReport started;
  started.started.push_back({moved.task, moved.attempt, 0.5});
  scheduler.on_report(2, started, 0.5);
  scheduler.on_retract_ack(2, comm::RetractAck{{}, {moved}}, 0.52);
  for (const auto& launch : out.launches_to(1)) EXPECT_NE(launch.task, moved.task) << "started twice";
  EXPECT_EQ(count_events(results, "migrate"), 0u);
  EXPECT_EQ(results.tasks.at(moved.task).status, TaskStatus::running);

  // It finishes there, once.
  scheduler.on_report(2, comm::WorkerReport{{}, {result(to_slow[1], AttemptStatus::done, 0.5, 4.5)}}, 4.5);
  EXPECT_EQ(results.tasks.at(moved.task).status, TaskStatus::done);
  EXPECT_EQ(results.tasks.at(moved.task).worker, 2);
}

TEST_F(CostPolicyTest, AnIdleWorkerCopiesTheSubtaskPredictedToFinishLastAndTheFirstToFinishWins) {
  auto history = fast_and_slow();
  Scheduler scheduler(make_job(), with_costs({1}), config(Policy::cost, 1), out, results, &history);
  scheduler.on_worker_joined(worker(2), 0);  // alone: the slow worker gets the only subtask
  auto original = out.launches_to(2).at(0);
  scheduler.on_report(2, comm::WorkerReport{{{original.task, original.attempt, 0.0}}, {}}, 0.0);
  scheduler.on_worker_joined(worker(1), 0.1);  // idle, nothing queued: copy it (4 s there vs 1 s here)
  auto copy = out.launches_to(1);
  ASSERT_EQ(copy.size(), 1u);
  EXPECT_EQ(copy[0].task, original.task);
  EXPECT_NE(copy[0].attempt, original.attempt);
  EXPECT_EQ(count_events(results, "speculate"), 1u);

  scheduler.on_report(1, comm::WorkerReport{{{copy[0].task, copy[0].attempt, 0.1}}, {result(copy[0], AttemptStatus::done, 0.1, 1.1)}}, 1.1);
  EXPECT_TRUE(scheduler.finished());
  auto cancels = sent_of_type<comm::CancelAttempt>(out, 2);
  ASSERT_EQ(cancels.size(), 1u);
  EXPECT_EQ(cancels[0].attempt.attempt, original.attempt);
  EXPECT_EQ(count_events(results, "speculation_won"), 1u);

  // The loser reports its cancellation: recorded as superseded, and the task stays done.
  scheduler.on_report(2, comm::WorkerReport{{}, {result(original, AttemptStatus::cancelled, 0.0, 1.2)}}, 1.2);
  ASSERT_EQ(results.attempts.size(), 2u);
  EXPECT_EQ(results.attempts[1].status, AttemptStatus::superseded);
  EXPECT_EQ(results.tasks.at(0).status, TaskStatus::done);
  EXPECT_EQ(results.tasks.at(0).worker, 1);
}

TEST_F(CostPolicyTest, ASubtaskThatIsSimplyLongIsNotCopied) {
  auto history = fast_and_slow();
  history.workers[1].speed_factor = 1.0;  // both workers equally fast
  Scheduler scheduler(make_job(), with_costs({10}), config(Policy::cost, 1), out, results, &history);
  scheduler.on_worker_joined(worker(2), 0);
  auto original = out.launches_to(2).at(0);
  scheduler.on_report(2, comm::WorkerReport{{{original.task, original.attempt, 0.0}}, {}}, 0.0);
  scheduler.on_worker_joined(worker(1), 1.0);  // 9 s left there, 10 s here: no copy
  EXPECT_TRUE(out.launches_to(1).empty());
  EXPECT_EQ(count_events(results, "speculate"), 0u);
}

TEST_F(CostPolicyTest, AFailedCopyDoesNotFailTheSubtaskWhileTheOtherRuns) {
  auto history = fast_and_slow();
  Scheduler scheduler(make_job(), with_costs({1}), config(Policy::cost, 1), out, results, &history);
  scheduler.on_worker_joined(worker(2), 0);
  auto original = out.launches_to(2).at(0);
  scheduler.on_report(2, comm::WorkerReport{{{original.task, original.attempt, 0.0}}, {}}, 0.0);
  scheduler.on_worker_joined(worker(1), 0.1);
  auto copy = out.launches_to(1).at(0);
  scheduler.on_report(1, comm::WorkerReport{{}, {result(copy, AttemptStatus::failed, 0.1, 0.2)}}, 0.2);
  EXPECT_FALSE(scheduler.finished());
  EXPECT_NE(results.tasks.at(0).status, TaskStatus::failed);
  scheduler.on_report(2, comm::WorkerReport{{}, {result(original, AttemptStatus::done, 0.0, 4.0)}}, 4.0);
  EXPECT_TRUE(scheduler.finished());
  EXPECT_EQ(results.tasks.at(0).status, TaskStatus::done);
}

TEST_F(CostPolicyTest, ARetryGoesToTheSlowWorkerWhenTheFastOneFailedIt) {
  auto history = fast_and_slow();
  std::vector<Subtask> subtasks = with_costs({1});
  subtasks[0].retries = 1;
  Scheduler scheduler(make_job(), subtasks, config(Policy::cost, 2), out, results, &history);
  scheduler.on_worker_joined(worker(1), 0);
  scheduler.on_worker_joined(worker(2), 0);
  auto first = out.launches_to(1).at(0);
  scheduler.on_report(1, comm::WorkerReport{{}, {result(first, AttemptStatus::failed, 0, 1)}}, 1);
  // The fast worker would finish it sooner, but a retry avoids the worker that failed it: the
  // slow one must take it rather than both waiting for each other.
  auto retry = out.launches_to(2);
  ASSERT_EQ(retry.size(), 1u);
  EXPECT_EQ(retry[0].task, 0u);
}

TEST_F(CostPolicyTest, TheModelLearnsFromFinishedAttemptsAndPredictionsAreRecorded) {
  Scheduler scheduler(make_job(), with_costs({1, 1, 1, 1, 1, 1, 1, 1}), config(Policy::cost, 1, 2), out, results);
  scheduler.on_worker_joined(worker(1), 0);
  double now = 0;
  for (int round = 0; round < 4; ++round) {
    comm::WorkerReport report;
    for (const auto& launch : out.launches_to(1)) {
      report.finished.push_back(result(launch, AttemptStatus::done, now, now + 3));
      now += 3;
    }
    scheduler.on_report(1, report, now);
  }
  ASSERT_GE(results.attempts.size(), 6u);
  EXPECT_NEAR(results.attempts.back().predicted_s, 3.0, 0.3);  // learned: 3 s per subtask
  const auto model = scheduler.model_snapshot();
  ASSERT_FALSE(model.classes.empty());
  EXPECT_EQ(model.classes[0].task_class, "command");
}

}  // namespace
}  // namespace fastgpu::scheduler
