// The tail: when a worker is idle and nothing is queued, run a copy of the subtask predicted to
// finish last on it, if it would finish sooner there. The first copy to finish wins.
#include <limits>

#include "scheduler/scheduler.hpp"

namespace fastgpu::scheduler {

void Scheduler::speculate(double now, std::map<int, comm::AssignTasks>& batches) {
  for (int rank : std::vector<int>(hungry_.begin(), hungry_.end())) {
    WorkerState& idle = workers_.at(rank);
    if (idle.in_flight() > 0) continue;

    // The running attempt predicted to finish last, of a subtask not copied yet.
    std::uint32_t task = 0;
    int from = -1;
    double latest = -std::numeric_limits<double>::infinity();
    for (const auto& [other_rank, other] : workers_) {
      if (!other.running || other_rank == rank) continue;
      const auto ref = *other.running;
      if (states_[ref.task].copied) continue;
      const LiveAttempt* live = find_live(ref.task, ref.attempt);
      if (!live || live->phase != Phase::running) continue;
      const double finish = now + remaining(*live, predict(other, ref.task), now);
      if (finish > latest) {
        latest = finish;
        task = ref.task;
        from = other_rank;
      }
    }
    if (from < 0) return;
    // Only when the copy is predicted to win clearly: a subtask that is simply long is not copied.
    const double copy = predict(idle, task);
    if (now + copy + std::max(0.1 * copy, 2 * config_.latency_s) >= latest) return;
    states_[task].copied = true;
    sink_.add_event({now, "speculate", task, from, rank,
                     "original predicted to end at " + std::to_string(latest) + " s, copy at " +
                         std::to_string(now + copy) + " s"});
    assign(idle, task, states_[task].next_attempt++, now, /*migrated=*/false, /*speculative=*/true, batches);
  }
}

}  // namespace fastgpu::scheduler
