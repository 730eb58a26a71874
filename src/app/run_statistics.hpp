// Figures derived from a results file: status counts, makespan, per-worker busy time, the
// slowest subtasks and the failures. `inspect` prints them; tests check them.
#pragma once

#include <array>
#include <cstddef>
#include <vector>

#include "fastgpu/results.hpp"

namespace fastgpu::app {

struct WorkerUsage {
  WorkerRecord worker;
  std::size_t attempts = 0;
  double busy_s = 0;
  double busy_fraction = 0;  ///< busy_s / makespan
};

struct RunStatistics {
  std::array<std::size_t, 5> task_counts{};  ///< indexed by TaskStatus
  std::size_t attempts = 0;
  double first_start = 0;
  double last_end = 0;
  double makespan_s = 0;
  std::vector<WorkerUsage> workers;
  std::vector<std::size_t> slowest;   ///< rows of /attempts that finished, longest first (at most 5)
  std::vector<std::size_t> failures;  ///< for each failed task, the row of its last attempt
};

RunStatistics compute_statistics(const Results& results);

}  // namespace fastgpu::app
