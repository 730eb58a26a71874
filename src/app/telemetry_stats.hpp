// What inspect says about /telemetry: each worker's mean GPU (or CPU) use, peak memory, power and
// energy, and the energy per done subtask. Definitions: docs/inspect.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "fastgpu/results.hpp"

namespace fastgpu::app {

/** @brief One worker's /telemetry rows, summarized; a field no sample measured is nullopt. */
struct WorkerTelemetry {
  std::int32_t rank = -1;
  std::size_t samples = 0;
  std::optional<double> mean_gpu_util;  ///< %, mean over the samples
  std::optional<double> mean_cpu_util;  ///< % of one core, mean over the samples
  std::optional<double> peak_mem_used_bytes;
  std::optional<double> peak_rss_bytes;
  std::optional<double> mean_power_w;
  std::optional<double> energy_j;  ///< power integrated over time (trapezoids between samples)
};

struct TelemetryStats {
  std::size_t samples = 0;
  std::vector<WorkerTelemetry> workers;  ///< by rank
  std::optional<double> energy_j;        ///< summed over the workers that report power
  /// Energy of the workers while the done subtasks' successful attempts ran, per done subtask.
  std::optional<double> energy_per_done_subtask_j;
  std::size_t done_subtasks_measured = 0;  ///< done subtasks whose worker reported power
  std::string task_class;                  ///< the job's one class: its kernel's name or "command"
};

TelemetryStats compute_telemetry(const Results& results);

/**
 * @brief The integral over [@p from, @p to] of the piecewise-linear function through
 * @p series (time, value; sorted by time); nothing is counted outside the first and last sample.
 */
double integrate(const std::vector<std::pair<double, double>>& series, double from, double to);

}  // namespace fastgpu::app
