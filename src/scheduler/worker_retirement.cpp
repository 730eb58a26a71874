// A worker whose device became unusable (a CUDA error that poisons its context) retires: nothing
// more is placed on it, and the one-GPU attempts it had queued come back and run elsewhere. The
// attempt that found the device broken was reported failed as usual, and is retried elsewhere.
#include <algorithm>
#include <string>

#include "scheduler/scheduler.hpp"

namespace fastgpu::scheduler {

void Scheduler::on_worker_retired(int worker_rank, const comm::WorkerRetired& retired, double now) {
  auto it = workers_.find(worker_rank);
  if (it == workers_.end()) return;
  WorkerState& worker = it->second;
  if (!worker.retired) {
    worker.retired = true;
    ++retired_count_;
    // Out of every index a decision reads: never hungry, never "another worker" that would end sooner.
    hungry_.erase(worker_rank);
    if (worker.parked_key >= 0) parked_.erase({worker.parked_key, worker_rank});
    worker.parked_key = -1;
    if (auto bucket = by_ready_.find(worker.bucket); bucket != by_ready_.end()) {
      bucket->second.erase({worker.ready_key, worker_rank});
      if (bucket->second.empty()) by_ready_.erase(bucket);
    }
    refresh_bounds();
    sink_.add_event({now, "worker_retired", -1, worker_rank, -1, retired.reason});
    if (auto block = own_.find(worker_rank); block != own_.end()) {  // static: its block goes to the others
      for (const std::uint32_t task : block->second) enqueue(task);
      block->second.clear();
    }
  }
  for (const comm::AttemptRef& ref : retired.returned) {
    forget(worker, ref);
    LiveAttempt* live = find_live(ref.task, ref.attempt);
    if (!live || live->worker != worker_rank) continue;
    const bool settled_copy = live->phase == Phase::cancelling;  // its subtask was done meanwhile
    auto& attempts = states_[ref.task].live;
    std::erase_if(attempts, [&](const LiveAttempt& a) { return a.attempt == ref.attempt; });
    ++walk_epoch_;  // a gang's other members still list it
    // It never started, so it is no attempt: the subtask waits for a worker again, unless another
    // copy of it still runs.
    if (!settled_copy && attempts.empty() && records_[ref.task].status == TaskStatus::pending) {
      enqueue(ref.task);
      sink_.add_event({now, "requeue", ref.task, worker_rank, -1,
                       "attempt " + std::to_string(ref.attempt) + " was queued on a retired worker"});
    }
  }
  if (!stopping_) place(now);
}

std::vector<std::int32_t> Scheduler::retired_workers() const {
  std::vector<std::int32_t> ranks;
  for (const auto& [rank, worker] : workers_) {
    if (worker.retired) ranks.push_back(rank);
  }
  return ranks;
}

void Scheduler::fail_unrunnable(double now) {
  const int usable = static_cast<int>(usable_workers());
  auto fail = [&](std::uint32_t task) {
    fail_unplaced(task,
                  usable == 0 ? "no worker left to run it: every worker's device became unusable"
                              : "needs " + std::to_string(subtasks_[task].gpus) + " GPUs; only " +
                                    std::to_string(usable) + " workers are left with a usable device",
                  now);
  };
  for (auto gang = gangs_.begin(); gang != gangs_.end();) {
    if (subtasks_[gang->second].gpus <= usable) {
      ++gang;
      continue;
    }
    fail(gang->second);
    gang = gangs_.erase(gang);
  }
  if (usable > 0) return;
  while (!pending_.empty()) {
    const std::uint32_t task = pending_.begin()->second;
    unqueue(pending_.begin());
    fail(task);
  }
  for (auto& [rank, block] : own_) {
    for (const std::uint32_t task : block) fail(task);
    block.clear();
  }
}

}  // namespace fastgpu::scheduler
