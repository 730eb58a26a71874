// Reads an HDF5 results file back (layout: docs/results-file.md).
#pragma once

#include <filesystem>

#include <optional>

#include "fastgpu/cost_model.hpp"
#include "fastgpu/results.hpp"

namespace fastgpu::io {

/**
 * @brief Everything in a results file: job info, tasks, attempts (with their stdout/stderr tails
 * and metrics attached), workers and events. Works on the file of a run that is still going or
 * was killed (its /job status is then "running"), as of its last flush. Missing tables read as
 * empty. Throws fastgpu::IoError with the path and the reason (missing, not HDF5, not a results
 * file, unreadable).
 */
Results read_results(const std::filesystem::path& path);

/**
 * @brief The cost model stored in /model, or nullopt when the file has none (a run that never
 * finished). Throws fastgpu::IoError like read_results for a missing or foreign file.
 */
std::optional<CostModelSnapshot> read_model(const std::filesystem::path& path);

}  // namespace fastgpu::io
