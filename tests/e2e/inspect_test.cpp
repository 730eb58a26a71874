// End-to-end: `fastgpu validate` and `fastgpu inspect` on real files, and the results file read by
// h5py and h5dump as a user would.
#include <nlohmann/json.hpp>

#include "e2e/cli_harness.hpp"

namespace fastgpu::e2e {
namespace {

constexpr const char* kMixedJob = R"(
[job]
name = "mixed"
[task]
command = ["sh", "-c", "echo FASTGPU_METRIC score=$0; echo oops >&2; exit $1", "{score}", "{code}"]
[[tasks]]
name = "good"
params = { score = 1.5, code = 0 }
[[tasks]]
name = "bad"
params = { score = 2.5, code = 4 }
)";

class InspectTest : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    auto run = fastgpu({"run", write("mixed.toml", kMixedJob), "--workers", "2", "-o", "mixed.h5"});
    ASSERT_EQ(run.exit_code, 1) << run.err;
  }
};

TEST_F(InspectTest, SummarizesCountsWorkersAndFailures) {
  auto run = fastgpu({"inspect", "mixed.h5"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("subtasks: 2, 1 done, 1 failed"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("makespan:"), std::string::npos);
  EXPECT_NE(run.out.find("rank 1"), std::string::npos);
  EXPECT_NE(run.out.find("bad: exit code 4, 1 attempt, last on rank "), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("oops"), std::string::npos);
}

TEST_F(InspectTest, JsonGivesScriptsEverything) {
  auto run = fastgpu({"inspect", "mixed.h5", "--json"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const auto json = nlohmann::json::parse(run.out);
  EXPECT_EQ(json["counts"]["done"], 1);
  EXPECT_EQ(json["counts"]["failed"], 1);
  EXPECT_EQ(json["job"]["name"], "mixed");
  EXPECT_EQ(json["failures"][0]["task"], "bad");
  EXPECT_EQ(json["failures"][0]["exit_code"], 4);
  EXPECT_EQ(json["tasks"][1]["params"]["score"], 2.5);
  EXPECT_EQ(json["workers"].size(), 2u);
}

TEST_F(InspectTest, H5pyReadsTasksAttemptsEnumsAndMetrics) {
  // Debian's python3 (where python3-h5py installs), not whichever python3 comes first on PATH.
  const std::string python = std::filesystem::exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
  if (exec({python, "-c", "import h5py"}).exit_code != 0) GTEST_SKIP() << "python3-h5py not installed";
  const auto script = write("check.py", R"(
import json, h5py
with h5py.File("mixed.h5", "r") as f:
    assert f["job"].attrs["name"] == "mixed", f["job"].attrs["name"]
    assert f["job"].attrs["status"] == "failed"
    tasks = f["tasks"][:]
    names = h5py.check_enum_dtype(f["tasks"].dtype["status"])
    status = {k: v for k, v in names.items()}
    ids = [t.decode() for t in tasks["id"]]
    bad = ids.index("bad")
    assert tasks["status"][bad] == status["failed"], tasks["status"]
    assert tasks["status"][ids.index("good")] == status["done"]
    assert json.loads(tasks["params"][bad])["code"] == 4
    attempts = f["attempts"][:]
    assert len(attempts) == 2
    metrics = f["outputs/metrics"][:]
    assert sorted(float(m["value"]) for m in metrics) == [1.5, 2.5]
    assert f["outputs/stderr"][0].decode() == "oops\n"
print("h5py ok")
)");
  auto run = exec({python, script});
  EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_EQ(run.out, "h5py ok\n");
}

TEST_F(InspectTest, H5dumpShowsTheLayout) {
  if (exec({"sh", "-c", "command -v h5dump"}).exit_code != 0) GTEST_SKIP() << "h5dump not installed";
  auto run = exec({"h5dump", "-H", "mixed.h5"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  for (const char* name : {"GROUP \"job\"", "DATASET \"tasks\"", "DATASET \"attempts\"", "DATASET \"workers\"",
                           "DATASET \"events\"", "GROUP \"outputs\"", "H5T_ENUM"}) {
    EXPECT_NE(run.out.find(name), std::string::npos) << name;
  }
}

TEST_F(CliTest, InspectOfAMissingFileIsAClearError) {
  auto run = fastgpu({"inspect", "nothing.h5"});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("nothing.h5"), std::string::npos) << run.err;
}

TEST_F(CliTest, ValidatePrintsWhatWouldRun) {
  // From the repository root, where the job's program (scripts/examples/simulate.sh) is found.
  auto run = fastgpu({"validate", std::string(FASTGPU_SOURCE_DIR) + "/jobs/quickstart.toml"}, FASTGPU_SOURCE_DIR);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("subtasks:    12"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("gpus each:   1"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("scripts/examples/simulate.sh linear 1"), std::string::npos) << run.out;
}

TEST_F(CliTest, UnknownCommandsAndOptionsExitTwo) {
  EXPECT_EQ(fastgpu({"frobnicate"}).exit_code, 2);
  EXPECT_EQ(fastgpu({"run", "x.toml", "--no-such-option"}).exit_code, 2);
  EXPECT_EQ(fastgpu({"run"}).exit_code, 2);
  EXPECT_EQ(fastgpu({"--help"}).exit_code, 0);
  for (const char* command : {"run", "validate", "inspect"}) EXPECT_EQ(fastgpu({command, "--help"}).exit_code, 0) << command;
}

}  // namespace
}  // namespace fastgpu::e2e
