// End-to-end: scripts/fastgpu_results.py (h5py + NumPy) on the file of a real run: the module's
// arrays, the `summary` command and the `plot-utilization` PNG.
#include <fstream>

#include "e2e/cli_harness.hpp"

namespace fastgpu::e2e {
namespace {

constexpr const char* kJob = R"(
[job]
name = "pyviz"
[task]
command = ["sh", "-c", "sleep 0.0$1; echo FASTGPU_METRIC loss=$1.$0; echo FASTGPU_METRIC loss=$0; if [ $1 = 3 ]; then exit 3; fi",
           "{lr}", "{seed}"]
retries = 1
[sweep]
lr = [1, 2]
seed = { range = [0, 4] }
)";

const std::string kPython = std::filesystem::exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
const std::string kModule = std::string(FASTGPU_SOURCE_DIR) + "/scripts/fastgpu_results.py";

class ResultsPyTest : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    if (exec({kPython, "-c", "import h5py, numpy"}).exit_code != 0) GTEST_SKIP() << "python3-h5py not installed";
    auto run = fastgpu({"run", write("pyviz.toml", kJob), "--workers", "2", "-o", "pyviz.h5"});
    ASSERT_EQ(run.exit_code, 1) << run.out << run.err;  // seed=3 fails twice for lr 1 and 2
  }
};

TEST_F(ResultsPyTest, SummaryDescribesTheRun) {
  auto run = exec({kPython, kModule, "summary", "pyviz.h5"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  for (const char* line : {"job 'pyviz' (pyviz.h5): failed, started ", "subtasks: 8 (6 done, 2 failed)",
                           "; attempts: 10 (6 done, 4 failed)", "makespan: ", "  rank 1  ", "  rank 2  ",
                           "parameters: lr, seed", "metrics (last successful attempt of each subtask):",
                           "  loss: n=6 min=1 mean=1.5 max=2", "failed subtasks:", "  lr=1,seed=3: exit code 3"}) {
    EXPECT_NE(run.out.find(line), std::string::npos) << "missing '" << line << "' in:\n" << run.out;
  }
}

TEST_F(ResultsPyTest, ModuleGivesStructuredArraysWithNamesDecoded) {
  const auto script = write("check.py", std::string(R"(
import math, sys
sys.path.insert(0, sys.argv[1])
import numpy as np
import fastgpu_results as fr
r = fr.load("pyviz.h5", outputs=True)
assert r.job["name"] == "pyviz" and r.job["status"] == "failed", r.job
assert isinstance(r.job["started_unix"], float)
assert r.tasks.dtype.names[:3] == ("id", "name", "params"), r.tasks.dtype
assert r.tasks["status"].dtype.kind == "U" and r.tasks["id"].dtype.kind == "U"
assert sorted(set(r.tasks["status"])) == ["done", "failed"], r.tasks["status"]
assert sorted(set(r.attempts["status"])) == ["done", "failed"]
assert r.attempts["migrated"].dtype == bool
assert len(r.attempts) == 10 and len(r.workers) == 2
assert set(r.workers["rank"]) == {1, 2}
assert "worker_joined" in set(r.events["kind"]), r.events["kind"]
assert r.telemetry is not None and {"time", "worker", "gpu_util", "cpu_util"} <= set(r.telemetry.dtype.names)
row = list(r.tasks["id"]).index("lr=2,seed=1")
assert r.params[row] == {"lr": 2, "seed": 1}, r.params[row]
assert r.task_metrics()[row] == {"loss": 2.0}, r.task_metrics()[row]   # the last of two values
table = r.table()
assert table[row]["lr"] == 2 and table[row]["loss"] == 2.0 and table[row]["status"] == "done"
failed = [t for t in table if t["status"] == "failed"]
assert len(failed) == 2 and all(t["loss"] is None and t["attempts"] == 2 for t in failed), failed
assert math.isclose(table[row]["duration"], table[row]["end"] - table[row]["start"])
assert len(r.stdout) == 10 and "FASTGPU_METRIC" in r.stdout[0]
edges, ranks, busy = fr.busy_fraction(r, bins=20)
assert ranks == [1, 2] and busy.shape == (2, 20) and len(edges) == 21
assert 0 < busy.mean() <= 1, busy
print("module ok")
)"));
  auto run = exec({kPython, script, std::string(FASTGPU_SOURCE_DIR) + "/scripts"});
  EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_EQ(run.out, "module ok\n");
}

TEST_F(ResultsPyTest, PlotUtilizationWritesAPng) {
  if (exec({kPython, "-c", "import matplotlib"}).exit_code != 0) GTEST_SKIP() << "python3-matplotlib not installed";
  auto run = exec({kPython, kModule, "plot-utilization", "pyviz.h5", "util.png"});
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_EQ(run.out, "wrote util.png\n");
  ASSERT_TRUE(std::filesystem::exists(path("util.png")));
  EXPECT_GT(std::filesystem::file_size(path("util.png")), 10000u);
  std::ifstream png(path("util.png"), std::ios::binary);
  char signature[8] = {};
  png.read(signature, 8);
  EXPECT_EQ(std::string(signature, 8), "\x89PNG\r\n\x1a\n");
}

TEST_F(ResultsPyTest, AMissingFileIsAClearError) {
  auto run = exec({kPython, kModule, "summary", "nothing.h5"});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("nothing.h5"), std::string::npos) << run.err;
}

}  // namespace
}  // namespace fastgpu::e2e
