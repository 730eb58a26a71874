#include "worker/kernel_attempt.hpp"

#include <chrono>
#include <cstdio>
#include <thread>

#include "job/kernel_catalog.hpp"
#include "kernels/builtin_kernels.hpp"

namespace fastgpu::worker {
namespace {

using Clock = std::chrono::steady_clock;

// How often a kernel asking stop_requested() in a tight loop makes the worker read its messages.
constexpr std::chrono::milliseconds kMessageCheckInterval(5);

/// The communicator of a one-GPU subtask: just itself.
class SoloCommunicator final : public fastgpu::Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  void all_reduce(double*, std::size_t, fastgpu::ReduceOp) override {}
  void broadcast(void*, std::size_t, int) override {}
  void send(const void*, std::size_t, int) override { throw CommError("send: a one-GPU subtask has no peer"); }
  void recv(void*, std::size_t, int) override { throw CommError("recv: a one-GPU subtask has no peer"); }
  void barrier() override {}
};

class WorkerContext final : public fastgpu::Context {
 public:
  WorkerContext(const KernelServices& services, const LaunchSpec& launch, std::int64_t task, int attempt,
                double timeout_s, CommandResult& result)
      : services_(services),
        args_(launch.args),
        task_(task),
        attempt_(attempt),
        result_(result),
        reductions_(*services.device, services.reductions ? services.reductions->specs() : no_reductions_),
        started_(Clock::now()),
        timeout_(timeout_s > 0 ? std::optional(started_ + std::chrono::duration_cast<Clock::duration>(
                                                              std::chrono::duration<double>(timeout_s)))
                               : std::nullopt) {}

  fastgpu::Device& device() override { return *services_.device; }
  const KernelArgs& args() const override { return args_; }
  std::int64_t task_id() const override { return task_; }
  int attempt() const override { return attempt_; }
  void metric(std::string_view name, double value) override { result_.metrics.push_back({std::string(name), value}); }
  void output(std::string_view name, std::span<const double> values) override {
    for (OutputArray& array : result_.arrays) {
      if (array.name == name) {  // the latest wins: one array per name and attempt
        array.values.assign(values.begin(), values.end());
        return;
      }
    }
    result_.arrays.push_back({std::string(name), std::vector<double>(values.begin(), values.end())});
  }
  ReductionSlot& reduction(std::string_view name) override { return reductions_.slot(name); }
  void reduce(std::string_view name, std::span<const double> values, double weight) override {
    reductions_.add(name, values, weight);
  }
  std::span<const double> input(std::string_view name) override {
    if (services_.inputs != nullptr) {
      if (auto it = services_.inputs->find(name); it != services_.inputs->end()) {
        return {it->second.data(), it->second.size()};
      }
    }
    std::string declared;
    if (services_.inputs != nullptr) {
      for (const auto& [known, buffer] : *services_.inputs) declared += (declared.empty() ? "" : ", ") + known;
    }
    throw KernelError("no shared input '" + std::string(name) + "' (" +
                      (declared.empty() ? std::string("the job file declares no [[input]]") : "declared: " + declared) +
                      ")");
  }
  fastgpu::Communicator& communicator() override {
    return services_.communicator != nullptr ? *services_.communicator : solo_;
  }

  bool stop_requested() const override {
    if (stop_) return true;
    slow_down();
    const auto now = Clock::now();
    if (timeout_ && now >= *timeout_) {
      timed_out_ = stop_ = true;
    } else if (now - last_check_ >= kMessageCheckInterval) {
      last_check_ = now;
      stop_ = services_.stop_requested && services_.stop_requested();
    }
    return stop_;
  }

  bool stopped() const { return stop_; }
  bool timed_out() const { return timed_out_; }
  const AttemptReductions& reductions() const { return reductions_; }
  double elapsed_s() const { return std::chrono::duration<double>(Clock::now() - started_).count(); }

 private:
  void slow_down() const {
    if (services_.slowdown <= 1) return;
    const auto now = Clock::now();
    std::this_thread::sleep_for((now - last_safe_point_) * (services_.slowdown - 1));
    last_safe_point_ = Clock::now();
  }

  inline static const std::vector<ReductionSpec> no_reductions_{};
  const KernelServices& services_;
  KernelArgs args_;
  std::int64_t task_;
  int attempt_;
  CommandResult& result_;
  AttemptReductions reductions_;
  SoloCommunicator solo_;
  Clock::time_point started_;
  std::optional<Clock::time_point> timeout_;
  mutable Clock::time_point last_check_ = Clock::now();
  mutable Clock::time_point last_safe_point_ = Clock::now();
  mutable bool stop_ = false;
  mutable bool timed_out_ = false;
};

class KernelAttempt final : public RunningAttempt {
 public:
  KernelAttempt(std::unique_ptr<fastgpu::Kernel> kernel, LaunchSpec launch, std::int64_t task, int attempt,
                double timeout_s, KernelServices services, std::string restore)
      : kernel_(std::move(kernel)),
        launch_(std::move(launch)),
        task_(task),
        attempt_(attempt),
        timeout_s_(timeout_s),
        services_(std::move(services)),
        restore_(std::move(restore)) {}

  bool poll(std::chrono::milliseconds) override {
    if (!finished_) run();
    return true;
  }
  void terminate() override {
    if (finished_) return;
    result_.status = AttemptStatus::cancelled;
    result_.error = "cancelled before it started";
    finished_ = true;
  }
  bool finished() const override { return finished_; }
  const CommandResult& result() const override { return result_; }

 private:
  void run() {
    WorkerContext context(services_, launch_, task_, attempt_, timeout_s_, result_);
    try {
      if (!restore_.empty()) {
        if (!kernel_->checkpointable()) throw KernelError("has a checkpoint to continue from but cannot restore one");
        kernel_->restore(context, std::as_bytes(std::span(restore_.data(), restore_.size())));
      }
      kernel_->run(context);
      if (context.timed_out()) {
        result_.status = AttemptStatus::timed_out;
        result_.error = "timed out after " + seconds_text(timeout_s_);
      } else if (context.stopped()) {
        result_.status = AttemptStatus::cancelled;
        result_.error = "stopped by the scheduler";
        if (kernel_->checkpointable()) {
          const std::vector<std::byte> state = kernel_->checkpoint(context);
          result_.checkpoint.assign(reinterpret_cast<const char*>(state.data()), state.size());
          result_.error += "; checkpointed (" + std::to_string(state.size()) + " bytes) to continue from";
        }
      } else {
        context.device().synchronize();
        result_.status = AttemptStatus::done;
        result_.exit_code = 0;
        if (services_.reductions) services_.reductions->add(context.reductions());
      }
    } catch (const std::exception& e) {
      result_.status = AttemptStatus::failed;
      result_.error = "kernel '" + launch_.kernel + "': " + e.what();
      result_.device_lost = dynamic_cast<const DeviceLostError*>(&e) != nullptr || device_lost(context.device());
      if (result_.device_lost) result_.error += "; the device is unusable, so this worker retires";
    }
    result_.duration_s = context.elapsed_s();
    finished_ = true;
  }

  // Another error (cuBLAS, a plugin's own) may hide a context CUDA has poisoned: the next call
  // on the device says so.
  static bool device_lost(fastgpu::Device& device) {
    try {
      device.synchronize();
      return false;
    } catch (const DeviceLostError&) {
      return true;
    } catch (const std::exception&) {
      return false;
    }
  }

  static std::string seconds_text(double seconds) {
    char text[32];
    std::snprintf(text, sizeof text, "%g s", seconds);
    return text;
  }

  std::unique_ptr<fastgpu::Kernel> kernel_;
  LaunchSpec launch_;
  std::int64_t task_;
  int attempt_;
  double timeout_s_;
  KernelServices services_;
  std::string restore_;
  CommandResult result_;
  bool finished_ = false;
};

}  // namespace

std::unique_ptr<fastgpu::Kernel> make_compute_kernel(const std::string& name) {
  if (name.empty()) return nullptr;
  if (const fastgpu::KernelSpec* spec = job::find_kernel(name); spec != nullptr && spec->make) return spec->make();
  return kernels::make_builtin_kernel(name);
}

std::unique_ptr<RunningAttempt> start_kernel_attempt(std::unique_ptr<fastgpu::Kernel> kernel, const LaunchSpec& launch,
                                                     std::int64_t task, int attempt, const CommandOptions& options,
                                                     const KernelServices& services, std::string restore) {
  return std::make_unique<KernelAttempt>(std::move(kernel), launch, task, attempt, options.timeout_s, services,
                                         std::move(restore));
}

}  // namespace fastgpu::worker
