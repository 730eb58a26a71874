// A made-up run as a fastgpu::Results: workers on GPU nodes taking attempts from a queue, some of
// which fail and are retried. For tests of what reads results (inspect, --gantt, --tasks-csv)
// without running a job; io::ResultsWriter turns it into a file.
#pragma once

#include <cmath>
#include <cstdint>
#include <functional>
#include <queue>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "fastgpu/results.hpp"

namespace fastgpu::test {

struct SyntheticRun {
  std::size_t workers = 8;
  std::size_t attempts = 1000;
  double mean_s = 1.0;          ///< median attempt duration (log-normal)
  double spread = 0.6;          ///< sigma of log(duration)
  double problem_rate = 0.02;   ///< share of attempts that do not end `done`
  double migrate_rate = 0.0;    ///< share of attempts with a "migrate" event before them
  double speculate_rate = 0.0;  ///< share with a "speculate" event
  unsigned seed = 1;
};

inline Results synthetic_results(const SyntheticRun& run) {
  Results results;
  results.job.name = "synthetic";
  results.job.status = "done";
  results.job.started = "2024-05-01T12:00:00Z";
  results.job.started_unix = 1714564800;
  results.job.transport = "mpi";
  std::mt19937_64 rng(run.seed);
  std::lognormal_distribution<double> duration(std::log(run.mean_s), run.spread);
  std::uniform_real_distribution<double> unit(0, 1);
  for (std::size_t w = 0; w < run.workers; ++w) {
    WorkerRecord worker;
    worker.rank = static_cast<std::int32_t>(w + 1);
    worker.host = "gpu-node" + std::to_string(w / 4 + 1);
    worker.local_rank = static_cast<std::int32_t>(w % 4);
    worker.device = "cuda:" + std::to_string(w % 4);
    worker.gpu_name = "NVIDIA H100 80GB HBM3";
    worker.gpu_uuid = "GPU-" + std::to_string(w);
    results.workers.push_back(worker);
    results.events.push_back({0.01 * static_cast<double>(w), "worker_joined", -1, -1, worker.rank, worker.host});
  }
  const AttemptStatus problems[] = {AttemptStatus::failed, AttemptStatus::timed_out, AttemptStatus::spawn_failed,
                                    AttemptStatus::lost, AttemptStatus::cancelled};
  // (time the worker is free, worker index), earliest first.
  using Slot = std::pair<double, std::size_t>;
  std::priority_queue<Slot, std::vector<Slot>, std::greater<>> free;
  for (std::size_t w = 0; w < run.workers; ++w) free.push({0.01 * static_cast<double>(w), w});
  std::int64_t retry_task = -1;
  std::int32_t retry_attempt = 0;
  for (std::size_t k = 0; k < run.attempts; ++k) {
    auto [at, w] = free.top();
    free.pop();
    AttemptRecord a;
    if (retry_task >= 0) {
      a.task = retry_task;
      a.attempt = retry_attempt;
    } else {
      a.task = static_cast<std::int64_t>(results.tasks.size());
      TaskRecord t;
      t.id = "task-" + std::to_string(a.task);
      t.params = "{\"i\":" + std::to_string(a.task) + "}";
      results.tasks.push_back(t);
    }
    a.worker = results.workers[w].rank;
    a.host = results.workers[w].host;
    a.device = results.workers[w].device;
    a.start = at + 0.002 * run.mean_s;
    const bool problem = unit(rng) < run.problem_rate;
    a.status = problem ? problems[k % std::size(problems)] : AttemptStatus::done;
    const double d = a.status == AttemptStatus::spawn_failed ? 0.0 : duration(rng);
    a.end = a.start + d;
    a.exit_code = a.status == AttemptStatus::done ? 0 : 1;
    if (problem) a.error = std::string(to_string(a.status)) + " in a synthetic run";
    if (unit(rng) < run.migrate_rate) {
      const auto from = results.workers[(w + 1) % run.workers].rank;
      results.events.push_back({a.start, "migrate", a.task, from, a.worker, "queued"});
      a.migrated = true;
    }
    if (unit(rng) < run.speculate_rate) {
      results.events.push_back({a.start, "speculate", a.task, -1, a.worker, "straggler"});
    }
    auto& task = results.tasks[static_cast<std::size_t>(a.task)];
    task.attempts = a.attempt + 1;
    task.worker = a.worker;
    task.start = a.start;
    task.end = a.end;
    task.exit_code = a.exit_code;
    task.status = a.status == AttemptStatus::done ? TaskStatus::done : TaskStatus::failed;
    if (problem && a.attempt < 2) {
      retry_task = a.task;
      retry_attempt = a.attempt + 1;
    } else {
      retry_task = -1;
    }
    if (a.status == AttemptStatus::done) a.metrics.push_back({"loss", 1.0 / static_cast<double>(a.task + 1)});
    results.attempts.push_back(a);
    free.push({a.end, w});
  }
  return results;
}

}  // namespace fastgpu::test
