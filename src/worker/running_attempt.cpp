#include "worker/running_attempt.hpp"

#include "worker/synthetic_kernels.hpp"

namespace fastgpu::worker {

namespace {

/// A command (a process) seen as a RunningAttempt.
class CommandAttempt final : public RunningAttempt {
 public:
  explicit CommandAttempt(RunningCommand command) : command_(std::move(command)) {}
  bool poll(std::chrono::milliseconds wait) override { return command_.poll(wait); }
  void terminate() override { command_.terminate(); }
  void terminate_within(double grace_s) override { command_.terminate(grace_s); }
  bool finished() const override { return command_.finished(); }
  const CommandResult& result() const override { return command_.result(); }

 private:
  RunningCommand command_;
};

}  // namespace

std::unique_ptr<RunningAttempt> start_attempt(const LaunchSpec& launch, const CommandOptions& options,
                                              const KernelConfig& kernels) {
  if (launch.kernel.empty()) return std::make_unique<CommandAttempt>(RunningCommand::start(launch, options));
  if (auto attempt = start_synthetic_kernel(launch, options, kernels)) return attempt;
  // A name the job parser accepted but this worker cannot run (a different fastgpu build?).
  CommandResult result;
  result.status = AttemptStatus::spawn_failed;
  result.exit_code = -1;
  result.error = "kernel '" + launch.kernel + "' is not available in this worker";
  return finished_attempt(std::move(result));
}

}  // namespace fastgpu::worker
