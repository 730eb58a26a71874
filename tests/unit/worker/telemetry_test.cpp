// The telemetry samplers on this machine's real /proc, and NVML's loader where there is no driver
// (or no such GPU). Ranges only, no timings: the machine may be loaded.
#include "worker/telemetry.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <thread>

#include "worker/nvml.hpp"

namespace fastgpu::worker {
namespace {

using namespace std::chrono_literals;

constexpr double kGiB = 1024.0 * 1024 * 1024;

double monotonic_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

TEST(ProcStat, ReadsThisProcess) {
  const auto self = read_proc_stat(getpid());
  ASSERT_TRUE(self);
  EXPECT_EQ(self->pid, getpid());
  EXPECT_EQ(self->ppid, getppid());
  EXPECT_GE(self->cpu_s, 0);
  EXPECT_GT(self->rss_bytes, 1 << 20);  // a test binary with gtest loaded
  EXPECT_LT(self->rss_bytes, 64 * kGiB);
}

TEST(ProcStat, AGoneProcessIsNothing) {
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) _exit(0);
  ASSERT_EQ(waitpid(child, nullptr, 0), child);
  EXPECT_FALSE(read_proc_stat(child));
}

TEST(ProcessTreeSampler, FirstSampleHasOnlyMemoryThenCpuUseIsAShareOfCores) {
  ProcessTreeSampler sampler;
  TelemetrySample first;
  sampler.sample(first, monotonic_s());
  EXPECT_TRUE(std::isnan(first.cpu_util));  // a difference needs two readings
  EXPECT_GT(first.rss_bytes, 1 << 20);

  volatile double sink = 0;  // some CPU work between the readings
  const double until = monotonic_s() + 0.05;
  while (monotonic_s() < until) sink = sink + 1;
  TelemetrySample second;
  sampler.sample(second, monotonic_s());
  ASSERT_TRUE(std::isfinite(second.cpu_util));
  EXPECT_GE(second.cpu_util, 0);
  EXPECT_LE(second.cpu_util, 100.0 * static_cast<double>(std::thread::hardware_concurrency()) * 1.5);
  EXPECT_GT(second.rss_bytes, 1 << 20);
  EXPECT_LT(second.rss_bytes, 64 * kGiB);
  for (double field : {second.gpu_util, second.mem_used_bytes, second.power_w, second.temp_c, second.sm_clock_mhz}) {
    EXPECT_TRUE(std::isnan(field));  // the CPU sampler never fills GPU fields
  }
}

TEST(ProcessTreeSampler, CountsLiveChildren) {
  ProcessTreeSampler sampler;
  TelemetrySample alone;
  sampler.sample(alone, monotonic_s());
  const pid_t child = fork();  // a copy of this process: its RSS adds to the tree's
  ASSERT_GE(child, 0);
  if (child == 0) {
    pause();
    _exit(0);
  }
  TelemetrySample with_child;
  sampler.sample(with_child, monotonic_s());
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  EXPECT_GT(with_child.rss_bytes, alone.rss_bytes);
}

TEST(Nvml, AMissingLibraryIsUnavailableWithTheReason) {
  std::string why_not;
  EXPECT_EQ(NvmlDevice::open("0", why_not, "libfastgpu-no-such-nvml.so.1"), nullptr);
  EXPECT_NE(why_not.find("libfastgpu-no-such-nvml.so.1"), std::string::npos) << why_not;
}

TEST(Nvml, NoDriverOrNoSuchGpuIsUnavailableCleanly) {
  std::string why_not;  // without a driver: cannot load; with one: no GPU has this UUID
  EXPECT_EQ(NvmlDevice::open("GPU-00000000-0000-0000-0000-000000000000", why_not), nullptr);
  EXPECT_FALSE(why_not.empty());
}

TEST(NvmlId, FromTheWorkersDevice) {
  EXPECT_EQ(nvml_id({1, "h", 0, "cpu", "", ""}), "");
  EXPECT_EQ(nvml_id({1, "h", 0, "cuda:2", "H100", "GPU-5c1e"}), "GPU-5c1e");
  EXPECT_EQ(nvml_id({1, "h", 0, "cuda:2", "", ""}), "2");
  EXPECT_EQ(nvml_id({1, "h", 0, "cuda:MIG-ab12", "", ""}), "MIG-ab12");
}

TEST(TelemetrySampler, ACpuSlotGetsCpuSamplesUntilStopped) {
  TelemetrySampler sampler({7, "h", 0, "cpu", "", ""}, 0.02, 0);
  EXPECT_FALSE(sampler.has_gpu());
  std::this_thread::sleep_for(100ms);
  sampler.stop();  // at least this one last sample, however slow the thread was
  auto samples = sampler.take();
  ASSERT_FALSE(samples.empty());
  for (const auto& s : samples) {
    EXPECT_EQ(s.worker, 7);
    EXPECT_GT(s.time, 1e9);  // seconds since job start 0 = since the epoch
    EXPECT_TRUE(std::isfinite(s.cpu_util));
    EXPECT_TRUE(std::isnan(s.gpu_util));
  }
  EXPECT_TRUE(sampler.take().empty());
}

}  // namespace
}  // namespace fastgpu::worker
