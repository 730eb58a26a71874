// Deadlines (`--deadline`, a Slurm allocation's end): no subtask starts unless the cost model
// predicts it ends in time, judged by the upper quantile of its prediction, so an attempt that
// must be killed at the end (and its GPU time wasted) is the exception, not the rule.
#include <algorithm>
#include <cstdio>
#include <string>

#include "scheduler/scheduler.hpp"

namespace fastgpu::scheduler {

void Scheduler::set_deadline(double stop_at) { deadline_ = stop_at; }

bool Scheduler::fits_deadline(WorkerState& worker, std::uint32_t task, double now) {
  if (!deadline_) return true;
  // Before any subtask of its class has finished, the prediction is the job file's `cost` in
  // seconds (or --history's model): the best the user has told us.
  const double end = ready_cached(worker, now) + pessimistic(worker, task);
  if (end <= *deadline_) return true;
  if (!held_for_deadline_) {
    held_for_deadline_ = true;
    char detail[200];
    std::snprintf(detail, sizeof detail,
                  "predicted to end at %.3f s, after the deadline's %.3f s: not started (the first such subtask; "
                  "others are not listed)",
                  end, *deadline_);
    sink_.add_event({now, "deadline_hold", task, -1, worker.info.rank, detail});
  }
  return false;
}

bool Scheduler::out_of_time() const {
  if (!deadline_ || stopping_ || unfinished_ == 0) return false;
  if (static_cast<int>(workers_.size()) < config_.expected_workers) return false;  // still starting
  return std::all_of(workers_.begin(), workers_.end(), [](const auto& entry) { return entry.second.in_flight() == 0; });
}

}  // namespace fastgpu::scheduler
