// The subcommands behind `fastgpu`, callable from the thin main and from tests.
#pragma once

#include <optional>
#include <string>

namespace fastgpu::app {

struct RunOptions {
  std::string job_file;
  std::optional<std::string> output;  ///< -o: overrides [job] output
  bool force = false;                 ///< overwrite an existing results file (with resume: accept a changed job file)
  bool resume = false;                ///< --resume: run only the subtasks the results file does not show done
  bool quiet = false;                 ///< only errors
  int workers = 0;                    ///< worker threads without mpirun; 0 = number of visible GPUs, else 1
  int prefetch = 0;                   ///< attempts in flight per worker (0 = the policy's default)
  double kill_grace_s = 5;            ///< SIGTERM -> SIGKILL delay for timed-out subtasks
  double stop_grace_s = 30;           ///< --grace: SIGTERM -> SIGKILL delay for subtasks running at a stop
  std::string policy = "cost";        ///< cost, greedy or static
  double rebalance_interval_s = 0;    ///< 0 = adaptive
  /// Speculative copies of the last subtasks (cost policy): "auto" (for kernel subtasks only: a
  /// command may write files a second copy would clobber), "on" or "off".
  std::string speculation = "auto";
  std::optional<std::string> history; ///< an earlier run's results file whose /model seeds the cost model
  /// A program that runs `PROGRAM guard-children` as worker::run_child_guard() (the fastgpu binary
  /// sets itself): each worker process starts one so its subtasks die with it. Empty: no guard.
  std::string child_guard_exe;
};

/// `fastgpu run`: under mpirun (more than one rank) rank 0 schedules and the others work;
/// otherwise `workers` threads work in this process. Returns the exit code.
int run_job(const RunOptions& options);

/// `fastgpu validate JOB`: checks the file and prints what it would run.
int validate_job(const std::string& job_file);

struct InspectOptions {
  std::string results_file;
  bool json = false;
  std::optional<std::string> tasks_csv;  ///< --tasks-csv FILE ("-": stdout): one row per subtask
  std::optional<std::string> gantt;      ///< --gantt FILE.svg ("-": stdout): timeline of the attempts
  int gantt_width = 1400;                ///< --gantt-width: pixels
};

/// `fastgpu inspect OUT.h5`: what happened in a run, for people or (with --json) scripts; with
/// --tasks-csv / --gantt it writes those instead of the summary (--json still prints).
int inspect_results(const InspectOptions& options);

}  // namespace fastgpu::app
