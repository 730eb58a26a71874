// `fastgpu simulate`: the binary on a job file and on small traces, its results file read by
// `inspect`, usage errors, and a comparison with a real threaded run of the same sleep kernels.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "e2e/cli_harness.hpp"

namespace fastgpu::e2e {
namespace {

const std::string kData = std::string(FASTGPU_SOURCE_DIR) + "/tests/data/sim/";

nlohmann::json json_of(const CliRun& run) {
  try {
    return nlohmann::json::parse(run.out);
  } catch (const std::exception& e) {
    ADD_FAILURE() << "not JSON: " << e.what() << "\n" << run.out << run.err;
    return {};
  }
}

TEST_F(CliTest, SimulateAJobFileReproducesTheHandComputedGreedySchedule) {
  // 0.4 s + 7 x 0.2 s on 2 workers, first come first served. Worker 1 runs the 0.4-s subtask
  // (0-0.4) then two 0.2-s ones (to 0.8); worker 2 runs 0.2-s ones back to back, so the 8th
  // subtask goes to whichever is free at 0.8 and ends at 1.0 s (lower bound 1.8 s / 2 = 0.9 s).
  const CliRun run = fastgpu({"simulate", kData + "sleep.toml", "--workers", "2", "--policy", "greedy", "--json"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const auto j = json_of(run);
  EXPECT_EQ(j["done"], 8);
  EXPECT_NEAR(j["makespan_s"].get<double>(), 1.0, 1e-9);
  EXPECT_NEAR(j["lower_bound_s"].get<double>(), 0.9, 1e-9);
  EXPECT_GT(j["scheduler"]["decision"]["calls"].get<int>(), 8);
  EXPECT_GT(j["simulation"]["peak_rss_bytes"].get<double>(), 0);
}

TEST_F(CliTest, SimulateATraceWritesAResultsFileThatInspectReads) {
  const CliRun run = fastgpu({"simulate", "--trace", kData + "philly_small.csv", "--workers", "2", "-o", "sim.h5"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("waiting time:"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("skipped"), std::string::npos) << run.out;  // the 2-GPU job is said to be skipped
  const CliRun inspect = fastgpu({"inspect", "sim.h5", "--json"});
  ASSERT_EQ(inspect.exit_code, 0) << inspect.err;
  const auto j = json_of(inspect);
  EXPECT_EQ(j["counts"]["done"], 3);
  EXPECT_NEAR(j["makespan_s"].get<double>(), 130, 1e-9);  // 07:01:40 arrival + 30 s
  const CliRun gantt = fastgpu({"inspect", "sim.h5", "--gantt", "sim.svg"});
  EXPECT_EQ(gantt.exit_code, 0) << gantt.err;
  EXPECT_TRUE(std::filesystem::exists(path("sim.svg")));
  // Refuses to overwrite without --force, as run does.
  EXPECT_EQ(fastgpu({"simulate", "--trace", kData + "philly_small.csv", "--workers", "2", "-o", "sim.h5"}).exit_code, 2);
}

TEST_F(CliTest, SimulateRunsATracesMultiGpuJobsAsGangs) {
  const CliRun run = fastgpu({"simulate", "--trace", kData + "philly_small.csv", "--workers", "2", "--multi-gpu",
                              "gang", "--no-arrivals", "-o", "gang.h5"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out.find("more than one GPU and were skipped"), std::string::npos) << run.out;
  const auto j = json_of(fastgpu({"inspect", "gang.h5", "--json"}));
  EXPECT_EQ(j["counts"]["done"], 4) << "the 2-GPU job ran too";
  // 100 + 20 + 30 s of one-GPU jobs and the 50-s job on both: 250 GPU-seconds on 2 workers.
  EXPECT_GE(j["makespan_s"].get<double>(), 125);
}

TEST_F(CliTest, SimulateAnSwfTraceWithSpeedsFailuresAndSlowdowns) {
  const CliRun run = fastgpu({"simulate", "--trace", kData + "small.swf", "--workers", "3", "--speeds", "1,0.5",
                              "--slowdown", "1=2@1", "--fail", "2@6", "--multi-gpu", "one", "--json", "--seed", "4"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const auto j = json_of(run);
  EXPECT_EQ(j["done"], 4);
  EXPECT_EQ(j["injected_failures"].get<int>() + j["missed_failures"].get<int>(), 1);
  // Deterministic: the same command prints the same figures (scheduler timings aside).
  const auto again = json_of(fastgpu({"simulate", "--trace", kData + "small.swf", "--workers", "3", "--speeds", "1,0.5",
                                      "--slowdown", "1=2@1", "--fail", "2@6", "--multi-gpu", "one", "--json", "--seed", "4"}));
  EXPECT_EQ(again["makespan_s"], j["makespan_s"]);
  EXPECT_EQ(again["wait_s"], j["wait_s"]);
  EXPECT_EQ(again["attempts"], j["attempts"]);
}

TEST_F(CliTest, SimulateUsageErrorsExitTwo) {
  EXPECT_EQ(fastgpu({"simulate", "--workers", "2"}).exit_code, 2);  // neither job nor trace
  EXPECT_EQ(fastgpu({"simulate", "--trace", kData + "small.swf"}).exit_code, 2);  // --workers is required
  EXPECT_EQ(fastgpu({"simulate", "--trace", kData + "small.swf", "--workers", "2", "--speeds", "fast"}).exit_code, 2);
  EXPECT_EQ(fastgpu({"simulate", "--trace", kData + "nope.csv", "--workers", "2"}).exit_code, 2);
  EXPECT_EQ(fastgpu({"simulate", "--trace", kData + "pods.csv", "--workers", "2"}).exit_code, 2);  // no duration column
  EXPECT_EQ(fastgpu({"simulate", "--trace", kData + "small.swf", "--workers", "2", "--fail", "9@1"}).exit_code, 2);
  const CliRun help = fastgpu({"simulate", "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("--speeds"), std::string::npos);
}

TEST_F(CliTest, SimulationAgreesWithARealRunOfSleepKernels) {
  // The same job, simulated and run for real with 2 worker threads (about 1 s). A real run adds
  // start-up, message and timer overhead, so the tolerance is generous: real within
  // [simulated - 5 %, simulated + 0.5 s].
  const auto sim = json_of(fastgpu({"simulate", kData + "sleep.toml", "--workers", "2", "--policy", "greedy", "--json"}));
  const CliRun real = fastgpu({"run", kData + "sleep.toml", "--workers", "2", "--policy", "greedy", "-o", "real.h5", "-q"});
  ASSERT_EQ(real.exit_code, 0) << real.err;
  const auto inspected = json_of(fastgpu({"inspect", "real.h5", "--json"}));
  const double simulated = sim["makespan_s"].get<double>(), measured = inspected["makespan_s"].get<double>();
  EXPECT_GE(measured, 0.95 * simulated) << "simulated " << simulated << " s";
  EXPECT_LE(measured, simulated + 0.5) << "simulated " << simulated << " s";
  EXPECT_EQ(inspected["counts"]["done"], sim["done"]);
}

}  // namespace
}  // namespace fastgpu::e2e
