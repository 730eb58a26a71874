#include "app/run_statistics.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

namespace fastgpu::app {

RunStatistics compute_statistics(const Results& results) {
  RunStatistics stats;
  for (const auto& task : results.tasks) ++stats.task_counts[static_cast<std::size_t>(task.status)];
  stats.attempts = results.attempts.size();

  std::map<int, std::size_t> worker_index;
  for (const auto& worker : results.workers) {
    worker_index[worker.rank] = stats.workers.size();
    stats.workers.push_back({worker, 0, 0, 0});
  }
  double first = std::numeric_limits<double>::infinity(), last = -first;
  std::vector<std::size_t> finished;
  std::map<std::int64_t, std::size_t> last_attempt;  // task -> row of its latest attempt
  for (std::size_t row = 0; row < results.attempts.size(); ++row) {
    const auto& attempt = results.attempts[row];
    last_attempt[attempt.task] = row;
    if (std::isnan(attempt.start) || std::isnan(attempt.end)) continue;
    first = std::min(first, attempt.start);
    last = std::max(last, attempt.end);
    finished.push_back(row);
    if (auto it = worker_index.find(attempt.worker); it != worker_index.end()) {
      auto& usage = stats.workers[it->second];
      ++usage.attempts;
      usage.busy_s += attempt.end - attempt.start;
    }
  }
  if (!finished.empty()) {
    stats.first_start = first;
    stats.last_end = last;
    stats.makespan_s = last - first;
  }
  for (auto& usage : stats.workers) {
    usage.busy_fraction = stats.makespan_s > 0 ? usage.busy_s / stats.makespan_s : 0;
  }

  auto duration = [&](std::size_t row) { return results.attempts[row].end - results.attempts[row].start; };
  const std::size_t shown = std::min<std::size_t>(5, finished.size());
  std::partial_sort(finished.begin(), finished.begin() + static_cast<std::ptrdiff_t>(shown), finished.end(),
                    [&](std::size_t a, std::size_t b) { return duration(a) > duration(b); });
  stats.slowest.assign(finished.begin(), finished.begin() + static_cast<std::ptrdiff_t>(shown));

  for (std::size_t task = 0; task < results.tasks.size(); ++task) {
    if (results.tasks[task].status != TaskStatus::failed) continue;
    if (auto it = last_attempt.find(static_cast<std::int64_t>(task)); it != last_attempt.end()) {
      stats.failures.push_back(it->second);
    }
  }
  return stats;
}

}  // namespace fastgpu::app
