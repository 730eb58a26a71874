// End-to-end: --telemetry-interval fills /telemetry with rows from every worker (read with h5py,
// as a user would), inspect summarizes them, and --telemetry-interval 0 records none.
#include <nlohmann/json.hpp>

#include "e2e/cli_harness.hpp"

namespace fastgpu::e2e {
namespace {

// 8 spins of 0.12 s on 2 workers: about half a second of work each, a second in all.
constexpr const char* kSpinJob = R"(
[job]
name = "telemetry"
[task]
kernel = "spin"
args = { seconds = "0.12" }
[sweep]
i = { range = [0, 8] }
)";

const std::string kPython = std::filesystem::exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";

// Prints "rows ranks..." and checks every documented column is there.
constexpr const char* kReadTelemetry = R"(
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "r") as f:
    t = f["telemetry"][:]
    want = ("time", "worker", "gpu_util", "mem_used_bytes", "power_w", "temp_c", "sm_clock_mhz", "cpu_util", "rss_bytes")
    assert set(want) <= set(t.dtype.names), t.dtype.names
    if len(t):
        assert np.all(t["time"] >= 0), t["time"]
        assert np.all(np.isfinite(t["cpu_util"]) & (t["cpu_util"] >= 0)), t["cpu_util"]
        assert np.all(t["rss_bytes"] > 0), t["rss_bytes"]
    print(len(t), *sorted(set(int(w) for w in t["worker"])))
)";

class TelemetryTest : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    if (exec({kPython, "-c", "import h5py, numpy"}).exit_code != 0) GTEST_SKIP() << "python3-h5py not installed";
  }
  std::string read_telemetry(const std::string& file) {
    auto py = exec({kPython, "-c", kReadTelemetry, path(file).string()});
    EXPECT_EQ(py.exit_code, 0) << py.err;
    return py.out;
  }
};

TEST_F(TelemetryTest, EveryWorkerRecordsSamplesAndInspectSummarizesThem) {
  auto run = fastgpu({"run", write("job.toml", kSpinJob), "--workers", "2", "-o", "t.h5", "--telemetry-interval",
                      "0.2", "--quiet"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const std::string rows = read_telemetry("t.h5");
  EXPECT_NE(rows.find(" 1 2\n"), std::string::npos) << "rows from ranks 1 and 2: " << rows;
  EXPECT_NE(rows.rfind("0 ", 0), 0u) << rows;

  auto inspect = fastgpu({"inspect", "t.h5"});
  ASSERT_EQ(inspect.exit_code, 0) << inspect.err;
  EXPECT_NE(inspect.out.find("telemetry: "), std::string::npos) << inspect.out;
  EXPECT_NE(inspect.out.find(", CPU "), std::string::npos) << inspect.out;  // no GPU here: CPU use per worker
  auto json = fastgpu({"inspect", "t.h5", "--json"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  const auto doc = nlohmann::json::parse(json.out);
  EXPECT_GT(doc["telemetry"]["samples"].get<int>(), 0);
  for (const auto& worker : doc["workers"]) {
    ASSERT_TRUE(worker["telemetry"].is_object()) << worker.dump();
    EXPECT_GT(worker["telemetry"]["samples"].get<int>(), 0);
    EXPECT_TRUE(worker["telemetry"]["mean_cpu_util"].is_number()) << worker.dump();
  }
}

TEST_F(TelemetryTest, UnderMpiEachWorkerRankSamplesItsOwnProcess) {
  auto run = mpi_fastgpu(3, {"run", write("job.toml", kSpinJob), "-o", "m.h5", "--telemetry-interval", "0.2",
                             "--quiet"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const std::string rows = read_telemetry("m.h5");
  EXPECT_NE(rows.find(" 1 2\n"), std::string::npos) << rows;
}

TEST_F(TelemetryTest, IntervalZeroRecordsNone) {
  auto run = fastgpu({"run", write("job.toml", kSpinJob), "--workers", "2", "-o", "off.h5", "--telemetry-interval",
                      "0", "--quiet"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(read_telemetry("off.h5"), "0\n");
  auto inspect = fastgpu({"inspect", "off.h5"});
  EXPECT_NE(inspect.out.find("telemetry: none recorded"), std::string::npos) << inspect.out;
}

TEST_F(TelemetryTest, ANegativeIntervalIsAUsageError) {
  auto run = fastgpu({"run", write("job.toml", kSpinJob), "--telemetry-interval", "-1"});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("--telemetry-interval"), std::string::npos) << run.err;
}

}  // namespace
}  // namespace fastgpu::e2e
