// End-to-end: a run killed with SIGKILL leaves a results file that still opens and shows what
// was done, because rank 0 flushes it at least once a second.
#include <signal.h>

#include <chrono>

#include "e2e/cli_harness.hpp"
#include "io/results_reader.hpp"

namespace fastgpu::e2e {
namespace {

std::size_t done_tasks(const Results& results) {
  std::size_t done = 0;
  for (const auto& task : results.tasks) done += task.status == TaskStatus::done;
  return done;
}

TEST_F(CliTest, AKilledRunLeavesAReadableFileWithTheFinishedSubtasks) {
  const auto job = write("long.toml", R"(
[job]
name = "long"
[task]
command = ["sleep", "{seconds}"]
[sweep]
seconds = [0, 0.01, 0.02, 600.0417]
)");
  worker::CommandOptions options;
  options.kill_grace_s = 0;
  auto run = worker::RunningCommand::start({{FASTGPU_BINARY, "run", job, "--workers", "1", "-o", "long.h5"}, {}, dir_},
                                           options);
  // Wait (by watching the file, not the clock) until the three short subtasks are recorded.
  std::size_t done = 0;
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (done < 3 && std::chrono::steady_clock::now() < give_up && !run.finished()) {
    run.poll(std::chrono::milliseconds(100));
    try {
      done = done_tasks(io::read_results(path("long.h5")));
    } catch (const Error&) {
      // not created yet, or caught mid-flush: look again
    }
  }
  ASSERT_FALSE(run.finished()) << run.result().stderr_tail;
  ASSERT_EQ(done, 3u);
  ::kill(-run.pid(), SIGKILL);
  while (!run.poll(std::chrono::milliseconds(100))) {
  }
  // The long subtask has its own process group and outlives a SIGKILLed worker (tying its life
  // to the worker's is the job of the signal-handling work); don't leave it behind.
  exec({"pkill", "-f", "sleep 600.0417"});

  const auto results = io::read_results(path("long.h5"));
  EXPECT_EQ(results.job.status, "killed");  // rebuilt from the journal it left
  EXPECT_EQ(done_tasks(results), 3u);
  EXPECT_EQ(results.tasks.size(), 4u);
  auto h5dump = exec({"h5dump", "-d", "/tasks", "long.h5"});
  EXPECT_EQ(h5dump.exit_code, 0) << h5dump.err;
}

}  // namespace
}  // namespace fastgpu::e2e
