// Scale of `fastgpu simulate`: the production scheduler against W virtual workers and N synthetic
// subtasks, one configuration per process (so the peak RSS is that configuration's).
//
//   build-*/tests/fastgpu_bench_sim WORKERS SUBTASKS [POLICY] [--header]
//
// Workload: lognormal(sigma 1) durations with mean 1 s, estimates off by lognormal(0, 0.3), 10 %
// of the workers at half speed, 50 us one-way message latency, seed 1. Prints one Markdown table
// row: wall time of the whole simulation, the scheduler's share, decisions per second (scheduler
// calls / their summed wall time), placements per second of scheduler time, rebalance round mean
// and p99 (wall), peak RSS, and the simulated efficiency.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "scheduler/scheduler.hpp"
#include "sim/simulator.hpp"
#include "sim/workload.hpp"

int main(int argc, char** argv) {
  if (argc >= 2 && std::string(argv[1]) == "--header") {
    std::printf("| workers | subtasks | policy | wall s | scheduler s | decisions | decisions/s | placements/s | "
                "rebalance rounds | round mean ms | round p99 ms | peak RSS MiB | efficiency |\n"
                "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    return 0;
  }
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s WORKERS SUBTASKS [cost|greedy|static] | --header\n", argv[0]);
    return 2;
  }
  const int workers = std::atoi(argv[1]);
  const auto subtasks = static_cast<std::size_t>(std::atoll(argv[2]));
  const std::string policy = argc > 3 ? argv[3] : "cost";
  using namespace fastgpu;
  sim::SimConfig config;
  config.scheduler.policy = scheduler::parse_policy(policy);
  config.workers = workers;
  config.speeds = sim::parse_speeds("10%@0.5", workers, 1);
  config.latency_s = 50e-6;
  const sim::SimResult r = sim::simulate(sim::synthetic_workload(subtasks, 1.0, 1.0, 0.3, 1), config);
  const double per = r.decisions.mean_s();
  std::printf("| %d | %zu | %s | %.2f | %.2f | %llu | %.0f | %.0f | %llu | %.3f | %.3f | %.0f | %.3f |\n", workers,
              subtasks, policy.c_str(), r.wall_s, r.scheduler_wall_s, static_cast<unsigned long long>(r.decisions.calls),
              per > 0 ? 1 / per : 0.0, r.scheduler_wall_s > 0 ? static_cast<double>(r.assigns) / r.scheduler_wall_s : 0.0,
              static_cast<unsigned long long>(r.rebalance.calls), r.rebalance.mean_s() * 1e3, r.rebalance.p99_s * 1e3,
              r.peak_rss_bytes / (1024.0 * 1024.0), r.efficiency);
  return r.stalled || r.done != subtasks ? 1 : 0;
}
