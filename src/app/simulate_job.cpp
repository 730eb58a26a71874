// `fastgpu simulate`: loads the workload, runs sim::simulate, prints the summary and, with -o,
// records the simulated run in a results file of the same layout as a real run's.
#include <filesystem>
#include <iostream>

#include "app/commands.hpp"
#include "app/exit_codes.hpp"
#include "app/prepared_job.hpp"
#include "fastgpu/config.hpp"
#include "fastgpu/error.hpp"
#include "io/results_writer.hpp"
#include "scheduler/scheduler.hpp"
#include "sim/report.hpp"
#include "sim/simulator.hpp"

namespace fastgpu::app {

namespace {

int simulate(const SimulateOptions& options) {
  if (options.job_file.empty() == options.trace.empty()) {
    throw UsageError("simulate needs a job file or --trace FILE (one of them)");
  }
  sim::Workload workload;
  if (!options.trace.empty()) {
    sim::TraceOptions trace;
    trace.format = options.format;
    trace.duration_col = options.duration_col;
    trace.submit_col = options.submit_col;
    trace.gpus_col = options.gpus_col;
    trace.time_scale = options.time_scale;
    trace.limit = options.limit;
    trace.sample = options.sample;
    trace.arrivals = !options.no_arrivals;
    trace.multi_gpu = sim::parse_multi_gpu(options.multi_gpu);
    trace.estimate_noise = options.estimate_noise;
    trace.retries = options.retries;
    trace.seed = options.seed;
    workload = sim::load_trace_workload(options.trace, trace);
  } else {
    workload = sim::load_job_workload(options.job_file, {options.cost_unit_s, options.duration_noise, options.seed});
  }
  if (workload.subtasks.empty()) throw UsageError("nothing to simulate: no subtasks left (" + workload.source + ")");

  sim::SimConfig config;
  config.scheduler.policy = scheduler::parse_policy(options.policy);
  config.scheduler.prefetch = options.prefetch;
  config.scheduler.rebalance_interval_s = options.rebalance_interval_s;
  config.scheduler.speculation = options.speculation == "on";
  config.workers = options.workers;
  config.gpus_per_node = options.gpus_per_node;
  config.speeds = sim::parse_speeds(options.speeds, options.workers, options.seed);
  for (const auto& text : options.slowdowns) config.slowdowns.push_back(sim::parse_slowdown(text));
  for (const auto& text : options.failures) config.failures.push_back(sim::parse_failure(text));
  config.fail_rate = options.fail_rate;
  config.latency_s = options.latency_s;
  config.seed = options.seed;

  const std::string source = workload.source;
  const std::vector<std::string> notes = workload.notes;
  std::unique_ptr<io::ResultsWriter> writer;
  if (options.output) {
    JobInfo info;
    info.name = workload.job.name;
    info.spec = workload.job.source_text.empty() ? "simulated: " + source : workload.job.source_text;
    info.source_path = options.trace.empty() ? workload.job.source_path : options.trace;
    info.output_dir = workload.job.output_dir;
    info.fastgpu_version = FASTGPU_VERSION;
    info.started_unix = unix_now();
    info.started = iso_time(info.started_unix);
    info.status = "running";
    info.transport = "simulated";
    writer = io::ResultsWriter::create(*options.output, info, scheduler::Scheduler::initial_records(workload.subtasks),
                                       options.force);
  }
  const sim::SimResult result = sim::simulate(std::move(workload), config, writer.get());
  const int code = result.stalled ? kExitInternal : result.failed > 0 ? kExitTasksFailed : kExitOk;
  const auto summary = sim::to_json(result, config, source, notes);
  if (writer) {
    // The file says what the simulated run did; its times are virtual seconds since the start.
    writer->finish(code == kExitOk ? "done" : "failed", iso_time(unix_now()));
    writer.reset();
    sim::write_simulation_group(*options.output, summary);
  }
  if (options.json) {
    std::cout << summary.dump(2) << std::endl;
  } else {
    std::cout << sim::summary_text(result, config, source, notes);
    if (options.output) std::cout << "results: " << *options.output << " (fastgpu inspect, --gantt)\n";
  }
  return code;
}

}  // namespace

int simulate_job(const SimulateOptions& options) {
  try {
    return simulate(options);
  } catch (const UsageError& e) {  // a bad option, job file or trace: exit 2, as for run
    std::cerr << "fastgpu simulate: " << e.what() << std::endl;
    return kExitUsage;
  }
}

}  // namespace fastgpu::app
