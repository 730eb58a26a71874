// Runs one command subtask: posix_spawn from an argv array (never a shell), in its own process
// group, with stdout/stderr captured into bounded tails and FASTGPU_METRIC lines parsed.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "fastgpu/job_spec.hpp"
#include "fastgpu/results.hpp"

namespace fastgpu::worker {

struct CommandOptions {
  std::size_t tail_bytes = 8192;  ///< last bytes of stdout and of stderr kept
  double timeout_s = 0;           ///< 0 = no limit; on expiry: SIGTERM to the group, SIGKILL after kill_grace_s
  double kill_grace_s = 5;
  /// Set in the child's environment after the worker's own environment and before LaunchSpec::env
  /// (CUDA_VISIBLE_DEVICES, FASTGPU_TASK_ID, ...).
  std::vector<std::pair<std::string, std::string>> extra_env;
};

struct CommandResult {
  AttemptStatus status = AttemptStatus::running;  ///< done, failed, timed_out, cancelled (terminate()) or spawn_failed
  int exit_code = -1;  ///< exit status; 128+N when killed by signal N; -1 when it never started
  int signal = 0;      ///< the signal that killed it, 0 if none
  std::string error;   ///< empty when done; else a short reason ("exit code 3", "killed by signal 9 (SIGKILL)", ...)
  std::string stdout_tail;
  std::string stderr_tail;
  std::vector<Metric> metrics;  ///< from stdout lines "FASTGPU_METRIC name=value", in order
  std::vector<OutputArray> arrays;  ///< a kernel's Context::output arrays (none for a command)
  std::string checkpoint;           ///< a checkpointable kernel's state when it stopped early
  double duration_s = 0;
  /// A kernel attempt that failed with its device unusable (DeviceLostError): the worker retires.
  bool device_lost = false;
};

/**
 * One running command. Non-blocking by design: the worker loop calls poll() with a short wait,
 * so it can answer the scheduler between polls. Move-only; the destructor kills and reaps a
 * command still running.
 */
class RunningCommand {
 public:
  /// Starts the command. argv[0] without a '/' is looked up in the worker's PATH; with one it is
  /// used as is, relative to LaunchSpec::cwd when that is set. A spawn failure does not throw: the
  /// command is then finished at once with status spawn_failed and exit code 127 (not found) or
  /// 126 (other), and an error text.
  static RunningCommand start(const LaunchSpec& launch, const CommandOptions& options);

  RunningCommand(RunningCommand&&) noexcept;
  RunningCommand& operator=(RunningCommand&&) noexcept;
  RunningCommand(const RunningCommand&) = delete;
  RunningCommand& operator=(const RunningCommand&) = delete;
  ~RunningCommand();

  /// Waits up to `wait` for output or exit, reads output, enforces the timeout. True when finished.
  bool poll(std::chrono::milliseconds wait);
  /// Asks the process group to stop: SIGTERM now, SIGKILL after kill_grace_s (enforced by poll()).
  void terminate();
  /// terminate() with SIGKILL after `grace_s` instead of kill_grace_s.
  void terminate(double grace_s);
  bool finished() const;
  /// The outcome; valid once finished() is true.
  const CommandResult& result() const;
  /// Process id (and process group id); -1 when the spawn failed.
  int pid() const;

 private:
  struct State;
  explicit RunningCommand(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

/// Starts the command and waits for it to finish.
CommandResult run_command(const LaunchSpec& launch, const CommandOptions& options);

}  // namespace fastgpu::worker
