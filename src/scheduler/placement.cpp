// Placement: which queued subtask goes to which worker, and how deep each worker's queue is.
#include <algorithm>
#include <cmath>

#include "scheduler/scheduler.hpp"

namespace fastgpu::scheduler {
namespace {
// How far into the queue a worker looks for a task it may take (a retry avoids the worker that
// failed it; in the tail a task may be left for a faster worker). Bounded so a decision stays cheap.
constexpr int kQueueScan = 64;
// Retries go before every first attempt in greedy order.
constexpr double kRetryKey = -1e15;
}  // namespace

void Scheduler::enqueue(std::uint32_t task) {
  const TaskState& state = states_[task];
  double key = 0;
  if (config_.policy == Policy::cost) {
    // Longest predicted first (LPT): the long ones start early, the short ones fill the gaps.
    key = -model_.predict(-1, state.class_id, subtasks_[task].cost).seconds;
  } else {
    key = (state.failures > 0 ? kRetryKey : 0) + arrivals_++;
  }
  pending_.emplace(key, task);
}

double Scheduler::predict(const WorkerState& worker, std::uint32_t task) const {
  return model_.predict(worker.info.rank, states_[task].class_id, subtasks_[task].cost).seconds;
}

double Scheduler::remaining(const LiveAttempt& live, double predicted, double now) {
  const double elapsed = now - live.start;
  // Past its prediction, the model was wrong about it: expect it to need half as long again.
  return elapsed <= predicted ? predicted - elapsed : 0.5 * elapsed;
}

double Scheduler::ready_time(const WorkerState& worker, double now) const {
  double ready = now;
  if (worker.running) {
    const auto& ref = *worker.running;
    for (const auto& live : states_[ref.task].live) {
      if (live.attempt == ref.attempt) ready += remaining(live, predict(worker, ref.task), now);
    }
  }
  for (const auto& ref : worker.queue) {
    for (const auto& live : states_[ref.task].live) {
      if (live.attempt == ref.attempt && live.phase == Phase::queued) ready += predict(worker, ref.task);
    }
  }
  return ready;
}

int Scheduler::target_depth(const WorkerState& worker, bool all_joined) const {
  if (!all_joined) return 1;
  if (config_.policy != Policy::cost) return config_.prefetch;
  // One running, plus as many queued as it takes to cover the round trip to rank 0.
  const double typical = placed_ > 0 ? mean_predicted_s_ : config_.latency_s;
  const double queued = std::ceil(config_.latency_s / std::max(typical, 1e-6));
  (void)worker;
  return static_cast<int>(std::clamp(1 + queued, 2.0, static_cast<double>(std::max(config_.prefetch, 2))));
}

bool Scheduler::tail_allows(const WorkerState& worker, std::uint32_t task, double now) const {
  // Only near the end does it matter who runs what: while plenty is queued every worker stays busy.
  if (pending_.size() > workers_.size()) return true;
  const double mine = predict(worker, task);
  const double finish_here = ready_time(worker, now) + mine;
  const double margin = std::max(0.05 * mine, config_.latency_s);
  for (const auto& [rank, other] : workers_) {
    if (rank == worker.info.rank) continue;
    if (rank == states_[task].avoid_worker) continue;  // a retry will not be placed there: don't wait for it
    if (ready_time(other, now) + predict(other, task) + margin < finish_here) return false;  // leave it to them
  }
  return true;
}

bool Scheduler::take_task_for(WorkerState& worker, double now, std::uint32_t& task) {
  if (config_.policy == Policy::static_) {
    auto& block = own_[worker.info.rank];
    if (!block.empty()) {
      task = block.front();
      block.pop_front();
      return true;
    }
  }
  const bool only_worker = workers_.size() == 1;
  int scanned = 0;
  for (auto it = pending_.begin(); it != pending_.end() && scanned < kQueueScan; ++it, ++scanned) {
    const std::uint32_t candidate = it->second;
    if (!only_worker && states_[candidate].avoid_worker == worker.info.rank) continue;
    if (config_.policy == Policy::cost && !tail_allows(worker, candidate, now)) continue;
    pending_.erase(it);
    task = candidate;
    return true;
  }
  return false;
}

void Scheduler::split_static() {
  // Worker k of W gets subtasks [k*N/W, (k+1)*N/W), in file order: a job array's split.
  const std::size_t n = subtasks_.size(), w = workers_.size();
  std::size_t k = 0;
  for (const auto& [rank, worker] : workers_) {
    auto& block = own_[rank];
    for (std::size_t task = k * n / w; task < (k + 1) * n / w; ++task) {
      if (records_[task].status != TaskStatus::done) block.push_back(static_cast<std::uint32_t>(task));  // resume
    }
    ++k;
  }
  split_done_ = true;
}

void Scheduler::assign(WorkerState& worker, std::uint32_t task, std::int32_t attempt, double now, bool migrated,
                       bool speculative, std::map<int, comm::AssignTasks>& batches) {
  TaskState& state = states_[task];
  const double predicted = predict(worker, task);
  LiveAttempt live;
  live.attempt = attempt;
  live.worker = worker.info.rank;
  live.predicted_s = predicted;
  live.migrated = migrated;
  if (migrated) live.moved_at = now;
  live.speculative = speculative;
  state.live.push_back(live);
  worker.queue.push_back({task, attempt});
  batches[worker.info.rank].tasks.push_back(make_launch(task, attempt));
  // A moving average, so early guesses (priors before any sample) fade within a few dozen placements.
  constexpr double kWeight = 0.05;
  mean_predicted_s_ = placed_++ == 0 ? predicted : (1 - kWeight) * mean_predicted_s_ + kWeight * predicted;
  if (!migrated && !speculative) {
    sink_.add_event({now, "assign", task, -1, worker.info.rank, "attempt " + std::to_string(attempt)});
  }
}

void Scheduler::place(double now) {
  if (config_.policy == Policy::static_ && !split_done_) {
    if (workers_.empty() || static_cast<int>(workers_.size()) < config_.expected_workers) return;
    split_static();
  }
  const bool all_joined = static_cast<int>(workers_.size()) >= config_.expected_workers;

  // The worker predicted to be free first chooses first (it gets the longest subtask).
  std::vector<std::pair<double, int>> order;
  for (int rank : hungry_) order.emplace_back(ready_time(workers_.at(rank), now), rank);
  std::sort(order.begin(), order.end());
  std::vector<int> depth;
  int deepest = 0;
  for (const auto& [ready, rank] : order) {
    depth.push_back(target_depth(workers_.at(rank), all_joined));
    deepest = std::max(deepest, depth.back());
  }

  // Level by level: every hungry worker gets its next attempt before any gets a deeper queue.
  std::map<int, comm::AssignTasks> batches;
  for (int level = 1; level <= deepest; ++level) {
    for (std::size_t i = 0; i < order.size(); ++i) {
      WorkerState& worker = workers_.at(order[i].second);
      std::uint32_t task = 0;
      if (worker.in_flight() < std::min(level, depth[i]) && take_task_for(worker, now, task)) {
        assign(worker, task, states_[task].next_attempt++, now, false, false, batches);
      }
    }
  }
  for (std::size_t i = 0; i < order.size(); ++i) {
    if (workers_.at(order[i].second).in_flight() >= depth[i]) hungry_.erase(order[i].second);
  }
  const bool nothing_queued = pending_.empty() && std::all_of(own_.begin(), own_.end(), [](const auto& block) {
                                return block.second.empty();
                              });
  if (config_.policy == Policy::cost && config_.speculation && nothing_queued) speculate(now, batches);
  for (const auto& [rank, batch] : batches) out_.send(rank, batch);
}

}  // namespace fastgpu::scheduler
