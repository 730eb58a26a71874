// An attempt of a compute kernel (a built-in one from src/kernels or a plugin's): the kernel runs
// on the worker's thread, inside the first poll(), with a Context over the worker's device, the
// job's reductions and a communicator. It returns early when Context::stop_requested() says so:
// the attempt timed out, was cancelled, or the run is stopping.
#pragma once

#include <functional>
#include <memory>

#include "fastgpu/kernel.hpp"
#include "worker/running_attempt.hpp"
#include "worker/shared_inputs.hpp"
#include "worker/worker_reductions.hpp"

namespace fastgpu::worker {

/// What a kernel attempt uses of its worker.
struct KernelServices {
  fastgpu::Device* device = nullptr;
  WorkerReductions* reductions = nullptr;  ///< the job's [[reduce]]; may be null (none declared)
  /// The GPUs of a multi-GPU subtask; null for a one-GPU subtask (the kernel then sees a
  /// communicator of one).
  fastgpu::Communicator* communicator = nullptr;
  const SharedInputs* inputs = nullptr;  ///< the job's [[input]]s in device memory; may be null
  /// FASTGPU_SLOWDOWN for this worker: > 1 makes compute kernels that factor slower, by waiting at
  /// each safe point (stop_requested) for (factor - 1) x the time since the last: a test aid.
  double slowdown = 1;
  /// True when the worker has been told to stop this attempt (Shutdown, CancelAttempt, a signal).
  /// Reads the worker's messages, so it is called at most every few milliseconds.
  std::function<bool()> stop_requested;
};

/// A compute kernel (built in, or from a plugin) for `name`; null for a command (empty name) or a
/// synthetic kernel (noop, sleep, spin: start_attempt runs those).
std::unique_ptr<fastgpu::Kernel> make_compute_kernel(const std::string& name);

/// Starts `kernel` for `launch` (not run until the first poll()). A non-empty `restore` (an earlier
/// attempt's checkpoint) is given to Kernel::restore first. A checkpointable kernel stopped early
/// (Shutdown, a signal) leaves its state in CommandResult::checkpoint.
std::unique_ptr<RunningAttempt> start_kernel_attempt(std::unique_ptr<fastgpu::Kernel> kernel, const LaunchSpec& launch,
                                                     std::int64_t task, int attempt, const CommandOptions& options,
                                                     const KernelServices& services, std::string restore = {});

}  // namespace fastgpu::worker
