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

void Scheduler::backfill_gangs(double now, std::map<int, comm::AssignTasks>& batches) {
  if (reserved_gangs_.empty() || pending_.empty() || config_.policy == Policy::static_) return;
  for (auto it = reserved_gangs_.begin(); it != reserved_gangs_.end() && !pending_.empty();) {
    const comm::AttemptRef gang{it->first, it->second};
    LiveAttempt* live = find_live(gang.task, gang.attempt);
    if (!live || !live->gang || live->phase != Phase::queued) {  // started, settled or gone
      it = reserved_gangs_.erase(it);
      continue;
    }
    ++it;
    const std::vector<int> members = live->gang->members;  // assign() may move states_[].live
    double start = now;
    for (const int rank : members) start = std::max(start, ready_before(workers_.at(rank), gang, now));
    for (const int rank : members) {
      WorkerState& worker = workers_.at(rank);
      if (worker.retired) continue;
      double gap = start - ready_before(worker, gang, now);
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
        batches[rank].tasks.back().ahead_of_gang = true;
        gap -= predict(worker, task);
        sink_.add_event({now, "backfill", task, -1, rank,
                         "ahead of the " + std::to_string(subtasks_[gang.task].gpus) + "-GPU subtask " +
                             subtasks_[gang.task].id + ", predicted to start in " + std::to_string(start - now) + " s"});
      }
    }
  }
}

}  // namespace fastgpu::scheduler
