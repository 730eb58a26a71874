// /model: the cost model's parameters, as two small compound tables (/model/classes,
// /model/workers) that h5py reads directly and --history reads back.
#pragma once

#include <filesystem>

#include "fastgpu/cost_model.hpp"
#include "io/hdf5_handle.hpp"

namespace fastgpu::io::h5 {

/// Replaces the contents of /model in the open file `file` with `model` (its tables are resized
/// and overwritten in place, so calling it again leaves no dead datasets behind; strings are stored
/// anew each time, so call it rarely: at the end of a run, or at checkpoints).
void write_model_group(hid_t file, const CostModelSnapshot& model, const std::filesystem::path& path);

/// Reads /model of the open file; false when the file has none. A missing table reads as empty.
bool read_model_group(hid_t file, CostModelSnapshot& model, const std::filesystem::path& path);

}  // namespace fastgpu::io::h5
