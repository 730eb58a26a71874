// A worker rank: says hello, keeps a local queue of assigned attempts, runs them one at a time
// (one GPU, one subtask) and reports starts and results to the scheduler in batches. It gives
// back queued attempts when asked (migration) and stops an attempt whose copy won elsewhere.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "comm/collectives.hpp"
#include "comm/transport.hpp"
#include "fastgpu/device.hpp"
#include "fastgpu/results.hpp"
#include "worker/running_attempt.hpp"

namespace fastgpu::worker {

struct WorkerConfig {
  WorkerRecord self;  ///< rank, host, device... as sent in the hello
  /// Environment every subtask of this worker gets (CUDA_VISIBLE_DEVICES, FASTGPU_WORKER).
  std::vector<std::pair<std::string, std::string>> env;
  double job_start_unix = 0;  ///< times in reports are seconds since this instant
  double kill_grace_s = 5;    ///< SIGTERM -> SIGKILL delay for timeouts
  double stop_grace_s = 30;   ///< SIGTERM -> SIGKILL delay for the attempt running at Shutdown (--grace)
  KernelConfig kernels;       ///< for in-process kernels (FASTGPU_SLOWDOWN, ...)
  /// Stop signals this process has seen (may be empty). A worker does not act on them itself
  /// (rank 0 sends Shutdown), but if no Shutdown comes within stop_grace_s + orphan_wait_s of the
  /// first one, rank 0 is taken to be gone: the attempt is stopped and run_worker returns false.
  std::function<int()> stop_requests;
  double orphan_wait_s = 10;
  /// Seconds between device samples sent to rank 0 for /telemetry (--telemetry-interval); 0 = none.
  double telemetry_interval_s = 0;
  /// The device compute kernels run on; when null, made with `make_device` (the CPU when that is
  /// empty too) the first time a kernel, a reduction or a shared input needs it.
  std::shared_ptr<fastgpu::Device> device;
  std::function<std::shared_ptr<fastgpu::Device>()> make_device;
  /// The job's [[reduce]] declarations, and the communicator over every worker that combines
  /// them at Shutdown (required when there are reductions).
  std::vector<ReductionSpec> reductions;
  std::shared_ptr<comm::Collectives> collectives;
  /// Called first thing on the worker's own thread (pins it near its GPU: device/topology.hpp).
  std::function<void()> on_start;
  /// The job's shared inputs ([[input]]): at start the first worker reads each with `read_input`
  /// and broadcasts it over `collectives` into every worker's device memory.
  std::vector<InputSpec> inputs;
  std::function<std::vector<double>(const InputSpec&)> read_input;
  /// Results of attempts over as soon as they start (noop kernels) are held back and sent in
  /// batches of up to 16, each held at most this long, seconds.
  double report_hold_s = 0.0005;
};

/// Runs until the scheduler sends Shutdown; returns true after sending WorkerBye, false when it
/// gave up waiting for a Shutdown after a stop signal (see WorkerConfig::stop_requests).
bool run_worker(comm::Transport& transport, const WorkerConfig& config);

/// Seconds since `job_start_unix` by the system clock (comparable across the ranks of a job).
double seconds_since(double job_start_unix);

}  // namespace fastgpu::worker
