// FASTGPU_CHECK_CUDA(call): runs a CUDA runtime call and turns a failure into fastgpu::DeviceError
// naming the call, where it was made and CUDA's own text, so a worker's report says what broke.
#pragma once

#include <cuda_runtime_api.h>

#include <string>

#include "fastgpu/error.hpp"

namespace fastgpu::device {

/// Errors after which CUDA documents that the process must be relaunched to use the GPU again:
/// every later call in this context returns them too ("sticky" errors).
inline bool poisons_context(cudaError_t status) {
  switch (status) {
    case cudaErrorIllegalAddress:
    case cudaErrorLaunchTimeout:
    case cudaErrorAssert:
    case cudaErrorHardwareStackError:
    case cudaErrorIllegalInstruction:
    case cudaErrorMisalignedAddress:
    case cudaErrorInvalidAddressSpace:
    case cudaErrorInvalidPc:
    case cudaErrorLaunchFailure:
    case cudaErrorECCUncorrectable:
    case cudaErrorNvlinkUncorrectable:
    case cudaErrorContextIsDestroyed:
      return true;
    default:
      return false;
  }
}

[[noreturn]] inline void throw_cuda_error(cudaError_t status, const char* call, const char* file, int line) {
  std::string what = std::string(call) + " failed at " + file + ":" + std::to_string(line) + ": " +
                     cudaGetErrorString(status);
  if (poisons_context(status)) throw DeviceLostError(what + " (the GPU context is unusable)");
  throw DeviceError(what);
}

}  // namespace fastgpu::device

#define FASTGPU_CHECK_CUDA(call)                                                            \
  do {                                                                                      \
    const cudaError_t fastgpu_cuda_status_ = (call);                                        \
    if (fastgpu_cuda_status_ != cudaSuccess) {                                              \
      ::fastgpu::device::throw_cuda_error(fastgpu_cuda_status_, #call, __FILE__, __LINE__); \
    }                                                                                       \
  } while (false)
