// Backfill around a multi-GPU reservation: a gang waits on its busiest member, so its other
// members are given short one-GPU subtasks, queued ahead of the gang, that end before it can start.
#include <gtest/gtest.h>

#include <algorithm>

#include "scheduler/scheduler.hpp"
#include "support/recording.hpp"
#include "unit/scheduler/scheduler_fixtures.hpp"

namespace fastgpu::scheduler {
namespace {

using fixtures::make_job;
using fixtures::worker;

/// t0: one GPU, cost 100 (it holds worker 1); t1: the gang, 2 GPUs; t2, t3: short; t4: longer than
/// the gap before the gang.
std::vector<Subtask> gang_behind_a_long_one() {
  std::vector<Subtask> subtasks = fixtures::with_costs({100, 5, 1, 1, 500});
  subtasks[1].gpus = 2;
  return subtasks;
}

bool has_event(const testing::MemoryResults& results, const std::string& kind, std::int64_t task) {
  return std::ranges::any_of(results.events, [&](const EventRecord& e) { return e.kind == kind && e.task == task; });
}

TEST(BackfillTest, ShortSubtasksFillTheIdleMemberAheadOfTheGangAndALongOneDoesNot) {
  testing::RecordingSink out;
  testing::MemoryResults results;
  Scheduler scheduler(make_job(), gang_behind_a_long_one(), fixtures::config_for(Policy::greedy, 2), out, results);
  scheduler.on_worker_joined(worker(1), 0);  // takes t0 (one attempt while the other is not here)
  scheduler.on_worker_joined(worker(2), 0);  // the gang goes to both; worker 2 would idle until t0 ends
  const auto to1 = out.launches_to(1), to2 = out.launches_to(2);

  ASSERT_FALSE(to1.empty());
  EXPECT_EQ(to1.front().task, 0u);
  std::vector<std::uint32_t> ahead, behind;
  bool gang_seen = false;
  for (const auto& launch : to2) {
    if (launch.task == 1) gang_seen = true;
    if (launch.task != 1) (launch.ahead_of_gang ? ahead : behind).push_back(launch.task);
  }
  ASSERT_TRUE(gang_seen);
  EXPECT_NE(std::ranges::find(ahead, 2u), ahead.end()) << "t2 fits before the gang";
  EXPECT_EQ(std::ranges::find(ahead, 4u), ahead.end()) << "t4 would delay the gang";
  EXPECT_TRUE(has_event(results, "backfill", 2));
  EXPECT_FALSE(has_event(results, "backfill", 4));
}

TEST(BackfillTest, TheJobFinishesWithTheBackfilledSubtasksRunBeforeTheGang) {
  testing::RecordingSink out;
  testing::MemoryResults results;
  Scheduler scheduler(make_job(), gang_behind_a_long_one(), fixtures::config_for(Policy::greedy, 2), out, results);
  scheduler.on_worker_joined(worker(1), 0);
  scheduler.on_worker_joined(worker(2), 0);
  // Each worker runs its launches in the order a worker queues them (ahead_of_gang first).
  std::map<int, std::deque<comm::TaskLaunch>> queues;
  auto collect = [&] {
    for (int rank : {1, 2}) {
      for (auto& launch : out.launches_to(rank)) {
        auto& queue = queues[rank];
        auto at = queue.end();
        if (launch.ahead_of_gang) {
          at = std::ranges::find_if(queue, [](const comm::TaskLaunch& l) { return l.gang.size() > 1; });
        }
        queue.insert(at, launch);
      }
    }
  };
  collect();
  double now = 0;
  std::vector<std::uint32_t> order2;
  for (int step = 0; step < 50 && !scheduler.finished(); ++step) {
    // The gang starts only when both have it next: run the one-GPU heads first.
    bool progressed = false;
    for (int rank : {1, 2}) {
      auto& queue = queues[rank];
      if (queue.empty() || queue.front().gang.size() > 1) continue;
      const comm::TaskLaunch launch = queue.front();
      queue.pop_front();
      if (rank == 2) order2.push_back(launch.task);
      now += launch.task == 0 ? 100 : 1;
      scheduler.on_report(rank, fixtures::finished(launch, now - 1, now), now);
      progressed = true;
    }
    if (!progressed && !queues[1].empty() && !queues[2].empty()) {
      const comm::TaskLaunch gang = queues[1].front();
      queues[1].pop_front();
      queues[2].pop_front();
      order2.push_back(gang.task);
      now += 5;
      for (int rank : {1, 2}) scheduler.on_report(rank, fixtures::finished(gang, now - 5, now), now);
    }
    collect();
  }
  ASSERT_TRUE(scheduler.finished());
  EXPECT_EQ(scheduler.counts().done, 5u);
  const auto gang_at = std::ranges::find(order2, 1u);
  ASSERT_NE(gang_at, order2.end());
  EXPECT_NE(std::find(order2.begin(), gang_at, 2u), gang_at) << "t2 ran on worker 2 before the gang";
}

}  // namespace
}  // namespace fastgpu::scheduler
