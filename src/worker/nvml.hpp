// NVML (the NVIDIA driver's management library), loaded at run time with dlopen: the same binary
// runs on machines without a driver or without libnvidia-ml, and the build needs no NVML header.
#pragma once

#include <memory>
#include <string>

#include "fastgpu/results.hpp"

namespace fastgpu::worker {

/** @brief One GPU as NVML sees it; fills a sample's GPU fields. */
class NvmlDevice {
 public:
  /**
   * @brief Opens the GPU named by @p id: a UUID ("GPU-...", "MIG-...", as CUDA and Slurm give
   * it) or an NVML index ("0"). Returns nullptr and sets @p why_not when NVML cannot be loaded
   * or initialised, or has no such GPU. @p library is the shared object to load (tests pass a
   * missing one).
   */
  static std::unique_ptr<NvmlDevice> open(const std::string& id, std::string& why_not,
                                          const char* library = "libnvidia-ml.so.1");
  ~NvmlDevice();
  NvmlDevice(const NvmlDevice&) = delete;
  NvmlDevice& operator=(const NvmlDevice&) = delete;

  /** @brief gpu_util, mem_used_bytes, power_w, temp_c, sm_clock_mhz; a query that fails leaves NaN. */
  void sample(TelemetrySample& out) const;

 private:
  struct Api;
  NvmlDevice(const Api* api, void* handle) : api_(api), handle_(handle) {}
  const Api* api_;
  void* handle_;  // nvmlDevice_t
};

}  // namespace fastgpu::worker
