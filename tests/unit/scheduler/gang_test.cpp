// Multi-GPU ("gang") subtasks: placed on k workers at once, with identical launches; done when all
// members are; never retracted nor copied; the same relative order on every worker they share.
#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <map>
#include <set>

#include "scheduler/scheduler.hpp"
#include "support/recording.hpp"
#include "unit/scheduler/scheduler_fixtures.hpp"

namespace fastgpu::scheduler {
namespace {

using testing::MemoryResults;
using testing::RecordingSink;
using fixtures::config_for;
using fixtures::make_job;
using fixtures::with_costs;
using fixtures::worker;

/// Subtasks with the given costs; gpus[i] GPUs each (1 where not given).
std::vector<Subtask> with_gpus(const std::vector<double>& costs, const std::vector<int>& gpus, int retries = 0) {
  auto subtasks = with_costs(costs);
  for (std::size_t i = 0; i < subtasks.size(); ++i) {
    if (i < gpus.size()) subtasks[i].gpus = gpus[i];
    subtasks[i].retries = retries;
  }
  return subtasks;
}

WorkerRecord on_host(int rank, const std::string& host) {
  WorkerRecord record = worker(rank);
  record.host = host;
  return record;
}

comm::WorkerReport report(const comm::TaskLaunch& launch, AttemptStatus status, double start, double end) {
  comm::WorkerReport r;
  r.started.push_back({launch.task, launch.attempt, start});
  r.finished.push_back(fixtures::result(launch, status, start, end));
  if (status != AttemptStatus::done) r.finished.back().error = "member crashed";
  return r;
}

struct GangTest : ::testing::Test {
  RecordingSink out;
  MemoryResults results;
};

TEST_F(GangTest, ATwoGpuSubtaskGoesToTwoWorkersWithIdenticalLaunches) {
  Scheduler scheduler(make_job(), with_gpus({1}, {2}), config_for(Policy::greedy, 3), out, results);
  scheduler.on_worker_joined(worker(1), 0.0);
  EXPECT_TRUE(out.sent.empty());  // never placed while fewer than k workers have joined
  scheduler.on_worker_joined(worker(2), 0.0);
  scheduler.on_worker_joined(worker(3), 0.0);
  const auto to1 = out.launches_to(1), to2 = out.launches_to(2);
  ASSERT_EQ(to1.size(), 1u);
  ASSERT_EQ(to2.size(), 1u);
  EXPECT_TRUE(out.launches_to(3).empty());
  EXPECT_EQ(to1[0].task, to2[0].task);
  EXPECT_EQ(to1[0].attempt, to2[0].attempt);
  EXPECT_EQ(to1[0].launch.argv, to2[0].launch.argv);
  EXPECT_EQ(to1[0].gang, (std::vector<std::int32_t>{1, 2}));
  EXPECT_EQ(to2[0].gang, to1[0].gang);
  EXPECT_EQ(to1[0].gang_host, "h");
}

TEST_F(GangTest, PrefersMembersOnOneHost) {
  Scheduler scheduler(make_job(), with_gpus({1}, {2}), config_for(Policy::greedy, 3), out, results);
  scheduler.on_worker_joined(on_host(1, "a"), 0.0);
  scheduler.on_worker_joined(on_host(2, "b"), 0.0);
  scheduler.on_worker_joined(on_host(3, "b"), 0.0);
  EXPECT_TRUE(out.launches_to(1).empty());
  const auto to2 = out.launches_to(2), to3 = out.launches_to(3);
  ASSERT_EQ(to2.size(), 1u);
  ASSERT_EQ(to3.size(), 1u);
  EXPECT_EQ(to2[0].gang, (std::vector<std::int32_t>{2, 3}));
  EXPECT_EQ(to2[0].gang_host, "b");
}

TEST_F(GangTest, IsDoneOnlyWhenEveryMemberReportedDoneAndRecordedOnce) {
  Scheduler scheduler(make_job(), with_gpus({1}, {2}), config_for(Policy::greedy, 2), out, results);
  scheduler.on_worker_joined(worker(1), 0.0);
  scheduler.on_worker_joined(worker(2), 0.0);
  const auto launch = out.launches_to(1).at(0);
  scheduler.on_report(2, report(launch, AttemptStatus::done, 1.5, 3.0), 3.0);
  EXPECT_FALSE(scheduler.finished());
  EXPECT_TRUE(results.attempts.empty());
  scheduler.on_report(1, report(launch, AttemptStatus::done, 1.0, 4.0), 4.0);
  EXPECT_TRUE(scheduler.finished());
  ASSERT_EQ(results.attempts.size(), 1u);
  const AttemptRecord& attempt = results.attempts[0];
  EXPECT_EQ(attempt.status, AttemptStatus::done);
  EXPECT_EQ(attempt.worker, 1);  // the lead
  EXPECT_DOUBLE_EQ(attempt.start, 1.5);  // the latest member start
  EXPECT_DOUBLE_EQ(attempt.end, 4.0);    // the latest member end
  EXPECT_EQ(scheduler.tasks()[0].status, TaskStatus::done);
  EXPECT_EQ(scheduler.tasks()[0].worker, 1);
}

TEST_F(GangTest, AFailingMemberFailsTheAttemptOnceAndARetryPlacesANewGang) {
  Scheduler scheduler(make_job(), with_gpus({1}, {2}, /*retries=*/1), config_for(Policy::greedy, 2), out, results);
  scheduler.on_worker_joined(worker(1), 0.0);
  scheduler.on_worker_joined(worker(2), 0.0);
  const auto launch = out.launches_to(1).at(0);
  out.launches_to(2);
  out.sent.clear();
  scheduler.on_report(2, report(launch, AttemptStatus::failed, 1.0, 2.0), 2.0);
  // The other member cannot finish alone: it is told to stop.
  ASSERT_EQ(out.sent.size(), 1u);
  EXPECT_EQ(out.sent[0].first, 1);
  const auto* cancel = std::get_if<comm::CancelAttempt>(&out.sent[0].second);
  ASSERT_NE(cancel, nullptr);
  EXPECT_EQ(cancel->attempt.attempt, launch.attempt);
  out.sent.clear();
  EXPECT_TRUE(results.attempts.empty());  // not before every member reported
  scheduler.on_report(1, report(launch, AttemptStatus::cancelled, 1.0, 2.1), 2.1);
  ASSERT_EQ(results.attempts.size(), 1u);
  EXPECT_EQ(results.attempts[0].status, AttemptStatus::failed);
  EXPECT_EQ(results.attempts[0].error, "member crashed");
  // The retry: a fresh gang attempt on both workers.
  const auto retry1 = out.launches_to(1), retry2 = out.launches_to(2);
  ASSERT_EQ(retry1.size(), 1u);
  ASSERT_EQ(retry2.size(), 1u);
  EXPECT_EQ(retry1[0].attempt, launch.attempt + 1);
  EXPECT_EQ(retry1[0].gang, (std::vector<std::int32_t>{1, 2}));
  // A late duplicate of the old attempt's result changes nothing.
  scheduler.on_report(1, report(launch, AttemptStatus::failed, 1.0, 2.2), 2.2);
  EXPECT_EQ(results.attempts.size(), 1u);
  scheduler.on_report(1, report(retry1[0], AttemptStatus::done, 3.0, 4.0), 4.0);
  scheduler.on_report(2, report(retry2[0], AttemptStatus::done, 3.0, 4.0), 4.0);
  EXPECT_TRUE(scheduler.finished());
  EXPECT_EQ(scheduler.tasks()[0].status, TaskStatus::done);
  EXPECT_EQ(results.attempts.size(), 2u);
}

TEST_F(GangTest, ASubtaskNeedingMoreGpusThanTheRunHasFailsAtOnce) {
  Scheduler scheduler(make_job(), with_gpus({1, 1}, {3, 1}), config_for(Policy::cost, 2), out, results);
  scheduler.on_worker_joined(worker(1), 0.0);
  ASSERT_EQ(scheduler.failures().size(), 1u);
  EXPECT_EQ(scheduler.failures()[0].task, 0u);
  EXPECT_EQ(scheduler.failures()[0].error, "needs 3 GPUs; the run has 2 workers");
  EXPECT_EQ(scheduler.tasks()[0].status, TaskStatus::failed);
  const bool event = std::any_of(results.events.begin(), results.events.end(), [](const EventRecord& e) {
    return e.kind == "failed" && e.task == 0 && e.detail == "needs 3 GPUs; the run has 2 workers";
  });
  EXPECT_TRUE(event);
}

TEST_F(GangTest, OverlappingGangsKeepOneOrderOnEverySharedWorker) {
  Scheduler scheduler(make_job(), with_gpus({1, 1, 1, 1, 1}, {2, 3, 2, 2, 3}), config_for(Policy::greedy, 3), out,
                      results);
  for (int rank = 1; rank <= 3; ++rank) scheduler.on_worker_joined(worker(rank), 0.0);
  std::map<int, std::vector<std::uint32_t>> order;  // per worker, the gangs in the order received
  for (int rank = 1; rank <= 3; ++rank) {
    for (const auto& launch : out.launches_to(rank)) order[rank].push_back(launch.task);
  }
  std::size_t shared_pairs = 0;
  for (const auto& [a, tasks_a] : order) {
    for (const auto& [b, tasks_b] : order) {
      if (a >= b) continue;
      // The gangs both hold, in a's order and in b's order: the same sequence.
      std::vector<std::uint32_t> in_a, in_b;
      for (auto t : tasks_a) {
        if (std::count(tasks_b.begin(), tasks_b.end(), t)) in_a.push_back(t);
      }
      for (auto t : tasks_b) {
        if (std::count(tasks_a.begin(), tasks_a.end(), t)) in_b.push_back(t);
      }
      EXPECT_EQ(in_a, in_b) << "workers " << a << " and " << b;
      if (in_a.size() >= 2) ++shared_pairs;
    }
  }
  EXPECT_GT(shared_pairs, 0u);  // the case is not vacuous
}

/// Virtual workers that behave like the real ones: each runs its queue in order, a gang starts
/// when it is at the head of every member's queue. Checks, while it runs, that no gang attempt
/// is ever retracted.
class Cluster {
 public:
  Cluster(Scheduler& scheduler, RecordingSink& out, std::vector<double> speeds)
      : scheduler_(scheduler), out_(out), speeds_(std::move(speeds)) {}

  void join(double now) {
    for (int rank = 1; rank <= static_cast<int>(speeds_.size()); ++rank) {
      WorkerRecord record = worker(rank);
      record.host = rank <= 2 ? "a" : "b";
      scheduler_.on_worker_joined(record, now);
    }
  }

  /// Runs until every subtask is settled or nothing can move; returns whether it finished.
  bool run() {
    for (int idle = 0; !scheduler_.finished() && idle < 50;) {
      deliver();
      if (start_one()) {
        idle = 0;
      } else {
        ++idle;
        now_ += 0.5;
        scheduler_.on_tick(now_);
      }
    }
    return scheduler_.finished();
  }

 private:
  void deliver() {
    for (std::size_t i = 0; i < out_.sent.size(); ++i) {  // sends may append while we go
      const int to = out_.sent[i].first;
      const comm::Message message = out_.sent[i].second;
      if (const auto* assign = std::get_if<comm::AssignTasks>(&message)) {
        for (const auto& launch : assign->tasks) queues_[to].push_back(launch);
      } else if (const auto* retract = std::get_if<comm::RetractTasks>(&message)) {
        comm::RetractAck ack;
        for (const auto& ref : retract->attempts) {
          EXPECT_EQ(scheduler_.subtasks()[ref.task].gpus, 1) << "a gang attempt was retracted";
          if (take(to, ref)) ack.retracted.push_back(ref);
        }
        scheduler_.on_retract_ack(to, ack, now_);
      } else if (const auto* cancel = std::get_if<comm::CancelAttempt>(&message)) {
        if (auto launch = take(to, cancel->attempt)) {
          scheduler_.on_report(to, report(*launch, AttemptStatus::cancelled, now_, now_), now_);
        }
      }
    }
    out_.sent.clear();
  }

  std::optional<comm::TaskLaunch> take(int rank, const comm::AttemptRef& ref) {
    auto& queue = queues_[rank];
    for (auto it = queue.begin(); it != queue.end(); ++it) {
      if (it->task == ref.task && it->attempt == ref.attempt) {
        comm::TaskLaunch launch = *it;
        queue.erase(it);
        return launch;
      }
    }
    return std::nullopt;
  }

  /// Runs one subtask (a gang: on all its members) at the head of some worker's queue.
  bool start_one() {
    for (auto& [rank, queue] : queues_) {
      if (queue.empty()) continue;
      const comm::TaskLaunch launch = queue.front();
      std::vector<int> members(launch.gang.begin(), launch.gang.end());
      if (members.empty()) members.push_back(rank);
      const bool all_there = std::all_of(members.begin(), members.end(), [&](int m) {
        const auto& q = queues_[m];
        return !q.empty() && q.front().task == launch.task && q.front().attempt == launch.attempt;
      });
      if (!all_there) continue;
      double took = 0;
      for (int m : members) took = std::max(took, 1.0 / speeds_[static_cast<std::size_t>(m - 1)]);
      for (int m : members) queues_[m].pop_front();
      const double start = now_;
      now_ += took;
      for (int m : members) scheduler_.on_report(m, report(launch, AttemptStatus::done, start, now_), now_);
      return true;
    }
    return false;
  }

  Scheduler& scheduler_;
  RecordingSink& out_;
  std::vector<double> speeds_;
  std::map<int, std::deque<comm::TaskLaunch>> queues_;
  double now_ = 0;
};

class GangPolicyTest : public ::testing::TestWithParam<Policy> {
 protected:
  RecordingSink out;
  MemoryResults results;
};

TEST_P(GangPolicyTest, MixedJobsFinishWithEverySubtaskDoneOnce) {
  std::vector<double> costs;
  std::vector<int> gpus;
  for (int i = 0; i < 40; ++i) {
    costs.push_back(1 + i % 5);
    gpus.push_back(i % 4 == 1 ? 2 : i % 9 == 4 ? 3 : 1);
  }
  SchedulerConfig config = config_for(GetParam(), 4);
  config.rebalance_interval_s = 0.5;
  Scheduler scheduler(make_job(), with_gpus(costs, gpus), config, out, results);
  Cluster cluster(scheduler, out, {1.0, 0.25, 1.0, 2.0});
  cluster.join(0.0);
  ASSERT_TRUE(cluster.run()) << "stuck: a gang deadlock or a gang never placed";
  std::map<std::uint32_t, int> done;
  for (const auto& attempt : results.attempts) {
    if (attempt.status == AttemptStatus::done) ++done[attempt.task];
  }
  for (std::uint32_t task = 0; task < costs.size(); ++task) {
    EXPECT_EQ(scheduler.tasks()[task].status, TaskStatus::done) << task;
    EXPECT_EQ(done[task], 1) << task;
  }
  for (const auto& event : results.events) {
    if (event.kind == "speculate") EXPECT_EQ(gpus[static_cast<std::size_t>(event.task)], 1) << "a gang was copied";
  }
}

INSTANTIATE_TEST_SUITE_P(Policies, GangPolicyTest, ::testing::Values(Policy::cost, Policy::greedy, Policy::static_),
                         [](const auto& info) { return std::string(to_string(info.param)); });

TEST_F(GangTest, ARunningGangIsNeverCopiedOntoAnIdleWorker) {
  SchedulerConfig config = config_for(Policy::cost, 3);
  config.speculation = true;
  // Predicted 1 s, still running at 60 s: a one-GPU subtask this late would be copied.
  Scheduler scheduler(make_job(), with_gpus({1}, {2}), config, out, results);
  for (int rank = 1; rank <= 3; ++rank) scheduler.on_worker_joined(worker(rank), 0.0);
  std::vector<int> members;
  for (int rank = 1; rank <= 3; ++rank) {
    for (const auto& launch : out.launches_to(rank)) {
      members.push_back(rank);
      comm::WorkerReport started;
      started.started.push_back({launch.task, launch.attempt, 0.1});
      scheduler.on_report(rank, started, 0.1);
    }
  }
  ASSERT_EQ(members.size(), 2u);
  for (double now = 1; now < 60; now += 1) scheduler.on_tick(now);
  for (int rank = 1; rank <= 3; ++rank) EXPECT_TRUE(out.launches_to(rank).empty());
  for (const auto& event : results.events) EXPECT_NE(event.kind, "speculate");
}

}  // namespace
}  // namespace fastgpu::scheduler
