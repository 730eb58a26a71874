// End-to-end: a checkpointable kernel (dp_train) stopped by SIGTERM leaves its state in the
// results file (/outputs/checkpoints); --resume continues from it, and the result is bit for bit
// that of a run that was never stopped — on one GPU and on a 2-GPU subtask.
#include <csignal>

#include "e2e/resume_harness.hpp"

namespace fastgpu::e2e {
namespace {

// A few seconds of steps on this machine: the signal lands mid-training.
std::string train_job(int gpus) {
  return "[job]\nname = \"ckpt\"\n[task]\nkernel = \"dp_train\"\ngpus = " + std::to_string(gpus) +
         "\n[task.args]\nsamples = \"2048\"\nfeatures = \"8\"\nsteps = \"40000\"\nlr = \"0.5\"\nseed = \"4\"\n";
}

const AttemptRecord& last_attempt(const Results& results) { return results.attempts.back(); }

std::vector<double> array_of(const AttemptRecord& attempt, const std::string& name) {
  for (const OutputArray& array : attempt.arrays) {
    if (array.name == name) return array.values;
  }
  return {};
}

class CheckpointTest : public ResumeTest {
 protected:
  void stop_then_resume(int gpus) {
    write("job.toml", train_job(gpus));
    const std::string workers = std::to_string(gpus);
    auto reference = fastgpu({"run", "job.toml", "--workers", workers, "-o", "ref.h5", "--quiet"});
    ASSERT_EQ(reference.exit_code, 0) << reference.err;

    auto run = start({"run", "job.toml", "--workers", workers, "-o", "out.h5", "--quiet"});
    ASSERT_TRUE(wait_for_file(run, "out.h5", [](const Results& r) {
      return !r.tasks.empty() && r.tasks[0].status == TaskStatus::running;
    }));
    ::kill(run.pid(), SIGTERM);
    wait_exit(run);
    ASSERT_EQ(run.result().exit_code, 3) << run.result().stderr_tail;
    const Results stopped = io::read_results(path("out.h5"));
    ASSERT_FALSE(stopped.attempts.empty());
    EXPECT_EQ(last_attempt(stopped).status, AttemptStatus::interrupted);
    EXPECT_FALSE(last_attempt(stopped).checkpoint.empty()) << "the kernel's state is kept";

    auto resumed = fastgpu({"run", "job.toml", "--workers", workers, "-o", "out.h5", "--resume", "--quiet"});
    ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
    const Results done = io::read_results(path("out.h5"));
    const Results ref = io::read_results(path("ref.h5"));
    EXPECT_EQ(done.tasks.at(0).status, TaskStatus::done);
    const auto loss = array_of(last_attempt(done), "loss");
    EXPECT_EQ(loss.size(), 40000u) << "the curve continues where it stopped";
    EXPECT_EQ(loss, array_of(last_attempt(ref), "loss"));
    EXPECT_EQ(array_of(last_attempt(done), "weights"), array_of(last_attempt(ref), "weights"));
  }
};

TEST_F(CheckpointTest, AStoppedKernelContinuesFromItsCheckpointOnResume) { stop_then_resume(1); }

TEST_F(CheckpointTest, AStoppedTwoGpuKernelContinuesFromItsCheckpointOnResume) { stop_then_resume(2); }

}  // namespace
}  // namespace fastgpu::e2e
