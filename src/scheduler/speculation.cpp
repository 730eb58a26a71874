// The tail: when a worker is idle and nothing is queued, run a copy of the subtask predicted to
// finish last on it, if it would finish sooner there. The first copy to finish wins.
#include <algorithm>
#include <limits>
#include <vector>

#include "scheduler/scheduler.hpp"

namespace fastgpu::scheduler {

void Scheduler::speculate(double now, std::map<int, comm::AssignTasks>& batches) {
  // The idle workers, in rank order; none (most calls): nothing to do, nothing scanned.
  std::vector<int> idle;
  for (int rank : hungry_) {
    if (workers_.find(rank)->second.in_flight() == 0) idle.push_back(rank);
  }
  if (idle.empty()) return;

  // The running attempts of subtasks not copied yet, by predicted end, latest first (ties: lowest
  // rank first). Scanned once per call: a copy placed on an idle worker does not change them.
  struct Candidate {
    double finish;
    int rank;
    std::uint32_t task;
  };
  std::vector<Candidate> candidates;
  for (const auto& [other_rank, other] : workers_) {
    if (!other.running) continue;
    const auto ref = *other.running;
    // A gang is never copied: a copy would need a second set of members, and could be queued on
    // them in another order relative to other gangs than the original (a deadlock).
    if (states_[ref.task].copied || is_gang(subtasks_[ref.task])) continue;
    const LiveAttempt* live = find_live(ref.task, ref.attempt);
    // One being checkpointed to move (in-flight migration) continues elsewhere from its state.
    if (!live || live->phase != Phase::running || live->migrating) continue;
    candidates.push_back({now + remaining(*live, predict(other, ref.task), now), other_rank, ref.task});
  }
  std::sort(candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) {
    return a.finish != b.finish ? a.finish > b.finish : a.rank < b.rank;
  });
  auto next = candidates.begin();
  for (int rank : idle) {
    WorkerState& idle_worker = workers_.find(rank)->second;
    // The running attempt predicted to finish last, of a subtask not copied yet.
    while (next != candidates.end() && states_[next->task].copied) ++next;
    if (next == candidates.end()) return;
    const std::uint32_t task = next->task;
    const int from = next->rank;
    const double latest = next->finish;
    // Only when the copy is predicted to win clearly: a subtask that is simply long is not copied.
    const double copy = predict(idle_worker, task);
    if (now + copy + std::max(0.1 * copy, 2 * config_.latency_s) >= latest) return;
    states_[task].copied = true;
    sink_.add_event({now, "speculate", task, from, rank,
                     "original predicted to end at " + std::to_string(latest) + " s, copy at " +
                         std::to_string(now + copy) + " s"});
    assign(idle_worker, task, states_[task].next_attempt++, now, /*migrated=*/false, /*speculative=*/true, batches);
  }
}

}  // namespace fastgpu::scheduler
