// `fastgpu plan JOB.toml --history OUT.h5`: predicts every subtask's time from the cost model an
// earlier run learned (/model), simulates the job with the production scheduler on 1..max GPUs,
// prints makespan, GPU-hours, cost and efficiency for each, recommends an allocation and, with
// --emit-sbatch, writes slurm/fastgpu.sbatch with it (docs/plan.md).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "app/commands.hpp"
#include "app/exit_codes.hpp"
#include "app/plan.hpp"
#include "app/progress_line.hpp"
#include "fastgpu/error.hpp"
#include "fastgpu/job_spec.hpp"
#include "io/results_reader.hpp"
#include "scheduler/scheduler.hpp"
#include "sim/simulator.hpp"
#include "sim/workload.hpp"

namespace fastgpu::app {

namespace {

namespace fs = std::filesystem;
using plan::PlanRow;

std::string printf_text(const char* format, double value) {
  char text[64];
  std::snprintf(text, sizeof text, format, value);
  return text;
}

std::string hours_text(double hours) { return printf_text(hours < 100 ? "%.4g" : "%.1f", hours); }
std::string money_text(double money) { return printf_text(money < 1 ? "%.3g" : money < 100 ? "%.2f" : "%.0f", money); }

double median(std::vector<double> values) {
  if (values.empty()) return 1;
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

/// What the history says one subtask of the job's class takes on a typical GPU.
struct DurationModel {
  CostClassParams line;
  double factor = 1;      ///< median speed factor of the history's workers
  double sigma_log = 0;   ///< median spread of their predictions
  int workers = 0;        ///< history workers behind the factor
  double seconds(double cost) const { return std::max(0.0, line.intercept_s + line.seconds_per_cost * cost) * factor; }
};

DurationModel duration_model(const CostModelSnapshot& model, const std::string& task_class, const std::string& history) {
  DurationModel out;
  const auto found = std::find_if(model.classes.begin(), model.classes.end(),
                                  [&](const CostClassParams& c) { return c.task_class == task_class; });
  if (found == model.classes.end()) {
    std::string known;
    for (const auto& c : model.classes) known += (known.empty() ? "" : ", ") + c.task_class;
    throw UsageError("the cost model in '" + history + "' has no class '" + task_class + "' (it has: " +
                     (known.empty() ? "none" : known) + "); plan needs an earlier run of the same kind of subtask");
  }
  if (found->samples <= 0) {
    throw UsageError("the cost model in '" + history + "' has learned nothing about '" + task_class +
                     "' (0 samples): no finished attempt of that class was recorded");
  }
  out.line = *found;
  std::vector<double> factors, sigmas;
  for (const auto& w : model.workers) {
    if (w.samples <= 0 || !(w.speed_factor > 0)) continue;
    factors.push_back(w.speed_factor);
    sigmas.push_back(w.sigma_log);
  }
  out.workers = static_cast<int>(factors.size());
  out.factor = factors.empty() ? 1 : median(factors);
  out.sigma_log = sigmas.empty() ? 0 : median(sigmas);
  return out;
}

// Where slurm/fastgpu.sbatch is: --sbatch-template, $FASTGPU_SBATCH_TEMPLATE, beside the binary's
// folder (build/fastgpu -> slurm/), an installed share/fastgpu/, the current directory.
fs::path find_template(const std::string& option, const std::string& exe) {
  if (!option.empty()) {
    if (!fs::is_regular_file(option)) throw UsageError("--sbatch-template '" + option + "': no such file");
    return option;
  }
  if (const char* env = std::getenv("FASTGPU_SBATCH_TEMPLATE"); env && *env) {
    if (!fs::is_regular_file(env)) throw UsageError("FASTGPU_SBATCH_TEMPLATE '" + std::string(env) + "': no such file");
    return env;
  }
  std::vector<fs::path> candidates;
  if (!exe.empty()) {
    const fs::path dir = fs::path(exe).parent_path();
    candidates.push_back(dir / ".." / "slurm" / "fastgpu.sbatch");
    candidates.push_back(dir / ".." / "share" / "fastgpu" / "fastgpu.sbatch");
  }
  candidates.push_back(fs::path("slurm") / "fastgpu.sbatch");
  std::string tried;
  for (const auto& c : candidates) {
    if (fs::is_regular_file(c)) return fs::weakly_canonical(c);
    tried += (tried.empty() ? "" : ", ") + c.lexically_normal().string();
  }
  throw UsageError("cannot find the sbatch template slurm/fastgpu.sbatch (tried " + tried +
                   "); name it with --sbatch-template FILE");
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  if (!in) throw UsageError("cannot read '" + path.string() + "'");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The results file the emitted script's run writes: -o, else the job's output; a file that
// exists already (the earlier run's) would be refused by `run`, so then OUT.planned.h5 (or -2, -3...).
std::string planned_output(const PlanOptions& options, const JobSpec& job) {
  if (options.output) return fs::absolute(*options.output).lexically_normal().string();
  fs::path out = fs::absolute(job.output).lexically_normal();
  if (!fs::exists(out)) return out.string();
  const fs::path stem = out.parent_path() / out.stem();
  for (int k = 1;; ++k) {
    fs::path candidate = stem.string() + (k == 1 ? ".planned" : ".planned-" + std::to_string(k)) + out.extension().string();
    if (!fs::exists(candidate)) return candidate.string();
  }
}

std::string counts_text(const std::vector<PlanRow>& rows, int max_gpus, int min_gpus) {
  const auto sampled = plan::sampled_counts(max_gpus, min_gpus);
  const bool every = sampled.size() == static_cast<std::size_t>(max_gpus - min_gpus + 1);
  std::string text = every ? "every count from " + std::to_string(min_gpus) + " to " + std::to_string(max_gpus)
                           : std::to_string(min_gpus) + "-16 GPUs, then sampled:";
  if (!every) {
    for (int n : sampled) {
      if (n > 16) text += " " + std::to_string(n);
    }
  }
  std::string bisected;
  for (const auto& row : rows) {
    if (row.bisected) bisected += (bisected.empty() ? "" : ", ") + std::to_string(row.gpus);
  }
  if (!bisected.empty()) text += "; bisected for the deadline: " + bisected;
  return text;
}

int plan_job_impl(const PlanOptions& options) {
  if (options.job_file.empty()) throw UsageError("no job file given");
  if (options.history.empty()) throw UsageError("--history OUT.h5 is required: the results file of an earlier run");
  if (!fs::exists(options.history)) throw UsageError("--history '" + options.history + "': no such file");
  std::optional<double> deadline_s;
  if (!options.deadline.empty()) {
    try {
      deadline_s = parse_duration(options.deadline);
    } catch (const std::invalid_argument& e) {
      throw UsageError(std::string("--deadline: ") + e.what());
    }
    if (!(*deadline_s > 0)) throw UsageError("--deadline must be a positive duration");
  }

  std::optional<CostModelSnapshot> model;
  try {
    model = io::read_model(options.history);
  } catch (const Error& e) {
    throw UsageError(std::string("--history: ") + e.what());
  }
  if (!model) throw UsageError("'" + options.history + "' has no /model (a results file of an older fastgpu?)");

  sim::Workload workload = sim::load_job_workload(options.job_file, {});
  if (workload.subtasks.empty()) throw UsageError("the job has no subtasks");
  const JobSpec job = workload.job;
  const std::string task_class = job.task.kernel.empty() ? "command" : job.task.kernel;
  const DurationModel durations = duration_model(*model, task_class, options.history);
  // GPU-seconds: a multi-GPU subtask holds its `gpus` GPUs for its whole duration.
  double total_work = 0, longest = 0;
  int widest = 1, all_gpus = 0;
  for (std::size_t i = 0; i < workload.subtasks.size(); ++i) {
    const int gpus = std::max(1, workload.subtasks[i].gpus);
    workload.work[i] = durations.seconds(workload.subtasks[i].cost);
    total_work += gpus * workload.work[i];
    longest = std::max(longest, workload.work[i]);
    widest = std::max(widest, gpus);
    all_gpus += gpus;
  }
  // The simulated scheduler knows the class's line, as a run with --history does; the workers of
  // the new allocation are other GPUs, so their speeds start unknown.
  CostModelSnapshot classes_only;
  classes_only.classes = model->classes;

  const int subtasks = static_cast<int>(workload.subtasks.size());
  // Every subtask running at once needs `all_gpus` GPUs: more cannot help.
  std::vector<std::string> notes;
  int max_gpus = options.max_gpus > 0 ? options.max_gpus : std::min(all_gpus, 64);
  if (max_gpus > all_gpus) {
    notes.push_back("--max-gpus " + std::to_string(max_gpus) + " lowered to " + std::to_string(all_gpus) +
                    ": more GPUs than the subtasks use all at once cannot help");
    max_gpus = all_gpus;
  }
  if (max_gpus < widest) {
    throw UsageError("--max-gpus " + std::to_string(max_gpus) + " is fewer than the widest subtask's gpus = " +
                     std::to_string(widest) + ": no allocation up to it can run the job");
  }
  if (widest > 1) {
    notes.push_back("from " + std::to_string(widest) + " GPUs up: the widest subtask has gpus = " +
                    std::to_string(widest));
  }
  // The simulated GPUs are of no model, so a price per model cannot apply: the default does.
  const std::optional<double> price = options.gpu_hour_price ? options.gpu_hour_price : job.gpu_hour_price;
  if (!options.gpu_hour_price && !job.gpu_hour_prices.empty()) {
    notes.push_back(std::string("[job.gpu_hour_prices] not used: the simulated GPUs have no model, so ") +
                    (price ? "costs are at [job] gpu_hour_price" : "there is no cost column") +
                    "; --gpu-hour-price PRICE prices the GPUs you plan for");
  }

  fs::path template_path;
  std::string template_text;
  if (options.emit_sbatch) {
    template_path = find_template(options.sbatch_template, options.fastgpu_exe);
    template_text = read_text(template_path);
  }
  const int per_node =
      options.gpus_per_node > 0 ? options.gpus_per_node
                                : (template_text.empty() ? 8 : plan::template_gpus_per_node(template_text, 8));

  auto simulate = [&](int gpus) {
    sim::SimConfig config;
    config.scheduler.policy = scheduler::parse_policy(options.policy);
    config.workers = gpus;
    config.gpus_per_node = per_node;
    config.history = &classes_only;
    const sim::SimResult result = sim::simulate(workload, config);
    if (result.stalled || result.done != result.subtasks) {
      throw std::runtime_error("the simulation of " + std::to_string(gpus) + " GPUs did not finish every subtask");
    }
    return plan::make_row(gpus, result.makespan_s, total_work);
  };
  const std::vector<PlanRow> rows = plan::explore(max_gpus, deadline_s, simulate, widest);
  const plan::Recommendation rec = plan::recommend(rows, deadline_s, options.min_efficiency);

  // The sbatch script for the recommended allocation.
  nlohmann::json sbatch_json = nullptr;
  std::string sbatch_note;
  if (options.emit_sbatch && rec.row) {
    const PlanRow& row = rows[*rec.row];
    const double lead = plan::signal_lead_s(template_text, 300);
    const double limit = plan::time_limit_s(row.makespan_s, options.margin, 120, lead);
    plan::SbatchSettings settings;
    settings.job_name = job.name;
    settings.layout = plan::layout(row.gpus, per_node);
    settings.time = plan::slurm_time(limit);
    const std::string output = planned_output(options, job);
    settings.arguments = {fs::absolute(options.job_file).lexically_normal().string(), "-o", output, "--history",
                          fs::absolute(options.history).lexically_normal().string()};
    settings.fastgpu = options.fastgpu_exe;
    settings.comments = {
        "fastgpu plan: " + std::to_string(row.gpus) + " GPUs (" + std::to_string(settings.layout.nodes) + " node(s) x " +
            std::to_string(settings.layout.gpus_per_node) + "), predicted makespan " +
            format_short_duration(row.makespan_s) + ", " + hours_text(row.gpu_hours) + " GPU-hours",
        "--time " + settings.time + " = makespan + margin (" + printf_text("%.0f", options.margin * 100) +
            " %, at least 2 min) + the stop-signal lead (" + printf_text("%.0f", lead) + " s), rounded up to a minute",
        "from " + template_path.string() + "; submit with: sbatch " + *options.emit_sbatch,
    };
    const std::string text = plan::render_sbatch(template_text, settings);
    {
      std::ofstream out(*options.emit_sbatch);
      out << text;
      if (!out) throw UsageError("cannot write '" + *options.emit_sbatch + "'");
    }
    fs::permissions(*options.emit_sbatch, fs::perms::owner_exec | fs::perms::group_exec | fs::perms::others_exec,
                    fs::perm_options::add);
    if (settings.layout.gpus() != row.gpus) {
      sbatch_note = "on nodes of " + std::to_string(per_node) + " GPUs, " + std::to_string(row.gpus) + " GPUs become " +
                    std::to_string(settings.layout.nodes) + " x " + std::to_string(settings.layout.gpus_per_node) +
                    " = " + std::to_string(settings.layout.gpus());
    }
    sbatch_json = {{"file", *options.emit_sbatch},
                   {"template", template_path.string()},
                   {"nodes", settings.layout.nodes},
                   {"gpus_per_node", settings.layout.gpus_per_node},
                   {"gpus", settings.layout.gpus()},
                   {"time", settings.time},
                   {"time_s", limit},
                   {"output", output}};
  }

  if (options.json) {
    nlohmann::json j;
    j["job"] = job.name;
    j["job_file"] = options.job_file;
    j["history"] = options.history;
    j["subtasks"] = subtasks;
    j["task_class"] = task_class;
    j["model"] = {{"intercept_s", durations.line.intercept_s},
                  {"seconds_per_cost", durations.line.seconds_per_cost},
                  {"samples", durations.line.samples},
                  {"speed_factor", durations.factor},
                  {"sigma_log", durations.sigma_log},
                  {"workers", durations.workers}};
    j["total_work_s"] = total_work;
    j["longest_s"] = longest;
    j["policy"] = options.policy;
    j["max_gpus"] = max_gpus;
    j["sampled"] = plan::sampled_counts(max_gpus, widest).size() != static_cast<std::size_t>(max_gpus - widest + 1);
    j["widest_subtask_gpus"] = widest;
    j["deadline_s"] = deadline_s ? nlohmann::json(*deadline_s) : nlohmann::json(nullptr);
    j["gpu_hour_price"] = price ? nlohmann::json(*price) : nlohmann::json(nullptr);
    j["min_efficiency"] = options.min_efficiency;
    j["rows"] = nlohmann::json::array();
    for (const auto& row : rows) {
      nlohmann::json r = {{"gpus", row.gpus},
                          {"makespan_s", row.makespan_s},
                          {"gpu_hours", row.gpu_hours},
                          {"efficiency", row.efficiency},
                          {"bisected", row.bisected}};
      r["cost"] = price ? nlohmann::json(*price * row.gpu_hours) : nlohmann::json(nullptr);
      if (deadline_s) r["meets_deadline"] = row.makespan_s <= *deadline_s;
      j["rows"].push_back(r);
    }
    j["recommended"] = rec.row ? nlohmann::json(rows[*rec.row].gpus) : nlohmann::json(nullptr);
    j["deadline_met"] = deadline_s ? nlohmann::json(rec.deadline_met) : nlohmann::json(nullptr);
    j["why"] = rec.why;
    j["notes"] = notes;
    j["sbatch"] = sbatch_json;
    if (!sbatch_note.empty()) j["notes"].push_back(sbatch_note);
    std::cout << j.dump(2) << std::endl;
  } else {
    std::ostream& out = std::cout;
    out << "fastgpu plan: job " << job.name << " (" << subtasks << " subtasks, class " << task_class << ") from "
        << options.history << "\n";
    out << "  predicted time per subtask on a typical GPU: (" << printf_text("%.4g", durations.line.intercept_s)
        << " s + " << printf_text("%.4g", durations.line.seconds_per_cost) << " s x cost) x speed factor "
        << printf_text("%.3g", durations.factor) << " (median of " << durations.workers << " workers; "
        << durations.line.samples << " samples";
    if (durations.sigma_log > 0) out << "; typically off by x" << printf_text("%.2f", std::exp(durations.sigma_log));
    out << ")\n";
    out << "  predicted work: " << format_short_duration(total_work) << " GPU time in all, longest subtask "
        << format_short_duration(longest) << "\n";
    out << "  simulated (production scheduler, policy " << options.policy << ", virtual clock): "
        << counts_text(rows, max_gpus, widest) << "\n";
    for (const auto& note : notes) out << "  note: " << note << "\n";
    out << "\n";
    char line[256];
    std::snprintf(line, sizeof line, "  %5s  %10s  %10s  %10s  %10s%s\n", "GPUs", "makespan", "GPU-hours",
                  price ? "cost" : "", "efficiency", deadline_s ? "  deadline" : "");
    out << line;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const auto& row = rows[i];
      std::snprintf(line, sizeof line, "  %5d  %10s  %10s  %10s  %8.1f %%%s%s\n", row.gpus,
                    format_short_duration(row.makespan_s).c_str(), hours_text(row.gpu_hours).c_str(),
                    price ? money_text(*price * row.gpu_hours).c_str() : "", row.efficiency * 100,
                    deadline_s ? (row.makespan_s <= *deadline_s ? "  meets   " : "  misses  ") : "",
                    rec.row && *rec.row == i ? "  <- recommended" : "");
      out << line;
    }
    out << "\n";
    if (rec.row) {
      const auto& row = rows[*rec.row];
      out << "recommended: " << row.gpus << " GPUs, predicted makespan " << format_short_duration(row.makespan_s)
          << ", " << hours_text(row.gpu_hours) << " GPU-hours";
      if (price) out << ", cost " << money_text(*price * row.gpu_hours);
      out << " (" << rec.why << ")\n";
    } else {
      out << "NO ALLOCATION MEETS THE DEADLINE: " << rec.why
          << ". Raise --max-gpus, relax --deadline, or split the job.\n";
    }
    if (!sbatch_json.is_null()) {
      out << "sbatch script: " << *options.emit_sbatch << " (--nodes " << sbatch_json["nodes"] << " --gpus-per-node "
          << sbatch_json["gpus_per_node"] << " --time " << sbatch_json["time"].get<std::string>() << ", results "
          << sbatch_json["output"].get<std::string>() << "); submit with: sbatch " << *options.emit_sbatch << "\n";
      if (!sbatch_note.empty()) out << "  note: " << sbatch_note << "\n";
    }
    out << "Predictions leave out start-up (mpirun, MPI_Init) and assume GPUs like the history's; the time limit's\n"
           "margin is there for both.\n";
  }
  if (options.emit_sbatch && !rec.row) {
    std::cerr << "fastgpu plan: " << *options.emit_sbatch << " not written: no allocation meets the deadline"
              << std::endl;
  }
  return kExitOk;
}

}  // namespace

int plan_job(const PlanOptions& options) {
  try {
    return plan_job_impl(options);
  } catch (const UsageError& e) {  // a bad option, job file or history file: exit 2, as for run
    std::cerr << "fastgpu plan: " << e.what() << std::endl;
    return kExitUsage;
  }
}

}  // namespace fastgpu::app
