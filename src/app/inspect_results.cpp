// `fastgpu inspect OUT.h5`: a terminal summary of a run, or all of it as JSON for scripts; a CSV
// table of the subtasks (--tasks-csv) and an SVG timeline (--gantt).
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>

#include <nlohmann/json.hpp>

#include "app/commands.hpp"
#include "app/exit_codes.hpp"
#include "app/gantt_svg.hpp"
#include "app/run_report.hpp"
#include "app/run_statistics.hpp"
#include "app/tasks_csv.hpp"
#include "io/results_reader.hpp"

namespace fastgpu::app {
namespace {

constexpr TaskStatus kStatuses[] = {TaskStatus::pending, TaskStatus::running, TaskStatus::done, TaskStatus::failed,
                                    TaskStatus::cancelled};

std::string format(const char* pattern, double value) {
  char text[64];
  std::snprintf(text, sizeof text, pattern, value);
  return text;
}

// JSON has no NaN: unset times become null.
nlohmann::json number(double value) { return std::isnan(value) ? nlohmann::json(nullptr) : nlohmann::json(value); }

nlohmann::json to_json(const Results& results, const RunStatistics& stats) {
  nlohmann::json counts = nlohmann::json::object();
  for (auto status : kStatuses) counts[to_string(status)] = stats.task_counts[static_cast<std::size_t>(status)];
  nlohmann::json workers = nlohmann::json::array();
  for (const auto& usage : stats.workers) {
    workers.push_back({{"rank", usage.worker.rank},
                       {"host", usage.worker.host},
                       {"local_rank", usage.worker.local_rank},
                       {"device", usage.worker.device},
                       {"gpu_name", usage.worker.gpu_name},
                       {"attempts", usage.attempts},
                       {"busy_s", usage.busy_s},
                       {"busy_fraction", usage.busy_fraction}});
  }
  auto attempt_json = [&](std::size_t row) {
    const auto& a = results.attempts[row];
    return nlohmann::json{{"task", results.tasks.at(static_cast<std::size_t>(a.task)).id},
                          {"attempt", a.attempt},
                          {"worker", a.worker},
                          {"status", to_string(a.status)},
                          {"exit_code", a.exit_code},
                          {"start", number(a.start)},
                          {"end", number(a.end)},
                          {"error", a.error},
                          {"stderr_tail", a.stderr_tail}};
  };
  nlohmann::json slowest = nlohmann::json::array(), failures = nlohmann::json::array();
  for (auto row : stats.slowest) slowest.push_back(attempt_json(row));
  for (auto row : stats.failures) failures.push_back(attempt_json(row));
  nlohmann::json tasks = nlohmann::json::array();
  for (const auto& t : results.tasks) {
    tasks.push_back({{"id", t.id},
                     {"name", t.name},
                     {"params", nlohmann::json::parse(t.params, nullptr, false)},
                     {"status", to_string(t.status)},
                     {"attempts", t.attempts},
                     {"worker", t.worker},
                     {"start", number(t.start)},
                     {"end", number(t.end)},
                     {"exit_code", t.exit_code}});
  }
  return {{"job",
           {{"name", results.job.name},
            {"status", results.job.status},
            {"started", results.job.started},
            {"finished", results.job.finished},
            {"transport", results.job.transport},
            {"fastgpu_version", results.job.fastgpu_version},
            {"output_dir", results.job.output_dir}}},
          {"counts", counts},
          {"subtasks", results.tasks.size()},
          {"attempts", stats.attempts},
          {"makespan_s", stats.makespan_s},
          {"workers", workers},
          {"slowest", slowest},
          {"failures", failures},
          {"tasks", tasks}};
}

void print_text(std::ostream& out, const Results& results, const RunStatistics& stats, const std::string& file) {
  out << "job '" << results.job.name << "' (" << file << "): " << results.job.status << ", started "
      << results.job.started << (results.job.finished.empty() ? "" : ", finished " + results.job.finished) << "\n";
  out << "subtasks: " << results.tasks.size();
  for (auto status : kStatuses) {
    if (auto n = stats.task_counts[static_cast<std::size_t>(status)]) out << ", " << n << " " << to_string(status);
  }
  out << "; attempts: " << stats.attempts << "\n";
  out << "makespan: " << format("%.3f s", stats.makespan_s) << "\n\nworkers:\n";
  for (const auto& usage : stats.workers) {
    out << "  rank " << usage.worker.rank << "  " << usage.worker.host << "  " << usage.worker.device
        << (usage.worker.gpu_name.empty() ? "" : " (" + usage.worker.gpu_name + ")") << "  " << usage.attempts
        << " attempts, busy " << format("%.3f s", usage.busy_s) << " ("
        << format("%.0f%%", 100 * usage.busy_fraction) << ")\n";
  }
  if (!stats.slowest.empty()) {
    out << "\nslowest attempts:\n";
    for (auto row : stats.slowest) {
      const auto& a = results.attempts[row];
      out << "  " << format("%9.3f s", a.end - a.start) << "  " << results.tasks[static_cast<std::size_t>(a.task)].id
          << " (attempt " << a.attempt << ", rank " << a.worker << ")\n";
    }
  }
  if (!stats.failures.empty()) {
    out << "\nfailed subtasks:\n";
    for (auto row : stats.failures) {
      const auto& a = results.attempts[row];
      const auto& task = results.tasks[static_cast<std::size_t>(a.task)];
      out << "  " << task.id << ": " << a.error << ", exit code " << a.exit_code << ", " << task.attempts
          << " attempts, last on rank " << a.worker << "\n";
      if (!a.stderr_tail.empty()) out << "    stderr:\n" << last_lines(a.stderr_tail, 5, "      ");
    }
  }
}

// Writes to `target` ("-": stdout) through `write`; throws UsageError when it cannot.
void write_output(const std::string& target, const std::function<void(std::ostream&)>& write) {
  if (target == "-") {
    write(std::cout);
    std::cout.flush();
    return;
  }
  std::ofstream file(target, std::ios::binary | std::ios::trunc);
  if (!file) throw UsageError("cannot write '" + target + "': " + std::strerror(errno));
  write(file);
  file.close();
  if (!file) throw UsageError("cannot write '" + target + "': " + std::strerror(errno));
}

}  // namespace

int inspect_results(const InspectOptions& options) {
  try {
    const int to_stdout = (options.json ? 1 : 0) + (options.tasks_csv == "-" ? 1 : 0) + (options.gantt == "-" ? 1 : 0);
    if (to_stdout > 1) throw UsageError("only one of --json, --tasks-csv -, --gantt - can write to stdout");
    if (options.gantt_width < 400 || options.gantt_width > 20000) {
      throw UsageError("--gantt-width must be between 400 and 20000 pixels");
    }
    const Results results = io::read_results(options.results_file);
    const RunStatistics stats = compute_statistics(results);
    // What was written goes to stdout unless stdout carries data.
    std::ostream& note = to_stdout ? std::cerr : std::cout;
    if (options.tasks_csv) {
      const TasksTable table = tasks_table(results);
      write_output(*options.tasks_csv, [&](std::ostream& out) { write_csv(out, table); });
      if (*options.tasks_csv != "-") {
        note << "wrote " << *options.tasks_csv << ": " << results.tasks.size() << " subtasks, "
             << table.parameter_columns << " parameter and " << table.metric_columns << " metric columns"
             << std::endl;
      }
    }
    if (options.gantt) {
      GanttOptions gantt;
      gantt.width = options.gantt_width;
      GanttLayout layout;
      const std::string svg = render_gantt_svg(results, gantt, &layout);
      write_output(*options.gantt, [&](std::ostream& out) { out << svg; });
      if (*options.gantt != "-") {
        std::size_t bars = 0;
        for (const auto& lane : layout.lanes) bars += lane.bars.size();
        note << "wrote " << *options.gantt << ": " << layout.lanes.size() << " workers, " << results.attempts.size()
             << " attempts (" << bars << " drawn as bars, " << layout.aggregated_attempts << " summed in columns), "
             << format("%.1f KiB", static_cast<double>(svg.size()) / 1024) << std::endl;
      }
    }
    if (options.json) {
      std::cout << to_json(results, stats).dump(2) << std::endl;
    } else if (!options.tasks_csv && !options.gantt) {
      print_text(std::cout, results, stats, options.results_file);
    }
    return kExitOk;
  } catch (const Error& e) {
    std::cerr << "fastgpu: error: " << e.what() << std::endl;
    return kExitUsage;
  }
}

}  // namespace fastgpu::app
