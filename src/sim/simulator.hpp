// A discrete-event simulation of a FastGPU run: the production scheduler::Scheduler (placement,
// cost model, rebalance, speculation, retries) driven by a virtual clock and N virtual workers
// that behave like worker::run_worker (one attempt running, the next queued one started the moment
// the last ends, started/finished reported together, retractions and cancels answered), with a
// per-message latency, per-worker speeds, slowdowns and failures injected mid-run, and subtasks
// arriving online at their submit times.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "fastgpu/results.hpp"
#include "scheduler/scheduler.hpp"
#include "sim/workload.hpp"

namespace fastgpu::sim {

/// From time `at`, worker `rank` runs `factor` times slower (its running attempt too).
struct Slowdown {
  int rank = 1;
  double factor = 1;
  double at = 0;
};

/// At time `at`, the attempt running on worker `rank` fails (exit code 1); an idle worker is missed.
struct InjectedFailure {
  int rank = 1;
  double at = 0;
};

struct SimConfig {
  scheduler::SchedulerConfig scheduler;  ///< policy, prefetch, rebalance, speculation; expected_workers is set
  int workers = 1;
  int gpus_per_node = 8;       ///< worker ranks per host name node0, node1, ...
  std::vector<double> speeds;  ///< by worker (rank 1 first); empty = all 1
  std::vector<Slowdown> slowdowns;
  std::vector<InjectedFailure> failures;
  double fail_rate = 0;   ///< probability that an attempt fails (at a uniform point of its run)
  double latency_s = 0;   ///< one way, every message (hello, assign, report, retract, ack, cancel)
  std::uint64_t seed = 1; ///< failures drawn from it (speeds: parse_speeds)
  /// Seeds the scheduler's cost model, as `run --history` does (`fastgpu plan`); may be null.
  /// Must outlive simulate().
  const CostModelSnapshot* history = nullptr;
};

/// "1,1,0.5" (per worker; a shorter list repeats) or "10%@0.5[,5%@0.25]" (that share of the
/// workers, picked with `seed`, at that speed; the rest at 1). Throws UsageError.
std::vector<double> parse_speeds(const std::string& text, int workers, std::uint64_t seed);
/// "RANK=FACTOR@T"; throws UsageError.
Slowdown parse_slowdown(const std::string& text);
/// "RANK@T"; throws UsageError.
InjectedFailure parse_failure(const std::string& text);

struct Distribution {
  std::size_t count = 0;
  double avg = 0, p50 = 0, p99 = 0, max = 0;
};
Distribution distribution(std::vector<double> values);

/// Wall-clock cost of one kind of scheduler call (p50/p99 from log-spaced buckets, within ~10 %).
struct CallCost {
  std::uint64_t calls = 0;
  double wall_s = 0;  ///< summed
  double cpu_s = 0;   ///< thread CPU, summed (rebalance rounds only; 0 for decisions)
  double p50_s = 0, p99_s = 0, max_s = 0;
  double mean_s() const { return calls ? wall_s / static_cast<double>(calls) : 0; }
};

struct SimResult {
  std::size_t subtasks = 0, done = 0, failed = 0;
  std::size_t too_wide = 0;  ///< of the failed: subtasks asking for more GPUs than there are workers
  bool stalled = false;  ///< events ran out before every subtask ended (a bug; reported)
  double makespan_s = 0;     ///< virtual: the last subtask's end
  double lower_bound_s = 0;  ///< max(work / sum of speeds, longest / fastest, arrival + work / fastest)
  double efficiency = 0;     ///< lower bound / makespan
  double total_work_s = 0, speed_sum = 0;
  Distribution wait_s;        ///< first start - arrival, done subtasks
  Distribution completion_s;  ///< end - arrival, done subtasks
  std::uint64_t attempts = 0, failed_attempts = 0, superseded = 0, cancelled = 0;
  std::uint64_t assigns = 0, retries = 0, migrations = 0, retract_failed = 0, rebalances = 0;
  std::uint64_t speculations = 0, speculation_won = 0, injected_failures = 0, missed_failures = 0;
  std::uint64_t events = 0;  ///< simulation events processed
  CallCost decisions;  ///< on_worker_joined, on_report, on_retract_ack, release: one event each
  CallCost rebalance;  ///< on_tick calls when a round was due
  double scheduler_wall_s = 0;  ///< decisions + rebalance rounds
  double wall_s = 0, cpu_s = 0;  ///< the whole simulation (process CPU)
  double peak_rss_bytes = 0;     ///< getrusage: the process's peak so far
};

/// Runs `workload` to the end. `record` (may be null) receives what the scheduler records, as the
/// HDF5 writer does in a real run (its /tasks rows must be Scheduler::initial_records(subtasks)).
SimResult simulate(Workload workload, const SimConfig& config, ResultsSink* record = nullptr);

/// The host, local rank and device of virtual worker `rank` (1-based).
WorkerRecord virtual_worker(int rank, int gpus_per_node, double speed);

}  // namespace fastgpu::sim
