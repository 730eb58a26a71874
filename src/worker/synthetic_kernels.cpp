#include "worker/synthetic_kernels.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <cmath>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>

#include "fastgpu/error.hpp"
#include "job/kernel_catalog.hpp"

namespace fastgpu::worker {

namespace {

using Clock = std::chrono::steady_clock;

/// Longer than any job runs, short enough to add to a steady_clock time without overflow.
constexpr double kForeverSeconds = 1e9;
constexpr long long kMaxSliceMs = 1'000'000'000'000;

Clock::duration to_duration(double seconds) {
  seconds = std::clamp(seconds, 0.0, kForeverSeconds);
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
}

/// "0.3", "600", "1.25": as RunningCommand writes its timeout errors.
std::string format_seconds(double seconds) {
  std::array<char, 64> buf{};
  auto result = std::to_chars(buf.data(), buf.data() + buf.size(), seconds, std::chars_format::fixed);
  if (result.ec != std::errc()) result = std::to_chars(buf.data(), buf.data() + buf.size(), seconds);
  return std::string(buf.data(), result.ptr);
}

class FinishedAttempt final : public RunningAttempt {
 public:
  explicit FinishedAttempt(CommandResult result) : result_(std::move(result)) {}
  bool poll(std::chrono::milliseconds) override { return true; }
  void terminate() override {}
  bool finished() const override { return true; }
  const CommandResult& result() const override { return result_; }

 private:
  CommandResult result_;
};

CommandResult failure(AttemptStatus status, std::string error) {
  CommandResult result;
  result.status = status;
  result.exit_code = -1;
  result.error = std::move(error);
  return result;
}

/// sleep and spin (and noop, which is over before the first poll): runs until `length` has passed
/// since the start, the timeout passes, or terminate() is called, whichever comes first.
class TimedKernel final : public RunningAttempt {
 public:
  enum class Mode { sleep, spin };

  TimedKernel(Mode mode, double length_s, double timeout_s) : mode_(mode), started_(Clock::now()) {
    end_ = started_ + to_duration(length_s);
    if (timeout_s > 0) {
      timeout_s_ = timeout_s;
      timeout_at_ = started_ + to_duration(timeout_s);
    }
    settle(started_);
  }

  bool poll(std::chrono::milliseconds wait) override {
    if (finished_) return true;
    const Clock::time_point now = Clock::now();
    if (settle(now)) return true;
    const auto slice = std::clamp(wait, std::chrono::milliseconds(0), std::chrono::milliseconds(kMaxSliceMs));
    const Clock::time_point until = std::min({now + slice, end_, timeout_at_});
    if (mode_ == Mode::spin) {
      spin_until(until);
    } else {
      std::unique_lock lock(mutex_);
      wakeup_.wait_until(lock, until, [&] { return terminated_at_.has_value(); });
    }
    return settle(Clock::now());
  }

  void terminate() override {
    {
      const std::lock_guard lock(mutex_);
      if (!terminated_at_) terminated_at_ = Clock::now();
    }
    terminate_requested_.store(true, std::memory_order_relaxed);
    wakeup_.notify_all();
  }

  bool finished() const override { return finished_; }
  const CommandResult& result() const override { return result_; }

 private:
  void spin_until(Clock::time_point until) {
    // Real work the compiler cannot drop, between clock reads: the core stays busy throughout.
    double x = 1.0;
    while (Clock::now() < until && !terminate_requested_.load(std::memory_order_relaxed)) {
      for (int i = 0; i < 256; ++i) x = x * 1.0000001 + 1e-9;
    }
    sink_ = x;
  }

  /// Ends the attempt when its first stopping event (end, timeout, terminate) is at or before `now`.
  bool settle(Clock::time_point now) {
    if (finished_) return true;
    std::optional<Clock::time_point> terminated;
    {
      const std::lock_guard lock(mutex_);
      terminated = terminated_at_;
    }
    const Clock::time_point first = std::min({end_, timeout_at_, terminated.value_or(Clock::time_point::max())});
    if (now < first) return false;
    result_.duration_s = std::chrono::duration<double>(now - started_).count();
    if (first == end_) {
      result_.status = AttemptStatus::done;
      result_.exit_code = 0;
    } else if (first == timeout_at_) {
      result_.status = AttemptStatus::timed_out;
      result_.error = "timed out after " + format_seconds(timeout_s_) + " s";
    } else {
      result_.status = AttemptStatus::cancelled;
      result_.error = "terminated by the worker";
    }
    result_.metrics.push_back({"seconds", result_.duration_s});
    finished_ = true;
    return true;
  }

  Mode mode_;
  Clock::time_point started_;
  Clock::time_point end_;
  Clock::time_point timeout_at_ = Clock::time_point::max();
  double timeout_s_ = 0;

  std::mutex mutex_;
  std::condition_variable wakeup_;
  std::optional<Clock::time_point> terminated_at_;  // guarded by mutex_
  std::atomic<bool> terminate_requested_{false};
  std::atomic<bool> finished_{false};
  CommandResult result_;
  volatile double sink_ = 0;
};

/// The launch's args checked against the kernel's declaration: nullopt when fine, else the error.
std::optional<std::string> args_problem(const job::KernelSpec& kernel, const LaunchSpec& launch) {
  for (const auto& [name, value] : launch.args) {
    const job::KernelArgSpec* arg = kernel.find_arg(name);
    if (arg == nullptr) return "kernel '" + kernel.name + "' has no arg '" + name + "'";
    if (const std::optional<std::string> want = job::kernel_arg_problem(*arg, value)) {
      return "kernel '" + kernel.name + "' arg '" + name + "' is '" + value + "', which is not " + *want + " (" +
             arg->help + ")";
    }
  }
  for (const job::KernelArgSpec& arg : kernel.args) {
    const bool given = std::any_of(launch.args.begin(), launch.args.end(),
                                   [&](const auto& entry) { return entry.first == arg.name; });
    if (arg.required && !given) return "kernel '" + kernel.name + "' needs arg '" + arg.name + "' (" + arg.help + ")";
  }
  return std::nullopt;
}

std::string arg_value(const LaunchSpec& launch, std::string_view name) {
  for (const auto& [key, value] : launch.args) {
    if (key == name) return value;
  }
  return {};
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

[[noreturn]] void bad_slowdown(std::string_view text, const std::string& problem) {
  throw UsageError("FASTGPU_SLOWDOWN=\"" + std::string(text) + "\": " + problem +
                   " (the format is RANK=FACTOR,...: e.g. FASTGPU_SLOWDOWN=\"1=3,4=0.5\" makes the synthetic kernels "
                   "3 times slower on rank 1 and twice as fast on rank 4)");
}

}  // namespace

std::unique_ptr<RunningAttempt> finished_attempt(CommandResult result) {
  return std::make_unique<FinishedAttempt>(std::move(result));
}

std::unique_ptr<RunningAttempt> start_synthetic_kernel(const LaunchSpec& launch, const CommandOptions& options,
                                                       const KernelConfig& kernels) {
  const bool synthetic = launch.kernel == "noop" || launch.kernel == "sleep" || launch.kernel == "spin";
  const job::KernelSpec* kernel = job::find_kernel(launch.kernel);
  if (!synthetic || kernel == nullptr) return nullptr;
  if (const std::optional<std::string> problem = args_problem(*kernel, launch)) {
    return finished_attempt(failure(AttemptStatus::failed, *problem));
  }
  const double slowdown = std::isfinite(kernels.slowdown) && kernels.slowdown > 0 ? kernels.slowdown : 1.0;
  if (launch.kernel == "noop") return std::make_unique<TimedKernel>(TimedKernel::Mode::sleep, 0, options.timeout_s);
  const double length_s = job::kernel_arg_number(arg_value(launch, "seconds")) * slowdown;
  const auto mode = launch.kernel == "spin" ? TimedKernel::Mode::spin : TimedKernel::Mode::sleep;
  return std::make_unique<TimedKernel>(mode, length_s, options.timeout_s);
}

std::map<int, double> parse_slowdown(std::string_view text) {
  std::map<int, double> factors;
  if (trim(text).empty()) return factors;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = text.find(',', start);
    const std::string_view item =
        trim(text.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
    if (item.empty()) bad_slowdown(text, "an entry is empty");
    const std::size_t equals = item.find('=');
    if (equals == std::string_view::npos) bad_slowdown(text, "'" + std::string(item) + "' is not RANK=FACTOR");
    const std::string_view rank_text = trim(item.substr(0, equals));
    const std::string_view factor_text = trim(item.substr(equals + 1));

    int rank = -1;
    const auto rank_read = std::from_chars(rank_text.data(), rank_text.data() + rank_text.size(), rank);
    if (rank_text.empty() || rank_read.ec != std::errc() || rank_read.ptr != rank_text.data() + rank_text.size() ||
        rank < 0) {
      bad_slowdown(text, "rank '" + std::string(rank_text) + "' in '" + std::string(item) +
                             "' is not an MPI rank (an integer >= 0)");
    }
    double factor = 0;
    const auto factor_read = std::from_chars(factor_text.data(), factor_text.data() + factor_text.size(), factor);
    if (factor_text.empty() || factor_read.ec != std::errc() ||
        factor_read.ptr != factor_text.data() + factor_text.size() || !std::isfinite(factor) || factor <= 0) {
      bad_slowdown(text, "factor '" + std::string(factor_text) + "' for rank " + std::to_string(rank) +
                             " is not a number > 0");
    }
    if (!factors.emplace(rank, factor).second) {
      bad_slowdown(text, "rank " + std::to_string(rank) + " is listed twice");
    }
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return factors;
}

double slowdown_for_rank(const char* env_value, int rank) {
  if (env_value == nullptr) return 1.0;
  const std::map<int, double> factors = parse_slowdown(env_value);
  const auto it = factors.find(rank);
  return it == factors.end() ? 1.0 : it->second;
}

}  // namespace fastgpu::worker
