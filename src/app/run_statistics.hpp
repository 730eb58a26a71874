// Figures derived from a results file: status counts, makespan, per-worker busy time, efficiency
// against a lower bound, the slowest subtasks, the failures and their causes, migrations and
// speculative copies, the work left in a stopped run, and the GPU-hours and cost. `inspect`
// prints them; tests check them. Definitions: docs/inspect.md.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "app/gpu_cost.hpp"
#include "app/telemetry_stats.hpp"
#include "fastgpu/cost_model.hpp"
#include "fastgpu/results.hpp"

namespace fastgpu::app {

struct WorkerUsage {
  WorkerRecord worker;
  std::size_t attempts = 0;
  double busy_s = 0;
  double busy_fraction = 0;  ///< busy_s / makespan
  double speed = 1;          ///< relative speed, 1 / the cost model's speed factor (1 without /model)
};

/// The makespan against the shortest any schedule could have had on these workers.
struct Efficiency {
  /// Work of the done subtasks in reference seconds (a worker of speed 1): each one's successful
  /// attempt's duration times its worker's speed, times its gpus.
  double total_work_s = 0;
  double longest_work_s = 0;  ///< the largest single subtask's work
  double speed_sum = 0;       ///< sum of the workers' speeds
  double fastest_speed = 0;
  /// max(total_work_s / speed_sum, longest_work_s / fastest_speed); 0 when nothing is done.
  double lower_bound_s = 0;
  double efficiency = 0;      ///< lower_bound_s / makespan; 0 when unknown
  std::string speeds_from;    ///< "model" (/model's speed factors) or "equal" (no /model: all 1)
};

/// Subtasks that failed for good with the same error.
struct FailureCause {
  std::string error;
  std::size_t subtasks = 0;
  std::vector<std::size_t> examples;  ///< rows of /tasks, at most 3
};

/// Subtasks a --resume would run (status not done) and the model's prediction of their time.
struct RemainingWork {
  std::size_t subtasks = 0;
  std::size_t pending = 0, running = 0, failed = 0, cancelled = 0;
  /// Predicted work in reference seconds (a worker of speed 1); nullopt when there is no basis.
  std::optional<double> predicted_work_s;
  /// Predicted wall time on this run's workers: max(work / speed_sum, largest / fastest_speed).
  std::optional<double> predicted_wall_s;
  /// "model" (/model's class line: intercept + seconds_per_cost * cost), "observed" (no /model:
  /// the done attempts' mean seconds per unit of cost) or "none".
  std::string basis = "none";
};

/// What the statistics need beyond /tasks, /attempts, /workers and /events.
struct StatisticsInputs {
  const CostModelSnapshot* model = nullptr;  ///< /model, when the file has it
  std::string task_class = "command";        ///< the job's class in the model: the kernel's name or "command"
  GpuPrices prices;  ///< [job] gpu_hour_price and [job.gpu_hour_prices], or --gpu-hour-price
};

struct RunStatistics {
  std::array<std::size_t, 5> task_counts{};      ///< indexed by TaskStatus
  std::array<std::size_t, 9> attempt_counts{};   ///< indexed by AttemptStatus
  std::size_t attempts = 0;
  double first_start = 0;
  double last_end = 0;
  double makespan_s = 0;
  double mean_busy_fraction = 0;  ///< over the workers
  std::vector<WorkerUsage> workers;
  std::vector<std::size_t> slowest;   ///< rows of /attempts that finished, longest first (at most 5)
  std::vector<std::size_t> failures;  ///< for each failed task, the row of its last attempt
  std::vector<FailureCause> failure_causes;  ///< most subtasks first
  std::size_t migrated_attempts = 0;   ///< /attempts rows with migrated set
  std::size_t migrate_events = 0;      ///< /events "migrate": a queued attempt moved to another worker
  std::size_t speculative_copies = 0;  ///< /events "speculate"
  std::size_t speculation_won = 0;     ///< /events "speculation_won": the copy finished first
  Efficiency efficiency;
  RemainingWork remaining;
  CostSummary cost;
  TelemetryStats telemetry;  ///< /telemetry: device use and energy per worker
};

RunStatistics compute_statistics(const Results& results, const StatisticsInputs& inputs = {});

/// The speed factor /model gives `worker` (same rank, host and device; else same rank), or nullopt.
std::optional<double> model_speed_factor(const CostModelSnapshot& model, const WorkerRecord& worker);

}  // namespace fastgpu::app
