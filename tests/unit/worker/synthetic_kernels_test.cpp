// The synthetic kernels (noop, sleep, spin) run in-process through start_attempt(), and
// FASTGPU_SLOWDOWN. Durations are short and only lower bounds are tight: a loaded machine makes
// things slower, never faster.
#include "worker/synthetic_kernels.hpp"

#include <gtest/gtest.h>

#include <time.h>

#include <chrono>
#include <thread>

#include "fastgpu/error.hpp"
#include "device/device_factory.hpp"
#include "job/kernel_catalog.hpp"
#include "worker/kernel_attempt.hpp"

namespace fastgpu::worker {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

LaunchSpec kernel(std::string name, std::vector<std::pair<std::string, std::string>> args = {}) {
  LaunchSpec launch;
  launch.kernel = std::move(name);
  launch.args = std::move(args);
  return launch;
}

LaunchSpec timed(const std::string& name, const std::string& seconds) { return kernel(name, {{"seconds", seconds}}); }

double since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

/// CPU time this thread has used, in seconds.
double thread_cpu_seconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

/// Polls as a worker does (short waits) until finished.
CommandResult run(const LaunchSpec& launch, CommandOptions options = {}, double slowdown = 1.0) {
  const auto attempt = start_attempt(launch, options, KernelConfig{slowdown});
  while (!attempt->poll(20ms)) {
  }
  EXPECT_TRUE(attempt->finished());
  return attempt->result();
}

double metric(const CommandResult& result, const std::string& name) {
  for (const Metric& m : result.metrics) {
    if (m.name == name) return m.value;
  }
  ADD_FAILURE() << "no metric '" << name << "'";
  return -1;
}

TEST(SyntheticKernels, NoopIsDoneAtOnce) {
  const auto attempt = start_attempt(kernel("noop"), {}, {});
  EXPECT_TRUE(attempt->finished());
  EXPECT_TRUE(attempt->poll(0ms));
  const CommandResult& result = attempt->result();
  EXPECT_EQ(result.status, AttemptStatus::done);
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(result.error, "");
  EXPECT_LT(result.duration_s, 1.0);
  EXPECT_EQ(metric(result, "seconds"), result.duration_s);
}

TEST(SyntheticKernels, SleepWaitsWithoutUsingTheCpu) {
  const auto start = Clock::now();
  const double cpu_before = thread_cpu_seconds();
  const CommandResult result = run(timed("sleep", "0.1"));
  const double cpu = thread_cpu_seconds() - cpu_before;
  EXPECT_EQ(result.status, AttemptStatus::done);
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(result.error, "");
  EXPECT_GE(result.duration_s, 0.1);
  EXPECT_GE(since(start), 0.1);
  EXPECT_EQ(metric(result, "seconds"), result.duration_s);
  EXPECT_LT(cpu, 0.5 * result.duration_s) << "sleep used " << cpu << " s of CPU in " << result.duration_s << " s";
}

TEST(SyntheticKernels, SpinKeepsTheThreadBusy) {
  double cpu_before = thread_cpu_seconds();
  const CommandResult result = run(timed("spin", "0.1"));
  const double cpu = thread_cpu_seconds() - cpu_before;
  EXPECT_EQ(result.status, AttemptStatus::done);
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_GE(result.duration_s, 0.1);
  EXPECT_EQ(metric(result, "seconds"), result.duration_s);

  // Busy, not waiting. On an idle core that is all of the 0.1 s; a crowded machine gives it only a
  // share, so compare with what sleeping for as long costs (next to nothing), not with the clock.
  cpu_before = thread_cpu_seconds();
  run(timed("sleep", "0.1"));
  const double sleep_cpu = thread_cpu_seconds() - cpu_before;
  EXPECT_GT(cpu, 0.001) << "spin used " << cpu << " s of CPU in " << result.duration_s << " s";
  EXPECT_GT(cpu, 5 * sleep_cpu) << "spin used " << cpu << " s of CPU, sleep " << sleep_cpu << " s";
}

TEST(SyntheticKernels, ZeroSecondsIsDoneAtTheFirstPoll) {
  for (const char* name : {"sleep", "spin"}) {
    const auto attempt = start_attempt(timed(name, "0"), {}, {});
    EXPECT_TRUE(attempt->poll(0ms)) << name;
    EXPECT_EQ(attempt->result().status, AttemptStatus::done) << name;
  }
}

TEST(SyntheticKernels, SlowdownMultipliesTheTime) {
  const CommandResult slept = run(timed("sleep", "0.05"), {}, 3.0);
  EXPECT_EQ(slept.status, AttemptStatus::done);
  EXPECT_GE(slept.duration_s, 0.15);
  const CommandResult spun = run(timed("spin", "0.02"), {}, 4.0);
  EXPECT_EQ(spun.status, AttemptStatus::done);
  EXPECT_GE(spun.duration_s, 0.08);
  // A factor below 1 speeds them up; noop stays instant.
  EXPECT_EQ(run(timed("sleep", "0.02"), {}, 0.5).status, AttemptStatus::done);
  EXPECT_EQ(run(kernel("noop"), {}, 100.0).status, AttemptStatus::done);
}

TEST(SyntheticKernels, TimeoutStopsThem) {
  for (const char* name : {"sleep", "spin"}) {
    CommandOptions options;
    options.timeout_s = 0.05;
    const auto start = Clock::now();
    const CommandResult result = run(timed(name, "30"), options);
    EXPECT_EQ(result.status, AttemptStatus::timed_out) << name;
    EXPECT_EQ(result.error, "timed out after 0.05 s") << name;
    EXPECT_NE(result.exit_code, 0) << name;
    EXPECT_GE(result.duration_s, 0.05) << name;
    EXPECT_LT(since(start), 20.0) << name;  // not the 30 s it asked for
  }
}

TEST(SyntheticKernels, TimeoutCountsTheSlowedDownTime) {
  CommandOptions options;
  options.timeout_s = 0.05;
  EXPECT_EQ(run(timed("sleep", "0.02"), options, 1.0).status, AttemptStatus::done);
  EXPECT_EQ(run(timed("sleep", "0.02"), options, 100.0).status, AttemptStatus::timed_out);
}

TEST(SyntheticKernels, TerminateCancels) {
  for (const char* name : {"sleep", "spin"}) {
    const auto start = Clock::now();
    const auto attempt = start_attempt(timed(name, "30"), {}, {});
    EXPECT_FALSE(attempt->poll(10ms)) << name;
    attempt->terminate();
    EXPECT_TRUE(attempt->poll(5000ms)) << name;  // at once: nothing left to wait for
    EXPECT_LT(since(start), 4.0) << name;
    EXPECT_EQ(attempt->result().status, AttemptStatus::cancelled) << name;
    EXPECT_EQ(attempt->result().error, "terminated by the worker") << name;
    EXPECT_NE(attempt->result().exit_code, 0) << name;
  }
}

TEST(SyntheticKernels, TerminateFromAnotherThreadWakesAPoll) {
  for (const char* name : {"sleep", "spin"}) {
    const auto attempt = start_attempt(timed(name, "30"), {}, {});
    const auto start = Clock::now();
    std::thread stopper([&] {
      std::this_thread::sleep_for(50ms);
      attempt->terminate();
    });
    bool finished = attempt->poll(10'000ms);
    stopper.join();
    EXPECT_TRUE(finished) << name;
    EXPECT_LT(since(start), 8.0) << name;  // far less than the 10 s poll
    EXPECT_EQ(attempt->result().status, AttemptStatus::cancelled) << name;
  }
}

TEST(SyntheticKernels, TerminateAfterTheEndKeepsDone) {
  const auto attempt = start_attempt(timed("sleep", "0.01"), {}, {});
  std::this_thread::sleep_for(30ms);
  attempt->terminate();  // it was over before this, even if no poll saw it yet
  EXPECT_TRUE(attempt->poll(0ms));
  EXPECT_EQ(attempt->result().status, AttemptStatus::done);

  const auto noop = start_attempt(kernel("noop"), {}, {});
  noop->terminate();
  EXPECT_EQ(noop->result().status, AttemptStatus::done);
}

TEST(SyntheticKernels, PollReturnsWithinItsWait) {
  for (const char* name : {"sleep", "spin"}) {
    const auto attempt = start_attempt(timed(name, "30"), {}, {});
    auto start = Clock::now();
    EXPECT_FALSE(attempt->poll(30ms)) << name;
    const double waited = since(start);
    EXPECT_GE(waited, 0.03) << name;  // it did wait (the worker relies on poll to pace itself)
    EXPECT_LT(waited, 2.0) << name;   // and came back to the worker loop
    start = Clock::now();
    EXPECT_FALSE(attempt->poll(0ms)) << name;
    EXPECT_LT(since(start), 1.0) << name;
    EXPECT_FALSE(attempt->finished()) << name;
    attempt->terminate();
    EXPECT_TRUE(attempt->poll(0ms));
  }
}

TEST(SyntheticKernels, BadArgsFailWithAClearError) {
  const auto failed = [](const LaunchSpec& launch) {
    const auto attempt = start_attempt(launch, {}, {});
    EXPECT_TRUE(attempt->finished());
    EXPECT_TRUE(attempt->poll(0ms));
    EXPECT_EQ(attempt->result().status, AttemptStatus::failed);
    EXPECT_NE(attempt->result().exit_code, 0);
    return attempt->result().error;
  };
  EXPECT_EQ(failed(timed("sleep", "abc")),
            "kernel 'sleep' arg 'seconds' is 'abc', which is not a number >= 0 (how long it waits, in seconds)");
  EXPECT_EQ(failed(timed("spin", "-1")),
            "kernel 'spin' arg 'seconds' is '-1', which is not a number >= 0 (how long it keeps the core busy, in "
            "seconds)");
  EXPECT_EQ(failed(timed("sleep", "nan")),
            "kernel 'sleep' arg 'seconds' is 'nan', which is not a number >= 0 (how long it waits, in seconds)");
  EXPECT_EQ(failed(kernel("sleep")), "kernel 'sleep' needs arg 'seconds' (how long it waits, in seconds)");
  EXPECT_EQ(failed(kernel("noop", {{"seconds", "1"}})), "kernel 'noop' has no arg 'seconds'");
  EXPECT_EQ(failed(kernel("spin", {{"seconds", "1"}, {"threads", "2"}})), "kernel 'spin' has no arg 'threads'");
}

TEST(SyntheticKernels, HugeValuesDoNotOverflow) {
  CommandOptions options;
  options.timeout_s = 1e300;
  const auto attempt = start_attempt(timed("sleep", "1e300"), options, KernelConfig{1e10});
  EXPECT_FALSE(attempt->poll(1ms));
  attempt->terminate();
  EXPECT_TRUE(attempt->poll(0ms));
  EXPECT_EQ(attempt->result().status, AttemptStatus::cancelled);
}

TEST(StartAttempt, UnknownKernelCannotStart) {
  const auto attempt = start_attempt(kernel("warp_drive"), {}, {});
  EXPECT_TRUE(attempt->finished());
  EXPECT_EQ(attempt->result().status, AttemptStatus::spawn_failed);
  EXPECT_EQ(attempt->result().error, "kernel 'warp_drive' is not available in this worker");
}

TEST(StartAttempt, EveryRegisteredKernelRuns) {
  // A kernel the job parser accepts must be one a worker can start: a compute kernel (on the CPU
  // device here) or a synthetic one, as the worker loop chooses.
  const auto device = device::make_cpu_device();
  KernelServices services;
  services.device = device.get();
  for (const job::KernelSpec& spec : job::known_kernels()) {
    LaunchSpec launch = kernel(spec.name);
    for (const job::KernelArgSpec& arg : spec.args) {
      if (!arg.example.empty()) launch.args.emplace_back(arg.name, arg.example);
    }
    CommandOptions options;
    options.timeout_s = 0.01;
    CommandResult result;
    if (auto compute = make_compute_kernel(spec.name)) {
      options.timeout_s = 60;  // the examples are small: they finish
      auto attempt = start_kernel_attempt(std::move(compute), launch, 0, 0, options, services);
      while (!attempt->poll(std::chrono::milliseconds(10))) {
      }
      result = attempt->result();
    } else {
      result = run(launch, options);
    }
    EXPECT_TRUE(result.status == AttemptStatus::done || result.status == AttemptStatus::timed_out)
        << spec.name << ": " << to_string(result.status) << " " << result.error;
  }
}

TEST(StartAttempt, CommandsRunAsProcesses) {
  LaunchSpec launch;
  launch.argv = {"sh", "-c", "echo hi; exit 3"};
  const CommandResult result = run(launch);
  EXPECT_EQ(result.status, AttemptStatus::failed);
  EXPECT_EQ(result.exit_code, 3);
  EXPECT_EQ(result.stdout_tail, "hi\n");

  launch.argv = {"sleep", "30"};
  const auto attempt = start_attempt(launch, {}, {});
  EXPECT_FALSE(attempt->poll(10ms));
  EXPECT_FALSE(attempt->finished());
  attempt->terminate();
  while (!attempt->poll(20ms)) {
  }
  EXPECT_EQ(attempt->result().status, AttemptStatus::cancelled);
}

TEST(Slowdown, ParsesRankFactorPairs) {
  EXPECT_EQ(slowdown_for_rank(nullptr, 1), 1.0);
  EXPECT_EQ(slowdown_for_rank("", 1), 1.0);
  EXPECT_EQ(slowdown_for_rank("  ", 1), 1.0);
  EXPECT_EQ(slowdown_for_rank("1=3", 1), 3.0);
  EXPECT_EQ(slowdown_for_rank("1=3", 2), 1.0);
  EXPECT_EQ(slowdown_for_rank("1=3,4=0.5", 4), 0.5);
  EXPECT_EQ(slowdown_for_rank(" 1 = 3 , 12=2.5 ", 12), 2.5);
  EXPECT_EQ(slowdown_for_rank("0=2", 0), 2.0);
  EXPECT_EQ(slowdown_for_rank("2=1e1", 2), 10.0);
  EXPECT_EQ(parse_slowdown("3=2,1=4"), (std::map<int, double>{{1, 4.0}, {3, 2.0}}));
}

std::string slowdown_error(const char* text) {
  try {
    slowdown_for_rank(text, 1);
  } catch (const UsageError& error) {
    return error.what();
  }
  return "no error";
}

TEST(Slowdown, MalformedValuesAreUsageErrors) {
  const std::string format =
      " (the format is RANK=FACTOR,...: e.g. FASTGPU_SLOWDOWN=\"1=3,4=0.5\" makes the synthetic kernels 3 times "
      "slower on rank 1 and twice as fast on rank 4)";
  // clang-format off
  EXPECT_EQ(slowdown_error("3"), "FASTGPU_SLOWDOWN=\"3\": '3' is not RANK=FACTOR" + format);
  EXPECT_EQ(slowdown_error("1:3"), "FASTGPU_SLOWDOWN=\"1:3\": '1:3' is not RANK=FACTOR" + format);
  EXPECT_EQ(slowdown_error("x=2"), "FASTGPU_SLOWDOWN=\"x=2\": rank 'x' in 'x=2' is not an MPI rank (an integer >= 0)" + format);
  EXPECT_EQ(slowdown_error("-1=2"), "FASTGPU_SLOWDOWN=\"-1=2\": rank '-1' in '-1=2' is not an MPI rank (an integer >= 0)" + format);
  EXPECT_EQ(slowdown_error("=2"), "FASTGPU_SLOWDOWN=\"=2\": rank '' in '=2' is not an MPI rank (an integer >= 0)" + format);
  EXPECT_EQ(slowdown_error("1=0"), "FASTGPU_SLOWDOWN=\"1=0\": factor '0' for rank 1 is not a number > 0" + format);
  EXPECT_EQ(slowdown_error("1=-2"), "FASTGPU_SLOWDOWN=\"1=-2\": factor '-2' for rank 1 is not a number > 0" + format);
  EXPECT_EQ(slowdown_error("1=fast"), "FASTGPU_SLOWDOWN=\"1=fast\": factor 'fast' for rank 1 is not a number > 0" + format);
  EXPECT_EQ(slowdown_error("1="), "FASTGPU_SLOWDOWN=\"1=\": factor '' for rank 1 is not a number > 0" + format);
  EXPECT_EQ(slowdown_error("1=inf"), "FASTGPU_SLOWDOWN=\"1=inf\": factor 'inf' for rank 1 is not a number > 0" + format);
  EXPECT_EQ(slowdown_error("1=nan"), "FASTGPU_SLOWDOWN=\"1=nan\": factor 'nan' for rank 1 is not a number > 0" + format);
  EXPECT_EQ(slowdown_error("1=3x"), "FASTGPU_SLOWDOWN=\"1=3x\": factor '3x' for rank 1 is not a number > 0" + format);
  EXPECT_EQ(slowdown_error("1=3,1=4"), "FASTGPU_SLOWDOWN=\"1=3,1=4\": rank 1 is listed twice" + format);
  EXPECT_EQ(slowdown_error("1=3,"), "FASTGPU_SLOWDOWN=\"1=3,\": an entry is empty" + format);
  EXPECT_EQ(slowdown_error("1=3,,2=2"), "FASTGPU_SLOWDOWN=\"1=3,,2=2\": an entry is empty" + format);
  // clang-format on
  // Malformed is an error whichever rank asks, so every rank fails alike at start-up.
  EXPECT_THROW(slowdown_for_rank("1=3,2=zero", 7), UsageError);
}

}  // namespace
}  // namespace fastgpu::worker
