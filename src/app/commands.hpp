// The subcommands behind `fastgpu`, callable from the thin main and from tests.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace fastgpu::app {

struct RunOptions {
  std::string job_file;
  std::optional<std::string> output;  ///< -o: overrides [job] output
  bool force = false;                 ///< overwrite an existing results file (with resume: accept a changed job file)
  bool resume = false;                ///< --resume: run only the subtasks the results file does not show done
  bool quiet = false;                 ///< only errors (no progress lines either)
  /// Seconds between plain progress lines when stderr is not a terminal (--progress-interval,
  /// FASTGPU_PROGRESS_INTERVAL); a terminal gets one live line instead.
  double progress_interval_s = 10;
  double telemetry_interval_s = 1;    ///< --telemetry-interval: seconds between device samples (/telemetry); 0 = off
  int workers = 0;                    ///< worker threads without mpirun; 0 = number of visible GPUs, else 1
  /// --share-gpus: more workers than GPUs on a node take the GPUs in turn (worker i: GPU i mod n)
  /// instead of being refused (device::bind_worker).
  bool share_gpus = false;
  int prefetch = 0;                   ///< attempts in flight per worker (0 = the policy's default)
  double kill_grace_s = 5;            ///< SIGTERM -> SIGKILL delay for timed-out subtasks
  double stop_grace_s = 30;           ///< --grace: SIGTERM -> SIGKILL delay for subtasks running at a stop
  /// --deadline: when the run must be over (app/deadline.hpp); empty = Slurm's end if under Slurm,
  /// "none" = no deadline at all.
  std::string deadline;
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
  /// --gpu-hour-price: one price for every worker, instead of the job file's gpu_hour_price and
  /// [job.gpu_hour_prices]
  std::optional<double> gpu_hour_price;
};

/// `fastgpu inspect OUT.h5`: what happened in a run, for people or (with --json) scripts; with
/// --tasks-csv / --gantt it writes those instead of the summary (--json still prints).
int inspect_results(const InspectOptions& options);

/// `fastgpu simulate`: the production scheduler against virtual workers on a virtual clock
/// (docs/simulate.md).
struct SimulateOptions {
  std::string job_file;                ///< a job file, or
  std::string trace;                   ///< --trace FILE (CSV or SWF)
  std::optional<std::string> output;   ///< -o OUT.h5: the results file of the simulated run
  bool force = false;
  bool json = false;
  int workers = 1;
  int gpus_per_node = 8;
  std::string speeds;                  ///< "1,1,0.5" or "10%@0.5"
  std::string policy = "cost";
  double rebalance_interval_s = 0;
  int prefetch = 0;
  std::string speculation = "on";
  std::vector<std::string> slowdowns;  ///< RANK=FACTOR@T
  std::vector<std::string> failures;   ///< RANK@T
  double fail_rate = 0;
  double latency_s = 0;
  std::uint64_t seed = 1;
  // job files
  double cost_unit_s = 1;
  double duration_noise = 0;
  // traces
  std::string format = "auto";
  std::string duration_col, submit_col, gpus_col;
  double time_scale = 1;
  std::size_t limit = 0;
  double sample = 1;
  bool no_arrivals = false;
  std::string multi_gpu = "skip";
  double estimate_noise = 0;
  int retries = 1;
};

/// Returns 0 when every subtask finished, 1 when some failed for good, 4 when it stalled.
int simulate_job(const SimulateOptions& options);

/// `fastgpu plan JOB --history OUT.h5`: how many GPUs to ask for (docs/plan.md).
struct PlanOptions {
  std::string job_file;
  std::string history;                   ///< an earlier run's results file: its /model predicts the subtasks
  std::string deadline;                  ///< --deadline: a duration (2h, 30m, 90s, 5400); empty = none
  int max_gpus = 0;                      ///< 0 = min(subtasks, 64)
  std::optional<double> gpu_hour_price;  ///< overrides the job file's [job] gpu_hour_price
  std::optional<std::string> emit_sbatch;  ///< write slurm/fastgpu.sbatch with the recommended allocation
  std::optional<std::string> output;     ///< -o: the results file of the emitted script's run
  std::string sbatch_template;           ///< empty = slurm/fastgpu.sbatch beside the binary's folder
  int gpus_per_node = 0;                 ///< 0 = the template's #SBATCH --gpus-per-node, else 8
  double margin = 0.25;                  ///< time limit = makespan x (1 + margin, at least 2 min) + signal lead
  double min_efficiency = 0.8;           ///< without a deadline: the fastest allocation at least this efficient
  std::string policy = "cost";
  bool json = false;
  std::string fastgpu_exe;               ///< this binary, for the emitted script's $FASTGPU and the template search
};

/// Prints the table and recommendation; 0 also when no allocation meets the deadline (it says so),
/// 2 for bad usage, a bad job file or a history without a model for the job's subtasks.
int plan_job(const PlanOptions& options);

}  // namespace fastgpu::app
