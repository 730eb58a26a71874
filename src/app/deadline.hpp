// When a run must be over: `--deadline` (a duration from now or an absolute time), or, under
// Slurm, the allocation's end (SLURM_JOB_END_TIME, else `squeue -h -j $SLURM_JOB_ID -o %e`).
#pragma once

#include <functional>
#include <optional>
#include <string>

namespace fastgpu::app {

struct Deadline {
  double unix_time = 0;  ///< seconds since the epoch
  std::string source;    ///< where it came from, for messages: "--deadline 2h", "SLURM_JOB_END_TIME", ...
};

/**
 * @brief Parses a --deadline value at time @p now_unix: a duration (parse_duration's forms: "90",
 * "30m", "1h30m", Slurm's "2:00:00") counts from now; "2026-11-27T20:00[:SS]" is local time (as
 * Slurm prints it), with a trailing "Z" UTC; "@1764270000" is seconds since the epoch. Throws
 * fastgpu::UsageError naming the forms.
 */
double parse_deadline(const std::string& text, double now_unix);

/// Reads the environment (getenv by default; tests pass their own).
using EnvLookup = std::function<const char*(const char*)>;
/// Runs `squeue -h -j JOB -o %e` and returns its output, or nullopt if it could not run.
using SqueueQuery = std::function<std::optional<std::string>(const std::string& job_id)>;

/**
 * @brief The run's deadline: @p option when given ("none" turns Slurm's off); else, under Slurm,
 * SLURM_JOB_END_TIME, else squeue's end time for SLURM_JOB_ID; else none. An unusable Slurm value
 * is no deadline, with a warning in @p warning. Throws fastgpu::UsageError for a bad @p option.
 */
std::optional<Deadline> resolve_deadline(const std::string& option, double now_unix, const EnvLookup& env,
                                         const SqueueQuery& squeue, std::string* warning);

/// The real squeue, spawned from an argv array with a 10 s limit.
std::optional<std::string> run_squeue(const std::string& job_id);

/**
 * @brief When to stop so that everything is over by the deadline: the running subtasks get
 * @p grace_s between SIGTERM and SIGKILL, and recording and shutting down get one more second.
 */
double stop_time(const Deadline& deadline, double grace_s);

}  // namespace fastgpu::app
