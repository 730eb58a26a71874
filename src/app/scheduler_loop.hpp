// Rank 0's event loop: feeds the scheduler what the transport receives, with the time, flushes
// the results file at least once a second, and shuts the workers down at the end.
#pragma once

#include <functional>
#include <optional>
#include <vector>

#include "comm/transport.hpp"
#include "io/results_writer.hpp"
#include "scheduler/scheduler.hpp"

namespace fastgpu::app {

enum class DriveOutcome {
  finished,  ///< every subtask done or failed; every worker said goodbye
  stopped,   ///< a stop was requested; the workers stopped their attempts and said goodbye
  abandoned, ///< a second stop request: returned at once, workers may still be running
  deadline,  ///< stopped at `stop_at` (the deadline less the grace period), like `stopped`
};

/// Runs until every subtask is done or failed, then sends Shutdown to every worker rank and waits
/// for each one's goodbye. Times are seconds since `job_start_unix`. `stop_requests` (may be
/// empty) is polled at least every 100 ms: 1 stops the run (no new subtasks, Shutdown to the
/// workers, wait for their goodbyes), 2 or more returns at once. `on_step` (may be empty) is
/// called with the time after every step (at least every 100 ms): the progress line. At `stop_at`
/// (seconds since job start, if set) the run stops as at a stop request. The job's reductions,
/// combined by the workers at Shutdown, are appended to `reductions` (when given).
DriveOutcome drive_scheduler(comm::Transport& transport, scheduler::Scheduler& scheduler, io::ResultsWriter& writer,
                             double job_start_unix, const std::function<int()>& stop_requests = {},
                             const std::function<void(double now)>& on_step = {},
                             std::optional<double> stop_at = std::nullopt,
                             std::vector<ReductionValue>* reductions = nullptr);

}  // namespace fastgpu::app
