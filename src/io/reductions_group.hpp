// /reductions: the job-level reductions ([[reduce]]), one 1-D double dataset per reduction with
// its op, weight and number of contributions as attributes.
#pragma once

#include <filesystem>
#include <vector>

#include "fastgpu/results.hpp"
#include "io/hdf5_handle.hpp"

namespace fastgpu::io::h5 {

/// Writes (or replaces) /reductions/NAME for each reduction in the open file.
void write_reductions_group(hid_t file, const std::vector<ReductionValue>& reductions,
                            const std::filesystem::path& path);

/// Reads /reductions of the open file; none when the file has no group.
std::vector<ReductionValue> read_reductions_group(hid_t file, const std::filesystem::path& path);

}  // namespace fastgpu::io::h5
