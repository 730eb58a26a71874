// What `fastgpu simulate` runs: subtasks with their true work (seconds on a speed-1 worker) and
// arrival times, from a job file, a workload trace (Philly-style CSV, SWF) or a synthetic
// distribution (benchmarks).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fastgpu/job_spec.hpp"

namespace fastgpu::sim {

struct Workload {
  JobSpec job;                    ///< what the scheduler renders launches from (output_dir set)
  std::vector<Subtask> subtasks;  ///< in arrival order for traces; `cost` is the scheduler's estimate
  std::vector<double> work;       ///< true seconds of each subtask on a speed-1 worker
  std::vector<double> arrival;    ///< seconds since start when each subtask is submitted (0: at start)
  std::string source;             ///< "job file X" / "trace X (philly csv)" / "synthetic ..."
  std::size_t rows = 0;           ///< trace rows read (valid or not)
  std::size_t skipped_invalid = 0;    ///< no/negative duration, no GPU, unparsable
  std::size_t skipped_multi_gpu = 0;  ///< --multi-gpu skip
  std::size_t multi_gpu_on_one = 0;   ///< --multi-gpu one / gpu-time: run on one GPU
  std::vector<std::string> notes;     ///< said in the summary

  bool has_arrivals() const;
};

struct JobWorkloadOptions {
  double cost_unit_s = 1;     ///< a command subtask's true seconds = cost x this (x noise)
  double duration_noise = 0;  ///< lognormal sigma of true / estimated (0 = the estimate is exact)
  std::uint64_t seed = 1;
};

/// A job file: durations are a sleep/spin kernel's `seconds`, else `cost` x cost_unit_s; the
/// scheduler's estimate is the job's `cost` as in a real run. Throws JobFileError.
Workload load_job_workload(const std::string& path, const JobWorkloadOptions& options);

enum class MultiGpu { skip, gang, one, gpu_time };
/// "skip", "gang", "one", "gpu-time"; throws UsageError.
MultiGpu parse_multi_gpu(const std::string& text);

struct TraceOptions {
  std::string format = "auto";  ///< auto (by extension), csv, swf
  /// CSV: column names (a duration may be END-START, two column names); SWF: 1-based field
  /// numbers. Empty = the format's default (CSV: guessed from the header).
  std::string duration_col, submit_col, gpus_col;
  double time_scale = 1;       ///< multiplies durations and submit times
  std::size_t limit = 0;       ///< keep the first N subtasks by submit time (0 = all; skipped jobs do not count)
  double sample = 1;           ///< keep each job with this probability (seeded), before the limit
  bool arrivals = true;        ///< false: every job is there at time 0
  MultiGpu multi_gpu = MultiGpu::skip;
  double estimate_noise = 0;   ///< lognormal sigma of the scheduler's estimate (`cost`) vs the true duration
  int retries = 1;             ///< per subtask, for injected failures
  std::uint64_t seed = 1;
};

/// Reads a trace. Throws UsageError naming the file and line for a bad header or option.
Workload load_trace_workload(const std::string& path, const TraceOptions& options);

/// `count` subtasks with lognormal(0, sigma) durations scaled to mean `mean_s`; estimates off by
/// lognormal(0, estimate_noise). For benchmarks; no arrivals.
Workload synthetic_workload(std::size_t count, double mean_s, double sigma, double estimate_noise, std::uint64_t seed);

/// Turns one timestamp into seconds: a number, or "YYYY-MM-DD HH:MM:SS" (also with 'T'), UTC.
/// False when it is neither.
bool parse_timestamp(const std::string& text, double& seconds);

}  // namespace fastgpu::sim
