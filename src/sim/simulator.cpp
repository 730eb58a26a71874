#include "sim/simulator.hpp"

#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <bit>
#include <chrono>
#include <cmath>
#include <deque>
#include <limits>
#include <map>
#include <numeric>
#include <optional>
#include <random>
#include <sstream>
#include <variant>

#include "fastgpu/error.hpp"

namespace fastgpu::sim {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

double number_or_throw(const std::string& text, const std::string& what) {
  std::size_t used = 0;
  double value = 0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size() || !std::isfinite(value)) {
    throw UsageError(what + ": '" + text + "' is not a number");
  }
  return value;
}

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> parts;
  std::string part;
  std::istringstream in(text);
  while (std::getline(in, part, sep)) {
    part.erase(0, part.find_first_not_of(" \t"));
    part.erase(part.find_last_not_of(" \t") + 1);
    parts.push_back(part);
  }
  return parts;
}

double thread_cpu_s() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

double process_cpu_s() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
}

double peak_rss_bytes() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) * 1024.0;  // Linux: KiB
}

// Durations in log-spaced buckets (8 per power of two): percentiles without keeping every sample.
class Histogram {
 public:
  void add(std::uint64_t ns) {
    ++buckets_[bucket(ns)];
    max_ = std::max(max_, ns);
  }
  double percentile_s(double p, std::uint64_t count) const {
    if (count == 0) return 0;
    const auto target = static_cast<std::uint64_t>(std::ceil(p * static_cast<double>(count)));
    std::uint64_t seen = 0;
    for (std::size_t b = 0; b < buckets_.size(); ++b) {
      seen += buckets_[b];
      if (seen >= std::max<std::uint64_t>(target, 1)) return std::min(midpoint(b), static_cast<double>(max_)) * 1e-9;
    }
    return static_cast<double>(max_) * 1e-9;
  }
  double max_s() const { return static_cast<double>(max_) * 1e-9; }

 private:
  static std::size_t bucket(std::uint64_t ns) {
    if (ns < 8) return static_cast<std::size_t>(ns);
    const int msb = 63 - std::countl_zero(ns);
    return static_cast<std::size_t>(msb - 2) * 8 + static_cast<std::size_t>((ns >> (msb - 3)) & 7);
  }
  static double midpoint(std::size_t b) {
    if (b < 8) return static_cast<double>(b);
    const int msb = static_cast<int>(b / 8) + 2;
    const double low = std::ldexp(8.0 + static_cast<double>(b % 8), msb - 3);
    return low + std::ldexp(0.5, msb - 3);
  }
  std::vector<std::uint64_t> buckets_ = std::vector<std::uint64_t>(8 * 64, 0);
  std::uint64_t max_ = 0;
};

// Counts what the scheduler records and passes it on (to the HDF5 writer, or a test's recorder).
class CountingSink final : public ResultsSink {
 public:
  explicit CountingSink(ResultsSink* next, SimResult& result) : next_(next), r_(result) {}
  void add_worker(const WorkerRecord& worker) override {
    if (next_) next_->add_worker(worker);
  }
  void update_task(std::size_t index, const TaskRecord& task) override {
    if (next_) next_->update_task(index, task);
  }
  void add_attempt(const AttemptRecord& attempt) override {
    ++r_.attempts;
    if (attempt.status == AttemptStatus::failed) ++r_.failed_attempts;
    if (attempt.status == AttemptStatus::superseded) ++r_.superseded;
    if (attempt.status == AttemptStatus::cancelled) ++r_.cancelled;
    if (next_) next_->add_attempt(attempt);
  }
  void add_event(const EventRecord& event) override {
    const std::string& k = event.kind;
    if (k == "assign") ++r_.assigns;
    else if (k == "retry") ++r_.retries;
    else if (k == "migrate") ++r_.migrations;
    else if (k == "retract_failed") ++r_.retract_failed;
    else if (k == "rebalance") ++r_.rebalances;
    else if (k == "speculate") ++r_.speculations;
    else if (k == "speculation_won") ++r_.speculation_won;
    if (next_) next_->add_event(event);
  }

 private:
  ResultsSink* next_;
  SimResult& r_;
};

class Engine final : public comm::MessageSink {
 public:
  Engine(Workload workload, const SimConfig& config, ResultsSink* record)
      : config_(config),
        work_(std::move(workload.work)),
        arrival_(std::move(workload.arrival)),
        sink_(record, result_),
        first_start_(work_.size(), std::numeric_limits<double>::quiet_NaN()),
        rng_(config.seed) {
    if (config_.workers < 1) throw UsageError("--workers must be at least 1");
    if (config_.gpus_per_node < 1) throw UsageError("--gpus-per-node must be at least 1");
    if (config_.latency_s < 0) throw UsageError("--latency must not be negative");
    if (config_.fail_rate < 0 || config_.fail_rate >= 1) throw UsageError("--fail-rate must be in [0, 1)");
    scheduler::SchedulerConfig sc = config_.scheduler;
    sc.expected_workers = config_.workers;
    // Virtual workers run no kernel: they would ignore a request to checkpoint (MigrateAttempt).
    sc.running_migration = false;
    const bool any_arrival = std::any_of(arrival_.begin(), arrival_.end(), [](double a) { return a > 0; });
    // static splits everything at start (a job array); its workers wait for a subtask's arrival.
    gate_at_workers_ = any_arrival && sc.policy == scheduler::Policy::static_;
    const bool gate_at_scheduler = any_arrival && !gate_at_workers_;
    workers_.resize(static_cast<std::size_t>(config_.workers) + 1);
    for (int rank = 1; rank <= config_.workers; ++rank) {
      const std::size_t i = static_cast<std::size_t>(rank - 1);
      const double speed = i < config_.speeds.size() ? config_.speeds[i] : 1.0;
      if (!(speed > 0)) throw UsageError("worker speeds must be positive");
      workers_[static_cast<std::size_t>(rank)].speed = speed;
      result_.speed_sum += speed;
      fastest_ = std::max(fastest_, speed);
    }
    result_.subtasks = work_.size();
    for (const Subtask& subtask : workload.subtasks) gpus_.push_back(subtask.gpus);
    sched_.emplace(std::move(workload.job), std::move(workload.subtasks), sc, *this, sink_, config_.history);
    if (gate_at_scheduler) {
      sched_->hold_all();
      std::vector<std::uint32_t> order(work_.size());
      std::iota(order.begin(), order.end(), 0u);
      std::stable_sort(order.begin(), order.end(), [&](auto a, auto b) { return arrival_[a] < arrival_[b]; });
      for (std::size_t i = 0; i < order.size();) {
        std::size_t j = i;
        Body& body = alloc(Kind::arrival, 0);
        while (j < order.size() && arrival_[order[j]] == arrival_[order[i]]) body.refs.push_back({order[j++], 0});
        push(arrival_[order[i]], last_slot_);
        i = j;
      }
    }
    for (std::size_t i = 0; i < config_.slowdowns.size(); ++i) {
      const auto& s = config_.slowdowns[i];
      check_rank(s.rank, "--slowdown");
      if (!(s.factor > 0)) throw UsageError("--slowdown factor must be positive");
      alloc(Kind::slowdown, s.rank).index = i;
      push(s.at, last_slot_);
    }
    for (const auto& f : config_.failures) {
      check_rank(f.rank, "--fail");
      alloc(Kind::fail, f.rank);
      push(f.at, last_slot_);
    }
  }

  SimResult run() {
    const auto wall0 = std::chrono::steady_clock::now();
    const double cpu0 = process_cpu_s();
    const double join = config_.latency_s;  // every hello takes one message latency
    for (int rank = 1; rank <= config_.workers; ++rank) {
      const WorkerRecord record =
          virtual_worker(rank, config_.gpus_per_node, workers_[static_cast<std::size_t>(rank)].speed);
      decide(join, [&] { sched_->on_worker_joined(record, join); });
    }
    loop();
    result_.wall_s = seconds_since(wall0);
    result_.cpu_s = process_cpu_s() - cpu0;
    finish_stats();
    result_.peak_rss_bytes = peak_rss_bytes();
    return result_;
  }

  void send(int to, const comm::Message& message) override {
    const double at = now_ + config_.latency_s;
    if (const auto* assign = std::get_if<comm::AssignTasks>(&message)) {
      Body& body = alloc(Kind::assign, to);
      for (const auto& launch : assign->tasks) {
        body.refs.push_back({launch.task, launch.attempt});
        body.ahead.push_back(launch.ahead_of_gang);
      }
      queued_total_ += assign->tasks.size();
    } else if (const auto* retract = std::get_if<comm::RetractTasks>(&message)) {
      alloc(Kind::retract, to).refs = retract->attempts;
    } else if (const auto* cancel = std::get_if<comm::CancelAttempt>(&message)) {
      alloc(Kind::cancel, to).refs.assign(1, cancel->attempt);
    } else {
      return;  // Shutdown: the simulation ends when every subtask has
    }
    ++in_flight_;
    push(at, last_slot_);
  }

 private:
  enum class Kind : std::uint8_t { finish, assign, retract, cancel, report, ack, arrival, slowdown, fail, wake };
  struct Body {
    Kind kind = Kind::finish;
    int rank = 0;
    std::uint64_t wseq = 0;
    std::size_t index = 0;
    std::vector<comm::AttemptRef> refs;
    std::vector<char> ahead;  ///< assign: per ref, TaskLaunch::ahead_of_gang
    comm::WorkerReport report;
    comm::RetractAck ack;
  };
  struct Key {
    double time;
    std::uint64_t seq;
    std::uint32_t slot;
    bool operator>(const Key& o) const { return time > o.time || (time == o.time && seq > o.seq); }
  };
  struct VWorker {
    double speed = 1;
    std::deque<comm::AttemptRef> queue;
    bool running = false;
    comm::AttemptRef current;
    double start = 0, end = 0;
    bool fails = false;
    bool waiting = false;  // static policy: its next subtask has not arrived yet
    bool at_gang = false;  // reached a multi-GPU attempt and waits for its other members
    comm::AttemptRef gang;
    std::uint64_t wseq = 0;
  };

  static double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }

  void check_rank(int rank, const char* option) const {
    if (rank < 1 || rank > config_.workers) {
      throw UsageError(std::string(option) + ": worker rank " + std::to_string(rank) + " is not in 1.." +
                       std::to_string(config_.workers));
    }
  }

  Body& alloc(Kind kind, int rank) {
    if (free_.empty()) {
      bodies_.emplace_back();
      last_slot_ = static_cast<std::uint32_t>(bodies_.size() - 1);
    } else {
      last_slot_ = free_.back();
      free_.pop_back();
    }
    Body& body = bodies_[last_slot_];
    body.kind = kind;
    body.rank = rank;
    body.wseq = 0;
    body.index = 0;
    body.refs.clear();
    body.ahead.clear();
    body.report.started.clear();
    body.report.finished.clear();
    body.ack.retracted.clear();
    body.ack.already_started.clear();
    return body;
  }
  void push(double time, std::uint32_t slot) {
    heap_.push_back({time, seq_++, slot});
    std::push_heap(heap_.begin(), heap_.end(), std::greater<>());
  }

  // One scheduler call reacting to one event, timed.
  template <class F>
  void decide(double now, F&& call) {
    now_ = now;
    const auto t0 = std::chrono::steady_clock::now();
    call();
    const auto ns = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count());
    ++result_.decisions.calls;
    result_.decisions.wall_s += static_cast<double>(ns) * 1e-9;
    decision_hist_.add(ns);
  }
  void tick(double now, bool timed) {
    now_ = now;
    if (!timed) {
      sched_->on_tick(now);
      return;
    }
    const double cpu0 = thread_cpu_s();
    const auto t0 = std::chrono::steady_clock::now();
    sched_->on_tick(now);
    const auto ns = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count());
    result_.rebalance.cpu_s += thread_cpu_s() - cpu0;
    ++result_.rebalance.calls;
    result_.rebalance.wall_s += static_cast<double>(ns) * 1e-9;
    rebalance_hist_.add(ns);
  }

  void loop() {
    while (!sched_->finished()) {
      const double next = heap_.empty() ? kInf : heap_.front().time;
      const double wake = sched_->next_wakeup();
      if (wake <= next && std::isfinite(wake)) {
        if (queued_total_ == 0 && in_flight_ == 0) {
          if (!std::isfinite(next)) break;  // nothing will ever happen again
          // Nothing is queued anywhere until `next`: every round before it would move nothing.
          // Run the first and the last of them, so the next one falls where it would anyway.
          tick(wake, false);
          const double interval = sched_->next_wakeup() - wake;
          if (interval > 0) {
            const double rounds = std::floor((next - wake) / interval);
            if (rounds >= 1) tick(wake + rounds * interval, false);
          }
          continue;
        }
        tick(wake, true);
        continue;
      }
      if (heap_.empty()) break;
      std::pop_heap(heap_.begin(), heap_.end(), std::greater<>());
      const Key key = heap_.back();
      heap_.pop_back();
      ++result_.events;
      handle(key.time, bodies_[key.slot]);
      free_.push_back(key.slot);
    }
    result_.stalled = !sched_->finished();
  }

  void handle(double t, Body& body) {
    VWorker& w = workers_[static_cast<std::size_t>(body.rank)];
    switch (body.kind) {
      case Kind::finish: {
        if (!w.running || w.wseq != body.wseq) return;  // cancelled or rescheduled meanwhile
        comm::WorkerReport report;
        report.finished.push_back(end_attempt(w, t, w.fails ? AttemptStatus::failed : AttemptStatus::done));
        start_next(body.rank, w, t, report);
        send_report(body.rank, t, std::move(report));
        return;
      }
      case Kind::assign: {
        --in_flight_;
        for (std::size_t i = 0; i < body.refs.size(); ++i) {
          // As a worker queues them: a backfilled attempt goes before its first multi-GPU one.
          auto at = w.queue.end();
          if (body.ahead[i]) at = std::find_if(w.queue.begin(), w.queue.end(), [&](const auto& r) { return gpus_[r.task] > 1; });
          w.queue.insert(at, body.refs[i]);
        }
        comm::WorkerReport report;
        start_next(body.rank, w, t, report);
        if (!report.started.empty()) send_report(body.rank, t, std::move(report));
        return;
      }
      case Kind::retract: {
        --in_flight_;
        Body& ack = alloc(Kind::ack, body.rank);
        for (const auto& ref : body.refs) {
          auto it = find(w.queue, ref);
          if (it != w.queue.end()) {
            w.queue.erase(it);
            --queued_total_;
            ack.ack.retracted.push_back(ref);
          } else {
            ack.ack.already_started.push_back(ref);
          }
        }
        ++in_flight_;
        push(t + config_.latency_s, last_slot_);
        return;
      }
      case Kind::cancel: {
        --in_flight_;
        const comm::AttemptRef ref = body.refs.front();
        comm::WorkerReport report;
        if (auto it = find(w.queue, ref); it != w.queue.end()) {
          w.queue.erase(it);
          --queued_total_;
          report.finished.push_back(cancelled_unstarted(ref, t));
        } else if (w.running && w.current.task == ref.task && w.current.attempt == ref.attempt) {
          report.finished.push_back(end_attempt(w, t, AttemptStatus::cancelled));
          start_next(body.rank, w, t, report);
        } else if (w.at_gang && w.gang.task == ref.task && w.gang.attempt == ref.attempt) {
          if (auto meeting = meetings_.find({ref.task, ref.attempt}); meeting != meetings_.end()) {
            std::erase(meeting->second, body.rank);  // leaves the meeting unstarted
            if (meeting->second.empty()) meetings_.erase(meeting);
          }
          w.at_gang = false;
          report.finished.push_back(cancelled_unstarted(ref, t));
          start_next(body.rank, w, t, report);
        } else {
          return;  // already over: its report is on the way
        }
        send_report(body.rank, t, std::move(report));
        return;
      }
      case Kind::report:
        --in_flight_;
        decide(t, [&] { sched_->on_report(body.rank, body.report, t); });
        return;
      case Kind::ack:
        --in_flight_;
        decide(t, [&] { sched_->on_retract_ack(body.rank, body.ack, t); });
        return;
      case Kind::arrival: {
        std::vector<std::uint32_t> tasks;
        tasks.reserve(body.refs.size());
        for (const auto& ref : body.refs) tasks.push_back(ref.task);
        decide(t, [&] { sched_->release(tasks, t); });
        return;
      }
      case Kind::slowdown: {
        const double factor = config_.slowdowns[body.index].factor;
        w.speed /= factor;
        if (w.running && w.end > t) {
          w.end = t + (w.end - t) * factor;
          schedule_finish(body.rank, w);
        }
        return;
      }
      case Kind::fail: {
        if (!w.running) {
          ++result_.missed_failures;
          return;
        }
        ++result_.injected_failures;
        w.fails = true;
        w.end = t;
        schedule_finish(body.rank, w);
        return;
      }
      case Kind::wake: {
        w.waiting = false;
        comm::WorkerReport report;
        start_next(body.rank, w, t, report);
        if (!report.started.empty()) send_report(body.rank, t, std::move(report));
        return;
      }
    }
  }

  static std::deque<comm::AttemptRef>::iterator find(std::deque<comm::AttemptRef>& queue, const comm::AttemptRef& ref) {
    return std::find_if(queue.begin(), queue.end(),
                        [&](const comm::AttemptRef& r) { return r.task == ref.task && r.attempt == ref.attempt; });
  }

  // What a worker reports for an attempt cancelled before it started.
  static comm::TaskResult cancelled_unstarted(const comm::AttemptRef& ref, double t) {
    comm::TaskResult result;
    result.task = ref.task;
    result.attempt = ref.attempt;
    result.start = result.end = t;
    result.status = AttemptStatus::cancelled;
    result.error = "cancelled before it started";
    return result;
  }

  void send_report(int rank, double t, comm::WorkerReport&& report) {
    Body& body = alloc(Kind::report, rank);
    body.report = std::move(report);
    ++in_flight_;
    push(t + config_.latency_s, last_slot_);
  }

  void schedule_finish(int rank, VWorker& w) {
    ++w.wseq;
    Body& body = alloc(Kind::finish, rank);
    body.wseq = w.wseq;
    push(w.end, last_slot_);
  }

  comm::TaskResult end_attempt(VWorker& w, double t, AttemptStatus status) {
    comm::TaskResult result;
    result.task = w.current.task;
    result.attempt = w.current.attempt;
    result.start = w.start;
    result.end = t;
    result.status = status;
    result.exit_code = status == AttemptStatus::done ? 0 : status == AttemptStatus::failed ? 1 : -1;
    if (status == AttemptStatus::failed) result.error = "injected failure (exit code 1)";
    if (status == AttemptStatus::cancelled) result.error = "cancelled";
    w.running = false;
    w.fails = false;
    ++w.wseq;  // its pending finish event, if any, is void
    return result;
  }

  void start_next(int rank, VWorker& w, double t, comm::WorkerReport& report) {
    if (w.running || w.queue.empty() || w.waiting || w.at_gang) return;
    const comm::AttemptRef ref = w.queue.front();
    if (gate_at_workers_ && arrival_[ref.task] > t) {
      w.waiting = true;
      alloc(Kind::wake, rank);
      push(arrival_[ref.task], last_slot_);
      return;
    }
    w.queue.pop_front();
    --queued_total_;
    if (gpus_[ref.task] > 1) return meet_at_gang(rank, w, ref, t, report);
    begin(w, ref, t, work_[ref.task] / w.speed, report);
    schedule_finish(rank, w);
  }

  // A multi-GPU attempt starts when its last member reaches it, on all members at once, and runs
  // at the slowest member's speed (its collectives wait for it).
  void meet_at_gang(int rank, VWorker& w, const comm::AttemptRef& ref, double t, comm::WorkerReport& report) {
    w.at_gang = true;
    w.gang = ref;
    std::vector<int>& arrived = meetings_[{ref.task, ref.attempt}];
    arrived.push_back(rank);
    if (static_cast<int>(arrived.size()) < gpus_[ref.task]) return;
    const std::vector<int> members = std::move(arrived);
    meetings_.erase({ref.task, ref.attempt});
    double slowest = std::numeric_limits<double>::infinity();
    for (const int member : members) slowest = std::min(slowest, workers_[static_cast<std::size_t>(member)].speed);
    for (const int member : members) {
      VWorker& m = workers_[static_cast<std::size_t>(member)];
      m.at_gang = false;
      if (member == rank) {
        begin(m, ref, t, work_[ref.task] / slowest, report);
      } else {
        comm::WorkerReport started;
        begin(m, ref, t, work_[ref.task] / slowest, started);
        send_report(member, t, std::move(started));
      }
      schedule_finish(member, m);
    }
  }

  // `w` starts `ref` at `t` for `duration` (cut short at a random point if it is to fail).
  void begin(VWorker& w, const comm::AttemptRef& ref, double t, double duration, comm::WorkerReport& report) {
    w.running = true;
    w.current = ref;
    w.start = t;
    w.fails = config_.fail_rate > 0 && unit_(rng_) < config_.fail_rate;
    w.end = t + (w.fails ? unit_(rng_) * duration : duration);
    if (std::isnan(first_start_[ref.task])) first_start_[ref.task] = t;
    report.started.push_back({ref.task, ref.attempt, t});
  }

  void finish_stats() {
    const auto& records = sched_->tasks();
    std::vector<double> waits, completions;
    waits.reserve(records.size());
    completions.reserve(records.size());
    double longest = 0, arrival_bound = 0;
    for (std::size_t i = 0; i < records.size(); ++i) {
      if (records[i].status == TaskStatus::failed) {
        ++result_.failed;
        if (gpus_[i] > config_.workers) ++result_.too_wide;
      }
      // The bound is that of the work done, as the makespan is: a subtask that failed (one wider
      // than the pool fails at once) would otherwise raise it above any schedule's makespan.
      if (records[i].status != TaskStatus::done) continue;
      result_.total_work_s += work_[i] * gpus_[i];  // GPU-seconds: a gang holds gpus workers
      longest = std::max(longest, work_[i]);
      arrival_bound = std::max(arrival_bound, arrival_[i] + work_[i] / fastest_);
      ++result_.done;
      result_.makespan_s = std::max(result_.makespan_s, records[i].end);
      completions.push_back(records[i].end - arrival_[i]);
      waits.push_back(first_start_[i] - arrival_[i]);
    }
    result_.lower_bound_s = std::max({result_.total_work_s / result_.speed_sum, longest / fastest_, arrival_bound});
    result_.efficiency = result_.makespan_s > 0 ? result_.lower_bound_s / result_.makespan_s : 1.0;
    result_.wait_s = distribution(std::move(waits));
    result_.completion_s = distribution(std::move(completions));
    auto fill = [](CallCost& cost, const Histogram& h) {
      cost.p50_s = h.percentile_s(0.50, cost.calls);
      cost.p99_s = h.percentile_s(0.99, cost.calls);
      cost.max_s = h.max_s();
    };
    fill(result_.decisions, decision_hist_);
    fill(result_.rebalance, rebalance_hist_);
    result_.scheduler_wall_s = result_.decisions.wall_s + result_.rebalance.wall_s;
  }

  SimConfig config_;
  std::vector<double> work_, arrival_;
  std::vector<int> gpus_;  ///< by task: its GPUs (workers)
  /// Multi-GPU attempts some members reached: (task, attempt) -> the ranks waiting at it.
  std::map<std::pair<std::uint32_t, std::int32_t>, std::vector<int>> meetings_;
  SimResult result_;
  CountingSink sink_;
  std::vector<double> first_start_;
  std::optional<scheduler::Scheduler> sched_;
  std::vector<VWorker> workers_;  // by rank; 0 unused
  double fastest_ = 0;
  bool gate_at_workers_ = false;
  std::vector<Key> heap_;
  std::deque<Body> bodies_;  // a deque: handle() holds a reference while alloc() adds more
  std::vector<std::uint32_t> free_;
  std::uint32_t last_slot_ = 0;
  std::uint64_t seq_ = 0;
  std::size_t queued_total_ = 0;  // attempts assigned and not yet started or taken back
  std::size_t in_flight_ = 0;     // messages not yet delivered
  double now_ = 0;
  std::mt19937_64 rng_;
  std::uniform_real_distribution<double> unit_{0.0, 1.0};
  Histogram decision_hist_, rebalance_hist_;
};

}  // namespace

std::vector<double> parse_speeds(const std::string& text, int workers, std::uint64_t seed) {
  std::vector<double> speeds(static_cast<std::size_t>(std::max(workers, 0)), 1.0);
  if (text.empty()) return speeds;
  const auto items = split(text, ',');
  if (text.find('%') != std::string::npos) {
    std::vector<std::size_t> ranks(speeds.size());
    std::iota(ranks.begin(), ranks.end(), std::size_t{0});
    std::mt19937_64 rng(seed);
    std::shuffle(ranks.begin(), ranks.end(), rng);
    std::size_t next = 0;
    for (const auto& item : items) {
      const auto at = item.find("%@");
      if (at == std::string::npos) throw UsageError("--speeds: '" + item + "' is not PERCENT%@SPEED (e.g. 10%@0.5)");
      const double percent = number_or_throw(item.substr(0, at), "--speeds percent");
      const double speed = number_or_throw(item.substr(at + 2), "--speeds speed");
      if (percent < 0 || percent > 100 || !(speed > 0)) throw UsageError("--speeds: '" + item + "' is out of range");
      const auto count = static_cast<std::size_t>(std::llround(percent / 100.0 * static_cast<double>(workers)));
      if (next + count > speeds.size()) throw UsageError("--speeds: the shares add up to more than 100 %");
      for (std::size_t i = 0; i < count; ++i) speeds[ranks[next++]] = speed;
    }
    return speeds;
  }
  if (items.size() > speeds.size()) throw UsageError("--speeds lists more speeds than --workers");
  for (std::size_t i = 0; i < speeds.size(); ++i) {
    speeds[i] = number_or_throw(items[i % items.size()], "--speeds");
    if (!(speeds[i] > 0)) throw UsageError("--speeds must be positive");
  }
  return speeds;
}

Slowdown parse_slowdown(const std::string& text) {
  const auto eq = text.find('='), at = text.find('@');
  if (eq == std::string::npos || at == std::string::npos || at < eq) {
    throw UsageError("--slowdown: '" + text + "' is not RANK=FACTOR@TIME (e.g. 3=2@100)");
  }
  Slowdown s;
  s.rank = static_cast<int>(number_or_throw(text.substr(0, eq), "--slowdown rank"));
  s.factor = number_or_throw(text.substr(eq + 1, at - eq - 1), "--slowdown factor");
  s.at = number_or_throw(text.substr(at + 1), "--slowdown time");
  if (!(s.factor > 0) || s.at < 0) throw UsageError("--slowdown: '" + text + "': factor must be > 0, time >= 0");
  return s;
}

InjectedFailure parse_failure(const std::string& text) {
  const auto at = text.find('@');
  if (at == std::string::npos) throw UsageError("--fail: '" + text + "' is not RANK@TIME (e.g. 3@100)");
  InjectedFailure f;
  f.rank = static_cast<int>(number_or_throw(text.substr(0, at), "--fail rank"));
  f.at = number_or_throw(text.substr(at + 1), "--fail time");
  if (f.at < 0) throw UsageError("--fail: time must be >= 0");
  return f;
}

Distribution distribution(std::vector<double> values) {
  Distribution d;
  d.count = values.size();
  if (values.empty()) return d;
  d.avg = std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
  auto at = [&](double p) {
    const auto k = static_cast<std::size_t>(std::ceil(p * static_cast<double>(values.size()))) - 1;
    const auto index = std::min(k, values.size() - 1);
    std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(index), values.end());
    return values[index];
  };
  d.p50 = at(0.50);
  d.p99 = at(0.99);
  d.max = *std::max_element(values.begin(), values.end());
  return d;
}

WorkerRecord virtual_worker(int rank, int gpus_per_node, double speed) {
  WorkerRecord record;
  record.rank = rank;
  record.host = "node" + std::to_string((rank - 1) / gpus_per_node);
  record.local_rank = (rank - 1) % gpus_per_node;
  record.device = "cuda:" + std::to_string(record.local_rank);
  std::ostringstream name;
  name << "virtual GPU (speed " << speed << ")";
  record.gpu_name = name.str();
  return record;
}

SimResult simulate(Workload workload, const SimConfig& config, ResultsSink* record) {
  if (workload.work.size() != workload.subtasks.size() || workload.arrival.size() != workload.subtasks.size()) {
    throw Error("simulate: workload vectors differ in length");
  }
  Engine engine(std::move(workload), config, record);
  return engine.run();
}

}  // namespace fastgpu::sim
