// What `fastgpu run` prints: one start line and a final summary (failures with their stderr).
#pragma once

#include <iosfwd>
#include <string>

#include "app/prepared_job.hpp"
#include "scheduler/scheduler.hpp"

namespace fastgpu::app {

void print_start_line(std::ostream& out, const PreparedJob& prepared, int workers, const std::string& transport);

/// Prints the summary; returns the exit code the run ends with (0 all done, 1 some failed).
int print_summary(std::ostream& out, std::ostream& err, const PreparedJob& prepared,
                  const scheduler::Scheduler& scheduler, double elapsed_s, bool quiet);

/// The last `lines` lines of `text`, each indented by `indent`.
std::string last_lines(const std::string& text, std::size_t lines, const std::string& indent);

}  // namespace fastgpu::app
