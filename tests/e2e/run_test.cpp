// End-to-end: the `fastgpu` binary on job files, with threads and under mpiexec, checked through
// the HDF5 file it writes.
#include <algorithm>

#include "e2e/cli_harness.hpp"
#include "io/results_reader.hpp"

namespace fastgpu::e2e {
namespace {

const AttemptRecord* last_attempt(const Results& results, std::size_t task) {
  const AttemptRecord* last = nullptr;
  for (const auto& attempt : results.attempts) {
    if (attempt.task == static_cast<std::int64_t>(task)) last = &attempt;
  }
  return last;
}

std::size_t task_index(const Results& results, const std::string& id) {
  for (std::size_t i = 0; i < results.tasks.size(); ++i) {
    if (results.tasks[i].id == id) return i;
  }
  ADD_FAILURE() << "no task " << id;
  return 0;
}

void expect_quickstart_results(const Results& results, int workers) {
  ASSERT_EQ(results.tasks.size(), 12u);
  for (const auto& task : results.tasks) EXPECT_EQ(task.status, TaskStatus::done) << task.id;
  EXPECT_EQ(results.job.status, "done");
  EXPECT_EQ(results.workers.size(), static_cast<std::size_t>(workers));
  std::size_t done = 0;
  for (const auto& attempt : results.attempts) {
    if (attempt.status == AttemptStatus::superseded) continue;  // a speculative copy that lost
    EXPECT_EQ(attempt.status, AttemptStatus::done);
    ++done;
    ASSERT_EQ(attempt.metrics.size(), 2u);
    EXPECT_EQ(attempt.metrics[0].name, "loss");
    EXPECT_NE(attempt.stdout_tail.find("simulating"), std::string::npos);
  }
  EXPECT_EQ(done, 12u);  // each subtask completed exactly once
}

class QuickstartTest : public CliTest {};

TEST_F(QuickstartTest, RunsWithWorkerThreadsWithoutMpirun) {
  auto run = fastgpu({"run", "jobs/quickstart.toml", "--workers", "2", "-o", path("q.h5").string()},
                     FASTGPU_SOURCE_DIR);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("12 subtasks on 2 workers (threads)"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("12 done, 0 failed"), std::string::npos) << run.out;
  const auto results = io::read_results(path("q.h5"));
  expect_quickstart_results(results, 2);
  EXPECT_EQ(results.job.transport, "threads");
  // {output_dir}/{task_id}.txt: each subtask wrote its own file.
  EXPECT_TRUE(std::filesystem::exists(path("q.outputs") / "model=linear,size=3.txt"));
}

class QuickstartMpiTest : public CliTest, public ::testing::WithParamInterface<int> {};

TEST_P(QuickstartMpiTest, RunsUnderMpiexecWithRankZeroScheduling) {
  const int ranks = GetParam();
  auto run = mpi_fastgpu(ranks, {"run", "jobs/quickstart.toml", "-o", path("q.h5").string()}, FASTGPU_SOURCE_DIR);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const auto results = io::read_results(path("q.h5"));
  expect_quickstart_results(results, ranks - 1);
  EXPECT_EQ(results.job.transport, "mpi");
  for (const auto& attempt : results.attempts) {
    EXPECT_GE(attempt.worker, 1);
    EXPECT_LT(attempt.worker, ranks);
  }
}

INSTANTIATE_TEST_SUITE_P(Ranks, QuickstartMpiTest, ::testing::Values(2, 3, 5));

TEST_F(CliTest, ParametersReachTheProgramLiterallyNeverAShell) {
  const auto job = write("inject.toml", R"(
[job]
name = "inject"
[task]
command = ["printf", "[%s]\n", "{p}"]
[[tasks]]
name = "semicolon"
params = { p = "; touch X" }
[[tasks]]
name = "subst"
params = { p = "$(touch Y) `touch Z` | touch W" }
)");
  auto run = fastgpu({"run", job, "--workers", "2", "-o", "inject.h5"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const auto results = io::read_results(path("inject.h5"));
  EXPECT_EQ(last_attempt(results, task_index(results, "semicolon"))->stdout_tail, "[; touch X]\n");
  EXPECT_EQ(last_attempt(results, task_index(results, "subst"))->stdout_tail, "[$(touch Y) `touch Z` | touch W]\n");
  for (const char* file : {"X", "Y", "Z", "W"}) EXPECT_FALSE(std::filesystem::exists(path(file))) << file;
}

TEST_F(CliTest, AFailingSubtaskIsRetriedThenRecordedFailedAndTheRunExitsOne) {
  const auto job = write("fail.toml", R"(
[job]
name = "fail"
[task]
command = ["sh", "-c", "echo bad things >&2; exit $0", "{code}"]
retries = 1
[sweep]
code = [0, 3]
)");
  auto run = mpi_fastgpu(3, {"run", job, "-o", "fail.h5"});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.err.find("code=3: exit code 3"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("bad things"), std::string::npos) << run.err;  // the stderr tail
  const auto results = io::read_results(path("fail.h5"));
  const auto& failed = results.tasks[task_index(results, "code=3")];
  EXPECT_EQ(failed.status, TaskStatus::failed);
  EXPECT_EQ(failed.attempts, 2);
  EXPECT_EQ(failed.exit_code, 3);
  EXPECT_EQ(results.tasks[task_index(results, "code=0")].status, TaskStatus::done);
  EXPECT_EQ(results.job.status, "failed");
  std::vector<int> workers;
  for (const auto& attempt : results.attempts) {
    if (attempt.task == static_cast<std::int64_t>(task_index(results, "code=3"))) {
      EXPECT_EQ(attempt.status, AttemptStatus::failed);
      EXPECT_EQ(attempt.stderr_tail, "bad things\n");
      workers.push_back(attempt.worker);
    }
  }
  ASSERT_EQ(workers.size(), 2u);
  EXPECT_NE(workers[0], workers[1]) << "the retry should run on the other worker";
}

TEST_F(CliTest, TimeoutsAndMissingProgramsAreRecordedAsFailures) {
  const auto job = write("bad.toml", R"(
[job]
name = "bad"
[task]
command = ["{prog}", "30"]
timeout = "0.3s"
[sweep]
prog = ["sleep", "no-such-program-xyz"]
)");
  auto run = fastgpu({"run", job, "--workers", "2", "-o", "bad.h5", "--kill-grace", "0.5"});
  EXPECT_EQ(run.exit_code, 1) << run.err;
  const auto results = io::read_results(path("bad.h5"));
  const auto* slept = last_attempt(results, task_index(results, "prog=sleep"));
  EXPECT_EQ(slept->status, AttemptStatus::timed_out);
  EXPECT_NE(slept->error.find("timed out"), std::string::npos);
  const auto* missing = last_attempt(results, task_index(results, "prog=no-such-program-xyz"));
  EXPECT_EQ(missing->status, AttemptStatus::spawn_failed);
  EXPECT_EQ(missing->exit_code, 127);
  EXPECT_NE(missing->error.find("no-such-program-xyz"), std::string::npos);
}

TEST_F(CliTest, SubtasksGetTheirIdentityInTheEnvironmentAndRunInTheLaunchDirectory) {
  const auto job = write("env.toml", R"(
[job]
name = "envjob"
[task]
command = ["sh", "-c", "echo $FASTGPU_TASK_ID $FASTGPU_ATTEMPT $FASTGPU_WORKER $FASTGPU_JOB $FASTGPU_OUTPUT_DIR $GREETING; pwd"]
env = { GREETING = "hello-{task_id}" }
[[tasks]]
name = "only"
)");
  auto run = fastgpu({"run", job, "--workers", "1", "-o", "env.h5"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const auto results = io::read_results(path("env.h5"));
  const std::string outputs = std::filesystem::canonical(dir_).string() + "/env.outputs";
  EXPECT_EQ(results.attempts.at(0).stdout_tail,
            "only 0 1 envjob " + outputs + " hello-only\n" + std::filesystem::canonical(dir_).string() + "\n");
  EXPECT_TRUE(std::filesystem::is_directory(path("env.outputs")));
}

TEST_F(CliTest, AMisspeltKeyIsReportedWithFileLineAndColumnAndExitTwo) {
  const auto job = write("typo.toml", "[job]\nname = \"t\"\n[task]\ncommand = [\"true\"]\ngpu = 1\n");
  auto run = fastgpu({"run", job, "--workers", "1"});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find(job + ":5:1: unknown key 'gpu' (did you mean 'gpus'?)"), std::string::npos) << run.err;
  EXPECT_FALSE(std::filesystem::exists(path("t.h5")));
  auto under_mpi = mpi_fastgpu(3, {"run", job});
  EXPECT_EQ(under_mpi.exit_code, 2);
  auto validate = fastgpu({"validate", job});
  EXPECT_EQ(validate.exit_code, 2);
}

TEST_F(CliTest, AnExistingResultsFileIsNeverOverwrittenWithoutForce) {
  const auto job = write("keep.toml", "[job]\nname = \"keep\"\n[task]\ncommand = [\"true\"]\n");
  write("keep.h5", "precious");
  auto run = fastgpu({"run", job, "--workers", "1"});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("already exists"), std::string::npos) << run.err;
  std::ifstream kept(path("keep.h5"));
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(kept), {}), "precious");
  auto under_mpi = mpi_fastgpu(2, {"run", job});
  EXPECT_EQ(under_mpi.exit_code, 2);
  auto forced = fastgpu({"run", job, "--workers", "1", "--force"});
  EXPECT_EQ(forced.exit_code, 0) << forced.err;
  EXPECT_EQ(io::read_results(path("keep.h5")).tasks.size(), 1u);
}

TEST_F(CliTest, QuietLeavesOnlyErrors) {
  const auto job = write("q.toml", "[job]\nname = \"q\"\n[task]\ncommand = [\"true\"]\n");
  auto run = fastgpu({"run", job, "--workers", "1", "--quiet"});
  EXPECT_EQ(run.exit_code, 0);
  EXPECT_EQ(run.out, "");
  EXPECT_EQ(run.err, "");
}

}  // namespace
}  // namespace fastgpu::e2e
