// The job's shared inputs ([[input]]) in a worker's device memory: read once, by the first
// worker, and broadcast to the others over the workers' collectives (NCCL between GPUs), instead
// of every worker reading the file system.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "comm/collectives.hpp"
#include "fastgpu/device.hpp"
#include "fastgpu/job_spec.hpp"

namespace fastgpu::worker {

using SharedInputs = std::map<std::string, fastgpu::DeviceBuffer<double>, std::less<>>;

/// Every worker calls it at start with the same `inputs`: member 0 of `collectives` reads each
/// with `read`, every member gets a copy in `device`'s memory. A read that fails on member 0
/// throws on every member (with the reason on member 0), so none waits forever.
SharedInputs load_shared_inputs(const std::vector<InputSpec>& inputs,
                                const std::function<std::vector<double>(const InputSpec&)>& read,
                                comm::Collectives& collectives, fastgpu::Device& device);

}  // namespace fastgpu::worker
