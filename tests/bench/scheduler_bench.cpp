// The scheduler's own cost (rank 0's CPU time), measured on the pure scheduler::Scheduler driven by
// a discrete-event simulation of W virtual workers: no MPI, no HDF5, no clocks but a virtual one.
//
//   BM_Decision/<policy>/W    one decision: a worker reports one finished attempt (and the start
//                             of its next queued one) -> on_report -> placement of the next
//                             subtask. Steady state: 50,000 decisions of a 100,000-subtask job, so
//                             the queue of pending subtasks stays long. No rebalance rounds.
//   BM_RebalanceRound/W       one rebalance round of the cost policy: on_tick with every worker
//                             holding queued work, plus the RetractAck of every retraction it sent
//                             (the migrations complete). Between rounds the simulation runs on
//                             (untimed) until the scheduler's next wakeup, so each round sees a
//                             fresh, realistic state. Time = thread CPU time of the round only.
//   BM_CostModelObserve/W     the cost model's part of a decision: observe() of one result.
//   BM_WholeJob/<policy>/W    a whole 100,000-subtask job from the workers' hellos to the last
//                             result, rebalance rounds and the speculative tail included; time
//                             per subtask.
//
// W = 4 and 64. Every fourth worker (rank 4, 8, ...) runs 2x slower, subtasks take lognormal
// (sigma 1.5) seconds with mean 1 s, and the cost estimates are off by a lognormal(0, 0.3) factor,
// as in scripts/bench/balance-efficiency.sh. The simulation's own bookkeeping (a heap of worker
// finish times, the sinks, which count rather than keep what they get) is inside the timed region
// of BM_Decision and BM_WholeJob: a few heap and deque operations per decision, small beside the
// scheduler's work.
//
//   build-*/tests/fastgpu_bench_scheduler [--benchmark_filter=...] [--benchmark_repetitions=N]
#include <benchmark/benchmark.h>

#include <time.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <deque>
#include <limits>
#include <optional>
#include <queue>
#include <random>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "comm/transport.hpp"
#include "cost/cost_model.hpp"
#include "scheduler/scheduler.hpp"

namespace {

using fastgpu::AttemptStatus;
using fastgpu::EventRecord;
using fastgpu::JobSpec;
using fastgpu::Subtask;
using fastgpu::TaskRecord;
using fastgpu::WorkerRecord;
using fastgpu::scheduler::Policy;
using fastgpu::scheduler::Scheduler;
using fastgpu::scheduler::SchedulerConfig;
namespace comm = fastgpu::comm;

constexpr std::size_t kSubtasks = 100'000;
constexpr std::int64_t kSteadyDecisions = 50'000;

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

/// Counts what the scheduler records instead of keeping it (the real one buffers rows for HDF5).
class CountingResults final : public fastgpu::ResultsSink {
 public:
  void add_worker(const WorkerRecord&) override { ++workers; }
  void update_task(std::size_t, const TaskRecord&) override { ++task_updates; }
  void add_attempt(const fastgpu::AttemptRecord&) override { ++attempts; }
  void add_event(const EventRecord& event) override {
    ++events;
    if (event.kind == "migrate") ++migrations;
    if (event.kind == "speculate") ++speculations;
  }
  std::int64_t workers = 0, task_updates = 0, attempts = 0, events = 0, migrations = 0, speculations = 0;
};

struct Workload {
  JobSpec job;
  std::vector<Subtask> subtasks;
  std::vector<double> seconds;  // true run time on a speed-1 worker
};

/// N sleep-kernel subtasks: true seconds lognormal(sigma 1.5) scaled to mean 1 s, estimate
/// c = s * lognormal(0, 0.3); fixed seed.
const Workload& workload() {
  static const Workload w = [] {
    Workload out;
    out.job.name = "bench";
    out.job.output = "bench.h5";
    out.job.output_dir = "/tmp/bench.outputs";
    out.job.task.kernel = "sleep";
    out.job.task.args = {{"seconds", "{s}"}};
    out.job.task.cost = "{c}";
    std::mt19937_64 rng(42);
    std::lognormal_distribution<double> duration(0.0, 1.5), noise(0.0, 0.3);
    const double mean = std::exp(1.5 * 1.5 / 2);  // of lognormal(0, 1.5)
    out.subtasks.reserve(kSubtasks);
    for (std::size_t i = 0; i < kSubtasks; ++i) {
      const double s = duration(rng) / mean;
      const double c = s * noise(rng);
      Subtask t;
      t.id = "t" + std::to_string(i);
      t.name = t.id;
      t.params = {{"s", s}, {"c", c}};
      t.cost = c;
      out.subtasks.push_back(std::move(t));
      out.seconds.push_back(s);
    }
    return out;
  }();
  return w;
}

/// W virtual workers around one Scheduler, in virtual time. A worker runs one attempt at a time,
/// starts its next queued one the moment the last ends, and reports both in one WorkerReport, as
/// the real worker does. Retractions are acknowledged and cancellations carried out right after
/// the scheduler call that sent them.
class Simulation final : public comm::MessageSink {
 public:
  /// `rebalance_interval_s` 0: the scheduler's adaptive default.
  Simulation(Policy policy, int workers, double rebalance_interval_s = 0)
      : workers_(static_cast<std::size_t>(workers) + 1) {
    SchedulerConfig config;
    config.policy = policy;
    config.expected_workers = workers;
    config.rebalance_interval_s = rebalance_interval_s;
    const Workload& w = workload();
    scheduler_.emplace(w.job, w.subtasks, config, *this, results_);
    for (int rank = 1; rank <= workers; ++rank) {
      workers_[static_cast<std::size_t>(rank)].speed = rank % 4 == 0 ? 0.5 : 1.0;
      WorkerRecord worker;
      worker.rank = rank;
      worker.host = "sim";
      worker.local_rank = rank - 1;
      worker.device = "cpu";
      scheduler_->on_worker_joined(worker, 0.0);
      settle(0.0);
    }
  }

  Scheduler& scheduler() { return *scheduler_; }
  const CountingResults& results() const { return results_; }
  double now() const { return now_; }
  bool done() const { return scheduler_->finished(); }
  /// Virtual time of the next worker report (infinity when nothing runs).
  double next_event() const { return finishes_.empty() ? std::numeric_limits<double>::infinity() : finishes_.top().end; }

  /// The next worker to finish reports: one decision. False when nothing is running.
  bool step() {
    while (!finishes_.empty()) {
      const auto [end, rank, seq] = finishes_.top();
      finishes_.pop();
      Worker& worker = workers_[static_cast<std::size_t>(rank)];
      if (!worker.running || worker.seq != seq) continue;  // cancelled meanwhile
      now_ = end;
      comm::WorkerReport report;
      report.finished.push_back(finish(worker, AttemptStatus::done));
      if (auto started = start_next(rank, worker)) report.started.push_back(*started);
      scheduler_->on_report(rank, report, now_);
      settle(now_);
      return true;
    }
    return false;
  }

  /// Runs decisions until virtual time reaches `until` (or nothing runs).
  void run_until(double until) {
    while (!finishes_.empty() && finishes_.top().end <= until) step();
    now_ = std::max(now_, until);
  }

  /// One rebalance round at `now` with its retractions acknowledged.
  void tick(double now) {
    now_ = std::max(now_, now);
    scheduler_->on_tick(now_);
    settle(now_);
  }

  void send(int to, const comm::Message& message) override {
    Worker& worker = workers_[static_cast<std::size_t>(to)];
    if (const auto* assign = std::get_if<comm::AssignTasks>(&message)) {
      for (const auto& launch : assign->tasks) worker.queue.push_back({launch.task, launch.attempt});
      if (!worker.running) idle_with_work_.push_back(to);
    } else if (const auto* retract = std::get_if<comm::RetractTasks>(&message)) {
      retracts_.emplace_back(to, retract->attempts);
    } else if (const auto* cancel = std::get_if<comm::CancelAttempt>(&message)) {
      cancels_.emplace_back(to, cancel->attempt);
    }
  }

 private:
  struct Worker {
    double speed = 1;
    std::deque<comm::AttemptRef> queue;
    std::optional<comm::AttemptRef> running;
    double start = 0;
    std::uint64_t seq = 0;
  };
  struct Finish {
    double end;
    int rank;
    std::uint64_t seq;
    bool operator>(const Finish& o) const { return end > o.end || (end == o.end && rank > o.rank); }
  };

  comm::TaskResult finish(Worker& worker, AttemptStatus status) {
    comm::TaskResult result;
    result.task = worker.running->task;
    result.attempt = worker.running->attempt;
    result.start = worker.start;
    result.end = now_;
    result.status = status;
    result.exit_code = status == AttemptStatus::done ? 0 : -1;
    worker.running.reset();
    return result;
  }

  std::optional<comm::TaskStarted> start_next(int rank, Worker& worker) {
    if (worker.queue.empty()) return std::nullopt;
    worker.running = worker.queue.front();
    worker.queue.pop_front();
    worker.start = now_;
    ++worker.seq;
    finishes_.push({now_ + workload().seconds[worker.running->task] / worker.speed, rank, worker.seq});
    return comm::TaskStarted{worker.running->task, worker.running->attempt, now_};
  }

  // Carries out what the last scheduler call asked for; each may lead to another call.
  void settle(double now) {
    while (!idle_with_work_.empty() || !retracts_.empty() || !cancels_.empty()) {
      if (!retracts_.empty()) {
        auto [rank, refs] = std::move(retracts_.front());
        retracts_.pop_front();
        Worker& worker = workers_[static_cast<std::size_t>(rank)];
        comm::RetractAck ack;
        for (const auto& ref : refs) {
          auto it = std::find_if(worker.queue.begin(), worker.queue.end(), [&](const comm::AttemptRef& r) {
            return r.task == ref.task && r.attempt == ref.attempt;
          });
          if (it != worker.queue.end()) {
            worker.queue.erase(it);
            ack.retracted.push_back(ref);
          } else {
            ack.already_started.push_back(ref);
          }
        }
        scheduler_->on_retract_ack(rank, ack, now);
      } else if (!cancels_.empty()) {
        auto [rank, ref] = cancels_.front();
        cancels_.pop_front();
        Worker& worker = workers_[static_cast<std::size_t>(rank)];
        comm::WorkerReport report;
        auto it = std::find_if(worker.queue.begin(), worker.queue.end(), [&](const comm::AttemptRef& r) {
          return r.task == ref.task && r.attempt == ref.attempt;
        });
        if (it != worker.queue.end()) {
          worker.queue.erase(it);
          comm::TaskResult dropped;
          dropped.task = ref.task;
          dropped.attempt = ref.attempt;
          dropped.start = dropped.end = now;
          dropped.status = AttemptStatus::cancelled;
          report.finished.push_back(dropped);
        } else if (worker.running && worker.running->task == ref.task && worker.running->attempt == ref.attempt) {
          report.finished.push_back(finish(worker, AttemptStatus::cancelled));
          if (auto started = start_next(rank, worker)) report.started.push_back(*started);
        } else {
          continue;  // already over
        }
        scheduler_->on_report(rank, report, now);
      } else {
        const int rank = idle_with_work_.front();
        idle_with_work_.pop_front();
        Worker& worker = workers_[static_cast<std::size_t>(rank)];
        if (worker.running) continue;
        comm::WorkerReport report;
        if (auto started = start_next(rank, worker)) report.started.push_back(*started);
        if (!report.started.empty()) scheduler_->on_report(rank, report, now);
      }
    }
  }

  CountingResults results_;
  std::optional<Scheduler> scheduler_;
  std::vector<Worker> workers_;  // by rank; 0 unused
  std::priority_queue<Finish, std::vector<Finish>, std::greater<>> finishes_;
  std::deque<int> idle_with_work_;
  std::deque<std::pair<int, std::vector<comm::AttemptRef>>> retracts_;
  std::deque<std::pair<int, comm::AttemptRef>> cancels_;
  double now_ = 0;
};

Policy policy_arg(std::int64_t index) {
  return index == 0 ? Policy::cost : index == 1 ? Policy::greedy : Policy::static_;
}

void BM_Decision(benchmark::State& state) {
  const Policy policy = policy_arg(state.range(0));
  const int workers = static_cast<int>(state.range(1));
  state.SetLabel(fastgpu::scheduler::to_string(policy));
  Simulation sim(policy, workers);
  for (auto _ : state) {
    if (!sim.step()) state.SkipWithError("the simulated job ran out of subtasks");
  }
  state.counters["pending_left"] = static_cast<double>(sim.scheduler().counts().pending);
}

void BM_RebalanceRound(benchmark::State& state) {
  const int workers = static_cast<int>(state.range(0));
  // Rounds every virtual second (the adaptive interval would be 5 s here, as the longest subtasks
  // go first): 1000 rounds then cover most of the job at W = 64 (about 1800 virtual seconds).
  Simulation sim(Policy::cost, workers, 1.0);
  std::int64_t rounds = 0;
  const std::int64_t migrations_before = sim.results().migrations;
  for (auto _ : state) {
    sim.run_until(sim.scheduler().next_wakeup());  // decisions: not measured
    if (sim.done()) {
      state.SkipWithError("the simulated job finished");
      break;
    }
    const double t0 = thread_cpu_seconds();
    sim.tick(sim.scheduler().next_wakeup());
    state.SetIterationTime(thread_cpu_seconds() - t0);
    ++rounds;
  }
  state.counters["migrations_per_round"] =
      static_cast<double>(sim.results().migrations - migrations_before) / static_cast<double>(std::max<std::int64_t>(rounds, 1));
  state.counters["virtual_s"] = sim.now();
}

void BM_WholeJob(benchmark::State& state) {
  const Policy policy = policy_arg(state.range(0));
  const int workers = static_cast<int>(state.range(1));
  state.SetLabel(fastgpu::scheduler::to_string(policy));
  double makespan = 0, ideal = 0;
  std::int64_t migrations = 0, speculations = 0;
  for (auto _ : state) {
    state.PauseTiming();
    std::optional<Simulation> sim;
    sim.emplace(policy, workers);
    state.ResumeTiming();
    while (!sim->done()) {
      // Rebalance rounds when they are due, decisions in between, in virtual-time order.
      const double wake = sim->scheduler().next_wakeup();
      if (wake <= sim->next_event()) {
        sim->tick(wake);
      } else if (!sim->step()) {
        break;
      }
    }
    state.PauseTiming();
    makespan = sim->now();
    migrations = sim->results().migrations;
    speculations = sim->results().speculations;
    sim.reset();  // destruction not timed
    state.ResumeTiming();
  }
  double total = 0;
  for (double s : workload().seconds) total += s;
  double speed_sum = 0;
  for (int rank = 1; rank <= workers; ++rank) speed_sum += rank % 4 == 0 ? 0.5 : 1.0;
  ideal = total / speed_sum;
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(kSubtasks));
  state.counters["ns_per_subtask"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * static_cast<double>(kSubtasks),
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["sim_efficiency"] = ideal / makespan;
  state.counters["migrations"] = static_cast<double>(migrations);
  state.counters["speculations"] = static_cast<double>(speculations);
}

/// The cost model's share of a decision: observe() of one finished attempt (every policy does it).
void BM_CostModelObserve(benchmark::State& state) {
  const int workers = static_cast<int>(state.range(0));
  fastgpu::cost::CostModel model;
  const int class_id = model.class_id("sleep");
  for (int rank = 1; rank <= workers; ++rank) model.add_worker(rank, "sim", "cpu");
  const Workload& w = workload();
  std::size_t i = 0;
  for (auto _ : state) {
    const int rank = 1 + static_cast<int>(i % static_cast<std::size_t>(workers));
    const std::size_t task = i % kSubtasks;
    model.observe(rank, class_id, w.subtasks[task].cost, w.seconds[task] * (rank % 4 == 0 ? 2.0 : 1.0));
    ++i;
  }
}

}  // namespace

BENCHMARK(BM_CostModelObserve)->ArgName("W")->Arg(4)->Arg(64)->Iterations(50'000)->Unit(benchmark::kNanosecond);
BENCHMARK(BM_Decision)
    ->ArgNames({"policy", "W"})
    ->ArgsProduct({{0, 1, 2}, {4, 64}})
    ->Iterations(kSteadyDecisions)
    ->Unit(benchmark::kNanosecond);
BENCHMARK(BM_RebalanceRound)->ArgName("W")->Arg(4)->Arg(64)->UseManualTime()->Iterations(1000)->Unit(benchmark::kNanosecond);
BENCHMARK(BM_WholeJob)
    ->ArgNames({"policy", "W"})
    ->ArgsProduct({{0, 1, 2}, {4, 64}})
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
