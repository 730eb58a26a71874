// End-to-end: in-flight migration. Two dp_train subtasks start, one per worker; worker 2 is 4
// times slower (FASTGPU_SLOWDOWN), so when worker 1 is done and idle, worker 2's subtask is
// checkpointed and continues on worker 1 — and every subtask's result is bit for bit that of a run
// with no slowdown and no migration.
#include "e2e/cli_harness.hpp"
#include "io/results_reader.hpp"

namespace fastgpu::e2e {
namespace {

constexpr const char* kTrainJob = R"(
[job]
name = "train"
[task]
kernel = "dp_train"
cost = 40
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
    std::vector<std::string> argv = {"env", env, FASTGPU_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    return exec(argv);
  }
};

TEST_F(MigrationTest, ARunningKernelMovesOffASlowWorkerAndTheResultIsUnchanged) {
  const std::string job = write("train.toml", kTrainJob);
  auto reference = fastgpu({"run", job, "--workers", "1", "-o", "reference.h5", "--quiet"});
  ASSERT_EQ(reference.exit_code, 0) << reference.err;
  auto moved = run_with_env({"run", job, "--workers", "2", "-o", "moved.h5", "--quiet"},
                            "FASTGPU_SLOWDOWN=2=4");
  ASSERT_EQ(moved.exit_code, 0) << moved.err;

  const Results ref = io::read_results(path("reference.h5"));
  const Results got = io::read_results(path("moved.h5"));
  const auto migrations = std::count_if(got.events.begin(), got.events.end(),
                                        [](const EventRecord& e) { return e.kind == "migrate_running"; });
  EXPECT_EQ(migrations, 1) << "the subtask on the slowed worker moves once";
  const auto interrupted = std::count_if(got.attempts.begin(), got.attempts.end(), [](const AttemptRecord& a) {
    return a.status == AttemptStatus::interrupted && a.worker == 2 && !a.checkpoint.empty();
  });
  EXPECT_EQ(interrupted, 1);
  for (std::int64_t task = 0; task < 2; ++task) {
    EXPECT_EQ(got.tasks.at(task).status, TaskStatus::done);
    EXPECT_EQ(final_array(got, task, "loss").size(), 60000u);
    EXPECT_EQ(final_array(got, task, "loss"), final_array(ref, task, "loss")) << "task " << task;
    EXPECT_EQ(final_array(got, task, "weights"), final_array(ref, task, "weights")) << "task " << task;
  }
}

}  // namespace
}  // namespace fastgpu::e2e
