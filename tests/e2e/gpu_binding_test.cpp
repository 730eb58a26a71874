// End-to-end: which GPU each worker takes, with the GPUs faked through CUDA_VISIBLE_DEVICES and
// Slurm's step variables (command subtasks never start CUDA, so this runs on a machine without a
// GPU): more workers than GPUs is refused unless --share-gpus, and a task Slurm bound to its own
// GPU uses it whatever its worker index.
#include <set>

#include "e2e/cli_harness.hpp"
#include "io/results_reader.hpp"

namespace fastgpu::e2e {
namespace {

// Each subtask prints the GPU its worker handed it.
constexpr const char* kGpuJob = R"(
[job]
name = "binding"
[task]
command = ["sh", "-c", "echo gpu=$CUDA_VISIBLE_DEVICES"]
[sweep]
i = { range = [0, 4] }
)";

class GpuBindingTest : public CliTest {
 protected:
  /// `fastgpu run` with two worker threads in the given GPU environment (unset Slurm variables
  /// stay unset, whatever the environment running the tests has).
  /// A non-empty `gpus_on_node` fakes a Slurm step with that many GPUs on the node, which sets
  /// SLURM_STEP_GPUS to the task's visible GPUs as Slurm 22.05 does.
  CliRun run_two_workers(const std::string& visible, const std::string& gpus_on_node, bool share) {
    std::vector<std::string> argv = {"/usr/bin/env", "-u", "SLURM_STEP_GPUS", "-u", "SLURM_GPUS_ON_NODE",
                                     "CUDA_VISIBLE_DEVICES=" + visible};
    if (!gpus_on_node.empty()) {
      argv.push_back("SLURM_GPUS_ON_NODE=" + gpus_on_node);
      argv.push_back("SLURM_STEP_GPUS=" + visible);
    }
    argv.insert(argv.end(), {FASTGPU_BINARY, "run", write("job.toml", kGpuJob), "--workers", "2", "-o", "b.h5",
                             "--quiet"});
    if (share) argv.push_back("--share-gpus");
    return exec(argv);
  }

  /// Every worker recorded `device` and every subtask saw `gpu`.
  void expect_all_on(const std::string& device, const std::string& gpu) {
    const Results results = io::read_results(path("b.h5"));
    ASSERT_EQ(results.workers.size(), 2u);
    for (const WorkerRecord& w : results.workers) EXPECT_EQ(w.device, device) << "worker " << w.rank;
    ASSERT_EQ(results.attempts.size(), 4u);
    for (const AttemptRecord& a : results.attempts) {
      EXPECT_EQ(a.status, AttemptStatus::done) << a.error;
      EXPECT_EQ(a.stdout_tail, "gpu=" + gpu + "\n");
    }
  }
};

TEST_F(GpuBindingTest, MoreWorkersThanGpusIsRefusedAndNamesShareGpus) {
  const CliRun run = run_two_workers("0", "", false);
  EXPECT_EQ(run.exit_code, 2) << run.err;
  EXPECT_NE(run.err.find("runs 2+ workers but has only 1 GPU(s) visible"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("--share-gpus"), std::string::npos) << run.err;
  EXPECT_FALSE(std::filesystem::exists(path("b.h5")));
}

TEST_F(GpuBindingTest, ShareGpusPutsBothWorkersOnTheOneGpu) {
  const CliRun run = run_two_workers("0", "", true);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  expect_all_on("cuda:0", "0");
}

TEST_F(GpuBindingTest, ShareGpusWithEnoughGpusGivesEachItsOwn) {
  const CliRun run = run_two_workers("2,3", "", true);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const Results results = io::read_results(path("b.h5"));
  std::set<std::string> devices;
  for (const WorkerRecord& w : results.workers) devices.insert(w.device);
  EXPECT_EQ(devices, (std::set<std::string>{"cuda:2", "cuda:3"}));
}

// srun --gpus-per-task=1 on a step of two GPUs: this task sees only GPU 1, and uses it.
TEST_F(GpuBindingTest, TaskSlurmBoundToOneGpuUsesItWithoutSharing) {
  const CliRun run = run_two_workers("1", "2", false);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  expect_all_on("cuda:1", "1");
}

}  // namespace
}  // namespace fastgpu::e2e
