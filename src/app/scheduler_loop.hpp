// Rank 0's event loop: feeds the scheduler what the transport receives, with the time, flushes
// the results file at least once a second, and shuts the workers down at the end.
#pragma once

#include "comm/transport.hpp"
#include "io/results_writer.hpp"
#include "scheduler/scheduler.hpp"

namespace fastgpu::app {

/// Runs until every subtask is done or failed, then sends Shutdown to every worker rank and waits
/// for each one's goodbye. Times are seconds since `job_start_unix`.
void drive_scheduler(comm::Transport& transport, scheduler::Scheduler& scheduler, io::ResultsWriter& writer,
                     double job_start_unix);

}  // namespace fastgpu::app
