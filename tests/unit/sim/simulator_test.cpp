// The simulator against schedules computed by hand, its determinism, and its injected events.
#include <gtest/gtest.h>

#include <algorithm>
#include <tuple>

#include "sim/simulator.hpp"
#include "support/recording.hpp"

namespace fastgpu::sim {
namespace {

using testing::MemoryResults;

Workload tiny(const std::vector<double>& work, const std::vector<double>& arrival = {}, int retries = 1) {
  Workload w;
  w.job.name = "tiny";
  w.job.output = "tiny.h5";
  w.job.output_dir = "tiny.outputs";
  w.job.task.kernel = "noop";
  for (std::size_t i = 0; i < work.size(); ++i) {
    Subtask s;
    s.id = "t" + std::to_string(i);
    s.name = s.id;
    s.cost = work[i];
    s.retries = retries;
    w.subtasks.push_back(s);
    w.work.push_back(work[i]);
    w.arrival.push_back(arrival.empty() ? 0 : arrival[i]);
  }
  return w;
}

SimConfig config(scheduler::Policy policy, int workers) {
  SimConfig c;
  c.scheduler.policy = policy;
  c.workers = workers;
  return c;
}

// (task, attempt, worker, start, end, status) of every attempt, in task/attempt order.
using Row = std::tuple<std::int64_t, int, int, double, double, AttemptStatus>;
std::vector<Row> rows(const MemoryResults& results) {
  std::vector<Row> out;
  for (const auto& a : results.attempts) out.emplace_back(a.task, a.attempt, a.worker, a.start, a.end, a.status);
  std::sort(out.begin(), out.end());
  return out;
}

constexpr auto kDone = AttemptStatus::done;

TEST(Simulator, StaticSplitsTwoWorkersFourTasksInBlocks) {
  // Worker 1 gets subtasks 0 and 1 (1 s + 2 s), worker 2 gets 2 and 3 (3 s + 4 s).
  MemoryResults results;
  const SimResult r = simulate(tiny({1, 2, 3, 4}), config(scheduler::Policy::static_, 2), &results);
  EXPECT_EQ(rows(results), (std::vector<Row>{{0, 0, 1, 0, 1, kDone},
                                             {1, 0, 1, 1, 3, kDone},
                                             {2, 0, 2, 0, 3, kDone},
                                             {3, 0, 2, 3, 7, kDone}}));
  EXPECT_EQ(r.done, 4u);
  EXPECT_DOUBLE_EQ(r.makespan_s, 7);
  EXPECT_DOUBLE_EQ(r.lower_bound_s, 5);  // 10 s of work on 2 workers
  EXPECT_DOUBLE_EQ(r.efficiency, 5.0 / 7.0);
  EXPECT_FALSE(r.stalled);
}

TEST(Simulator, GreedyFillsTheFirstFreeWorkerInFileOrder) {
  // Worker 1 joins first and (until all have joined) gets one subtask: 0. Then worker 2, free
  // first, takes 1, and the second level of the queues is 2 (worker 2) and 3 (worker 1). Subtask
  // 4 goes to worker 2 when it finishes 1 at t=1 (it starts after 2, at t=2).
  MemoryResults results;
  const SimResult r = simulate(tiny({3, 1, 1, 1, 2}), config(scheduler::Policy::greedy, 2), &results);
  EXPECT_EQ(rows(results), (std::vector<Row>{{0, 0, 1, 0, 3, kDone},
                                             {1, 0, 2, 0, 1, kDone},
                                             {2, 0, 2, 1, 2, kDone},
                                             {3, 0, 1, 3, 4, kDone},
                                             {4, 0, 2, 2, 4, kDone}}));
  EXPECT_DOUBLE_EQ(r.makespan_s, 4);
  EXPECT_DOUBLE_EQ(r.wait_s.max, 3);  // subtask 3 waited behind subtask 0
}

TEST(Simulator, SpeedsScaleDurations) {
  SimConfig c = config(scheduler::Policy::static_, 2);
  c.speeds = {1, 0.5};
  MemoryResults results;
  const SimResult r = simulate(tiny({1, 1, 1, 1}), c, &results);
  EXPECT_EQ(rows(results), (std::vector<Row>{{0, 0, 1, 0, 1, kDone},
                                             {1, 0, 1, 1, 2, kDone},
                                             {2, 0, 2, 0, 2, kDone},
                                             {3, 0, 2, 2, 4, kDone}}));
  EXPECT_DOUBLE_EQ(r.lower_bound_s, 4 / 1.5);
}

TEST(Simulator, LatencyDelaysEveryMessage) {
  // Hello at 0.5, assignment arrives at 1.0: the two 1-s subtasks run 1-2 and 2-3.
  SimConfig c = config(scheduler::Policy::greedy, 1);
  c.latency_s = 0.5;
  MemoryResults results;
  const SimResult r = simulate(tiny({1, 1}), c, &results);
  EXPECT_EQ(rows(results), (std::vector<Row>{{0, 0, 1, 1, 2, kDone}, {1, 0, 1, 2, 3, kDone}}));
  EXPECT_DOUBLE_EQ(r.makespan_s, 3);
}

TEST(Simulator, SubtasksArriveOnlineAtTheScheduler) {
  for (auto policy : {scheduler::Policy::greedy, scheduler::Policy::cost, scheduler::Policy::static_}) {
    MemoryResults results;
    const SimResult r = simulate(tiny({2, 2}, {0, 10}), config(policy, 1), &results);
    EXPECT_EQ(rows(results), (std::vector<Row>{{0, 0, 1, 0, 2, kDone}, {1, 0, 1, 10, 12, kDone}}))
        << scheduler::to_string(policy);
    EXPECT_DOUBLE_EQ(r.makespan_s, 12);
    EXPECT_DOUBLE_EQ(r.lower_bound_s, 12);  // the last arrival + its work
    EXPECT_DOUBLE_EQ(r.wait_s.max, 0);
    EXPECT_DOUBLE_EQ(r.completion_s.avg, 2);
  }
}

TEST(Simulator, ALaterArrivalWaitsBehindTheQueue) {
  // One worker; a 10-s subtask at 0, a 1-s one arriving at 1: it waits 9 s, completes in 10 s.
  const SimResult r = simulate(tiny({10, 1}, {0, 1}), config(scheduler::Policy::greedy, 1));
  EXPECT_DOUBLE_EQ(r.makespan_s, 11);
  EXPECT_DOUBLE_EQ(r.wait_s.max, 9);
  EXPECT_DOUBLE_EQ(r.completion_s.max, 10);
}

TEST(Simulator, ASlowdownStretchesTheRunningAttempt) {
  SimConfig c = config(scheduler::Policy::greedy, 1);
  c.slowdowns = {parse_slowdown("1=2@5")};
  MemoryResults results;
  simulate(tiny({10, 1}), c, &results);
  // 5 s done at speed 1, the other 5 s of work at half speed: ends at 15; the next takes 2 s.
  EXPECT_EQ(rows(results), (std::vector<Row>{{0, 0, 1, 0, 15, kDone}, {1, 0, 1, 15, 17, kDone}}));
}

TEST(Simulator, AnInjectedFailureIsRetried) {
  SimConfig c = config(scheduler::Policy::greedy, 1);
  c.failures = {parse_failure("1@4")};
  MemoryResults results;
  const SimResult r = simulate(tiny({10}), c, &results);
  EXPECT_EQ(rows(results), (std::vector<Row>{{0, 0, 1, 0, 4, AttemptStatus::failed}, {0, 1, 1, 4, 14, kDone}}));
  EXPECT_EQ(r.retries, 1u);
  EXPECT_EQ(r.injected_failures, 1u);
  EXPECT_EQ(r.done, 1u);
}

TEST(Simulator, WithoutRetriesAFailureIsFinal) {
  SimConfig c = config(scheduler::Policy::greedy, 1);
  c.failures = {parse_failure("1@1")};
  const SimResult r = simulate(tiny({5, 5}, {}, /*retries=*/0), c);
  EXPECT_EQ(r.failed, 1u);
  EXPECT_EQ(r.done, 1u);
}

Workload random_work(std::size_t n) { return synthetic_workload(n, 1.0, 1.0, 0.3, 7); }

/// The run ended, and every subtask that is done was done by exactly one attempt.
void expect_every_subtask_done_once(const SimResult& r, const MemoryResults& results, std::size_t subtasks) {
  EXPECT_FALSE(r.stalled);
  EXPECT_EQ(r.done + r.failed, subtasks);
  std::vector<int> done(subtasks, 0);
  for (const auto& a : results.attempts) {
    if (a.status == kDone) ++done[static_cast<std::size_t>(a.task)];
  }
  EXPECT_EQ(std::count(done.begin(), done.end(), 1), static_cast<long>(r.done));
  EXPECT_EQ(std::count_if(done.begin(), done.end(), [](int n) { return n > 1; }), 0);
}

SimConfig busy_config(std::uint64_t seed) {
  SimConfig c = config(scheduler::Policy::cost, 16);
  c.speeds = parse_speeds("25%@0.5", 16, seed);
  c.fail_rate = 0.05;
  c.latency_s = 0.001;
  c.seed = seed;
  return c;
}

TEST(Simulator, TheSameSeedGivesTheSameRun) {
  MemoryResults a, b, other;
  const SimResult ra = simulate(random_work(2000), busy_config(3), &a);
  const SimResult rb = simulate(random_work(2000), busy_config(3), &b);
  simulate(random_work(2000), busy_config(4), &other);
  EXPECT_EQ(rows(a), rows(b));
  EXPECT_EQ(ra.makespan_s, rb.makespan_s);
  EXPECT_EQ(ra.migrations, rb.migrations);
  EXPECT_NE(rows(a), rows(other));
  EXPECT_EQ(ra.done + ra.failed, 2000u);
  EXPECT_GT(ra.failed_attempts, 0u);
}

TEST(Simulator, TheCostPolicyBalancesUnequalWorkers) {
  SimConfig c = config(scheduler::Policy::cost, 8);
  c.speeds = parse_speeds("1,1,1,0.5", 8, 1);
  const SimResult r = simulate(random_work(3000), c);
  EXPECT_EQ(r.done, 3000u);
  EXPECT_GT(r.efficiency, 0.9);
  EXPECT_GT(r.rebalance.calls, 0u);
  EXPECT_GT(r.decisions.calls, 3000u);
}

TEST(Simulator, EverySubtaskEndsExactlyOnceUnderEveryPolicy) {
  for (auto policy : {scheduler::Policy::greedy, scheduler::Policy::cost, scheduler::Policy::static_}) {
    SimConfig c = busy_config(5);
    c.scheduler.policy = policy;
    c.slowdowns = {parse_slowdown("2=4@10")};
    MemoryResults results;
    const SimResult r = simulate(random_work(1000), c, &results);
    SCOPED_TRACE(scheduler::to_string(policy));
    expect_every_subtask_done_once(r, results, 1000);
  }
}

TEST(Simulator, ABigPoolEndsEverySubtaskExactlyOnce) {
  // Above 127 workers placement takes its shortcuts (workers waiting on the bench, the projected
  // end and the speculation candidates refreshed every workers / 64 rounds): with failures,
  // retries, speculative copies and a slowdown, every subtask still ends exactly once.
  SimConfig c = config(scheduler::Policy::cost, 256);
  c.speeds = parse_speeds("10%@0.5", 256, 5);
  c.fail_rate = 0.05;
  c.latency_s = 0.001;
  c.slowdowns = {parse_slowdown("7=4@2")};
  MemoryResults results;
  expect_every_subtask_done_once(simulate(random_work(3000), c, &results), results, 3000);
}

TEST(SimulatorOptions, SpeedsAreAListOrShares) {
  EXPECT_EQ(parse_speeds("", 3, 1), (std::vector<double>{1, 1, 1}));
  EXPECT_EQ(parse_speeds("1,0.5", 4, 1), (std::vector<double>{1, 0.5, 1, 0.5}));
  const auto shares = parse_speeds("10%@0.5,5%@0.25", 100, 9);
  EXPECT_EQ(std::count(shares.begin(), shares.end(), 0.5), 10);
  EXPECT_EQ(std::count(shares.begin(), shares.end(), 0.25), 5);
  EXPECT_EQ(std::count(shares.begin(), shares.end(), 1.0), 85);
  EXPECT_EQ(shares, parse_speeds("10%@0.5,5%@0.25", 100, 9));
  EXPECT_THROW(parse_speeds("1,2,3", 2, 1), UsageError);
  EXPECT_THROW(parse_speeds("60%@0.5,50%@2", 10, 1), UsageError);
  EXPECT_THROW(parse_speeds("x", 2, 1), UsageError);
}

TEST(Simulator, AGangStartsWhenItsLastMemberArrivesAndTheOtherBackfills) {
  // Worker 1 joins first and takes subtask 0 (4 s). The 2-GPU subtask 1 goes to both workers; it
  // can start only when worker 1 is done, at 4 s, so worker 2 runs the short 2 and 3 ahead of it
  // (backfill) instead of idling, and the gang runs 4..6 on both.
  Workload w = tiny({4, 2, 1, 1});
  w.subtasks[1].gpus = 2;
  MemoryResults results;
  const SimResult r = simulate(std::move(w), config(scheduler::Policy::greedy, 2), &results);
  EXPECT_EQ(rows(results), (std::vector<Row>{{0, 0, 1, 0, 4, kDone},
                                             {1, 0, 1, 4, 6, kDone},
                                             {2, 0, 2, 0, 1, kDone},
                                             {3, 0, 2, 1, 2, kDone}}));
  EXPECT_EQ(r.done, 4u);
  EXPECT_DOUBLE_EQ(r.makespan_s, 6);
  EXPECT_DOUBLE_EQ(r.lower_bound_s, 5);  // 4 + 2 x 2 + 1 + 1 = 10 GPU-seconds on 2 workers
  EXPECT_FALSE(r.stalled);
}

TEST(Simulator, AGangRunsAtItsSlowestMembersSpeed) {
  Workload w = tiny({2});
  w.subtasks[0].gpus = 2;
  SimConfig c = config(scheduler::Policy::greedy, 2);
  c.speeds = {1, 0.5};
  MemoryResults results;
  const SimResult r = simulate(std::move(w), c, &results);
  EXPECT_EQ(r.done, 1u);
  EXPECT_DOUBLE_EQ(r.makespan_s, 4);
}

TEST(Simulator, AGangWiderThanThePoolFailsAndLeavesTheBoundToTheWorkDone) {
  // Subtask 1 asks for 3 GPUs of 2: it fails at once ("needs 3 GPUs"), and its 100 s x 3 must not
  // count in the lower bound, or the efficiency would exceed 100 %.
  Workload w = tiny({2, 100, 2});
  w.subtasks[1].gpus = 3;
  MemoryResults results;
  const SimResult r = simulate(std::move(w), config(scheduler::Policy::greedy, 2), &results);
  EXPECT_EQ(r.done, 2u);
  EXPECT_EQ(r.failed, 1u);
  EXPECT_EQ(r.too_wide, 1u);
  EXPECT_DOUBLE_EQ(r.makespan_s, 2);
  EXPECT_DOUBLE_EQ(r.total_work_s, 4);
  EXPECT_DOUBLE_EQ(r.lower_bound_s, 2);
  EXPECT_DOUBLE_EQ(r.efficiency, 1);
}

TEST(Simulator, IdleWorkersOfUnknownSpeedDoNotDeferALongArrivalToEachOther) {
  // 256 workers, never more than three busy: a 139-day subtask at 0, one-hour-apart 1000-s ones,
  // and a 127-day one after 50 of them. Every subtask starts when it arrives. (Idle workers that
  // had not calibrated were once judged as of known speed by each other, so each deferred the
  // long one to the next: it waited 2.8 h here, 36 h at 4,096 workers.)
  std::vector<double> work{12e6}, arrival{0};
  for (int i = 1; i <= 350; ++i) {
    if (i == 51) {
      work.push_back(11e6);
      arrival.push_back(arrival.back());
    }
    work.push_back(1000);
    arrival.push_back(i * 10000.0);
  }
  const SimResult r = simulate(tiny(work, arrival), config(scheduler::Policy::cost, 256));
  EXPECT_EQ(r.done, work.size());
  EXPECT_EQ(r.wait_s.max, 0);
  EXPECT_DOUBLE_EQ(r.efficiency, 1);
}

TEST(Simulator, AnIdleWorkerOfUnknownSpeedInAPoolOfEqualGpusTakesALongArrival) {
  // 64 equal workers: three waves of 48 10-s subtasks make the speed of 48 of them known, then 48
  // 10,000-s subtasks keep those busy, and one more arrives at 200 while 16 never-seen workers
  // idle. Padded as if it could be 2.7x slow, an idle unknown worker left it to a busy known one
  // and it waited 9,900 s; with the spread the pool has shown (none: equal GPUs), it starts at once.
  std::vector<double> work, arrival;
  const auto add = [&](int n, double seconds, double at) {
    work.insert(work.end(), n, seconds);
    arrival.insert(arrival.end(), n, at);
  };
  add(48, 10, 0);
  add(48, 10, 20);
  add(48, 10, 40);
  add(48, 10000, 100);
  add(1, 10000, 200);
  MemoryResults results;
  const SimResult r = simulate(tiny(work, arrival), config(scheduler::Policy::cost, 64), &results);
  EXPECT_EQ(r.done, work.size());
  for (const auto& [task, attempt, worker, start, end, status] : rows(results)) {
    if (task >= 144) EXPECT_EQ(start, arrival[task]) << "subtask " << task << " waited";
  }
}

TEST(SimulatorOptions, SlowdownsAndFailuresParse) {
  const Slowdown s = parse_slowdown("3=2.5@100");
  EXPECT_EQ(s.rank, 3);
  EXPECT_DOUBLE_EQ(s.factor, 2.5);
  EXPECT_DOUBLE_EQ(s.at, 100);
  EXPECT_EQ(parse_failure("7@1.5").rank, 7);
  EXPECT_THROW(parse_slowdown("3@2"), UsageError);
  EXPECT_THROW(parse_failure("3"), UsageError);
  SimConfig c = config(scheduler::Policy::greedy, 2);
  c.failures = {parse_failure("5@1")};
  EXPECT_THROW(simulate(tiny({1}), c), UsageError);
}

}  // namespace
}  // namespace fastgpu::sim
