// The cost policy through the pure scheduler: longest-first placement, the static split, the
// rebalance round and its retract protocol (races included), and speculative copies in the tail.
#include <gtest/gtest.h>

#include <algorithm>

#include "scheduler/scheduler.hpp"
#include "support/recording.hpp"
#include "unit/scheduler/scheduler_fixtures.hpp"

namespace fastgpu::scheduler {
namespace {

using testing::MemoryResults;
using testing::RecordingSink;
using fixtures::make_job;
using fixtures::result;
using fixtures::with_costs;
using fixtures::worker;

SchedulerConfig config(Policy policy, int expected_workers, int prefetch = 0) {
  SchedulerConfig c;
  c.policy = policy;
  c.expected_workers = expected_workers;
  c.prefetch = prefetch;
  c.rebalance_interval_s = 0.5;
  return c;
}

/// Rebalance rounds every 5 s: a worker queues a second 1 s subtask behind its first.
SchedulerConfig slow_rounds() {
  SchedulerConfig c = config(Policy::cost, 2);
  c.rebalance_interval_s = 5;
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

/// Two workers the model believes equally fast (1 s per unit of cost).
CostModelSnapshot equally_fast() {
  auto history = fast_and_slow();
  history.workers[1].speed_factor = 1.0;
  return history;
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
  Scheduler scheduler(make_job("cost"), with_costs({0.2, 0.5, 0.3, 0.25}), config(Policy::cost, 1), out, results);
  scheduler.on_worker_joined(worker(1), 0);
  auto launches = out.launches_to(1);
  ASSERT_EQ(launches.size(), 2u);  // one running, one next: enough to hide the round trip
  EXPECT_EQ(launches[0].task, 1u);  // cost 0.5
  EXPECT_EQ(launches[1].task, 2u);  // cost 0.3
}

TEST_F(CostPolicyTest, QueuesTheNextSubtaskOnlyWhenTheRunningOneNearsItsEnd) {
  Scheduler scheduler(make_job("cost"), with_costs({1, 5, 3, 2}), config(Policy::cost, 1), out, results);
  scheduler.on_worker_joined(worker(1), 0);
  // 5 s of work: queueing the next now would hide no latency, only delay a decision (where it
  // runs, which migrates) by 5 s.
  auto first = out.launches_to(1);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].task, 1u);  // cost 5
  scheduler.on_report(1, comm::WorkerReport{{{first[0].task, first[0].attempt, 0.0}}, {}}, 0.0);
  scheduler.on_tick(2.0);
  EXPECT_TRUE(out.launches_to(1).empty());
  // Within a rebalance interval (0.5 s) of its predicted end, the next one is queued behind it.
  scheduler.on_tick(4.6);
  auto next = out.launches_to(1);
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].task, 2u);  // cost 3
}

// The adaptive interval: half a mean subtask, at most 5 s, unless subtasks are longer than 100 s;
// then a twentieth of one (hour-long subtasks need no round every 5 s).
TEST_F(CostPolicyTest, AdaptiveRoundsComeEveryTwentiethOfAnHourLongSubtask) {
  auto history = equally_fast();
  SchedulerConfig adaptive = config(Policy::cost, 2);
  adaptive.rebalance_interval_s = 0;
  // The time between the second round and the third, once two workers placed four subtasks.
  const auto interval = [&](double seconds_each) {
    Scheduler scheduler(make_job("cost"), with_costs(std::vector<double>(4, seconds_each)), adaptive, out, results,
                        &history);
    scheduler.on_worker_joined(worker(1), 0);
    scheduler.on_worker_joined(worker(2), 0);
    scheduler.on_tick(scheduler.next_wakeup());
    const double round = scheduler.next_wakeup();
    scheduler.on_tick(round);
    return scheduler.next_wakeup() - round;
  };
  EXPECT_DOUBLE_EQ(interval(3600), 180.0);
  EXPECT_DOUBLE_EQ(interval(30), 5.0);
  EXPECT_DOUBLE_EQ(interval(0.4), 0.2);
}

// With no event between rounds, rounds come at doubling intervals, up to 64 times the usual one
// and at most a twentieth of the youngest running attempt's age; the next event resets them.
TEST_F(CostPolicyTest, RoundsWithNoEventBetweenBackOffUntilTheNextEvent) {
  auto history = equally_fast();
  Scheduler scheduler(make_job("cost"), with_costs({100, 100, 100, 100}), config(Policy::cost, 2), out, results,
                      &history);
  scheduler.on_worker_joined(worker(1), 0);
  scheduler.on_worker_joined(worker(2), 0);
  const auto one = out.launches_to(1), two = out.launches_to(2);
  ASSERT_FALSE(one.empty());
  ASSERT_FALSE(two.empty());
  scheduler.on_report(1, comm::WorkerReport{{{one[0].task, one[0].attempt, 0.0}}, {}}, 0.0);
  scheduler.on_report(2, comm::WorkerReport{{{two[0].task, two[0].attempt, 0.0}}, {}}, 0.0);
  std::vector<double> intervals;
  double now = 0;
  while (now < 2000) {
    now = scheduler.next_wakeup();
    scheduler.on_tick(now);
    intervals.push_back(scheduler.next_wakeup() - now);
    // Never later than a twentieth of the running attempts' age (they started at 0).
    EXPECT_LE(intervals.back(), std::max(0.5, now / 20) + 1e-9) << "at " << now;
  }
  EXPECT_DOUBLE_EQ(intervals.front(), 0.5);  // the first round after an event: the usual interval
  EXPECT_DOUBLE_EQ(intervals.back(), 32.0);  // 64 times the usual one, no more
  EXPECT_TRUE(std::is_sorted(intervals.begin(), intervals.end()));
  // An event (a result) and the rounds come at the usual interval again.
  comm::WorkerReport report;
  report.finished.push_back(result(one[0], AttemptStatus::done, 0, now));
  scheduler.on_report(1, report, now);
  const double round = scheduler.next_wakeup();
  scheduler.on_tick(round);
  EXPECT_DOUBLE_EQ(scheduler.next_wakeup() - round, 0.5);
}

TEST_F(CostPolicyTest, StaticSplitsTheJobInBlocksOnceEveryWorkerJoined) {
  Scheduler scheduler(make_job("cost"), with_costs({1, 1, 1, 1, 1, 1}), config(Policy::static_, 2, 3), out, results);
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
  Scheduler scheduler(make_job("cost"), with_costs({1, 1, 1}), config(Policy::cost, 2), out, results, &history);
  scheduler.on_worker_joined(worker(1), 0);
  scheduler.on_worker_joined(worker(2), 0);
  // Three 1 s subtasks: the fast worker finishes all three by t = 3, the slow one needs 4 s for
  // one. So the slow worker is left idle rather than handed a subtask it would finish last.
  EXPECT_TRUE(out.launches_to(2).empty());
  auto first = out.launches_to(1);
  ASSERT_EQ(first.size(), 1u);
  scheduler.on_report(1, comm::WorkerReport{{{first[0].task, first[0].attempt, 0.0}}, {}}, 0.0);
  scheduler.on_tick(0.6);  // near the end of the first: the next is queued behind it
  auto second = out.launches_to(1);
  ASSERT_EQ(second.size(), 1u);
  comm::WorkerReport report{{{second[0].task, second[0].attempt, 1.0}}, {result(first[0], AttemptStatus::done, 0, 1)}};
  scheduler.on_report(1, report, 1);
  scheduler.on_tick(1.6);
  EXPECT_EQ(out.launches_to(1).size(), 1u);
  EXPECT_TRUE(out.launches_to(2).empty());
}

TEST_F(CostPolicyTest, RebalanceMigratesQueuedWorkFromTheSlowWorkerThroughTheRetractProtocol) {
  auto history = equally_fast();
  Scheduler scheduler(make_job("cost"), with_costs({1, 1, 1, 1, 1, 1}), slow_rounds(), out, results, &history);
  scheduler.on_worker_joined(worker(1), 0);
  scheduler.on_worker_joined(worker(2), 0);
  auto to_slow = out.launches_to(2);
  ASSERT_EQ(to_slow.size(), 2u);
  out.launches_to(1);
  // Worker 2 turns out slow: its first subtask, predicted to take 1 s, is still running at 5 s.
  scheduler.on_report(2, comm::WorkerReport{{{to_slow[0].task, to_slow[0].attempt, 0.0}}, {}}, 0.0);

  scheduler.on_tick(1.0);  // not due yet
  EXPECT_TRUE(sent_of_type<comm::RetractTasks>(out, 2).empty());
  scheduler.on_tick(5.0);
  auto retracts = sent_of_type<comm::RetractTasks>(out, 2);
  ASSERT_EQ(retracts.size(), 1u);
  ASSERT_EQ(retracts[0].attempts.size(), 1u);
  const auto moved = retracts[0].attempts[0];
  EXPECT_EQ(moved.task, to_slow[1].task);  // the last in the slow worker's queue
  EXPECT_EQ(count_events(results, "rebalance"), 1u);

  // Nothing moves before the slow worker acknowledges: the attempt must not run twice.
  EXPECT_TRUE(out.launches_to(1).empty());
  scheduler.on_retract_ack(2, comm::RetractAck{{moved}, {}}, 5.01);
  auto to_fast = out.launches_to(1);
  ASSERT_EQ(to_fast.size(), 1u);
  EXPECT_EQ(to_fast[0].task, moved.task);
  EXPECT_EQ(to_fast[0].attempt, moved.attempt);  // moved, not repeated
  EXPECT_EQ(count_events(results, "migrate"), 1u);

  // The migrated attempt is recorded as such when it finishes.
  scheduler.on_report(1, comm::WorkerReport{{}, {result(to_fast[0], AttemptStatus::done, 5.1, 6.1)}}, 6.1);
  auto it = std::find_if(results.attempts.begin(), results.attempts.end(),
                         [&](const AttemptRecord& a) { return a.task == moved.task; });
  ASSERT_NE(it, results.attempts.end());
  EXPECT_TRUE(it->migrated);
  EXPECT_NEAR(it->predicted_s, 1.0, 0.2);
}

TEST_F(CostPolicyTest, AMigratedAttemptStuckBehindAnOverrunningSubtaskCanMoveAgainLater) {
  auto history = equally_fast();
  Scheduler scheduler(make_job("cost"), with_costs({1, 1, 1, 1, 1, 1}), slow_rounds(), out, results, &history);
  scheduler.on_worker_joined(worker(1), 0);
  scheduler.on_worker_joined(worker(2), 0);
  auto to_fast = out.launches_to(1);
  auto to_slow = out.launches_to(2);
  scheduler.on_report(2, comm::WorkerReport{{{to_slow[0].task, to_slow[0].attempt, 0.0}}, {}}, 0.0);
  scheduler.on_tick(5.0);
  const auto moved = sent_of_type<comm::RetractTasks>(out, 2).at(0).attempts.at(0);
  scheduler.on_retract_ack(2, comm::RetractAck{{moved}, {}}, 5.01);
  // It waits on worker 1 behind a subtask that starts now and then overruns too.
  scheduler.on_report(1, comm::WorkerReport{{{to_fast[0].task, to_fast[0].attempt, 5.0}}, {}}, 5.02);
  scheduler.on_report(2, comm::WorkerReport{{}, {result(to_slow[0], AttemptStatus::done, 0.0, 5.03)}}, 5.03);
  out.sent.clear();

  // Soon after, it stays put (hysteresis)...
  scheduler.on_tick(10.0);
  for (const auto& retract : sent_of_type<comm::RetractTasks>(out, 1)) {
    for (const auto& ref : retract.attempts) EXPECT_NE(ref.task, moved.task);
  }
  // ...but when the subtask ahead of it runs far past its prediction, it moves on.
  scheduler.on_tick(60.0);
  bool moved_again = false;
  for (const auto& retract : sent_of_type<comm::RetractTasks>(out, 1)) {
    for (const auto& ref : retract.attempts) moved_again |= ref.task == moved.task;
  }
  EXPECT_TRUE(moved_again);
}

TEST_F(CostPolicyTest, AnAttemptThatStartsWhileItsRetractionIsInFlightStaysWhereItIs) {
  auto history = equally_fast();
  Scheduler scheduler(make_job("cost"), with_costs({1, 1, 1, 1, 1, 1}), slow_rounds(), out, results, &history);
  scheduler.on_worker_joined(worker(1), 0);
  scheduler.on_worker_joined(worker(2), 0);
  auto to_slow = out.launches_to(2);
  ASSERT_EQ(to_slow.size(), 2u);
  out.launches_to(1);
  scheduler.on_report(2, comm::WorkerReport{{{to_slow[0].task, to_slow[0].attempt, 0.0}}, {}}, 0.0);
  scheduler.on_tick(5.0);
  const auto moved = sent_of_type<comm::RetractTasks>(out, 2).at(0).attempts.at(0);
  ASSERT_EQ(moved.task, to_slow[1].task);

  // The slow worker started it before the retraction reached it; it says so in its ack.
  comm::WorkerReport started;
  started.started.push_back({moved.task, moved.attempt, 5.0});
  scheduler.on_report(2, started, 5.0);
  scheduler.on_retract_ack(2, comm::RetractAck{{}, {moved}}, 5.02);
  for (const auto& launch : out.launches_to(1)) EXPECT_NE(launch.task, moved.task) << "started twice";
  EXPECT_EQ(count_events(results, "migrate"), 0u);
  EXPECT_EQ(results.tasks.at(moved.task).status, TaskStatus::running);

  // It finishes there, once.
  scheduler.on_report(2, comm::WorkerReport{{}, {result(to_slow[1], AttemptStatus::done, 5.0, 9.0)}}, 9.0);
  EXPECT_EQ(results.tasks.at(moved.task).status, TaskStatus::done);
  EXPECT_EQ(results.tasks.at(moved.task).worker, 2);
}

TEST_F(CostPolicyTest, AnIdleWorkerCopiesTheSubtaskPredictedToFinishLastAndTheFirstToFinishWins) {
  auto history = fast_and_slow();
  Scheduler scheduler(make_job("cost"), with_costs({1}), config(Policy::cost, 1), out, results, &history);
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
  Scheduler scheduler(make_job("cost"), with_costs({10}), config(Policy::cost, 1), out, results, &history);
  scheduler.on_worker_joined(worker(2), 0);
  auto original = out.launches_to(2).at(0);
  scheduler.on_report(2, comm::WorkerReport{{{original.task, original.attempt, 0.0}}, {}}, 0.0);
  scheduler.on_worker_joined(worker(1), 1.0);  // 9 s left there, 10 s here: no copy
  EXPECT_TRUE(out.launches_to(1).empty());
  EXPECT_EQ(count_events(results, "speculate"), 0u);
}

TEST_F(CostPolicyTest, AFailedCopyDoesNotFailTheSubtaskWhileTheOtherRuns) {
  auto history = fast_and_slow();
  Scheduler scheduler(make_job("cost"), with_costs({1}), config(Policy::cost, 1), out, results, &history);
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
  Scheduler scheduler(make_job("cost"), subtasks, config(Policy::cost, 2), out, results, &history);
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
  Scheduler scheduler(make_job("cost"), with_costs({1, 1, 1, 1, 1, 1, 1, 1}), config(Policy::cost, 1, 2), out, results);
  scheduler.on_worker_joined(worker(1), 0);
  double now = 0;
  for (int round = 0; round < 8 && !scheduler.finished(); ++round) {
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

/// Whether an assign event for `task` says it is a calibration run.
bool assigned_as_calibration(const MemoryResults& results, std::uint32_t task) {
  return std::any_of(results.events.begin(), results.events.end(), [&](const EventRecord& e) {
    return e.kind == "assign" && e.task == task && e.detail.find("calibration") != std::string::npos;
  });
}

TEST_F(CostPolicyTest, AWorkerOfUnknownSpeedFirstRunsShortCalibrationSubtasks) {
  // No history: nobody knows whether this worker is the slow one. Long subtasks wait until it has
  // run three short ones (the shortest above 5 round trips, 0.1 s).
  Scheduler scheduler(make_job("cost"), with_costs({10, 8, 0.2, 0.25, 0.3, 0.35, 0.05, 6, 5, 4, 0.4, 0.45}),
                      config(Policy::cost, 2), out, results);
  scheduler.on_worker_joined(worker(1), 0);
  auto calibration = out.launches_to(1);
  ASSERT_EQ(calibration.size(), 3u);  // at once: they are short
  EXPECT_EQ(calibration[0].task, 2u);  // 0.2
  EXPECT_EQ(calibration[1].task, 3u);  // 0.25
  EXPECT_EQ(calibration[2].task, 4u);  // 0.3
  for (const auto& launch : calibration) EXPECT_TRUE(assigned_as_calibration(results, launch.task));

  // While they run it takes nothing else, however idle it looks.
  double now = 0;
  for (std::size_t i = 0; i < 2; ++i) {
    now += 0.3;
    scheduler.on_report(1, comm::WorkerReport{{}, {result(calibration[i], AttemptStatus::done, now - 0.3, now)}}, now);
    EXPECT_TRUE(out.launches_to(1).empty()) << "after calibration run " << i + 1;
  }
  EXPECT_EQ(count_events(results, "calibrated"), 0u);
  now += 0.3;
  scheduler.on_report(1, comm::WorkerReport{{}, {result(calibration[2], AttemptStatus::done, now - 0.3, now)}}, now);
  EXPECT_EQ(count_events(results, "calibrated"), 1u);
  auto next = out.launches_to(1);
  ASSERT_EQ(next.size(), 1u);  // one at a time until the second worker joins
  EXPECT_EQ(next[0].task, 0u);  // now the longest
  EXPECT_FALSE(assigned_as_calibration(results, 0));
}

TEST_F(CostPolicyTest, NoCalibrationWhenNoSubtaskIsShortEnough) {
  // Calibrating must not hold back long subtasks: here every subtask is long.
  Scheduler scheduler(make_job("cost"), with_costs({5, 4, 3, 6}), config(Policy::cost, 2), out, results);
  scheduler.on_worker_joined(worker(1), 0);
  scheduler.on_worker_joined(worker(2), 0);
  auto first = out.launches_to(1), second = out.launches_to(2);
  ASSERT_EQ(first.size(), 1u);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(first[0].task, 3u);  // longest first, as usual
  EXPECT_EQ(second[0].task, 0u);
  EXPECT_FALSE(assigned_as_calibration(results, 3));
  EXPECT_FALSE(assigned_as_calibration(results, 0));
}

TEST_F(CostPolicyTest, RebalanceMovesNothingToAWorkerBeingCalibrated) {
  // Worker 1 is known from history; worker 2 is not, and runs calibration subtasks. Worker 1's
  // first subtask overruns, so it holds the latest queue, but worker 2 may be the slow one.
  CostModelSnapshot history = fast_and_slow();
  history.workers.pop_back();
  std::vector<double> costs(100, 0.2);
  costs[0] = costs[1] = 1;
  Scheduler scheduler(make_job("cost"), with_costs(costs), slow_rounds(), out, results, &history);
  scheduler.on_worker_joined(worker(1), 0);
  scheduler.on_worker_joined(worker(2), 0);
  auto to_known = out.launches_to(1);
  ASSERT_EQ(to_known.size(), 2u);
  EXPECT_EQ(to_known[1].task, 1u);
  auto to_new = out.launches_to(2);
  ASSERT_EQ(to_new.size(), 3u);
  for (const auto& launch : to_new) EXPECT_TRUE(assigned_as_calibration(results, launch.task));
  scheduler.on_report(1, comm::WorkerReport{{{to_known[0].task, to_known[0].attempt, 0.0}}, {}}, 0.0);
  scheduler.on_tick(5.0);
  EXPECT_TRUE(sent_of_type<comm::RetractTasks>(out, 1).empty());
  EXPECT_EQ(count_events(results, "retract"), 0u);
}

/// `n` costs: 3, 2.9, then `rest` each.
std::vector<double> three_then_almost_three(std::size_t n, double rest) {
  std::vector<double> costs(n, rest);
  costs[0] = 3;
  costs[1] = 2.9;
  return costs;
}

TEST_F(CostPolicyTest, ASlowWorkerLeavesALongSubtaskToAFasterOneWhileMuchIsPending) {
  // Worker 2 is 4x slower. Subtask 1 (2.9 s) would end there at about 12 s, after the projected
  // end of the whole job (9.5 s); on worker 1, after its 3 s one, at about 6 s. So worker 2 takes
  // a short one instead, though 20 more are pending.
  auto history = fast_and_slow();
  Scheduler scheduler(make_job("cost"), with_costs(three_then_almost_three(22, 0.3)), config(Policy::cost, 2), out, results,
                      &history);
  scheduler.on_worker_joined(worker(1), 0);
  scheduler.on_worker_joined(worker(2), 0);
  auto fast = out.launches_to(1), slow = out.launches_to(2);
  ASSERT_EQ(fast.size(), 1u);
  EXPECT_EQ(fast[0].task, 0u);
  ASSERT_FALSE(slow.empty());
  for (const auto& launch : slow) EXPECT_GE(launch.task, 2u) << "the 2.9 s subtask went to the slow worker";
  // When worker 1 nears the end of its first, it takes the 2.9 s one.
  scheduler.on_report(1, comm::WorkerReport{{{fast[0].task, fast[0].attempt, 0.0}}, {}}, 0.0);
  scheduler.on_tick(2.7);
  auto next = out.launches_to(1);
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].task, 1u);
}

TEST_F(CostPolicyTest, AWorkerOfUnknownSpeedIsCautiousWithLongSubtasks) {
  // As above, but worker 2 is as fast as worker 1 -- only it has no history and no subtask is
  // short enough to calibrate it: it might be slow, so the 2.9 s subtask waits for worker 1.
  // Known to be fast (history), it takes it at once.
  for (const bool known : {false, true}) {
    RecordingSink sink;
    MemoryResults memory;
    CostModelSnapshot history = equally_fast();
    if (!known) history.workers.pop_back();
    Scheduler scheduler(make_job("cost"), with_costs(three_then_almost_three(8, 1.0)), config(Policy::cost, 2), sink, memory,
                        &history);
    scheduler.on_worker_joined(worker(1), 0);
    scheduler.on_worker_joined(worker(2), 0);
    auto second = sink.launches_to(2);
    ASSERT_EQ(second.size(), 1u);
    EXPECT_EQ(second[0].task == 1u, known) << (known ? "known" : "unknown");
  }
}

}  // namespace
}  // namespace fastgpu::scheduler
