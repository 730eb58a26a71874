// inspect's telemetry figures: means over the samples, energy as the integral of power.
#include "app/telemetry_stats.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace fastgpu::app {
namespace {

TEST(Integrate, PiecewiseLinearClippedToTheSamples) {
  const std::vector<std::pair<double, double>> power = {{0, 100}, {2, 300}, {4, 300}};
  EXPECT_DOUBLE_EQ(integrate(power, 0, 4), 400 + 600);
  EXPECT_DOUBLE_EQ(integrate(power, 1, 3), (200 + 300) / 2.0 + 300);  // interpolated at 1
  EXPECT_DOUBLE_EQ(integrate(power, -5, 0), 0);                       // before the first sample
  EXPECT_DOUBLE_EQ(integrate(power, 3, 10), 300);                     // after the last: nothing
  EXPECT_DOUBLE_EQ(integrate({{1, 50}}, 0, 2), 0);                    // one sample spans no time
}

TelemetrySample sample(std::int32_t worker, double time, double power_w, double cpu) {
  TelemetrySample s;
  s.worker = worker;
  s.time = time;
  s.power_w = power_w;
  s.gpu_util = std::isnan(power_w) ? kNotMeasured : 50;
  s.cpu_util = cpu;
  s.rss_bytes = 1e6 * time;
  return s;
}

TEST(ComputeTelemetry, PerWorkerMeansEnergyAndEnergyPerDoneSubtask) {
  Results results;
  // rank 1: a GPU at 200 W for 10 s; rank 2: a CPU slot. Samples out of order on purpose.
  results.telemetry = {sample(1, 10, 200, 100), sample(1, 0, 200, 50), sample(2, 0, kNotMeasured, 80),
                       sample(1, 5, 200, 150), sample(2, 10, kNotMeasured, 120)};
  AttemptRecord done;
  done.task = 0;
  done.worker = 1;
  done.start = 2;
  done.end = 4;
  done.status = AttemptStatus::done;
  AttemptRecord failed = done;
  failed.status = AttemptStatus::failed;
  AttemptRecord on_cpu = done;
  on_cpu.worker = 2;
  results.attempts = {done, failed, on_cpu};

  const TelemetryStats stats = compute_telemetry(results);
  EXPECT_EQ(stats.samples, 5u);
  ASSERT_EQ(stats.workers.size(), 2u);
  const auto& gpu = stats.workers[0];
  EXPECT_EQ(gpu.rank, 1);
  EXPECT_EQ(gpu.samples, 3u);
  EXPECT_DOUBLE_EQ(*gpu.mean_gpu_util, 50);
  EXPECT_DOUBLE_EQ(*gpu.mean_cpu_util, 100);
  EXPECT_DOUBLE_EQ(*gpu.mean_power_w, 200);
  EXPECT_DOUBLE_EQ(*gpu.energy_j, 2000);
  EXPECT_DOUBLE_EQ(*gpu.peak_rss_bytes, 1e7);
  const auto& cpu = stats.workers[1];
  EXPECT_FALSE(cpu.mean_gpu_util || cpu.mean_power_w || cpu.energy_j || cpu.peak_mem_used_bytes);
  EXPECT_DOUBLE_EQ(*cpu.mean_cpu_util, 100);
  EXPECT_DOUBLE_EQ(*stats.energy_j, 2000);
  EXPECT_EQ(stats.done_subtasks_measured, 1u);  // the failed one and the one on the CPU slot do not count
  EXPECT_DOUBLE_EQ(*stats.energy_per_done_subtask_j, 400);
}

TEST(ComputeTelemetry, NoRowsNoFigures) {
  const TelemetryStats stats = compute_telemetry(Results{});
  EXPECT_EQ(stats.samples, 0u);
  EXPECT_TRUE(stats.workers.empty());
  EXPECT_FALSE(stats.energy_j || stats.energy_per_done_subtask_j);
}

}  // namespace
}  // namespace fastgpu::app
