// A worker rank: says hello, keeps a local queue of assigned attempts, runs them one at a time
// (one GPU, one subtask) and reports starts and results to the scheduler in batches. It gives
// back queued attempts when asked (migration) and stops an attempt whose copy won elsewhere.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "comm/transport.hpp"
#include "fastgpu/results.hpp"
#include "worker/running_attempt.hpp"

namespace fastgpu::worker {

struct WorkerConfig {
  WorkerRecord self;  ///< rank, host, device... as sent in the hello
  /// Environment every subtask of this worker gets (CUDA_VISIBLE_DEVICES, FASTGPU_WORKER).
  std::vector<std::pair<std::string, std::string>> env;
  double job_start_unix = 0;  ///< times in reports are seconds since this instant
  double kill_grace_s = 5;    ///< SIGTERM -> SIGKILL delay for timeouts and shutdown
  KernelConfig kernels;       ///< for in-process kernels (FASTGPU_SLOWDOWN, ...)
};

/// Runs until the scheduler sends Shutdown. Returns normally after sending WorkerBye.
void run_worker(comm::Transport& transport, const WorkerConfig& config);

/// Seconds since `job_start_unix` by the system clock (comparable across the ranks of a job).
double seconds_since(double job_start_unix);

}  // namespace fastgpu::worker
