#include "device/device_binding.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "fastgpu/config.hpp"
#include "fastgpu/error.hpp"

#if FASTGPU_HAVE_CUDA
#include <cuda_runtime_api.h>
#endif
#if FASTGPU_HAVE_NCCL
#include <nccl.h>
#endif

namespace fastgpu::device {
namespace {

#if FASTGPU_HAVE_CUDA
// Name and UUID of the CUDA device with runtime ordinal `ordinal`; empty when unavailable.
void describe_gpu(int ordinal, DeviceBinding& binding) {
  cudaDeviceProp props{};
  if (cudaGetDeviceProperties(&props, ordinal) != cudaSuccess) return;
  binding.gpu_name = props.name;
  std::ostringstream uuid;
  uuid << "GPU-" << std::hex;
  for (int i = 0; i < 16; ++i) {
    uuid << ((static_cast<unsigned>(static_cast<unsigned char>(props.uuid.bytes[i])) >> 4) & 0xF)
         << (static_cast<unsigned>(static_cast<unsigned char>(props.uuid.bytes[i])) & 0xF);
    if (i == 3 || i == 5 || i == 7 || i == 9) uuid << '-';
  }
  binding.gpu_uuid = uuid.str();
}
#endif

}  // namespace

std::vector<std::string> visible_gpus() {
  std::vector<std::string> gpus;
  if (const char* visible = std::getenv("CUDA_VISIBLE_DEVICES")) {
    std::stringstream list(visible);
    for (std::string entry; std::getline(list, entry, ',');) {
      if (entry.empty() || entry == "-1" || entry == "NoDevFiles") continue;
      gpus.push_back(entry);
    }
    return gpus;
  }
#if FASTGPU_HAVE_CUDA
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) count = 0;
  for (int i = 0; i < count; ++i) gpus.push_back(std::to_string(i));
#endif
  return gpus;
}

std::optional<std::size_t> slurm_step_gpus_on_node() {
  const char* step = std::getenv("SLURM_STEP_GPUS");
  if (step == nullptr || *step == '\0') return std::nullopt;
  // Comma-separated global IDs; a range "a-b" counts b - a + 1.
  std::size_t count = 0;
  std::stringstream list(step);
  for (std::string entry; std::getline(list, entry, ',');) {
    if (entry.empty()) continue;
    int first = 0, last = 0;
    if (std::sscanf(entry.c_str(), "%d-%d", &first, &last) == 2 && last >= first) {
      count += static_cast<std::size_t>(last - first + 1);
    } else {
      ++count;
    }
  }
  // Slurm 22.05 narrows SLURM_STEP_GPUS to the task's own GPUs, as it does CUDA_VISIBLE_DEVICES;
  // SLURM_GPUS_ON_NODE keeps the step's count.
  if (const char* on_node = std::getenv("SLURM_GPUS_ON_NODE"); on_node && *on_node) {
    count = std::max(count, static_cast<std::size_t>(std::max(0L, std::strtol(on_node, nullptr, 10))));
  }
  return count;
}

DeviceBinding bind_worker(int local_index, const std::vector<std::string>& gpus, const std::string& host,
                          bool share_gpus) {
  DeviceBinding binding;
  if (gpus.empty()) return binding;
  const std::size_t visible = gpus.size();
  const auto step_gpus = slurm_step_gpus_on_node();
  // Slurm narrowed CUDA_VISIBLE_DEVICES to this task's own GPUs: its choice stands, even where it
  // puts several tasks on one GPU (map_gpu:0*2,...), and the worker index no longer applies.
  const bool bound_by_slurm = step_gpus && visible < *step_gpus;
  std::size_t chosen = static_cast<std::size_t>(local_index);
  if (bound_by_slurm) {
    chosen = 0;
  } else if (chosen >= visible) {
    if (!share_gpus) {
      throw UsageError("host " + host + " runs " + std::to_string(local_index + 1) + "+ workers but has only " +
                       std::to_string(visible) +
                       " GPU(s) visible; start at most one worker rank per GPU, give each worker task its own GPU "
                       "(srun --gpu-bind=single:1), or let workers share GPUs with fastgpu run --share-gpus");
    }
    chosen %= visible;
  }
  binding.gpu = gpus[chosen];
  binding.device = "cuda:" + *binding.gpu;
#if FASTGPU_HAVE_CUDA
  // With CUDA_VISIBLE_DEVICES set, the runtime numbers the visible GPUs 0..n-1.
  describe_gpu(static_cast<int>(chosen), binding);
#endif
  return binding;
}

std::string build_summary() {
  std::ostringstream out;
#if FASTGPU_HAVE_CUDA
  int runtime = 0;
  cudaRuntimeGetVersion(&runtime);
  out << "CUDA runtime " << runtime / 1000 << "." << (runtime % 1000) / 10;
#else
  out << "CUDA off";
#endif
#if FASTGPU_HAVE_NCCL
  int nccl = 0;
  ncclGetVersion(&nccl);
  out << ", NCCL " << nccl / 10000 << "." << (nccl / 100) % 100 << "." << nccl % 100;
#else
  out << ", NCCL off";
#endif
  return out.str();
}

}  // namespace fastgpu::device
