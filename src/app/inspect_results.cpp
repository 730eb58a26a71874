// `fastgpu inspect OUT.h5`: a terminal summary of a run, or all of it as JSON for scripts; a CSV
// table of the subtasks (--tasks-csv) and an SVG timeline (--gantt).
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>

#include <nlohmann/json.hpp>

#include "app/commands.hpp"
#include "app/cost_report.hpp"
#include "app/exit_codes.hpp"
#include "app/gantt_svg.hpp"
#include "app/progress_line.hpp"
#include "app/run_report.hpp"
#include "app/run_statistics.hpp"
#include "app/tasks_csv.hpp"
#include "fastgpu/job_spec.hpp"
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

nlohmann::json optional_json(const std::optional<double>& value) {
  return value ? number(*value) : nlohmann::json(nullptr);
}

const WorkerTelemetry* telemetry_of(const RunStatistics& stats, std::int32_t rank) {
  for (const auto& w : stats.telemetry.workers) {
    if (w.rank == rank) return &w;
  }
  return nullptr;
}

nlohmann::json telemetry_json(const WorkerTelemetry* w) {
  if (w == nullptr) return nullptr;
  return {{"samples", w->samples},
          {"mean_gpu_util", optional_json(w->mean_gpu_util)},
          {"mean_cpu_util", optional_json(w->mean_cpu_util)},
          {"peak_mem_used_bytes", optional_json(w->peak_mem_used_bytes)},
          {"peak_rss_bytes", optional_json(w->peak_rss_bytes)},
          {"mean_power_w", optional_json(w->mean_power_w)},
          {"energy_j", optional_json(w->energy_j)}};
}

nlohmann::json reductions_json(const std::vector<ReductionValue>& reductions) {
  nlohmann::json out = nlohmann::json::array();
  for (const ReductionValue& r : reductions) {
    nlohmann::json values = nlohmann::json::array();
    for (double v : r.result()) values.push_back(std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr));
    out.push_back({{"name", r.name}, {"op", r.op}, {"values", values}, {"contributions", r.contributions},
                   {"weight", r.op == "mean" ? nlohmann::json(r.weight) : nlohmann::json(nullptr)}});
  }
  return out;
}

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
                       {"pci_bus_id", usage.worker.pci_bus_id},
                       {"numa_node", usage.worker.numa_node},
                       {"cpu_set", usage.worker.cpu_set},
                       {"attempts", usage.attempts},
                       {"busy_s", usage.busy_s},
                       {"busy_fraction", usage.busy_fraction},
                       {"speed", usage.speed},
                       {"telemetry", telemetry_json(telemetry_of(stats, usage.worker.rank))}});
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
                          {"duration_s", number(a.end - a.start)},
                          {"predicted_s", number(a.predicted_s)},
                          {"migrated", a.migrated},
                          {"error", a.error},
                          {"stderr_tail", a.stderr_tail}};
  };
  nlohmann::json attempt_counts = nlohmann::json::object();
  for (std::size_t slot = 0; slot < stats.attempt_counts.size(); ++slot) {
    attempt_counts[to_string(static_cast<AttemptStatus>(slot))] = stats.attempt_counts[slot];
  }
  nlohmann::json causes = nlohmann::json::array();
  for (const auto& cause : stats.failure_causes) {
    nlohmann::json examples = nlohmann::json::array();
    for (auto task : cause.examples) examples.push_back(results.tasks[task].id);
    causes.push_back({{"error", cause.error}, {"subtasks", cause.subtasks}, {"examples", examples}});
  }
  auto optional_number = [](const std::optional<double>& value) {
    return value ? number(*value) : nlohmann::json(nullptr);
  };
  const auto& e = stats.efficiency;
  const auto& r = stats.remaining;
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
          {"attempt_counts", attempt_counts},
          {"makespan_s", stats.makespan_s},
          {"efficiency",
           {{"lower_bound_s", e.lower_bound_s},
            {"efficiency", e.efficiency},
            {"total_work_s", e.total_work_s},
            {"longest_work_s", e.longest_work_s},
            {"speed_sum", e.speed_sum},
            {"fastest_speed", e.fastest_speed},
            {"speeds_from", e.speeds_from}}},
          {"mean_busy_fraction", stats.mean_busy_fraction},
          {"workers", workers},
          {"slowest", slowest},
          {"failures", failures},
          {"failure_causes", causes},
          {"scheduling",
           {{"migrations", stats.migrate_events},
            {"migrated_attempts", stats.migrated_attempts},
            {"speculative_copies", stats.speculative_copies},
            {"speculation_won", stats.speculation_won},
            {"superseded_attempts", stats.attempt_counts[static_cast<std::size_t>(AttemptStatus::superseded)]}}},
          {"remaining",
           {{"subtasks", r.subtasks},
            {"pending", r.pending},
            {"running", r.running},
            {"failed", r.failed},
            {"cancelled", r.cancelled},
            {"predicted_work_s", optional_number(r.predicted_work_s)},
            {"predicted_wall_s", optional_number(r.predicted_wall_s)},
            {"basis", r.basis}}},
          {"cost", cost_json(stats.cost)},
          {"telemetry",
           {{"samples", stats.telemetry.samples},
            {"energy_j", optional_json(stats.telemetry.energy_j)},
            {"energy_per_done_subtask_j", optional_json(stats.telemetry.energy_per_done_subtask_j)},
            {"done_subtasks_measured", stats.telemetry.done_subtasks_measured},
            {"task_class", stats.telemetry.task_class}}},
          {"reductions", reductions_json(results.reductions)},
          {"tasks", tasks}};
}

std::string plural(std::size_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

std::string bytes_text(double bytes) {
  if (bytes >= 1024.0 * 1024 * 1024) return format("%.1f GiB", bytes / (1024.0 * 1024 * 1024));
  if (bytes >= 1024.0 * 1024) return format("%.0f MiB", bytes / (1024.0 * 1024));
  return format("%.0f KiB", bytes / 1024);
}

std::string energy_text(double joules) {
  std::string text = joules >= 1e6 ? format("%.2f MJ", joules / 1e6)
                     : joules >= 1e3 ? format("%.2f kJ", joules / 1e3)
                                     : format("%.1f J", joules);
  if (joules >= 36e3) text += " (" + format("%.2f kWh", joules / 3.6e6) + ")";
  return text;
}

// ", GPU 85% (peak 12.1 GiB, 250 W, 1.20 kJ)" or ", CPU 97% (RSS 34 MiB)"; "" without samples.
std::string worker_telemetry_text(const WorkerTelemetry* w) {
  if (w == nullptr) return "";
  std::string text;
  if (w->mean_gpu_util) {
    text = ", GPU " + format("%.0f%%", *w->mean_gpu_util);
    std::string parts;
    auto part = [&](const std::string& p) { parts += (parts.empty() ? "" : ", ") + p; };
    if (w->peak_mem_used_bytes) part("peak " + bytes_text(*w->peak_mem_used_bytes));
    if (w->mean_power_w) part(format("%.0f W", *w->mean_power_w));
    if (w->energy_j) part(energy_text(*w->energy_j));
    if (!parts.empty()) text += " (" + parts + ")";
  } else if (w->mean_cpu_util) {
    text = ", CPU " + format("%.0f%%", *w->mean_cpu_util);
    if (w->peak_rss_bytes) text += " (RSS " + bytes_text(*w->peak_rss_bytes) + ")";
  }
  return text;
}

std::string seconds_text(double s) {
  std::string text = format("%.3f s", s);
  if (s >= 60) text += " (" + format_short_duration(s) + ")";
  return text;
}

void print_text(std::ostream& out, const Results& results, const RunStatistics& stats, const std::string& file) {
  out << "job '" << results.job.name << "' (" << file << "): " << results.job.status << ", started "
      << results.job.started << (results.job.finished.empty() ? "" : ", finished " + results.job.finished) << "\n";
  out << "subtasks: " << results.tasks.size();
  for (auto status : kStatuses) {
    if (auto n = stats.task_counts[static_cast<std::size_t>(status)]) out << ", " << n << " " << to_string(status);
  }
  out << "; attempts: " << stats.attempts;
  {
    std::string by_status;
    for (std::size_t slot = 0; slot < stats.attempt_counts.size(); ++slot) {
      if (stats.attempt_counts[slot] == 0) continue;
      by_status += (by_status.empty() ? "" : ", ") + std::to_string(stats.attempt_counts[slot]) + " " +
                   to_string(static_cast<AttemptStatus>(slot));
    }
    if (!by_status.empty()) out << " (" << by_status << ")";
  }
  out << "\n";
  out << "makespan: " << seconds_text(stats.makespan_s) << ", first attempt start to last attempt end\n";
  const auto& e = stats.efficiency;
  if (e.lower_bound_s > 0 && stats.makespan_s > 0) {
    out << "efficiency: " << format("%.0f%%", 100 * e.efficiency) << ": no schedule could beat "
        << seconds_text(e.lower_bound_s) << " on these workers\n"
        << "            (work " << format("%.3f s", e.total_work_s) << " over summed worker speed "
        << format("%.2f", e.speed_sum) << ", longest subtask " << format("%.3f s", e.longest_work_s) << "; speeds "
        << (e.speeds_from == "model" ? "from the cost model" : "taken as equal") << ")\n";
  }
  bool any_gpu = false;
  for (const auto& usage : stats.workers) any_gpu = any_gpu || usage.worker.device.rfind("cuda", 0) == 0;
  const bool gpu_unit = any_gpu || stats.workers.empty();
  print_cost(out, stats.cost, gpu_unit);
  out << "scheduling: " << plural(stats.migrate_events, "migration", "migrations") << ", "
      << plural(stats.speculative_copies, "speculative copy", "speculative copies");
  if (stats.speculative_copies > 0) {
    out << " (" << stats.speculation_won << " finished first; "
        << plural(stats.attempt_counts[static_cast<std::size_t>(AttemptStatus::superseded)], "attempt", "attempts")
        << " superseded)";
  }
  out << "\n";
  const auto& t = stats.telemetry;
  if (t.samples == 0) {
    out << "telemetry: none recorded (run --telemetry-interval SEC; 0 turns it off)\n";
  } else {
    out << "telemetry: " << plural(t.samples, "sample", "samples") << " from "
        << plural(t.workers.size(), "worker", "workers");
    if (t.energy_j) {
      out << "; GPU energy " << energy_text(*t.energy_j);
      if (t.energy_per_done_subtask_j) {
        out << ", " << energy_text(*t.energy_per_done_subtask_j) << " per done " << t.task_class << " subtask";
      }
    } else {
      out << " (CPU use only: no GPU power measured)";
    }
    // With --workers N the worker threads share one process, so each reports all of its CPU use.
    if (results.job.transport == "threads" && t.workers.size() > 1) out << "; CPU figures are the whole process";
    out << "\n";
  }
  for (const ReductionValue& r : results.reductions) {
    // Full precision: a reduction is a result users quote (pi to 1e-6 needs more than 6 digits).
    const std::vector<double> values = r.result();
    out << "reduction " << r.name << " (" << r.op << " of " << plural(r.contributions, "attempt", "attempts") << "): ";
    constexpr std::size_t kShown = 4;
    for (std::size_t i = 0; i < std::min(values.size(), kShown); ++i) out << (i ? ", " : "") << format("%.12g", values[i]);
    if (values.size() > kShown) out << ", ... (" << values.size() << " values)";
    out << "\n";
  }
  const auto& r = stats.remaining;
  if (r.subtasks > 0) {
    out << "remaining: " << plural(r.subtasks, "subtask", "subtasks") << " not done (";
    std::string parts;
    auto part = [&](std::size_t n, const char* what) {
      if (n) parts += (parts.empty() ? "" : ", ") + std::to_string(n) + " " + what;
    };
    part(r.pending, "pending");
    part(r.running, "running");
    part(r.failed, "failed");
    part(r.cancelled, "cancelled");
    out << parts << ")";
    if (r.predicted_work_s) {
      out << ", predicted " << seconds_text(*r.predicted_work_s) << " of work";
      if (r.predicted_wall_s) {
        out << ", about " << seconds_text(*r.predicted_wall_s) << " on "
            << plural(stats.workers.size(), "worker", "workers");
      }
      out << (r.basis == "model" ? " (cost model)" : " (mean seconds per cost of the done subtasks)");
    }
    out << "\n";
    if (results.job.status != "done") out << "  fastgpu run JOB.toml -o " << file << " --resume runs them\n";
  }
  out << "\nworkers:\n";
  for (const auto& usage : stats.workers) {
    out << "  rank " << usage.worker.rank << "  " << usage.worker.host << "  " << usage.worker.device
        << (usage.worker.gpu_name.empty() ? "" : " (" + usage.worker.gpu_name + ")") << "  " << usage.attempts
        << " attempts, busy " << format("%.3f s", usage.busy_s) << " ("
        << format("%.0f%%", 100 * usage.busy_fraction) << ")";
    if (e.speeds_from == "model") out << ", speed " << format("%.2f", usage.speed);
    out << worker_telemetry_text(telemetry_of(stats, usage.worker.rank)) << "\n";
  }
  if (!stats.slowest.empty()) {
    out << "\nslowest attempts:\n";
    for (auto row : stats.slowest) {
      const auto& a = results.attempts[row];
      out << "  " << format("%9.3f s", a.end - a.start) << "  " << results.tasks[static_cast<std::size_t>(a.task)].id
          << " (attempt " << a.attempt << ", rank " << a.worker << ", " << to_string(a.status);
      if (!std::isnan(a.predicted_s) && a.predicted_s > 0) out << ", predicted " << format("%.3f s", a.predicted_s);
      out << ")\n";
    }
  }
  if (!stats.failure_causes.empty()) {
    out << "\nfailures by cause:\n";
    for (const auto& cause : stats.failure_causes) {
      out << "  " << format("%5.0f", static_cast<double>(cause.subtasks)) << "  "
          << (cause.error.empty() ? "(no error recorded)" : cause.error) << "  e.g.";
      for (auto task : cause.examples) out << " " << results.tasks[task].id;
      out << "\n";
    }
  }
  if (!stats.failures.empty()) {
    out << "\nfailed subtasks:\n";
    constexpr std::size_t kShown = 20;
    for (std::size_t i = 0; i < stats.failures.size() && i < kShown; ++i) {
      const auto& a = results.attempts[stats.failures[i]];
      const auto& task = results.tasks[static_cast<std::size_t>(a.task)];
      const bool says_code = a.error.rfind("exit code", 0) == 0;
      out << "  " << task.id << ": " << a.error << (says_code ? "" : ", exit code " + std::to_string(a.exit_code))
          << ", " << plural(static_cast<std::size_t>(std::max(task.attempts, 0)), "attempt", "attempts")
          << ", last on rank " << a.worker << "\n";
      if (!a.stderr_tail.empty()) out << "    stderr:\n" << last_lines(a.stderr_tail, 5, "      ");
    }
    if (stats.failures.size() > kShown) {
      out << "  ... and " << stats.failures.size() - kShown << " more (all of them: --json or --tasks-csv)\n";
    }
  }
}

// The job file stored in /job: its kernel (the task class in /model) and GPU prices; a spec that
// does not parse (an older or damaged file) leaves the defaults. --gpu-hour-price replaces all of
// the job file's prices with one.
StatisticsInputs statistics_inputs(const Results& results, const std::optional<CostModelSnapshot>& model,
                                   const InspectOptions& options) {
  StatisticsInputs inputs;
  if (model) inputs.model = &*model;
  try {
    const JobSpec job = parse_job(results.job.spec, results.job.source_path.empty() ? "job" : results.job.source_path);
    if (!job.task.kernel.empty()) inputs.task_class = job.task.kernel;
    inputs.prices = {job.gpu_hour_price, job.gpu_hour_prices, ""};
  } catch (const std::exception&) {
  }
  if (options.gpu_hour_price) {
    inputs.prices = {options.gpu_hour_price, {}, "option"};
  } else if (inputs.prices.default_price || !inputs.prices.models.empty()) {
    inputs.prices.from = "job file";
  }
  return inputs;
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
    const auto model = io::read_model(options.results_file);
    const RunStatistics stats = compute_statistics(results, statistics_inputs(results, model, options));
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
