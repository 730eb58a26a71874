// Reads an HDF5 results file back (layout: docs/results-file.md).
#pragma once

#include <filesystem>

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

}  // namespace fastgpu::io
