// Backfill around multi-GPU reservations: a gang starts when its last member reaches it, so its
// other members would idle until then. Each such member is given pending one-GPU subtasks that it
// is predicted (pessimistically: the upper quantile) to finish before the gang's predicted start,
// queued AHEAD of the gang (TaskLaunch::ahead_of_gang), so they fill the gap without delaying it.
#include <algorithm>
#include <string>

#include "scheduler/scheduler.hpp"

namespace fastgpu::scheduler {
namespace {
// Subtasks of the pending queue looked at per gap, and the least gap worth filling (seconds, as a
// multiple of the latency the queues must cover).
constexpr int kBackfillScan = 64;
constexpr double kMinGapLatencies = 4;
}  // namespace

void Scheduler::record_gang_reaches(const WorkerState& worker, double now) {
  const auto rank = static_cast<std::size_t>(worker.info.rank);
  if (walked_in_.size() <= rank) walked_in_.resize(rank + 1, 0);
  walked_in_[rank] = reach_walk_;
  const double free_at = running_until(worker, now);
  const QueueWalk& walk = queue_walk(worker);
  const std::size_t classes = walk.reach.size();
  for (std::size_t i = 0; i < walk.gangs.size(); ++i) {
    const comm::AttemptRef& ref = walk.gangs[i];
    // Started by another member since the walk (which does not touch this one): it is not waiting.
    const LiveAttempt* live = find_live(ref.task, ref.attempt);
    if (!live || !live->gang || live->phase != Phase::queued) continue;
    Gang& gang = *live->gang;
    const auto at = std::find(gang.members.begin(), gang.members.end(), worker.info.rank);
    if (at == gang.members.end()) continue;
    const auto m = static_cast<std::size_t>(at - gang.members.begin());
    gang.reach.resize(gang.members.size(), 0);
    gang.reach_walk.resize(gang.members.size(), 0);
    gang.reach[m] = free_at + predicted_sum(worker, std::span(walk.gang_ahead).subspan(i * classes, classes));
    gang.reach_walk[m] = reach_walk_;
  }
}

double Scheduler::gang_reach(Gang& gang, std::size_t member, double now) {
  const auto rank = static_cast<std::size_t>(gang.members[member]);
  if (walked_in_.size() <= rank || walked_in_[rank] != reach_walk_) record_gang_reaches(workers_.at(gang.members[member]), now);
  // Not stamped in its walk: the worker does not hold it queued (it started): it is there now.
  if (gang.reach_walk.size() <= member || gang.reach_walk[member] != reach_walk_) return now;
  return gang.reach[member];
}

void Scheduler::backfill_gangs(double now, std::map<int, comm::AssignTasks>& batches) {
  if (reserved_gangs_.empty() || pending_.empty() || config_.policy == Policy::static_) return;
  // Each member's reach of every gang it holds comes from one walk of its queue (record_gang_reaches),
  // not a walk up to each gang: quadratic in the queue (thousands of gangs on 64 workers in months
  // of Philly's backlog).
  ++reach_walk_;
  for (auto it = reserved_gangs_.begin(); it != reserved_gangs_.end() && !pending_.empty();) {
    const comm::AttemptRef gang{it->first, it->second};
    LiveAttempt* live = find_live(gang.task, gang.attempt);
    if (!live || !live->gang || live->phase != Phase::queued) {  // started, settled or gone
      it = reserved_gangs_.erase(it);
      continue;
    }
    ++it;
    // assign() may move states_[].live, not the Gang it shares.
    const std::shared_ptr<Gang> shared = live->gang;
    const std::vector<int> members = shared->members;
    double start = now;
    for (std::size_t m = 0; m < members.size(); ++m) start = std::max(start, gang_reach(*shared, m, now));
    for (std::size_t m = 0; m < members.size(); ++m) {
      const int rank = members[m];
      WorkerState& worker = workers_.at(rank);
      if (worker.retired) continue;
      double gap = start - gang_reach(*shared, m, now);
      int scanned = 0;
      for (auto candidate = pending_.begin();
           candidate != pending_.end() && scanned < kBackfillScan && gap > kMinGapLatencies * config_.latency_s;
           ++scanned) {
        const std::uint32_t task = candidate->second;
        const double runs = pessimistic(worker, task) + config_.latency_s;
        if (runs > gap || !fits_deadline(worker, task, now)) {
          ++candidate;
          continue;
        }
        candidate = std::next(candidate);
        unqueue(std::prev(candidate));
        assign(worker, task, states_[task].next_attempt++, now, /*migrated=*/false, /*speculative=*/false, batches);
        // assign() appended it: it goes ahead of the gang, here and on the worker.
        auto gang_at = std::find_if(worker.queue.begin(), worker.queue.end(), [&](const comm::AttemptRef& r) {
          return r.task == gang.task && r.attempt == gang.attempt;
        });
        worker.queue.insert(gang_at, worker.queue.back());
        worker.queue.pop_back();
        touch(worker);  // its order changed
        batches[rank].tasks.back().ahead_of_gang = true;
        gap -= predict(worker, task);
        walked_in_[static_cast<std::size_t>(rank)] = 0;  // what it reaches later, it reaches later now
        sink_.add_event({now, "backfill", task, -1, rank,
                         "ahead of the " + std::to_string(subtasks_[gang.task].gpus) + "-GPU subtask " +
                             subtasks_[gang.task].id + ", predicted to start in " + std::to_string(start - now) + " s"});
      }
    }
  }
}

}  // namespace fastgpu::scheduler
