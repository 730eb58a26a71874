#include "app/run_statistics.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

namespace fastgpu::app {

namespace {

bool finished(const AttemptRecord& a) { return !std::isnan(a.start) && !std::isnan(a.end); }

double median(std::vector<double> values) {
  if (values.empty()) return 1;
  const auto mid = values.begin() + static_cast<std::ptrdiff_t>(values.size() / 2);
  std::nth_element(values.begin(), mid, values.end());
  return *mid;
}

// Each worker's speed (1 / speed factor): from /model, a worker it lacks gets the median factor.
void assign_speeds(RunStatistics& stats, const CostModelSnapshot* model) {
  if (model == nullptr || model->workers.empty()) {
    stats.efficiency.speeds_from = "equal";
    return;
  }
  stats.efficiency.speeds_from = "model";
  std::vector<double> factors;
  std::vector<std::optional<double>> per_worker;
  for (const auto& usage : stats.workers) {
    per_worker.push_back(model_speed_factor(*model, usage.worker));
    if (per_worker.back()) factors.push_back(*per_worker.back());
  }
  const double fallback = median(factors);
  for (std::size_t i = 0; i < stats.workers.size(); ++i) stats.workers[i].speed = 1 / per_worker[i].value_or(fallback);
}

void compute_efficiency(RunStatistics& stats, const Results& results, const std::map<int, std::size_t>& worker_index) {
  Efficiency& e = stats.efficiency;
  for (const auto& usage : stats.workers) {
    e.speed_sum += usage.speed;
    e.fastest_speed = std::max(e.fastest_speed, usage.speed);
  }
  // The successful attempt of each done subtask (a superseded copy or a failed try is not work
  // the job needed).
  std::vector<double> work(results.tasks.size(), -1);
  for (const auto& a : results.attempts) {
    if (a.status != AttemptStatus::done || !finished(a) || a.task < 0) continue;
    const auto task = static_cast<std::size_t>(a.task);
    if (task >= results.tasks.size() || results.tasks[task].status != TaskStatus::done) continue;
    const auto it = worker_index.find(a.worker);
    const double speed = it == worker_index.end() ? 1 : stats.workers[it->second].speed;
    work[task] = (a.end - a.start) * speed * std::max(1, results.tasks[task].gpus);
  }
  for (double w : work) {
    if (w < 0) continue;
    e.total_work_s += w;
    e.longest_work_s = std::max(e.longest_work_s, w);
  }
  if (e.speed_sum > 0 && e.fastest_speed > 0 && e.total_work_s > 0) {
    e.lower_bound_s = std::max(e.total_work_s / e.speed_sum, e.longest_work_s / e.fastest_speed);
    if (stats.makespan_s > 0) e.efficiency = e.lower_bound_s / stats.makespan_s;
  }
}

void compute_remaining(RunStatistics& stats, const Results& results, const StatisticsInputs& inputs) {
  RemainingWork& r = stats.remaining;
  std::vector<std::size_t> left;
  for (std::size_t t = 0; t < results.tasks.size(); ++t) {
    switch (results.tasks[t].status) {
      case TaskStatus::done: continue;
      case TaskStatus::pending: ++r.pending; break;
      case TaskStatus::running: ++r.running; break;
      case TaskStatus::failed: ++r.failed; break;
      case TaskStatus::cancelled: ++r.cancelled; break;
    }
    left.push_back(t);
  }
  r.subtasks = left.size();

  // Seconds for one subtask of cost c on a worker of speed 1.
  std::optional<CostClassParams> line;
  if (inputs.model != nullptr) {
    for (const auto& c : inputs.model->classes) {
      if (c.task_class == inputs.task_class) line = c;
    }
    if (!line && inputs.model->classes.size() == 1) line = inputs.model->classes.front();
  }
  if (line) {
    r.basis = "model";
  } else {
    double seconds = 0, cost = 0;
    for (const auto& a : results.attempts) {
      if (a.status != AttemptStatus::done || !finished(a) || a.task < 0) continue;
      seconds += a.end - a.start;
      cost += results.tasks.at(static_cast<std::size_t>(a.task)).cost;
    }
    if (cost > 0) {
      line = CostClassParams{inputs.task_class, 0, seconds / cost, 0};
      r.basis = "observed";
    }
  }
  if (!line) return;
  double total = 0, largest = 0;
  for (auto t : left) {
    const auto& task = results.tasks[t];
    const double one = std::max(0.0, line->intercept_s + line->seconds_per_cost * task.cost) * std::max(1, task.gpus);
    total += one;
    largest = std::max(largest, one);
  }
  r.predicted_work_s = total;
  const auto& e = stats.efficiency;
  if (e.speed_sum > 0 && e.fastest_speed > 0) {
    r.predicted_wall_s = std::max(total / e.speed_sum, largest / e.fastest_speed);
  }
}

void compute_cost(RunStatistics& stats, const StatisticsInputs& inputs) {
  std::vector<WorkerRecord> workers;
  std::vector<double> busy_s;
  for (const auto& usage : stats.workers) {
    workers.push_back(usage.worker);
    busy_s.push_back(usage.busy_s);
  }
  stats.cost = compute_cost(workers, busy_s, stats.makespan_s, inputs.prices);
}

}  // namespace

std::optional<double> model_speed_factor(const CostModelSnapshot& model, const WorkerRecord& worker) {
  const CostWorkerParams* same_rank = nullptr;
  for (const auto& w : model.workers) {
    if (w.rank != worker.rank) continue;
    if (w.host == worker.host && w.device == worker.device) {
      same_rank = &w;
      break;
    }
    if (!same_rank) same_rank = &w;
  }
  if (!same_rank || !(same_rank->speed_factor > 0) || !std::isfinite(same_rank->speed_factor)) return std::nullopt;
  return same_rank->speed_factor;
}

RunStatistics compute_statistics(const Results& results, const StatisticsInputs& inputs) {
  RunStatistics stats;
  for (const auto& task : results.tasks) ++stats.task_counts[static_cast<std::size_t>(task.status)];
  stats.attempts = results.attempts.size();

  std::vector<WorkerRecord> by_rank = results.workers;
  std::stable_sort(by_rank.begin(), by_rank.end(), [](const auto& a, const auto& b) { return a.rank < b.rank; });
  std::map<int, std::size_t> worker_index;
  for (const auto& worker : by_rank) {
    worker_index[worker.rank] = stats.workers.size();
    stats.workers.push_back({worker, 0, 0, 0, 1});
  }
  double first = std::numeric_limits<double>::infinity(), last = -first;
  std::vector<std::size_t> finished_rows;
  std::map<std::int64_t, std::size_t> last_attempt;  // task -> row of its latest attempt
  for (std::size_t row = 0; row < results.attempts.size(); ++row) {
    const auto& attempt = results.attempts[row];
    const auto slot = static_cast<std::size_t>(attempt.status);
    if (slot < stats.attempt_counts.size()) ++stats.attempt_counts[slot];
    if (attempt.migrated) ++stats.migrated_attempts;
    last_attempt[attempt.task] = row;
    if (!finished(attempt)) continue;
    first = std::min(first, attempt.start);
    last = std::max(last, attempt.end);
    finished_rows.push_back(row);
    if (auto it = worker_index.find(attempt.worker); it != worker_index.end()) {
      auto& usage = stats.workers[it->second];
      ++usage.attempts;
      usage.busy_s += attempt.end - attempt.start;
    }
  }
  if (!finished_rows.empty()) {
    stats.first_start = first;
    stats.last_end = last;
    stats.makespan_s = last - first;
  }
  for (auto& usage : stats.workers) {
    usage.busy_fraction = stats.makespan_s > 0 ? usage.busy_s / stats.makespan_s : 0;
    stats.mean_busy_fraction += usage.busy_fraction / static_cast<double>(stats.workers.size());
  }

  auto duration = [&](std::size_t row) { return results.attempts[row].end - results.attempts[row].start; };
  const std::size_t shown = std::min<std::size_t>(5, finished_rows.size());
  std::partial_sort(finished_rows.begin(), finished_rows.begin() + static_cast<std::ptrdiff_t>(shown),
                    finished_rows.end(), [&](std::size_t a, std::size_t b) { return duration(a) > duration(b); });
  stats.slowest.assign(finished_rows.begin(), finished_rows.begin() + static_cast<std::ptrdiff_t>(shown));

  // Why each subtask failed for good: the scheduler's `failed` event says so, also for one that
  // never got (another) attempt: too wide for the run, no worker left with a usable device.
  std::map<std::int64_t, std::string> failed_because;
  for (const auto& event : results.events) {
    if (event.kind == "failed" && event.task >= 0) failed_because[event.task] = event.detail;
  }
  std::map<std::string, std::size_t> cause_index;
  for (std::size_t task = 0; task < results.tasks.size(); ++task) {
    if (results.tasks[task].status != TaskStatus::failed) continue;
    auto it = last_attempt.find(static_cast<std::int64_t>(task));
    if (it != last_attempt.end()) stats.failures.push_back(it->second);
    auto because = failed_because.find(static_cast<std::int64_t>(task));
    if (because == failed_because.end() && it == last_attempt.end()) continue;
    const std::string& error = because != failed_because.end() ? because->second : results.attempts[it->second].error;
    auto [cause, added] = cause_index.try_emplace(error, stats.failure_causes.size());
    if (added) stats.failure_causes.push_back({error, 0, {}});
    auto& entry = stats.failure_causes[cause->second];
    ++entry.subtasks;
    if (entry.examples.size() < 3) entry.examples.push_back(task);
  }
  std::stable_sort(stats.failure_causes.begin(), stats.failure_causes.end(),
                   [](const FailureCause& a, const FailureCause& b) { return a.subtasks > b.subtasks; });

  for (const auto& event : results.events) {
    if (event.kind == "migrate") ++stats.migrate_events;
    if (event.kind == "speculate") ++stats.speculative_copies;
    if (event.kind == "speculation_won") ++stats.speculation_won;
  }

  assign_speeds(stats, inputs.model);
  compute_efficiency(stats, results, worker_index);
  compute_remaining(stats, results, inputs);
  compute_cost(stats, inputs);
  stats.telemetry = compute_telemetry(results);
  stats.telemetry.task_class = inputs.task_class;
  return stats;
}

}  // namespace fastgpu::app
