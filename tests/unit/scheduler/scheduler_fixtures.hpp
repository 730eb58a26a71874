// What the scheduler unit tests build their cases from: a job with a command template, subtasks
// with given costs, workers, and a worker's report of a finished attempt.
#pragma once

#include <string>
#include <vector>

#include "scheduler/scheduler.hpp"
#include "support/recording.hpp"

namespace fastgpu::scheduler::fixtures {

inline JobSpec make_job(const std::string& name = "unit") {
  JobSpec job;
  job.name = name;
  job.output = name + ".h5";
  job.output_dir = "/tmp/" + name + ".outputs";
  job.task.command = {"prog", "{c}"};
  return job;
}

/// Subtask i has cost costs[i] (seconds, before the model has samples) and parameter c.
inline std::vector<Subtask> with_costs(const std::vector<double>& costs) {
  std::vector<Subtask> subtasks;
  for (std::size_t i = 0; i < costs.size(); ++i) {
    Subtask s;
    s.id = "t" + std::to_string(i);
    s.params = {{"c", costs[i]}};
    s.cost = costs[i];
    subtasks.push_back(s);
  }
  return subtasks;
}

/// `policy` for `workers` workers; the other settings as SchedulerConfig has them.
inline SchedulerConfig config_for(Policy policy, int workers) {
  SchedulerConfig config;
  config.policy = policy;
  config.expected_workers = workers;
  return config;
}

inline WorkerRecord worker(int rank) { return {rank, "h", rank - 1, "cpu", "", ""}; }

inline comm::TaskResult result(const comm::TaskLaunch& launch, AttemptStatus status, double start, double end) {
  comm::TaskResult r;
  r.task = launch.task;
  r.attempt = launch.attempt;
  r.status = status;
  r.exit_code = status == AttemptStatus::done ? 0 : 1;
  r.start = start;
  r.end = end;
  return r;
}

inline comm::WorkerReport finished(const comm::TaskLaunch& launch, double start, double end) {
  comm::WorkerReport report;
  report.finished.push_back(result(launch, AttemptStatus::done, start, end));
  return report;
}

}  // namespace fastgpu::scheduler::fixtures
