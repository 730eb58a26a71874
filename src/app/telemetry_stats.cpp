#include "app/telemetry_stats.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <utility>

namespace fastgpu::app {
namespace {

/** @brief Mean and maximum of the values that were measured (NaN = not measured). */
struct Accumulator {
  double sum = 0, peak = 0;
  std::size_t n = 0;
  void add(double value) {
    if (std::isnan(value)) return;
    peak = n == 0 ? value : std::max(peak, value);
    sum += value;
    ++n;
  }
  std::optional<double> mean() const { return n ? std::optional(sum / static_cast<double>(n)) : std::nullopt; }
  std::optional<double> max() const { return n ? std::optional(peak) : std::nullopt; }
};

}  // namespace

double integrate(const std::vector<std::pair<double, double>>& series, double from, double to) {
  double total = 0;
  for (std::size_t i = 0; i + 1 < series.size(); ++i) {
    const auto [t0, v0] = series[i];
    const auto [t1, v1] = series[i + 1];
    const double a = std::max(from, t0), b = std::min(to, t1);
    if (!(b > a) || !(t1 > t0)) continue;
    const auto at = [&](double t) { return v0 + (v1 - v0) * (t - t0) / (t1 - t0); };
    total += (at(a) + at(b)) / 2 * (b - a);
  }
  return total;
}

TelemetryStats compute_telemetry(const Results& results) {
  TelemetryStats stats;
  stats.samples = results.telemetry.size();
  std::map<std::int32_t, std::vector<const TelemetrySample*>> by_rank;
  for (const auto& sample : results.telemetry) by_rank[sample.worker].push_back(&sample);

  std::map<std::int32_t, std::vector<std::pair<double, double>>> power;  // rank -> (time, W)
  for (auto& [rank, samples] : by_rank) {
    std::stable_sort(samples.begin(), samples.end(), [](auto* a, auto* b) { return a->time < b->time; });
    Accumulator gpu, cpu, mem, rss, watts;
    auto& series = power[rank];
    for (const TelemetrySample* s : samples) {
      gpu.add(s->gpu_util);
      cpu.add(s->cpu_util);
      mem.add(s->mem_used_bytes);
      rss.add(s->rss_bytes);
      watts.add(s->power_w);
      if (std::isfinite(s->power_w) && std::isfinite(s->time)) series.emplace_back(s->time, s->power_w);
    }
    WorkerTelemetry w;
    w.rank = rank;
    w.samples = samples.size();
    w.mean_gpu_util = gpu.mean();
    w.mean_cpu_util = cpu.mean();
    w.peak_mem_used_bytes = mem.max();
    w.peak_rss_bytes = rss.max();
    w.mean_power_w = watts.mean();
    if (!series.empty()) {
      w.energy_j = integrate(series, series.front().first, series.back().first);
      stats.energy_j = stats.energy_j.value_or(0) + *w.energy_j;
    } else {
      power.erase(rank);
    }
    stats.workers.push_back(w);
  }

  // A job has one task class (its kernel, or `command`), so per done subtask is per class.
  double during_done = 0;
  for (const auto& a : results.attempts) {
    if (a.status != AttemptStatus::done || !std::isfinite(a.start) || !std::isfinite(a.end)) continue;
    const auto it = power.find(a.worker);
    if (it == power.end()) continue;
    during_done += integrate(it->second, a.start, a.end);
    ++stats.done_subtasks_measured;
  }
  if (stats.done_subtasks_measured > 0) {
    stats.energy_per_done_subtask_j = during_done / static_cast<double>(stats.done_subtasks_measured);
  }
  return stats;
}

}  // namespace fastgpu::app
