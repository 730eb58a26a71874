// The tail: when a worker is idle and nothing is queued, run a copy of the subtask predicted to
// finish last on it, if it would finish sooner there. The first copy to finish wins.
#include <algorithm>
#include <limits>
#include <vector>

#include "scheduler/scheduler.hpp"

namespace fastgpu::scheduler {
namespace {
// In a pool of more than twice this many workers, speculate() rebuilds its list of candidates every
// workers / this rounds only.
constexpr std::size_t kSpeculationSpan = 64;
}  // namespace

void Scheduler::collect_speculation_candidates(double now) {
  speculation_candidates_round_ = round_;
  auto& candidates = speculation_candidates_;
  candidates.clear();
  for (const WorkerState& other : in_rank_order()) {
    if (!other.running) continue;
    const auto ref = *other.running;
    // A gang is never copied: a copy would need a second set of members, and could be queued on
    // them in another order relative to other gangs than the original (a deadlock).
    if (states_[ref.task].copied || is_gang(subtasks_[ref.task])) continue;
    const LiveAttempt* live = find_live(ref.task, ref.attempt);
    // One being checkpointed to move (in-flight migration) continues elsewhere from its state.
    if (!live || live->phase != Phase::running || live->migrating) continue;
    candidates.push_back({now + remaining(*live, predict(other, ref.task), now), other.info.rank, ref});
  }
  std::sort(candidates.begin(), candidates.end(), [](const SpeculationCandidate& a, const SpeculationCandidate& b) {
    return a.finish != b.finish ? a.finish > b.finish : a.rank < b.rank;
  });
}

bool Scheduler::still_a_candidate(const SpeculationCandidate& candidate) {
  if (states_[candidate.ref.task].copied) return false;
  const WorkerState& worker = worker_at(candidate.rank);
  const bool runs_there = worker.running && worker.running->task == candidate.ref.task &&
                          worker.running->attempt == candidate.ref.attempt;
  if (!runs_there) return false;
  const LiveAttempt* live = find_live(candidate.ref.task, candidate.ref.attempt);
  return live && live->phase == Phase::running && !live->migrating;
}

void Scheduler::speculate(double now, std::map<int, comm::AssignTasks>& batches) {
  // The idle workers (hungry or on the bench), in rank order, produced as the loop below asks for
  // them: it stops at the first copy that would not win, usually after one or two, and listing
  // and sorting thousands of idle workers on every call was most of its cost. hungry_ is in rank
  // order already; the idle benched ones are merged into it. assign() leaves both sets alone.
  idle_benched_.clear();
  for (const auto& [round, rank] : benched_) {
    const WorkerState& worker = worker_at(rank);
    if (worker.in_flight() == 0 && !worker.retired) idle_benched_.push_back(rank);
  }
  std::sort(idle_benched_.begin(), idle_benched_.end());
  auto hungry = hungry_.begin();
  std::size_t benched = 0;
  const auto next_idle = [&]() -> int {  // -1: none left
    while (hungry != hungry_.end() && worker_at(*hungry).in_flight() != 0) ++hungry;
    if (hungry != hungry_.end() && (benched == idle_benched_.size() || *hungry < idle_benched_[benched])) return *hungry++;
    return benched < idle_benched_.size() ? idle_benched_[benched++] : -1;
  };
  int rank = next_idle();
  if (rank < 0) return;  // none (most calls): nothing to do, nothing scanned

  // The running attempts of subtasks not copied yet, by predicted end, latest first (ties: lowest
  // rank first). A copy placed on an idle worker does not change them. In a big pool the list is
  // rebuilt every workers / 64 rounds only (each rebuild is O(workers log workers)); in between an
  // entry is used only while its attempt still runs there uncopied.
  if (speculation_candidates_round_ == 0 ||
      round_ - speculation_candidates_round_ >= std::max<std::size_t>(1, workers_.size() / kSpeculationSpan)) {
    collect_speculation_candidates(now);
  }
  auto& candidates = speculation_candidates_;
  auto next = candidates.begin();
  for (; rank >= 0; rank = next_idle()) {
    WorkerState& idle_worker = worker_at(rank);
    // The running attempt predicted to finish last, of a subtask not copied yet.
    while (next != candidates.end() && !still_a_candidate(*next)) ++next;
    if (next == candidates.end()) return;
    const std::uint32_t task = next->ref.task;
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
