// Everything rank 0 checks before any rank starts work: the job file, its subtasks, the output.
#pragma once

#include <filesystem>
#include <optional>
#include <vector>

#include "app/commands.hpp"
#include "app/deadline.hpp"
#include "fastgpu/cost_model.hpp"
#include "fastgpu/job_spec.hpp"
#include "fastgpu/results.hpp"

namespace fastgpu::app {

struct PreparedJob {
  JobSpec job;  ///< output and output_dir resolved (output_dir absolute)
  std::vector<Subtask> subtasks;
  std::filesystem::path output;
  std::optional<CostModelSnapshot> history;  ///< from --history
  std::optional<Results> previous;           ///< --resume: the results file as the earlier run left it
  std::optional<Deadline> deadline;          ///< --deadline, or the Slurm allocation's end
};

/// Loads and expands the job, resolves -o and {output_dir}, refuses an existing results file
/// unless --force or --resume. With --resume reads that file (missing, foreign or damaged: a
/// UsageError) and refuses it if it records a different job file text, unless --force. Resolves
/// the deadline (a bad --deadline is a UsageError before anything starts). Throws
/// JobFileError / UsageError (exit 2).
PreparedJob prepare_job(const RunOptions& options);

/// The /job attributes of a run starting now.
JobInfo make_job_info(const PreparedJob& prepared, double started_unix, const std::string& transport);

/// Seconds since the epoch, now; and the same instant as ISO 8601 UTC text.
double unix_now();
std::string iso_time(double unix_seconds);

}  // namespace fastgpu::app
