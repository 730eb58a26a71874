// Which GPU a worker uses: its index among the workers of its node picks one of the visible GPUs.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace fastgpu::device {

/// GPUs this process may use, as CUDA_VISIBLE_DEVICES entries: from CUDA_VISIBLE_DEVICES when it
/// is set (Slurm sets it from the allocation's gres), else every GPU the CUDA runtime sees
/// (none in a build without CUDA or on a machine without a GPU).
std::vector<std::string> visible_gpus();

struct DeviceBinding {
  std::string device = "cpu";         ///< "cuda:<id>" or "cpu"
  std::optional<std::string> gpu;     ///< the CUDA_VISIBLE_DEVICES value for its subtasks
  std::string gpu_name;
  std::string gpu_uuid;
};

/// Binds worker `local_index` (0-based among the workers on its node). With no GPU, workers are
/// CPU slots. More workers than GPUs on a node is refused with fastgpu::UsageError.
DeviceBinding bind_worker(int local_index, const std::vector<std::string>& gpus, const std::string& host);

/// One line on what this build can use, for `fastgpu --version`: CUDA and NCCL versions or "off".
std::string build_summary();

}  // namespace fastgpu::device
