// `fastgpu run --resume`: what an earlier run's results file contributes to the next run.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <vector>

#include "fastgpu/results.hpp"

namespace fastgpu::app {

struct ResumePlan {
  JobInfo old_job;
  std::vector<TaskRecord> records;          ///< one per subtask of the new run, in its order
  std::vector<std::int32_t> next_attempts;  ///< the first attempt number each subtask gets now
  std::vector<AttemptRecord> attempts;      ///< earlier attempts, task indices of the new run
  std::vector<WorkerRecord> workers;
  std::vector<EventRecord> events;          ///< earlier events, task indices of the new run
  std::vector<TelemetrySample> telemetry;   ///< earlier device samples, kept as they were
  std::vector<ReductionValue> reductions;   ///< what earlier runs combined; this run adds to them
  std::map<std::uint32_t, std::string> checkpoints;  ///< by task: the state its next attempt restores
  std::size_t done = 0, kept = 0, dropped = 0;
};

/// Matches the earlier run's subtasks to `fresh` (the new run's initial rows) by id and params:
/// a match keeps its attempts and events; a done match stays done. Attempts in flight when the
/// earlier run ended (a `running` row, or a subtask running in /tasks with no attempt row for
/// its last attempt) become `interrupted`.
ResumePlan plan_resume(const Results& old, const std::vector<TaskRecord>& fresh);

/// Writes the plan's workers, attempts, events and telemetry into `sink` (the new file's writer).
void replay(const ResumePlan& plan, ResultsSink& sink);

/// The temporary name the resumed file is built under, in the same directory (same filesystem,
/// so the final rename is atomic).
std::filesystem::path resume_temp_path(const std::filesystem::path& output);

}  // namespace fastgpu::app
