// One attempt in progress on a worker, whatever runs it: a command (a process) or an in-process
// kernel. The worker loop drives it with poll() and may terminate() it.
#pragma once

#include <chrono>
#include <memory>

#include "fastgpu/job_spec.hpp"
#include "worker/command_runner.hpp"

namespace fastgpu::worker {

class RunningAttempt {
 public:
  virtual ~RunningAttempt() = default;
  /// Waits up to `wait` (less if it finishes sooner), makes progress; true when finished.
  virtual bool poll(std::chrono::milliseconds wait) = 0;
  /// Stops it soon: the result is then `cancelled` (unless it finished or timed out first).
  virtual void terminate() = 0;
  /// terminate(), with `grace_s` instead of the configured delay before a command gets SIGKILL.
  virtual void terminate_within(double grace_s) {
    (void)grace_s;
    terminate();
  }
  virtual bool finished() const = 0;
  /// Valid once finished().
  virtual const CommandResult& result() const = 0;
};

/// What a worker knows that kernels need.
struct KernelConfig {
  /// FASTGPU_SLOWDOWN for this worker's rank: synthetic kernels take this many times longer.
  double slowdown = 1.0;
};

/// Starts `launch`: its kernel in-process when LaunchSpec::kernel is set, else its argv as a process.
std::unique_ptr<RunningAttempt> start_attempt(const LaunchSpec& launch, const CommandOptions& options,
                                              const KernelConfig& kernels);

}  // namespace fastgpu::worker
