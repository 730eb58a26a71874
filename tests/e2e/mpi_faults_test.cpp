// End-to-end under mpiexec: stop signals sent to mpiexec, and a worker rank killed with SIGKILL.
// What Open MPI does in each case is documented in docs/reliability.md; what FastGPU promises is
// checked here: the results file is complete and consistent, and --resume loses nothing and runs
// nothing twice that was recorded done.
#include <signal.h>

#include <fstream>
#include <string>

#include "e2e/resume_harness.hpp"

namespace fastgpu::e2e {
namespace {

class MpiFaultTest : public ResumeTest {
 protected:
  worker::RunningCommand start_mpi(int ranks) {
    sweep_job(40, kAppendId);
    return start_argv({MPIEXEC_BINARY, "-n", std::to_string(ranks), "--oversubscribe", FASTGPU_BINARY, "run",
                       "job.toml", "-o", "out.h5", "--quiet", "--grace", "5"});
  }

  // Resumes with worker threads and checks every subtask done, those done before exactly once.
  void resume_and_check(const std::set<std::string>& done_before) {
    auto resumed = fastgpu({"run", "job.toml", "-o", "out.h5", "--resume", "--workers", "2", "--quiet"});
    ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
    const auto after = io::read_results(path("out.h5"));
    EXPECT_EQ(done_ids(after).size(), 40u);
    const auto runs = count_ids();
    for (const auto& id : done_before) EXPECT_EQ(runs.at(id), 1) << id << " was done before, yet ran again";
  }

  // The pid of the process that is MPI rank `rank` of a run started here (from its environment).
  int pid_of_rank(int rank) {
    const std::string wanted = "OMPI_COMM_WORLD_RANK=" + std::to_string(rank);
    for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
      const std::string name = entry.path().filename();
      if (name.find_first_not_of("0123456789") != std::string::npos) continue;
      std::ifstream environ(entry.path() / "environ", std::ios::binary);
      std::error_code ec;
      if (std::filesystem::read_symlink(entry.path() / "cwd", ec) != dir_) continue;
      for (std::string var; std::getline(environ, var, '\0');) {
        if (var == wanted) return std::stoi(name);
      }
    }
    return -1;
  }
};

TEST_F(MpiFaultTest, SigusrOneToMpiexecIsForwardedAndTheRunExitsThree) {
  auto run = start_mpi(3);
  ASSERT_TRUE(wait_for_file(run, "out.h5", [](const Results& r) { return done_ids(r).size() >= 4; }));
  ::kill(run.pid(), SIGUSR1);  // mpiexec forwards SIGUSR1 to every rank and returns their exit code
  wait_exit(run);
  EXPECT_EQ(run.result().exit_code, 3) << run.result().stderr_tail;
  const auto stopped = io::read_results(path("out.h5"));
  EXPECT_EQ(stopped.job.status, "stopped");
  for (const auto& attempt : stopped.attempts) {
    EXPECT_TRUE(attempt.status == AttemptStatus::done || attempt.status == AttemptStatus::interrupted)
        << to_string(attempt.status);
  }
  resume_and_check(done_ids(stopped));
}

TEST_F(MpiFaultTest, SigtermToMpiexecStopsTheRunCleanly) {
  auto run = start_mpi(3);
  ASSERT_TRUE(wait_for_file(run, "out.h5", [](const Results& r) { return done_ids(r).size() >= 4; }));
  ::kill(run.pid(), SIGTERM);  // Open MPI signals the ranks, then exits 1 itself (its choice)
  wait_exit(run);
  EXPECT_NE(run.result().exit_code, 0);
  wait_for_writer_to_die();
  const auto stopped = io::read_results(path("out.h5"));
  EXPECT_EQ(stopped.job.status, "stopped") << run.result().stderr_tail;
  for (const auto& attempt : stopped.attempts) {
    EXPECT_TRUE(attempt.status == AttemptStatus::done || attempt.status == AttemptStatus::interrupted)
        << to_string(attempt.status) << ": " << attempt.error;
  }
  resume_and_check(done_ids(stopped));
}

TEST_F(MpiFaultTest, AWorkerRankKilledWithSigkillLosesNothing) {
  auto run = start_mpi(3);
  ASSERT_TRUE(wait_for_file(run, "out.h5", [](const Results& r) { return done_ids(r).size() >= 4; }));
  const int victim = pid_of_rank(1);
  ASSERT_GT(victim, 0);
  ::kill(victim, SIGKILL);
  // Open MPI notices the dead rank and kills the others (rank 0 included): the job ends non-zero.
  wait_exit(run);
  EXPECT_NE(run.result().exit_code, 0);
  wait_for_writer_to_die();
  const auto killed = io::read_results(path("out.h5"));  // rebuilt from the journal if need be
  EXPECT_GE(done_ids(killed).size(), 4u);
  resume_and_check(done_ids(killed));
}

}  // namespace
}  // namespace fastgpu::e2e
