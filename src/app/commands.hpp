// The subcommands behind `fastgpu`, callable from the thin main and from tests.
#pragma once

#include <optional>
#include <string>

namespace fastgpu::app {

struct RunOptions {
  std::string job_file;
  std::optional<std::string> output;  ///< -o: overrides [job] output
  bool force = false;                 ///< overwrite an existing results file
  bool quiet = false;                 ///< only errors
  int workers = 0;                    ///< worker threads without mpirun; 0 = number of visible GPUs, else 1
  int prefetch = 2;                   ///< attempts in flight per worker
  double kill_grace_s = 5;            ///< SIGTERM -> SIGKILL delay for timed-out subtasks
};

/// `fastgpu run`: under mpirun (more than one rank) rank 0 schedules and the others work;
/// otherwise `workers` threads work in this process. Returns the exit code.
int run_job(const RunOptions& options);

/// `fastgpu validate JOB`: checks the file and prints what it would run.
int validate_job(const std::string& job_file);

struct InspectOptions {
  std::string results_file;
  bool json = false;
};

/// `fastgpu inspect OUT.h5`: what happened in a run, for people or (with --json) scripts.
int inspect_results(const InspectOptions& options);

}  // namespace fastgpu::app
