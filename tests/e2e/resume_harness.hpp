// The fixture of the stop/kill/resume end-to-end tests: runs started without waiting, results
// files and id logs watched (never the clock alone).
#pragma once

#include <signal.h>

#include <chrono>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "e2e/cli_harness.hpp"
#include "io/journal.hpp"
#include "io/results_reader.hpp"

namespace fastgpu::e2e {

using Clock = std::chrono::steady_clock;

inline std::set<std::string> done_ids(const Results& results) {
  std::set<std::string> ids;
  for (const auto& task : results.tasks) {
    if (task.status == TaskStatus::done) ids.insert(task.id);
  }
  return ids;
}

// Lines of a file, counted.
inline std::map<std::string, int> count_lines(const std::filesystem::path& path) {
  std::map<std::string, int> counts;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) ++counts[line];
  }
  return counts;
}

class ResumeTest : public CliTest {
 protected:
  // Starts `fastgpu ARGS...` in its own process group, without waiting.
  worker::RunningCommand start(std::vector<std::string> args) {
    args.insert(args.begin(), FASTGPU_BINARY);
    return start_argv(args);
  }
  // Starts ARGV (a full command line) in its own process group, without waiting.
  worker::RunningCommand start_argv(const std::vector<std::string>& argv) {
    worker::CommandOptions options;
    options.kill_grace_s = 0;
    options.tail_bytes = 1 << 20;
    return worker::RunningCommand::start({argv, {}, dir_.string()}, options);
  }
  std::map<std::string, int> count_ids() { return count_lines(path("ids.txt")); }
  /// Subtask runs so far, all ids together (lines of ids.txt).
  std::size_t runs_so_far() {
    std::size_t runs = 0;
    for (const auto& [id, n] : count_ids()) runs += static_cast<std::size_t>(n);
    return runs;
  }
  /// LAUNCHER... run job.toml -o out.h5 --quiet OPTIONS... EXTRA...
  static std::vector<std::string> run_argv(const std::vector<std::string>& launcher,
                                           const std::vector<std::string>& options,
                                           const std::vector<std::string>& extra) {
    std::vector<std::string> args = launcher;
    for (const char* arg : {"run", "job.toml", "-o", "out.h5", "--quiet"}) args.emplace_back(arg);
    args.insert(args.end(), options.begin(), options.end());
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }
  // After kill -9 of mpiexec, its ranks die a moment later (Open MPI notices its daemon gone);
  // until rank 0 is gone it holds the journal's lock, and --resume rightly refuses to start.
  void wait_for_writer_to_die() {
    const auto give_up = Clock::now() + std::chrono::seconds(60);
    while (io::journal_state(path("out.h5")) == io::JournalState::live && Clock::now() < give_up) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ASSERT_NE(io::journal_state(path("out.h5")), io::JournalState::live) << "rank 0 outlived the kill";
  }
  void kill_and_resume_repeatedly(const std::vector<std::string>& launcher, const std::vector<std::string>& options);
  void deadline_then_resume(const std::vector<std::string>& launcher, const std::vector<std::string>& options);

  // Polls the results file (never the clock alone) until `enough` says so; false on timeout or exit.
  template <typename Pred>
  bool wait_for_file(worker::RunningCommand& run, const std::string& file, Pred enough) {
    const auto give_up = Clock::now() + std::chrono::seconds(60);
    while (Clock::now() < give_up && !run.finished()) {
      run.poll(std::chrono::milliseconds(50));
      try {
        if (enough(io::read_results(path(file)))) return true;
      } catch (const Error&) {
        // not created yet, or caught mid-flush: look again
      }
    }
    return false;
  }

  void wait_exit(worker::RunningCommand& run) {
    const auto give_up = Clock::now() + std::chrono::seconds(60);
    while (!run.poll(std::chrono::milliseconds(50)) && Clock::now() < give_up) {
    }
    ASSERT_TRUE(run.finished());
  }

  std::string sweep_job(int n, const std::string& command) {
    return write("job.toml", "[job]\nname = \"r\"\n[task]\ncommand = " + command + "\n[sweep]\ni = { range = [0, " +
                                 std::to_string(n) + "] }\n");
  }
};

/// Each subtask appends its id to ids.txt: how often each ran, whatever the results file says.
inline const std::string kAppendId = R"(["sh", "-c", "echo $FASTGPU_TASK_ID >> ids.txt; sleep 0.2"])";

}  // namespace fastgpu::e2e
