// End-to-end: multi-GPU subtasks (`gpus = k`). dp_train kernels all-reduce their gradients over
// their k workers (thread collectives in-process, MPI under mpiexec) and lower their loss, with the
// same numbers either way; command subtasks start one process per member with torchrun's variables.
#include <map>

#include "e2e/cli_harness.hpp"
#include "io/results_reader.hpp"

namespace fastgpu::e2e {
namespace {

constexpr const char* kTrainJob = R"(
[job]
name = "train"
[task]
kernel = "dp_train"
gpus = 2
[task.args]
samples = "1024"
steps = "50"
lr = "{lr}"
seed = "3"
[sweep]
lr = [0.2, 1.0, 3.0]
)";

// Each process writes WORLD_SIZE and MASTER_ADDR to a file named after its subtask id ("i=0") and RANK.
constexpr const char* kCommandJob = R"(
[job]
name = "ddp"
[task]
command = ["sh", "-c", "echo $WORLD_SIZE $MASTER_ADDR > {output_dir}/{task_id}.rank$RANK"]
gpus = 2
[sweep]
i = [0, 1, 2]
)";

// One long one-GPU subtask holds one worker; the 2-GPU subtask must wait for it, so the other
// worker backfills the short ones, ahead of the gang ([[tasks]] gpus sets each task's width).
constexpr const char* kBackfillJob = R"(
[job]
name = "backfill"
[task]
kernel = "sleep"
cost = "{s}"
[task.args]
seconds = "{s}"
[[tasks]]
name = "long"
params = { s = 1.5 }
[[tasks]]
name = "gang"
gpus = 2
params = { s = 0.2 }
[[tasks]]
name = "short1"
params = { s = 0.05 }
[[tasks]]
name = "short2"
params = { s = 0.05 }
)";

double metric(const AttemptRecord& attempt, const std::string& name) {
  for (const Metric& m : attempt.metrics) {
    if (m.name == name) return m.value;
  }
  ADD_FAILURE() << "no metric " << name;
  return 0;
}

class GangTest : public CliTest {
 protected:
  /// Final loss per subtask (by task row) of a finished run, checking each attempt lowered its loss.
  std::map<std::int64_t, double> final_losses(const std::string& file) {
    const Results results = io::read_results(path(file));
    std::map<std::int64_t, double> losses;
    EXPECT_EQ(results.attempts.size(), 3u) << "one attempt per subtask, however many GPUs it had";
    for (const AttemptRecord& a : results.attempts) {
      EXPECT_EQ(a.status, AttemptStatus::done) << a.error;
      EXPECT_LT(metric(a, "loss_final"), metric(a, "loss_first"));
      EXPECT_EQ(a.arrays.size(), 2u);  // loss and weights, from the first member only
      if (a.arrays.empty()) continue;
      EXPECT_EQ(a.arrays[0].name, "loss");
      EXPECT_EQ(a.arrays[0].values.size(), 50u);
      losses[a.task] = metric(a, "loss_final");
    }
    return losses;
  }
};

TEST_F(GangTest, DataParallelTrainingLowersTheLossTheSameWayWithThreadsAndMpi) {
  const std::string job = write("train.toml", kTrainJob);
  auto threads = fastgpu({"run", job, "--workers", "3", "-o", "threads.h5", "--quiet"});
  ASSERT_EQ(threads.exit_code, 0) << threads.err;
  auto mpi = mpi_fastgpu(4, {"run", job, "-o", "mpi.h5", "--quiet"});
  ASSERT_EQ(mpi.exit_code, 0) << mpi.err;
  const auto a = final_losses("threads.h5");
  const auto b = final_losses("mpi.h5");
  ASSERT_EQ(a.size(), 3u);
  for (const auto& [task, loss] : a) EXPECT_NEAR(b.at(task), loss, 1e-12) << "task " << task;
}

TEST_F(GangTest, ACommandRunsOnceOnEveryMemberWithTorchrunsVariables) {
  const std::string job = write("ddp.toml", kCommandJob);
  auto run = mpi_fastgpu(3, {"run", job, "-o", "ddp.h5", "--quiet"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  for (int task = 0; task < 3; ++task) {
    for (int rank = 0; rank < 2; ++rank) {
      std::ifstream in(path("ddp.outputs") / ("i=" + std::to_string(task) + ".rank" + std::to_string(rank)));
      std::string world_size, master;
      in >> world_size >> master;
      EXPECT_EQ(world_size, "2") << "task " << task << " rank " << rank;
      EXPECT_FALSE(master.empty());
    }
  }
}

TEST_F(GangTest, ASubtaskWiderThanTheRunIsRefusedBeforeAnythingStarts) {
  auto run = fastgpu({"run", write("train.toml", kTrainJob), "--workers", "1", "-o", "out.h5"});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("asks for gpus = 2, but this run has 1 worker"), std::string::npos) << run.err;
  EXPECT_FALSE(std::filesystem::exists(path("out.h5")));
}

TEST_F(GangTest, TheIdleMemberBackfillsShortSubtasksAheadOfTheGang) {
  auto run = fastgpu({"run", write("backfill.toml", kBackfillJob), "--workers", "2", "--policy", "greedy", "-o",
                      "out.h5", "--quiet"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const Results results = io::read_results(path("out.h5"));
  std::map<std::string, std::int64_t> row;
  for (std::size_t t = 0; t < results.tasks.size(); ++t) {
    EXPECT_EQ(results.tasks[t].status, TaskStatus::done) << results.tasks[t].id;
    row[results.tasks[t].id] = static_cast<std::int64_t>(t);
  }
  int backfilled = 0;
  for (const EventRecord& event : results.events) {
    if (event.kind != "backfill") continue;
    ++backfilled;
    // It ran on its worker before that worker's part of the gang: the gang's start is its last
    // member's, and the worker ran the backfilled one first.
    for (const AttemptRecord& a : results.attempts) {
      if (a.task == event.task) EXPECT_LE(a.end, results.tasks[static_cast<std::size_t>(row["gang"])].start) << event.detail;
    }
  }
  EXPECT_GE(backfilled, 1) << "no subtask was backfilled around the gang";
}

}  // namespace
}  // namespace fastgpu::e2e
