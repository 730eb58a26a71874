// End-to-end: in-flight migration. Two dp_train subtasks start, one per worker; worker 2 is 4
// times slower (FASTGPU_SLOWDOWN), so when worker 1 is done and idle, worker 2's subtask is
// checkpointed, its state goes straight to worker 1 (worker threads, and MPI ranks), and it
// continues there — and every subtask's result is bit for bit that of a run with no slowdown and
// no migration.
//
// Whether a move pays is weighed against the subtask's prediction, which before any subtask of the
// job has finished is its cost (1 s per unit): a cost of 1000 stays far above what the run takes on
// a loaded machine (a cost of 40 did not: under load worker 1 took 13 s, the move no longer looked
// worth it and a speculative copy rescued the subtask instead). Rounds every second make the first
// one after worker 1 goes idle come at once.
#include <algorithm>
#include <iterator>

#include "e2e/cli_harness.hpp"
#include "io/results_reader.hpp"

namespace fastgpu::e2e {
namespace {

constexpr const char* kTrainJob = R"(
[job]
name = "train"
[task]
kernel = "dp_train"
cost = 1000
[task.args]
samples = "2048"
features = "8"
steps = "60000"
lr = "{lr}"
[sweep]
lr = [0.5, 1.0]
)";

std::vector<double> final_array(const Results& results, std::int64_t task, const std::string& name) {
  for (auto a = results.attempts.rbegin(); a != results.attempts.rend(); ++a) {
    if (a->task != task || a->status != AttemptStatus::done) continue;
    for (const OutputArray& array : a->arrays) {
      if (array.name == name) return array.values;
    }
  }
  return {};
}

class MigrationTest : public CliTest {
 protected:
  CliRun run_with_env(const std::vector<std::string>& args, const std::string& env) {
    std::vector<std::string> argv = {"env", env};
    argv.insert(argv.end(), args.begin(), args.end());
    return exec(argv);
  }

  // The subtask on worker 2 moved once, its state worker to worker (never through rank 0: the
  // interrupted attempt's /attempts row holds no checkpoint), and every result is bit for bit
  // the reference's.
  void expect_moved_once_with_unchanged_results(const std::string& reference_file, const std::string& moved_file) {
    const Results ref = io::read_results(path(reference_file));
    const Results got = io::read_results(path(moved_file));
    std::vector<EventRecord> migrations;
    std::ranges::copy_if(got.events, std::back_inserter(migrations),
                         [](const EventRecord& e) { return e.kind == "migrate_running"; });
    ASSERT_EQ(migrations.size(), 1u) << "the subtask on the slowed worker moves once";
    EXPECT_EQ(migrations[0].from, 2);
    EXPECT_EQ(migrations[0].to, 1);
    EXPECT_NE(migrations[0].detail.find("worker to worker"), std::string::npos) << migrations[0].detail;
    const auto interrupted = std::count_if(got.attempts.begin(), got.attempts.end(), [](const AttemptRecord& a) {
      return a.status == AttemptStatus::interrupted && a.worker == 2 && a.checkpoint.empty() &&
             a.error.find("sent worker to worker to rank 1") != std::string::npos;
    });
    EXPECT_EQ(interrupted, 1);
    for (std::int64_t task = 0; task < 2; ++task) {
      EXPECT_EQ(got.tasks.at(task).status, TaskStatus::done);
      EXPECT_EQ(final_array(got, task, "loss").size(), 60000u);
      EXPECT_EQ(final_array(got, task, "loss"), final_array(ref, task, "loss")) << "task " << task;
      EXPECT_EQ(final_array(got, task, "weights"), final_array(ref, task, "weights")) << "task " << task;
    }
  }
};

TEST_F(MigrationTest, ARunningKernelMovesOffASlowWorkerAndTheResultIsUnchanged) {
  const std::string job = write("train.toml", kTrainJob);
  auto reference = fastgpu({"run", job, "--workers", "1", "-o", "reference.h5", "--quiet"});
  ASSERT_EQ(reference.exit_code, 0) << reference.err;
  auto moved = run_with_env({FASTGPU_BINARY, "run", job, "--workers", "2", "-o", "moved.h5", "--quiet",
                             "--rebalance-interval", "1"},
                            "FASTGPU_SLOWDOWN=2=4");
  ASSERT_EQ(moved.exit_code, 0) << moved.err;
  expect_moved_once_with_unchanged_results("reference.h5", "moved.h5");
}

TEST_F(MigrationTest, UnderMpiTheStateGoesFromRankToRankAndTheResultIsUnchanged) {
  const std::string job = write("train.toml", kTrainJob);
  auto reference = fastgpu({"run", job, "--workers", "1", "-o", "reference.h5", "--quiet"});
  ASSERT_EQ(reference.exit_code, 0) << reference.err;
  auto moved = run_with_env({MPIEXEC_BINARY, "-n", "3", "--oversubscribe", FASTGPU_BINARY, "run", job, "-o",
                             "moved.h5", "--quiet", "--rebalance-interval", "1"},
                            "FASTGPU_SLOWDOWN=2=4");
  ASSERT_EQ(moved.exit_code, 0) << moved.err;
  expect_moved_once_with_unchanged_results("reference.h5", "moved.h5");
}

}  // namespace
}  // namespace fastgpu::e2e
