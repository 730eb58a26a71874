// End-to-end: [[input]] shared inputs. A data set written with h5py is read once by the first
// worker and broadcast to the others; dp_train subtasks with gpus = 2 train on it in place
// (x_input, y_input) and lower their loss, the same with threads and under mpiexec.
#include <map>

#include "e2e/cli_harness.hpp"
#include "io/results_reader.hpp"

namespace fastgpu::e2e {
namespace {

const std::string kPython = std::filesystem::exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";

// 512 rows of 4 features, labelled by a fixed linear rule with a little noise.
constexpr const char* kMakeData = R"(
import sys, h5py, numpy as np
rng = np.random.default_rng(7)
x = rng.uniform(-1, 1, size=(512, 4))
y = ((x @ np.array([1.5, -2.0, 0.5, 1.0]) + 0.3 * rng.normal(size=512)) > 0).astype(np.float32)
with h5py.File(sys.argv[1], "w") as f:
    f["train/x"] = x
    f["train/y"] = y
)";

constexpr const char* kJob = R"(
[job]
name = "shared"
[task]
kernel = "dp_train"
gpus = 2
[task.args]
features = "4"
steps = "40"
lr = "{lr}"
x_input = "x"
y_input = "y"
[[input]]
name = "x"
file = "data.h5"
dataset = "/train/x"
[[input]]
name = "y"
file = "data.h5"
dataset = "/train/y"
[sweep]
lr = [0.5, 2.0]
)";

class SharedInputsTest : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    if (exec({kPython, "-c", "import h5py, numpy"}).exit_code != 0) GTEST_SKIP() << "python3-h5py not installed";
    auto made = exec({kPython, "-c", kMakeData, path("data.h5").string()});
    ASSERT_EQ(made.exit_code, 0) << made.err;
  }

  std::map<std::int64_t, double> final_losses(const std::string& file) {
    std::map<std::int64_t, double> losses;
    for (const AttemptRecord& a : io::read_results(path(file)).attempts) {
      EXPECT_EQ(a.status, AttemptStatus::done) << a.error;
      double first = 0, last = 0;
      for (const Metric& m : a.metrics) {
        if (m.name == "loss_first") first = m.value;
        if (m.name == "loss_final") last = m.value;
      }
      EXPECT_LT(last, 0.8 * first) << "a learnable rule: the loss falls well below log 2";
      losses[a.task] = last;
    }
    return losses;
  }
};

TEST_F(SharedInputsTest, DpTrainLearnsFromABroadcastDataSetWithThreadsAndMpi) {
  const std::string job = write("job.toml", kJob);
  auto threads = fastgpu({"run", job, "--workers", "2", "-o", "threads.h5", "--quiet"});
  ASSERT_EQ(threads.exit_code, 0) << threads.err;
  auto mpi = mpi_fastgpu(3, {"run", job, "-o", "mpi.h5", "--quiet"});
  ASSERT_EQ(mpi.exit_code, 0) << mpi.err;
  const auto a = final_losses("threads.h5");
  const auto b = final_losses("mpi.h5");
  ASSERT_EQ(a.size(), 2u);
  for (const auto& [task, loss] : a) EXPECT_NEAR(b.at(task), loss, 1e-12);
}

TEST_F(SharedInputsTest, AMissingDatasetIsAUsageErrorBeforeAnythingRuns) {
  std::string text = kJob;
  text.replace(text.find("/train/y"), 8, "/train/labels");
  auto run = fastgpu({"run", write("job.toml", text), "--workers", "2", "-o", "out.h5"});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("input 'y'"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("no such dataset in the file"), std::string::npos) << run.err;
  EXPECT_FALSE(std::filesystem::exists(path("out.h5")));
}

TEST_F(SharedInputsTest, AMissingFileIsAUsageErrorBeforeAnythingRuns) {
  std::string text = kJob;
  text.replace(text.find("data.h5"), 7, "gone.h5");
  auto run = fastgpu({"run", write("job.toml", text), "--workers", "2", "-o", "out.h5"});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("input 'x' (" + path("gone.h5").string()), std::string::npos) << run.err;
  EXPECT_FALSE(std::filesystem::exists(path("out.h5")));
}

}  // namespace
}  // namespace fastgpu::e2e
