// End-to-end: stopping (signals), no orphans, and exact resume (`fastgpu run --resume`).
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "e2e/resume_harness.hpp"

namespace fastgpu::e2e {

// kill -9 of the whole run at random moments, resumed each time: a subtask recorded done never
// runs again, none is lost, and the file always opens. Each cycle waits for a random number of
// further subtasks to start (watching ids.txt, not the clock) before the kill.
void ResumeTest::kill_and_resume_repeatedly(const std::vector<std::string>& launcher,
                                            const std::vector<std::string>& options) {
  constexpr int kSubtasks = 40;
  const auto job = sweep_job(kSubtasks, R"(["sh", "-c", "echo $FASTGPU_TASK_ID >> ids.txt; sleep 0.05"])");
  const unsigned seed = std::random_device{}();
  std::mt19937 random(seed);
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::map<std::string, int> runs_when_done;  // id -> its runs when a kill found it recorded done
  for (int cycle = 0; cycle < 5; ++cycle) {
    auto run = start_argv(run_argv(launcher, options, cycle > 0 ? std::vector<std::string>{"--resume"}
                                                                : std::vector<std::string>{}));
    const std::size_t kill_at = runs_so_far() + std::uniform_int_distribution<std::size_t>(1, 10)(random);
    const auto give_up = Clock::now() + std::chrono::seconds(60);
    while (!run.poll(std::chrono::milliseconds(5)) && Clock::now() < give_up) {
      if (runs_so_far() >= kill_at) break;
    }
    if (run.finished()) {  // it got to the end first: nothing left to kill
      ASSERT_EQ(run.result().exit_code, 0) << run.result().stderr_tail;
      break;
    }
    ::kill(-run.pid(), SIGKILL);
    wait_exit(run);
    wait_for_writer_to_die();
    const auto killed = io::read_results(path("out.h5"));  // always opens
    const auto ran = count_ids();
    for (const auto& id : done_ids(killed)) runs_when_done.emplace(id, ran.at(id));
  }
  auto last = start_argv(run_argv(launcher, options, {"--resume"}));
  wait_exit(last);
  ASSERT_EQ(last.result().exit_code, 0) << last.result().stderr_tail;
  const auto after = io::read_results(path("out.h5"));
  EXPECT_EQ(after.job.status, "done");
  EXPECT_EQ(done_ids(after).size(), static_cast<std::size_t>(kSubtasks));
  const auto lines = count_ids();
  for (const auto& task : after.tasks) EXPECT_TRUE(lines.count(task.id)) << task.id << " never ran";
  for (const auto& [id, runs] : runs_when_done) {
    EXPECT_EQ(lines.at(id), runs) << id << " was recorded done, yet ran again";
  }
}

// A deadline shorter than the work: exit 3 with every started attempt finished in time (none
// was started that the model predicted would not fit, so none is killed), then resume completes.
void ResumeTest::deadline_then_resume(const std::vector<std::string>& launcher, const std::vector<std::string>& options) {
  write("job.toml", R"([job]
name = "deadline"
[task]
command = ["sh", "-c", "echo $FASTGPU_TASK_ID >> ids.txt; sleep 0.3"]
cost = 0.3
[sweep]
i = { range = [0, 16] }
)");
  auto with = [&](const std::vector<std::string>& extra) { return exec(run_argv(launcher, options, extra)); };
  const auto stopped_run = with({"--deadline", "2.5", "--grace", "0.2"});
  ASSERT_EQ(stopped_run.exit_code, 3) << stopped_run.err;
  EXPECT_NE(stopped_run.err.find("deadline"), std::string::npos) << stopped_run.err;
  const auto stopped = io::read_results(path("out.h5"));
  EXPECT_EQ(stopped.job.status, "stopped");
  EXPECT_LT(done_ids(stopped).size(), 16u);
  for (const auto& attempt : stopped.attempts) {
    EXPECT_EQ(attempt.status, AttemptStatus::done) << stopped.tasks[attempt.task].id << ": " << attempt.error;
  }
  EXPECT_TRUE(std::any_of(stopped.events.begin(), stopped.events.end(),
                          [](const EventRecord& e) { return e.kind == "deadline"; }));

  const auto resumed = with({"--resume", "--deadline", "none"});
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  const auto after = io::read_results(path("out.h5"));
  EXPECT_EQ(done_ids(after).size(), 16u);
  for (const auto& [id, runs] : count_ids()) EXPECT_EQ(runs, 1) << id;
}

namespace {

TEST_F(ResumeTest, AKilledRunResumesExactlyTheSubtasksNotDone) {
  const auto job = sweep_job(30, kAppendId);
  auto run = start({"run", job, "--workers", "3", "-o", "out.h5", "--quiet"});
  ASSERT_TRUE(wait_for_file(run, "out.h5", [](const Results& r) { return done_ids(r).size() >= 6; }))
      << run.result().stderr_tail;
  ::kill(-run.pid(), SIGKILL);  // the whole run: no chance to flush or say goodbye
  wait_exit(run);
  const auto before = io::read_results(path("out.h5"));
  EXPECT_EQ(before.job.status, "killed");  // rebuilt from the journal it left
  const auto done_before = done_ids(before);
  ASSERT_LT(done_before.size(), 30u);

  auto resumed = fastgpu({"run", job, "--workers", "3", "-o", "out.h5", "--resume", "--quiet"});
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  const auto after = io::read_results(path("out.h5"));
  EXPECT_EQ(after.job.status, "done");
  EXPECT_EQ(done_ids(after).size(), 30u);
  EXPECT_FALSE(std::filesystem::exists(path("out.h5.resume-tmp")));

  const auto lines = count_lines(path("ids.txt"));
  std::map<std::int64_t, int> done_attempts;
  for (const auto& attempt : after.attempts) done_attempts[attempt.task] += attempt.status == AttemptStatus::done;
  for (std::size_t t = 0; t < after.tasks.size(); ++t) {
    const auto& id = after.tasks[t].id;
    EXPECT_GE(lines.count(id) ? lines.at(id) : 0, 1) << id << " never ran";
    EXPECT_EQ(done_attempts[static_cast<std::int64_t>(t)], 1) << id;
    if (done_before.count(id)) EXPECT_EQ(lines.at(id), 1) << id << " was done before the kill, yet ran again";
  }
  // Attempt numbers go on after the earlier run's: no (task, attempt) pair twice.
  std::set<std::pair<std::int64_t, std::int32_t>> numbers;
  for (const auto& attempt : after.attempts) {
    EXPECT_TRUE(numbers.emplace(attempt.task, attempt.attempt).second) << after.tasks[attempt.task].id;
  }
}


TEST_F(ResumeTest, KilledAgainAndAgainAtRandomMomentsLosesNothingAndRedoesNothing) {
  kill_and_resume_repeatedly({FASTGPU_BINARY}, {"--workers", "3"});
}

TEST_F(ResumeTest, KilledAgainAndAgainUnderMpiexecLosesNothingAndRedoesNothing) {
  kill_and_resume_repeatedly({MPIEXEC_BINARY, "-n", "3", "--oversubscribe", FASTGPU_BINARY}, {});
}


TEST_F(ResumeTest, ADeadlineShorterThanTheWorkStopsWithExitThreeAndResumeFinishes) {
  deadline_then_resume({FASTGPU_BINARY}, {"--workers", "2"});
}

TEST_F(ResumeTest, ABadDeadlineIsAUsageErrorBeforeAnythingStarts) {
  sweep_job(2, R"(["true"])");
  for (const char* bad : {"soon", "-5m", "2025-13-45T99:99"}) {
    const auto run = fastgpu({"run", "job.toml", "-o", "out.h5", "--workers", "2", "--deadline", bad});
    EXPECT_EQ(run.exit_code, 2) << bad << ": " << run.err;
    EXPECT_NE(run.err.find("--deadline"), std::string::npos) << run.err;
    EXPECT_FALSE(std::filesystem::exists(path("out.h5"))) << bad;
  }
  const auto under_mpi = mpi_fastgpu(3, {"run", "job.toml", "-o", "out.h5", "--deadline", "soon"});
  EXPECT_EQ(under_mpi.exit_code, 2) << under_mpi.err;
  EXPECT_FALSE(std::filesystem::exists(path("out.h5")));
}

TEST_F(ResumeTest, AnOutputDirThatCannotBeCreatedIsAUsageError) {
  // {output_dir} under a plain file cannot be created.
  write("afile", "");
  write("job.toml", "[job]\nname = \"od\"\noutput_dir = \"afile/sub\"\n[task]\ncommand = [\"true\"]\n"
                    "[sweep]\ni = [1, 2]\n");
  const auto run = fastgpu({"run", "job.toml", "-o", "out.h5", "--workers", "2"});  // the harness times out at 120 s
  EXPECT_EQ(run.exit_code, 2) << "checked before anything starts";
  EXPECT_NE(run.err.find("cannot create output_dir"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("afile"), std::string::npos) << run.err;
  EXPECT_FALSE(std::filesystem::exists(path("out.h5")));
  const auto under_mpi = mpi_fastgpu(3, {"run", "job.toml", "-o", "out.h5"});
  EXPECT_EQ(under_mpi.exit_code, 2) << under_mpi.err;
  EXPECT_FALSE(std::filesystem::exists(path("out.h5")));
}

TEST_F(ResumeTest, ADeadlineUnderMpiexec) {
  deadline_then_resume({MPIEXEC_BINARY, "-n", "3", "--oversubscribe", FASTGPU_BINARY}, {});
}

TEST_F(ResumeTest, SigtermStopsWithExitThreeAndResumeFinishes) {
  const auto job = sweep_job(24, kAppendId);
  auto run = start({"run", job, "--workers", "2", "-o", "out.h5", "--grace", "5", "--quiet"});
  ASSERT_TRUE(wait_for_file(run, "out.h5", [](const Results& r) { return done_ids(r).size() >= 4; }));
  const auto signalled = Clock::now();
  ::kill(run.pid(), SIGTERM);  // the process only, as mpirun/srun forward it to each rank
  wait_exit(run);
  EXPECT_LT(Clock::now() - signalled, std::chrono::seconds(5));
  EXPECT_EQ(run.result().exit_code, 3) << run.result().stderr_tail;
  const auto stopped = io::read_results(path("out.h5"));
  EXPECT_EQ(stopped.job.status, "stopped");
  EXPECT_LT(done_ids(stopped).size(), 24u);
  for (const auto& task : stopped.tasks) EXPECT_NE(task.status, TaskStatus::running) << task.id;
  for (const auto& attempt : stopped.attempts) {
    EXPECT_TRUE(attempt.status == AttemptStatus::done || attempt.status == AttemptStatus::interrupted)
        << to_string(attempt.status);
  }

  auto resumed = fastgpu({"run", job, "--workers", "2", "-o", "out.h5", "--resume", "--quiet"});
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  const auto after = io::read_results(path("out.h5"));
  EXPECT_EQ(after.job.status, "done");
  EXPECT_EQ(done_ids(after).size(), 24u);
  for (const auto& id : done_ids(stopped)) EXPECT_EQ(count_lines(path("ids.txt")).at(id), 1) << id;
}

TEST_F(ResumeTest, ASubtaskIgnoringSigtermIsKilledAfterTheGrace) {
  const auto job = write("job.toml", R"(
[job]
name = "stubborn"
[task]
command = ["sh", "-c", "trap '' TERM; echo started; sleep 600.0311"]
[[tasks]]
name = "only"
)");
  auto run = start({"run", job, "--workers", "1", "-o", "out.h5", "--grace", "1", "--quiet"});
  ASSERT_TRUE(wait_for_file(run, "out.h5", [](const Results& r) {
    return !r.tasks.empty() && r.tasks[0].status == TaskStatus::running;
  }));
  const auto signalled = Clock::now();
  ::kill(run.pid(), SIGTERM);
  wait_exit(run);
  EXPECT_LT(Clock::now() - signalled, std::chrono::seconds(10));
  EXPECT_EQ(run.result().exit_code, 3) << run.result().stderr_tail;
  const auto stopped = io::read_results(path("out.h5"));
  ASSERT_EQ(stopped.attempts.size(), 1u);
  EXPECT_EQ(stopped.attempts[0].status, AttemptStatus::interrupted);
  EXPECT_EQ(stopped.tasks[0].status, TaskStatus::pending);
  EXPECT_NE(exec({"pgrep", "-f", "sleep 600.0311"}).exit_code, 0);
}

TEST_F(ResumeTest, AKilledWorkerTakesItsSubtasksWithIt) {
  const auto job = write("job.toml", R"(
[job]
name = "orphans"
[task]
command = ["sh", "-c", "sleep 600.0529 & sleep 600.0529"]
[[tasks]]
name = "only"
)");
  auto run = start({"run", job, "--workers", "1", "-o", "out.h5", "--quiet"});
  ASSERT_TRUE(wait_for_file(run, "out.h5", [](const Results& r) {
    return !r.tasks.empty() && r.tasks[0].status == TaskStatus::running;
  }));
  ::kill(-run.pid(), SIGKILL);
  wait_exit(run);
  // The guard sees its worker gone and kills the subtask's group: wait for that, with a limit.
  const auto give_up = Clock::now() + std::chrono::seconds(20);
  int pgrep = 0;
  while ((pgrep = exec({"pgrep", "-f", "sleep 600.0529"}).exit_code) == 0 && Clock::now() < give_up) {
  }
  EXPECT_NE(pgrep, 0) << "the subtask outlived its killed worker";
  if (pgrep == 0) exec({"pkill", "-f", "sleep 600.0529"});
}

TEST_F(ResumeTest, AChangedJobFileIsRefusedUnlessForced) {
  const auto job = sweep_job(3, R"(["true"])");
  ASSERT_EQ(fastgpu({"run", job, "-o", "out.h5", "--quiet"}).exit_code, 0);
  const auto size = std::filesystem::file_size(path("out.h5"));
  const auto mtime = std::filesystem::last_write_time(path("out.h5"));
  sweep_job(5, R"(["true"])");  // two more subtasks

  auto refused = fastgpu({"run", job, "-o", "out.h5", "--resume"});
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_NE(refused.err.find("changed"), std::string::npos) << refused.err;
  EXPECT_EQ(std::filesystem::file_size(path("out.h5")), size);
  EXPECT_EQ(std::filesystem::last_write_time(path("out.h5")), mtime);

  auto plain = fastgpu({"run", job, "-o", "out.h5"});  // neither --resume nor --force
  EXPECT_EQ(plain.exit_code, 2);
  EXPECT_EQ(std::filesystem::last_write_time(path("out.h5")), mtime);

  auto forced = fastgpu({"run", job, "-o", "out.h5", "--resume", "--force", "--quiet"});
  ASSERT_EQ(forced.exit_code, 0) << forced.err;
  const auto after = io::read_results(path("out.h5"));
  EXPECT_EQ(done_ids(after).size(), 5u);
  EXPECT_EQ(after.attempts.size(), 5u);  // 3 kept, only the 2 new ones ran
}

TEST_F(ResumeTest, ResumeNeedsAResultsFile) {
  const auto job = sweep_job(2, R"(["true"])");
  write("junk.h5", "not HDF5 at all\n");
  auto junk = fastgpu({"run", job, "-o", "junk.h5", "--resume"});
  EXPECT_EQ(junk.exit_code, 2);
  EXPECT_NE(junk.err.find("cannot resume"), std::string::npos) << junk.err;
  auto missing = fastgpu({"run", job, "-o", "missing.h5", "--resume"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("does not exist"), std::string::npos) << missing.err;
  EXPECT_FALSE(std::filesystem::exists(path("missing.h5")));
}

TEST_F(ResumeTest, ResumeUnderMpi) {
  const auto job = sweep_job(6, R"(["true"])");
  ASSERT_EQ(fastgpu({"run", job, "-o", "out.h5", "--quiet"}).exit_code, 0);
  auto again = mpi_fastgpu(3, {"run", job, "-o", "out.h5", "--resume", "--quiet"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  const auto after = io::read_results(path("out.h5"));
  EXPECT_EQ(done_ids(after).size(), 6u);
  EXPECT_EQ(after.attempts.size(), 6u);  // nothing ran twice
}

}  // namespace
}  // namespace fastgpu::e2e
