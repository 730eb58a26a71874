// Reads a shared input ([[input]]): one numeric HDF5 dataset, any shape, as doubles in row-major
// order. Rank 0 checks every input before a run starts; one worker reads each and broadcasts it.
#pragma once

#include <cstdint>
#include <vector>

#include "fastgpu/job_spec.hpp"

namespace fastgpu::io {

struct InputShape {
  std::vector<std::uint64_t> dims;
  std::uint64_t values() const;
};

/// The dataset's shape; throws UsageError naming the input, the file and what is wrong (missing
/// file or dataset, not numeric, empty).
InputShape check_input(const InputSpec& input);

/// Its values, converted to double by HDF5; throws like check_input.
std::vector<double> read_input(const InputSpec& input);

}  // namespace fastgpu::io
