// Collectives on device memory, whatever the backend: NCCL works on the GPU's buffers directly;
// MPI and the worker threads' shared memory work on host memory, so the data is staged through
// the host around them. One place decides which, for the reductions and the shared inputs.
#pragma once

#include <cstddef>

#include "comm/collectives.hpp"
#include "fastgpu/device.hpp"

namespace fastgpu::worker {

/// all_reduce of `count` doubles of `device`'s memory.
void all_reduce_device(comm::Collectives& collectives, fastgpu::Device& device, double* data, std::size_t count,
                       fastgpu::ReduceOp op);

/// broadcast of `bytes` of `device`'s memory from member 0.
void broadcast_device(comm::Collectives& collectives, fastgpu::Device& device, void* data, std::size_t bytes);

}  // namespace fastgpu::worker
