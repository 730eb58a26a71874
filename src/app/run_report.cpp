#include "app/run_report.hpp"

#include <iomanip>
#include <ostream>
#include <sstream>

#include "app/exit_codes.hpp"

namespace fastgpu::app {

void print_start_line(std::ostream& out, const PreparedJob& prepared, int workers, const std::string& transport) {
  out << "fastgpu: job '" << prepared.job.name << "': " << prepared.subtasks.size() << " subtasks on " << workers
      << " worker" << (workers == 1 ? "" : "s") << " (" << transport << ") -> " << prepared.output.string()
      << std::endl;
}

std::string last_lines(const std::string& text, std::size_t lines, const std::string& indent) {
  std::size_t end = text.size();
  while (end > 0 && text[end - 1] == '\n') --end;
  std::size_t begin = end;
  for (std::size_t seen = 0; begin > 0; --begin) {
    if (text[begin - 1] == '\n' && ++seen == lines) break;
  }
  std::ostringstream out;
  std::istringstream in(text.substr(begin, end - begin));
  for (std::string line; std::getline(in, line);) out << indent << line << '\n';
  return out.str();
}

int print_summary(std::ostream& out, std::ostream& err, const PreparedJob& prepared,
                  const scheduler::Scheduler& scheduler, double elapsed_s, bool quiet) {
  const auto counts = scheduler.counts();
  if (!quiet) {
    out << "fastgpu: finished in " << std::fixed << std::setprecision(2) << elapsed_s << " s: " << counts.done
        << " done, " << counts.failed << " failed (of " << prepared.subtasks.size() << "); results in "
        << prepared.output.string() << "\n"
        << "         see: fastgpu inspect " << prepared.output.string() << std::endl;
  }
  if (counts.failed == 0) return kExitOk;

  err << "fastgpu: " << counts.failed << " subtask" << (counts.failed == 1 ? "" : "s") << " failed:\n";
  constexpr std::size_t kShown = 20;
  const auto& failures = scheduler.failures();
  for (std::size_t i = 0; i < failures.size() && i < kShown; ++i) {
    const TaskRecord& task = scheduler.tasks()[failures[i].task];
    const bool says_code = failures[i].error.rfind("exit code", 0) == 0;
    err << "  " << task.id << ": " << failures[i].error
        << (says_code ? "" : " (exit code " + std::to_string(task.exit_code) + ")") << " after " << task.attempts
        << " attempt" << (task.attempts == 1 ? "" : "s") << "\n";
    if (!failures[i].stderr_tail.empty()) err << "    stderr:\n" << last_lines(failures[i].stderr_tail, 5, "      ");
  }
  if (failures.size() > kShown) err << "  ... and " << failures.size() - kShown << " more\n";
  err << "  (stderr tails and every attempt: fastgpu inspect " << prepared.output.string() << ")" << std::endl;
  return kExitTasksFailed;
}

}  // namespace fastgpu::app
