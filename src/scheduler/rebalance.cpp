// The periodic rebalance round: predict when each worker finishes what it holds, and move queued
// attempts from the latest to the earliest while the predicted gain beats a margin.
#include <algorithm>
#include <iterator>
#include <set>

#include "scheduler/scheduler.hpp"

namespace fastgpu::scheduler {

Scheduler::LiveAttempt* Scheduler::movable(const comm::AttemptRef& ref, double now) {
  // Queued, not a gang (its members must keep it in the same order relative to other gangs), a
  // speculative copy nor a calibration run, and not moved in the last few rounds (hysteresis: no
  // ping-pong; but an attempt moved behind a subtask that then overran its prediction can still
  // be rescued).
  LiveAttempt* live = find_live(ref.task, ref.attempt);
  const bool may = live && live->phase == Phase::queued && !live->gang && !live->speculative && !live->calibration &&
                   now - live->moved_at >= 4 * rebalance_interval();
  return may ? live : nullptr;
}

bool Scheduler::any_movable(double now) {
  // Asked every round: through the workers with a queue only (most have none in a big pool).
  note_holdings_of_dirty();
  return std::any_of(queued_.begin(), queued_.end(), [&](int rank) {
    const WorkerState& worker = worker_at(rank);
    return std::any_of(worker.queue.begin(), worker.queue.end(),
                       [&](const comm::AttemptRef& ref) { return movable(ref, now) != nullptr; });
  });
}

void Scheduler::rebalance(double now) {
  if (workers_.size() < 2) return;
  // With nothing that may move (every queue empty in a pool waiting for arrivals; only gangs
  // queued in a backlog of multi-GPU jobs) the round would end at its first candidate search:
  // ordering every worker by a walk of its queue first was the round's whole cost.
  if (!any_movable(now)) return;
  // Work moves only to workers whose speed is known: one still being calibrated may be slow.
  // (predicted finish, rank), ascending: the earliest is the first, the latest the last (ties:
  // the lowest rank is the earliest and the highest the latest, as a scan in rank order gives).
  std::set<std::pair<double, int>> finish;
  for (const WorkerState& worker : in_rank_order()) {
    if (!worker.retired && !needs_calibration(worker) && !calibrating(worker)) {
      finish.emplace(ready_time(worker, now), worker.info.rank);
    }
  }
  if (finish.size() < 2) return;

  std::map<int, comm::RetractTasks> retracts;
  double total_gain = 0;
  int moves = 0;
  const int max_moves = static_cast<int>(std::min<std::size_t>(64, workers_.size()));
  while (moves < max_moves) {
    const auto [late_finish, late_rank] = *finish.rbegin();
    const auto [early_finish, early_rank] = *finish.begin();
    WorkerState& late = workers_.at(late_rank);
    WorkerState& early = workers_.at(early_rank);

    // The last attempt in the late worker's queue that may move.
    LiveAttempt* candidate = nullptr;
    std::uint32_t task = 0;
    for (auto ref = late.queue.rbegin(); ref != late.queue.rend() && !candidate; ++ref) {
      candidate = movable(*ref, now);
      task = ref->task;
    }
    if (!candidate) break;
    // Where it goes it may run long (the prediction's upper quantile): moving a long subtask to a
    // slow worker must not make that worker the last to finish.
    const double here = predict(late, task), there = pessimistic(early, task);
    const double late_after = late_finish - here, early_after = early_finish + there;
    const double gain = late_finish - std::max(late_after, early_after);
    if (gain <= std::max(0.1 * here, 2 * config_.latency_s)) break;

    candidate->phase = Phase::retracting;
    candidate->retract_to = early.info.rank;
    touch(late);
    retracts[late.info.rank].attempts.push_back({task, candidate->attempt});
    sink_.add_event({now, "retract", task, late.info.rank, early.info.rank, "predicted gain " + std::to_string(gain) + " s"});
    finish.erase(std::prev(finish.end()));
    finish.erase(finish.begin());
    finish.emplace(late_after, late_rank);
    finish.emplace(early_after, early_rank);
    total_gain += gain;
    ++moves;
  }
  if (moves == 0) return;
  sink_.add_event({now, "rebalance", -1, -1, -1,
                   "moves=" + std::to_string(moves) + " predicted_gain_s=" + std::to_string(total_gain)});
  for (const auto& [rank, retract] : retracts) out_.send(rank, retract);
}

}  // namespace fastgpu::scheduler
