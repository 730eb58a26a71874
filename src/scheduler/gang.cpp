// Multi-GPU subtasks (`gpus = k > 1`): a gang of k workers runs one attempt together. Each member
// gets the same launch at the END of its queue, in one placement step; workers run their queues in
// order and a gang starts when all its members reach it. Since gangs are only ever appended (never
// retracted, copied or jumped ahead of), any two gangs keep one relative order on every worker they
// share, so no two members can wait on each other crosswise.
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "scheduler/scheduler.hpp"
#include "support/sort_chunks.hpp"

namespace fastgpu::scheduler {

std::vector<int> Scheduler::pick_gang(int k, double now) {
  auto& by_ready = gang_by_ready_;  // (predicted ready, rank), earliest first as far as sorted
  by_ready.clear();
  for (WorkerState& worker : in_rank_order()) {
    if (!worker.retired) by_ready.emplace_back(ready_cached(worker, now), worker.info.rank);
  }
  // Sorted only as far as the search gets: the first host to fill is usually found among the
  // first few dozen workers, and sorting thousands for every gang was most of its cost.
  std::size_t sorted = 0;
  const auto sort_through = [&](std::size_t i) {
    while (i >= sorted) sorted = support::sort_next_chunk(by_ready, sorted);
  };

  // Members on one host talk over NVLink/PCIe, not the network: the host whose k earliest workers
  // are all ready soonest, if any host has k.
  gang_groups_.resize(host_ids_.size());
  for (auto& group : gang_groups_) group.clear();
  std::vector<int> members;
  const bool a_host_may_fill = k <= largest_host_;
  for (std::size_t i = 0; a_host_may_fill && i < by_ready.size(); ++i) {
    sort_through(i);
    const int rank = by_ready[i].second;
    auto& group = gang_groups_[static_cast<std::size_t>(worker_at(rank).host)];
    group.push_back(rank);
    // by_ready is ascending: the k-th joining a group is when all k are ready, and the first
    // group to fill is the best one.
    if (static_cast<int>(group.size()) == k) {
      members = group;
      break;
    }
  }
  if (members.empty()) {
    for (int i = 0; i < k; ++i) {
      sort_through(static_cast<std::size_t>(i));
      members.push_back(by_ready[static_cast<std::size_t>(i)].second);
    }
  }
  std::sort(members.begin(), members.end());  // member order: by rank, the lowest leads
  return members;
}

void Scheduler::fail_too_big(std::uint32_t task, double now) {
  fail_unplaced(task, "needs " + std::to_string(subtasks_[task].gpus) + " GPUs; the run has " +
                          std::to_string(config_.expected_workers) + " workers",
                now);
}

void Scheduler::fail_unplaced(std::uint32_t task, const std::string& error, double now) {
  TaskRecord& record = records_[task];
  if (record.status == TaskStatus::done || record.status == TaskStatus::failed) return;
  record.status = TaskStatus::failed;
  --unfinished_;
  failures_.push_back({task, error, ""});
  sink_.add_event({now, "failed", task, -1, -1, error});
  update(task);
}

void Scheduler::place_gangs(double now, std::map<int, comm::AssignTasks>& batches) {
  for (const std::uint32_t task : too_big_) fail_too_big(task, now);
  too_big_.clear();
  // Until every expected worker has joined, the best members (one host) may not be known yet.
  const bool all_joined = static_cast<int>(workers_.size()) >= config_.expected_workers;
  if (gangs_.empty() || !all_joined) return;
  // A gang is placed only while some worker wants more work, so gangs do not pile up in the
  // queues; it goes on the best members whether or not they have room (it waits for them there).
  auto wants_work = [&] {
    return std::any_of(hungry_.begin(), hungry_.end(), [&](int rank) {
      const WorkerState& worker = workers_.at(rank);
      return worker.in_flight() < target_depth(/*all_joined=*/true);
    });
  };
  for (auto it = gangs_.begin(); it != gangs_.end();) {
    const auto [key, task] = *it;
    // Its turn comes in the order of all pending work (greedy: arrival; cost: longest first).
    if (!pending_.empty() && *pending_.begin() < *it) return;
    const int k = subtasks_[task].gpus;
    if (static_cast<int>(usable_workers()) < k || !wants_work()) return;
    const std::vector<int> members = pick_gang(k, now);
    const bool fits = std::all_of(members.begin(), members.end(),
                                  [&](int rank) { return fits_deadline(workers_.at(rank), task, now); });
    if (!fits) {
      ++it;  // held back by the deadline: the next gang may still fit
      continue;
    }
    it = gangs_.erase(it);

    TaskState& state = states_[task];
    const std::int32_t attempt = state.next_attempt++;
    LiveAttempt live;
    live.attempt = attempt;
    live.worker = members.front();
    for (const int rank : members) live.predicted_s = std::max(live.predicted_s, predict(workers_.at(rank), task));
    live.gang = std::make_shared<Gang>();
    live.gang->members = members;
    live.gang->reported.assign(members.size(), false);
    live.gang->left = k;
    state.live.push_back(live);

    comm::TaskLaunch launch = make_launch(task, attempt);
    launch.gang.assign(members.begin(), members.end());
    launch.gang_host = workers_.at(members.front()).info.host;
    std::string ranks;
    for (const int rank : members) {
      WorkerState& worker = workers_.at(rank);
      worker.queue.push_back({task, attempt});
      touch(worker);
      if (worker.ready_round == round_) worker.ready += predict(worker, task);
      batches[rank].tasks.push_back(launch);
      ranks += (ranks.empty() ? "" : " ") + std::to_string(rank);
    }
    sink_.add_event({now, "assign", task, -1, members.front(),
                     "attempt " + std::to_string(attempt) + ", gang of " + std::to_string(k) + ": ranks " + ranks});
    reserved_gangs_.emplace(task, attempt);
  }
}

void Scheduler::on_gang_member_finished(WorkerState& member, const comm::TaskResult& result, double now) {
  LiveAttempt* live = find_live(result.task, result.attempt);
  // Not live (any more): abandoned at a stop and recorded then, or a duplicate. Nothing to do.
  if (!live || !live->gang) return;
  Gang& gang = *live->gang;
  const auto at = std::find(gang.members.begin(), gang.members.end(), member.info.rank);
  if (at == gang.members.end()) return;
  const auto index = static_cast<std::size_t>(at - gang.members.begin());
  if (gang.reported[index]) return;
  gang.reported[index] = true;
  --gang.left;
  gang.latest_start = std::max(gang.latest_start, result.start);
  gang.latest_end = std::max(gang.latest_end, result.end);

  if (result.status != AttemptStatus::done && !gang.failed) {
    gang.failed = true;
    gang.result = result;
    // The others cannot finish without this member (their collectives would wait for it until
    // their timeout): stop them now. Their reports (cancelled) then only complete the count.
    // At a stop, Shutdown stops them anyway.
    if (!stopping_) {
      for (std::size_t i = 0; i < gang.members.size(); ++i) {
        if (!gang.reported[i]) out_.send(gang.members[i], comm::CancelAttempt{{result.task, result.attempt}});
      }
    }
  } else if (!gang.failed && index == 0) {
    gang.result = result;  // the lead's outputs and metrics stand for the gang's
  }
  if (gang.left > 0) return;

  comm::TaskResult whole = gang.result;
  whole.start = gang.latest_start;
  whole.end = gang.latest_end;
  settle(workers_.at(live->worker), whole, now);
}

}  // namespace fastgpu::scheduler
