// In-flight migration: at the end of a job, when nothing is left to place, a kernel subtask still
// running on a worker much slower than an idle one is asked to checkpoint (MigrateAttempt); its
// state goes worker to worker (or back with its result, where the workers have no collectives) and
// the subtask continues, restored, on the faster worker (settle() in scheduler.cpp). Kernels that
// cannot checkpoint ignore the request and finish where they are.
#include <algorithm>
#include <utility>
#include <vector>

#include "scheduler/scheduler.hpp"

namespace fastgpu::scheduler {

void Scheduler::migrate_running(double now) {
  if (config_.policy != Policy::cost || job_.task.kernel.empty() || !config_.running_migration || !pending_.empty() ||
      !gangs_.empty()) {
    return;
  }
  // An idle worker of unknown speed may take it too: pessimistic() widens its prediction.
  // A prediction is the worker's per-unit figure times the subtask's line, so the idle workers'
  // order by that figure holds for every subtask: each source weighs only the best idle worker
  // left, not all of them (thousands of each in a large pool). They are sorted only once a move
  // is due; most rounds move nothing and cost one pass over the workers.
  auto& idle = idle_by_speed_;
  idle.clear();
  for (WorkerState& worker : in_rank_order()) {
    if (!worker.running && worker.queue.empty() && !worker.retired) idle.emplace_back(pessimistic_per_unit(worker), &worker);
  }
  const auto faster = [](const auto& a, const auto& b) { return a.first < b.first; };
  const auto best = std::min_element(idle.begin(), idle.end(), faster);  // the first of the fastest
  bool sorted = false;
  std::size_t next_idle = 0;
  for (WorkerState& worker : in_rank_order()) {
    if (next_idle == idle.size()) return;
    if (!worker.running || !worker.queue.empty()) continue;
    const int rank = worker.info.rank;
    const std::uint32_t task = worker.running->task;
    LiveAttempt* live = find_live(task, worker.running->attempt);
    // A subtask with a speculative copy running already has its rescue under way.
    if (!live || live->phase != Phase::running || live->gang || live->speculative || live->calibration ||
        live->migrating || live->predicted_s <= 0 || states_[task].copied) {
      continue;
    }
    // What is left here, as predicted — and past its prediction, the worker is slower than the
    // model thought: assume at least half as long again as it has run — and how long the same
    // share of the work takes there.
    const double elapsed = std::max(0.0, now - live->start);
    const double remaining = std::max(live->start + live->predicted_s - now, 0.5 * elapsed);
    if (remaining <= 0) continue;
    const double share = remaining / (elapsed + remaining);
    WorkerState* target = sorted ? idle[next_idle].second : best->second;
    const double there = pessimistic(*target, task) * share;
    // Worth a checkpoint, two messages and a restore only for a clear gain.
    const double gain = remaining - there - 4 * config_.latency_s;
    if (gain <= std::max(1.0, 0.25 * remaining)) continue;
    if (!sorted) {  // stable: ties keep rank order, so `best` comes first
      std::stable_sort(idle.begin(), idle.end(), faster);
      sorted = true;
    }
    live->migrating = true;
    live->retract_to = target->info.rank;
    out_.send(rank, comm::MigrateAttempt{{task, live->attempt}, target->info.rank});
    sink_.add_event({now, "checkpoint_request", task, rank, target->info.rank,
                     "predicted " + std::to_string(remaining) + " s left here, " + std::to_string(there) + " s there"});
    ++next_idle;
  }
}

}  // namespace fastgpu::scheduler
