#include "device/device_binding.hpp"

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

DeviceBinding bind_worker(int local_index, const std::vector<std::string>& gpus, const std::string& host) {
  DeviceBinding binding;
  if (gpus.empty()) return binding;
  if (local_index >= static_cast<int>(gpus.size())) {
    throw UsageError("host " + host + " runs " + std::to_string(local_index + 1) + "+ workers but has only " +
                     std::to_string(gpus.size()) + " GPU(s) visible; start at most one worker rank per GPU");
  }
  binding.gpu = gpus[static_cast<std::size_t>(local_index)];
  binding.device = "cuda:" + *binding.gpu;
#if FASTGPU_HAVE_CUDA
  // With CUDA_VISIBLE_DEVICES set, the runtime numbers the visible GPUs 0..n-1.
  describe_gpu(local_index, binding);
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
