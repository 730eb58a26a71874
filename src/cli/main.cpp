// The `fastgpu` command: parses arguments with Boost.Program_options and calls the library.
#include <boost/program_options.hpp>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <iostream>
#include <string>
#include <vector>

#include "app/commands.hpp"
#include "app/exit_codes.hpp"
#include "app/progress_line.hpp"
#include "device/device_binding.hpp"
#include "fastgpu/config.hpp"
#include "worker/child_guard.hpp"

namespace po = boost::program_options;
using namespace fastgpu::app;

namespace {

constexpr const char* kUsage =
    "usage: fastgpu <command> [options]\n"
    "\n"
    "commands:\n"
    "  run JOB.toml [-o OUT.h5]   run a job (under mpirun: rank 0 schedules, the others work;\n"
    "                             without: --workers N threads)\n"
    "  validate JOB.toml          check a job file and show what it would run\n"
    "  inspect OUT.h5             summarize a results file (--json for scripts)\n"
    "  simulate (JOB.toml | --trace FILE) --workers N\n"
    "                             run the scheduler against N virtual workers on a virtual clock\n"
    "  plan JOB.toml --history OUT.h5 [--deadline TIME] [--max-gpus N] [--emit-sbatch FILE]\n"
    "                             how many GPUs to ask for: predicted makespan, GPU-hours, cost\n"
    "\n"
    "`fastgpu <command> --help` describes each command's options. Exit codes: 0 all subtasks done,\n"
    "1 some failed, 2 invalid usage or job file, 3 stopped early (resumable), 4 internal error.\n";

// Parses `args` against `options` with one positional argument named `positional`.
po::variables_map parse(const std::vector<std::string>& args, const po::options_description& options,
                        const char* positional) {
  po::positional_options_description positionals;
  positionals.add(positional, 1);
  po::variables_map values;
  po::store(po::command_line_parser(args).options(options).positional(positionals).run(), values);
  if (!values.count("help")) po::notify(values);  // --help needs no job file
  return values;
}

bool wants_help(const po::variables_map& values, const po::options_description& options, const char* synopsis) {
  if (!values.count("help")) return false;
  std::cout << synopsis << "\n\n" << options << std::endl;
  return true;
}

int run_command(const std::vector<std::string>& args) {
  RunOptions run;
  std::string output;
  po::options_description options("fastgpu run options");
  options.add_options()("help,h", "show this help")(
      "job", po::value(&run.job_file)->required(), "job file (TOML)")(
      "output,o", po::value(&output), "results file (default: the job's [job] output, else <name>.h5)")(
      "force", po::bool_switch(&run.force),
      "overwrite an existing results file (with --resume: resume although the job file changed)")(
      "resume", po::bool_switch(&run.resume),
      "continue the run recorded in the results file: run only the subtasks not done there")(
      "workers", po::value(&run.workers), "worker threads when not under mpirun (default: visible GPUs, else 1)")(
      "share-gpus", po::bool_switch(&run.share_gpus),
      "let more workers than GPUs on a node share them (worker i on GPU i mod n) instead of refusing to start")(
      "policy", po::value(&run.policy)->default_value("cost"),
      "placement: cost (predicted earliest finish, rebalance, speculation), greedy, static")(
      "rebalance-interval", po::value(&run.rebalance_interval_s),
      "seconds between rebalance rounds (default: adaptive, half the mean subtask time, 0.1-5 s)")(
      "speculation", po::value(&run.speculation)->default_value("auto"),
      "copies of the last subtasks on idle workers: auto (kernel subtasks only), on, off")(
      "history", po::value<std::string>(), "seed the cost model with the /model of an earlier run's results file")(
      "prefetch", po::value(&run.prefetch),
      "attempts in flight per worker, running + queued (default: 2 for greedy/static; cost adapts, up to 32)")(
      "kill-grace", po::value(&run.kill_grace_s)->default_value(5),
      "seconds between SIGTERM and SIGKILL when a subtask times out")(
      "grace", po::value(&run.stop_grace_s)->default_value(30),
      "on SIGTERM/SIGINT/SIGUSR1 or at the deadline: seconds running subtasks get between SIGTERM and SIGKILL")(
      "deadline", po::value(&run.deadline)->value_name("TIME"),
      "when the run must be over: 2h, 90m, 2:00:00 from now, 2026-11-27T20:00 (local), ...Z (UTC), @EPOCH, or none "
      "(default: under Slurm the allocation's end); subtasks predicted not to fit are not started, exit 3 to resume")(
      "progress-interval", po::value<double>()->value_name("SEC"),
      "seconds between progress lines when stderr is not a terminal (default: $FASTGPU_PROGRESS_INTERVAL, else 10)")(
      "telemetry-interval", po::value(&run.telemetry_interval_s)->default_value(1)->value_name("SEC"),
      "seconds between samples of each worker's GPU (NVML; else CPU use) into /telemetry; 0 = off")(
      "quiet,q", po::bool_switch(&run.quiet), "print only errors (no progress)");
  auto values = parse(args, options, "job");
  if (wants_help(values, options, "usage: fastgpu run JOB.toml [-o OUT.h5] [--resume] [--force] [--grace SEC] [--deadline TIME] [--policy cost|greedy|static] [--workers N] [--share-gpus] [--progress-interval SEC] [--quiet]")) {
    return kExitOk;
  }
  if (values.count("output")) run.output = output;
  if (values.count("history")) run.history = values["history"].as<std::string>();
  std::optional<double> interval_option;
  if (values.count("progress-interval")) {
    interval_option = values["progress-interval"].as<double>();
    if (!(*interval_option > 0) || !std::isfinite(*interval_option)) {
      throw po::error("--progress-interval must be a positive number of seconds");
    }
  }
  std::string interval_warning;
  run.progress_interval_s =
      progress_interval(interval_option, std::getenv("FASTGPU_PROGRESS_INTERVAL"), &interval_warning);
  if (!interval_warning.empty() && !run.quiet) std::cerr << "fastgpu: warning: " << interval_warning << std::endl;
  if (run.speculation != "auto" && run.speculation != "on" && run.speculation != "off") {
    throw po::error("--speculation must be auto, on or off");
  }
  if (values.count("rebalance-interval") && run.rebalance_interval_s <= 0) {
    throw po::error("--rebalance-interval must be positive");
  }
  if (values.count("workers") && run.workers < 1) throw po::error("--workers must be at least 1");
  if (values.count("prefetch") && run.prefetch < 1) throw po::error("--prefetch must be at least 1");
  if (run.stop_grace_s < 0) throw po::error("--grace must not be negative");
  if (!(run.telemetry_interval_s >= 0) || !std::isfinite(run.telemetry_interval_s)) {
    throw po::error("--telemetry-interval must be a number of seconds, 0 for none");
  }
  std::error_code no_exe;  // this binary answers `guard-children` (worker/child_guard.hpp)
  run.child_guard_exe = std::filesystem::read_symlink("/proc/self/exe", no_exe).string();
  return run_job(run);
}

int validate_command(const std::vector<std::string>& args) {
  std::string job;
  po::options_description options("fastgpu validate options");
  options.add_options()("help,h", "show this help")("job", po::value(&job)->required(), "job file (TOML)");
  auto values = parse(args, options, "job");
  if (wants_help(values, options, "usage: fastgpu validate JOB.toml")) return kExitOk;
  return validate_job(job);
}

// --gpu-hour-price (inspect, plan): a finite number, zero or more.
std::optional<double> gpu_hour_price(const po::variables_map& values) {
  if (!values.count("gpu-hour-price")) return std::nullopt;
  const double price = values["gpu-hour-price"].as<double>();
  if (!(price >= 0) || !std::isfinite(price)) throw po::error("--gpu-hour-price must be a number, zero or more");
  return price;
}

int inspect_command(const std::vector<std::string>& args) {
  InspectOptions inspect;
  std::string tasks_csv, gantt;
  po::options_description options("fastgpu inspect options");
  options.add_options()("help,h", "show this help")(
      "results", po::value(&inspect.results_file), "results file (HDF5)")(
      "json", po::bool_switch(&inspect.json), "print everything as JSON")(
      "tasks-csv", po::value(&tasks_csv)->value_name("FILE"),
      "write one CSV row per subtask (status, times, parameters, metrics); - for stdout")(
      "gantt", po::value(&gantt)->value_name("FILE.svg"),
      "write an SVG timeline: one lane per worker, one bar per attempt; - for stdout")(
      "gantt-width", po::value(&inspect.gantt_width)->default_value(1400)->value_name("PX"),
      "width of the --gantt picture in pixels")(
      "gpu-hour-price", po::value<double>()->value_name("PRICE"),
      "price of one GPU for one hour, for every worker: the summary reports the run's cost (default: the job "
      "file's gpu_hour_price and [job.gpu_hour_prices] per GPU model)");
  auto values = parse(args, options, "results");
  if (wants_help(values, options,
                 "usage: fastgpu inspect OUT.h5 [--json] [--gpu-hour-price PRICE] [--tasks-csv FILE] [--gantt FILE.svg]\n"
                 "With --tasks-csv or --gantt the summary is not printed (--json still is).")) {
    return kExitOk;
  }
  // Checked here, not with ->required(), so that --help works without a file.
  if (!values.count("results")) throw po::error("no results file given");
  if (values.count("tasks-csv")) inspect.tasks_csv = tasks_csv;
  if (values.count("gantt")) inspect.gantt = gantt;
  inspect.gpu_hour_price = gpu_hour_price(values);
  return inspect_results(inspect);
}

int simulate_command(const std::vector<std::string>& args) {
  SimulateOptions sim;
  std::string output;
  po::options_description options("fastgpu simulate options");
  options.add_options()("help,h", "show this help")(
      "job", po::value(&sim.job_file), "job file (TOML), or use --trace")(
      "trace", po::value(&sim.trace)->value_name("FILE"), "workload trace: CSV (Philly, Tiresias, ...) or SWF")(
      "workers", po::value(&sim.workers)->required(), "virtual workers (GPUs)")(
      "gpus-per-node", po::value(&sim.gpus_per_node)->default_value(8), "workers per host name node0, node1, ...")(
      "speeds", po::value(&sim.speeds)->value_name("LIST|DIST"),
      "worker speeds: 1,1,0.5 (per worker, repeated) or 10%@0.5[,5%@0.25] (shares at a speed, rest at 1)")(
      "policy", po::value(&sim.policy)->default_value("cost"), "placement: cost, greedy, static")(
      "rebalance-interval", po::value(&sim.rebalance_interval_s), "seconds between rebalance rounds (default adaptive)")(
      "prefetch", po::value(&sim.prefetch), "attempts in flight per worker (default: the policy's)")(
      "speculation", po::value(&sim.speculation)->default_value("on"), "speculative copies in the tail: on, off")(
      "slowdown", po::value(&sim.slowdowns)->composing()->value_name("RANK=FACTOR@T"),
      "from virtual time T, worker RANK runs FACTOR times slower (repeatable)")(
      "fail", po::value(&sim.failures)->composing()->value_name("RANK@T"),
      "at virtual time T, the attempt running on worker RANK fails (repeatable)")(
      "fail-rate", po::value(&sim.fail_rate), "probability that an attempt fails, at a random point of its run")(
      "latency", po::value(&sim.latency_s), "one-way message latency, seconds (default 0)")(
      "seed", po::value(&sim.seed)->default_value(1), "seed for sampling, speed shares, noise and failures")(
      "cost-unit", po::value(&sim.cost_unit_s)->default_value(1),
      "job files: seconds per unit of `cost` for command subtasks (kernels: their seconds)")(
      "duration-noise", po::value(&sim.duration_noise),
      "job files: true durations = cost x lognormal(0, SIGMA), so estimates are off")(
      "format", po::value(&sim.format)->default_value("auto"), "trace format: auto (by extension), csv, swf")(
      "duration-col", po::value(&sim.duration_col), "trace column of the run time (CSV: a name or END-START; SWF: field number)")(
      "submit-col", po::value(&sim.submit_col), "trace column of the submit time (CSV name or SWF field number)")(
      "gpus-col", po::value(&sim.gpus_col), "trace column of the GPU count (CSV name or SWF field number)")(
      "time-scale", po::value(&sim.time_scale)->default_value(1), "multiply the trace's durations and submit times")(
      "limit", po::value(&sim.limit), "keep the first N trace jobs by submit time")(
      "sample", po::value(&sim.sample)->default_value(1), "keep each trace job with this probability (seeded)")(
      "no-arrivals", po::bool_switch(&sim.no_arrivals), "every trace job is there at time 0")(
      "multi-gpu", po::value(&sim.multi_gpu)->default_value("skip"),
      "trace jobs needing more than one GPU: skip, gang (on that many GPUs at once), one (run on one GPU), gpu-time (one GPU, duration x GPUs)")(
      "estimate-noise", po::value(&sim.estimate_noise),
      "trace: the scheduler's estimate is the duration x lognormal(0, SIGMA) (default exact)")(
      "retries", po::value(&sim.retries)->default_value(1), "trace: extra attempts after a failure")(
      "output,o", po::value(&output), "write the simulated run's results file (HDF5, as `run` does)")(
      "force", po::bool_switch(&sim.force), "overwrite an existing results file")(
      "json", po::bool_switch(&sim.json), "print the summary as JSON");
  auto values = parse(args, options, "job");
  if (wants_help(values, options,
                 "usage: fastgpu simulate (JOB.toml | --trace FILE) --workers N [--speeds LIST|DIST] "
                 "[--policy cost|greedy|static] [-o OUT.h5] [--json] [--seed S]")) {
    return kExitOk;
  }
  if (values.count("output")) sim.output = output;
  if (sim.workers < 1) throw po::error("--workers must be at least 1");
  if (values.count("rebalance-interval") && sim.rebalance_interval_s <= 0) {
    throw po::error("--rebalance-interval must be positive");
  }
  if (values.count("prefetch") && sim.prefetch < 1) throw po::error("--prefetch must be at least 1");
  if (sim.speculation != "on" && sim.speculation != "off") throw po::error("--speculation must be on or off");
  if (sim.retries < 0) throw po::error("--retries must not be negative");
  return simulate_job(sim);
}

int plan_command(const std::vector<std::string>& args) {
  PlanOptions plan;
  std::string emit, output;
  po::options_description options("fastgpu plan options");
  options.add_options()("help,h", "show this help")(
      "job", po::value(&plan.job_file), "job file (TOML) to plan")(
      "history", po::value(&plan.history)->value_name("OUT.h5"),
      "results file of an earlier run: its cost model (/model) predicts each subtask's time (required)")(
      "deadline", po::value(&plan.deadline)->value_name("TIME"),
      "the job must be done within TIME (2h, 30m, 90s, 1h30m, 2:00:00 or seconds): recommend the allocation "
      "that meets it with the fewest GPU-hours")(
      "max-gpus", po::value(&plan.max_gpus)->value_name("N"),
      "simulate 1..N GPUs (default: subtasks, at most 64); above 16 a sample of counts")(
      "gpu-hour-price", po::value<double>()->value_name("PRICE"),
      "price of one GPU for one hour: adds a cost column (default: the job file's gpu_hour_price)")(
      "emit-sbatch", po::value(&emit)->value_name("FILE"),
      "write slurm/fastgpu.sbatch with the recommended --nodes/--gpus-per-node/--time to FILE")(
      "output,o", po::value(&output)->value_name("OUT.h5"),
      "results file of the emitted script's run (default: the job's; OUT.planned.h5 when that exists)")(
      "sbatch-template", po::value(&plan.sbatch_template)->value_name("FILE"),
      "the sbatch script to start from (default: slurm/fastgpu.sbatch beside the binary's folder)")(
      "gpus-per-node", po::value(&plan.gpus_per_node)->value_name("G"),
      "GPUs per node for the script's layout (default: the template's --gpus-per-node, else 8)")(
      "margin", po::value(&plan.margin)->default_value(0.25)->value_name("FRACTION"),
      "time limit = makespan + this fraction of it (at least 2 min) + the template's stop-signal lead")(
      "min-efficiency", po::value(&plan.min_efficiency)->default_value(0.8)->value_name("E"),
      "without --deadline: recommend the fastest allocation at least this efficient")(
      "policy", po::value(&plan.policy)->default_value("cost"), "placement policy simulated: cost, greedy, static")(
      "json", po::bool_switch(&plan.json), "print the table and recommendation as JSON");
  auto values = parse(args, options, "job");
  if (wants_help(values, options,
                 "usage: fastgpu plan JOB.toml --history OUT.h5 [--deadline TIME] [--max-gpus N] "
                 "[--gpu-hour-price P] [--emit-sbatch FILE] [--json]")) {
    return kExitOk;
  }
  if (!values.count("job")) throw po::error("no job file given");
  if (!values.count("history")) throw po::error("--history OUT.h5 is required (the results file of an earlier run)");
  if (values.count("emit-sbatch")) plan.emit_sbatch = emit;
  if (values.count("output")) plan.output = output;
  if (values.count("max-gpus") && plan.max_gpus < 1) throw po::error("--max-gpus must be at least 1");
  if (values.count("gpus-per-node") && plan.gpus_per_node < 1) throw po::error("--gpus-per-node must be at least 1");
  plan.gpu_hour_price = gpu_hour_price(values);
  if (!(plan.margin >= 0) || !std::isfinite(plan.margin)) throw po::error("--margin must be a fraction, zero or more");
  if (!(plan.min_efficiency >= 0 && plan.min_efficiency <= 1)) throw po::error("--min-efficiency must be in [0, 1]");
  if (plan.policy != "cost" && plan.policy != "greedy" && plan.policy != "static") {
    throw po::error("--policy must be cost, greedy or static");
  }
  std::error_code no_exe;
  plan.fastgpu_exe = std::filesystem::read_symlink("/proc/self/exe", no_exe).string();
  return plan_job(plan);
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + (argc > 1 ? 2 : 1), argv + argc);
  const std::string command = argc > 1 ? argv[1] : "";
  try {
    if (command == "run") return run_command(args);
    if (command == "guard-children") return fastgpu::worker::run_child_guard();  // internal: worker/child_guard.hpp
    if (command == "validate") return validate_command(args);
    if (command == "inspect") return inspect_command(args);
    if (command == "simulate") return simulate_command(args);
    if (command == "plan") return plan_command(args);
    if (command == "--version" || command == "version") {
      std::cout << "fastgpu " << FASTGPU_VERSION << " (" << fastgpu::device::build_summary() << ")" << std::endl;
      return kExitOk;
    }
    if (command == "--help" || command == "-h" || command == "help") {
      std::cout << kUsage;
      return kExitOk;
    }
    std::cerr << (command.empty() ? "fastgpu: no command given\n" : "fastgpu: unknown command '" + command + "'\n")
              << kUsage;
    return kExitUsage;
  } catch (const po::error& e) {
    std::cerr << "fastgpu " << command << ": " << e.what() << " (see: fastgpu " << command << " --help)" << std::endl;
    return kExitUsage;
  } catch (const std::exception& e) {
    std::cerr << "fastgpu: internal error: " << e.what() << std::endl;
    return kExitInternal;
  }
}
