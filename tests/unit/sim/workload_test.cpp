// Reading workloads: traces (CSV with guessed or named columns, SWF), job files, synthetic ones.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "fastgpu/error.hpp"
#include "sim/workload.hpp"

namespace fastgpu::sim {
namespace {

std::string data(const std::string& name) {
  const char* dir = std::getenv("FASTGPU_TEST_DATA");
  return std::string(dir ? dir : "tests/data") + "/sim/" + name;
}

TEST(TraceWorkload, PhillyCsvIsSortedBySubmitTimeAndSkipsWhatCannotRun) {
  const Workload w = load_trace_workload(data("philly_small.csv"), {});
  // Valid one-GPU rows by submit time: 07:00:00 (100 s), 07:00:30 (20 s), 07:01:40 (30 s).
  ASSERT_EQ(w.subtasks.size(), 3u);
  EXPECT_EQ(w.work, (std::vector<double>{100, 20, 30}));
  EXPECT_EQ(w.arrival, (std::vector<double>{0, 30, 100}));
  EXPECT_EQ(w.subtasks[0].cost, 100);  // the estimate is the duration unless --estimate-noise
  EXPECT_EQ(w.subtasks[0].id, "line3");
  EXPECT_EQ(w.rows, 6u);
  EXPECT_EQ(w.skipped_multi_gpu, 1u);
  EXPECT_EQ(w.skipped_invalid, 2u);  // zero duration, empty duration
  EXPECT_TRUE(w.has_arrivals());
}

TEST(TraceWorkload, MultiGpuJobsRunAsGangsOnOneGpuOrForTheirGpuTime) {
  TraceOptions one;
  one.multi_gpu = MultiGpu::one;
  EXPECT_EQ(load_trace_workload(data("philly_small.csv"), one).work, (std::vector<double>{100, 50, 20, 30}));
  TraceOptions gpu_time;
  gpu_time.multi_gpu = MultiGpu::gpu_time;
  EXPECT_EQ(load_trace_workload(data("philly_small.csv"), gpu_time).work, (std::vector<double>{100, 100, 20, 30}));
  TraceOptions gang;
  gang.multi_gpu = MultiGpu::gang;
  const Workload w = load_trace_workload(data("philly_small.csv"), gang);
  EXPECT_EQ(w.work, (std::vector<double>{100, 50, 20, 30}));
  ASSERT_EQ(w.subtasks.size(), 4u);
  EXPECT_EQ(w.subtasks[1].gpus, 2) << "the 2-GPU job keeps its width";
  EXPECT_EQ(w.subtasks[0].gpus, 1);
}

TEST(TraceWorkload, TimeScaleLimitSampleAndNoArrivals) {
  TraceOptions options;
  options.time_scale = 0.1;
  options.limit = 2;
  const Workload w = load_trace_workload(data("philly_small.csv"), options);
  EXPECT_EQ(w.work, (std::vector<double>{10, 2}));
  EXPECT_EQ(w.arrival, (std::vector<double>{0, 3}));
  options = {};
  options.arrivals = false;
  EXPECT_FALSE(load_trace_workload(data("philly_small.csv"), options).has_arrivals());
  options = {};
  options.sample = 0.5;
  options.seed = 3;
  const auto a = load_trace_workload(data("philly_small.csv"), options).work;
  EXPECT_EQ(a, load_trace_workload(data("philly_small.csv"), options).work);
  EXPECT_LE(a.size(), 3u);
}

TEST(TraceWorkload, SwfUsesRunTimeAndProcessors) {
  const Workload w = load_trace_workload(data("small.swf"), {});
  // Job 3 asks for 4 processors (allocated -1: the requested count is used): skipped; job 4 has no run time.
  EXPECT_EQ(w.work, (std::vector<double>{40, 10, 30}));
  EXPECT_EQ(w.arrival, (std::vector<double>{0, 5, 20}));
  EXPECT_EQ(w.skipped_multi_gpu, 1u);
  EXPECT_EQ(w.skipped_invalid, 1u);
}

TEST(TraceWorkload, ColumnsCanBeNamedAndADurationCanBeEndMinusStart) {
  TraceOptions options;
  options.duration_col = "deletion_time-scheduled_time";
  options.submit_col = "creation_time";
  const Workload w = load_trace_workload(data("pods.csv"), options);
  EXPECT_EQ(w.work, (std::vector<double>{100, 30}));  // the 0-GPU pod is skipped
  EXPECT_EQ(w.arrival, (std::vector<double>{0, 10}));
  EXPECT_THROW(load_trace_workload(data("pods.csv"), {}), UsageError);  // no duration column to guess
  options.duration_col = "nope";
  EXPECT_THROW(load_trace_workload(data("pods.csv"), options), UsageError);
}

TEST(TraceWorkload, TimestampsAreNumbersOrDates) {
  double s = 0;
  ASSERT_TRUE(parse_timestamp("12.5", s));
  EXPECT_EQ(s, 12.5);
  ASSERT_TRUE(parse_timestamp("1970-01-02 00:00:10", s));
  EXPECT_EQ(s, 86410);
  ASSERT_TRUE(parse_timestamp("1970-01-01T00:01:00", s));
  EXPECT_EQ(s, 60);
  EXPECT_FALSE(parse_timestamp("yesterday", s));
}

TEST(JobWorkload, SleepKernelsTakeTheirSeconds) {
  const Workload w = load_job_workload(data("sleep.toml"), {});
  ASSERT_EQ(w.subtasks.size(), 8u);
  EXPECT_DOUBLE_EQ(w.work[0], 0.4);
  EXPECT_DOUBLE_EQ(w.work[1], 0.2);
  EXPECT_FALSE(w.has_arrivals());
  EXPECT_FALSE(w.job.output_dir.empty());
}

TEST(SyntheticWorkload, HasTheRequestedSizeAndMean) {
  const Workload w = synthetic_workload(20000, 2.0, 1.0, 0, 1);
  ASSERT_EQ(w.work.size(), 20000u);
  double sum = 0;
  for (double x : w.work) sum += x;
  EXPECT_NEAR(sum / 20000, 2.0, 0.1);
  EXPECT_EQ(w.subtasks[5].cost, w.work[5]);
}

}  // namespace
}  // namespace fastgpu::sim
