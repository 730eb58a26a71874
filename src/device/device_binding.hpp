// Which GPU a worker uses: the one Slurm bound its task to, else its index among the workers of its
// node picks one of the visible GPUs (the rules: slurm/README.md, "Ranks and GPUs").
#pragma once

#include <cstddef>
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

/// GPUs Slurm gave this srun step on this node, whatever it bound this task to: the entries of
/// SLURM_STEP_GPUS, or SLURM_GPUS_ON_NODE where it is more (seen with Slurm 22.05 under
/// --gpu-bind=single:1: CUDA_VISIBLE_DEVICES=1 and SLURM_STEP_GPUS=1 in a task, SLURM_GPUS_ON_NODE=4).
/// nullopt without SLURM_STEP_GPUS: outside an srun step with GPUs, e.g. in the batch script, where
/// a CUDA_VISIBLE_DEVICES cut down by hand (before mpirun) is the user's choice, not a binding.
std::optional<std::size_t> slurm_step_gpus_on_node();

/// Binds worker `local_index` (0-based among the workers on its node) to one of `gpus` (this
/// process's visible GPUs), by the first rule that applies:
///  1. no GPU visible: the worker is a CPU slot;
///  2. Slurm bound this task to its own GPUs (--gpus-per-task, --gpu-bind: it sees fewer GPUs than
///     slurm_step_gpus_on_node()): the first of them, whatever the index;
///  3. gpus[local_index];
///  4. with `share_gpus` (fastgpu run --share-gpus), gpus[local_index % gpus.size()];
///  5. otherwise more workers than GPUs is refused with fastgpu::UsageError.
DeviceBinding bind_worker(int local_index, const std::vector<std::string>& gpus, const std::string& host,
                          bool share_gpus = false);

/// One line on what this build can use, for `fastgpu --version`: CUDA and NCCL versions or "off".
std::string build_summary();

}  // namespace fastgpu::device
