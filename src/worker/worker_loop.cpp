#include "worker/worker_loop.hpp"

#include <chrono>
#include <algorithm>
#include <deque>
#include <optional>

#include "worker/running_attempt.hpp"
#include "worker/telemetry.hpp"

namespace fastgpu::worker {
namespace {

// While a subtask runs the worker wakes at least this often to read the scheduler's messages.
constexpr std::chrono::milliseconds kPollWhileRunning(50);
constexpr std::chrono::milliseconds kWaitWhileIdle(1000);
// Telemetry samples go to rank 0 in batches, one message at most this often.
constexpr std::chrono::milliseconds kTelemetryBatch(1000);

class Worker {
 public:
  Worker(comm::Transport& transport, const WorkerConfig& config) : transport_(transport), config_(config) {}

  bool run() {
    transport_.send(0, comm::WorkerHello{config_.self});
    if (config_.telemetry_interval_s > 0) {
      telemetry_.emplace(config_.self, config_.telemetry_interval_s, config_.job_start_unix);
    }
    while (!stopping_) {
      if (orphaned()) {
        stop_current();
        return false;
      }
      start_next_if_idle();
      send_report();
      send_telemetry(false);
      if (current_) {
        if (current_->attempt->poll(kPollWhileRunning)) finish_current();
        drain_messages(std::chrono::milliseconds(0));
      } else {
        drain_messages(kWaitWhileIdle);
      }
    }
    stop_current();
    send_report();
    if (telemetry_) telemetry_->stop();
    send_telemetry(true);
    transport_.send(0, comm::WorkerBye{});
    return true;
  }

 private:
  struct Current {
    comm::TaskLaunch launch;
    double start = 0;
    std::unique_ptr<RunningAttempt> attempt;
  };

  // The run stops: the attempt in flight gets SIGTERM, then SIGKILL after the stop grace.
  void stop_current() {
    queue_.clear();  // never started here; rank 0 keeps them pending
    if (!current_) return;
    current_->attempt->terminate_within(config_.stop_grace_s);
    while (!current_->attempt->poll(kPollWhileRunning)) {
    }
    finish_current();
  }

  // A stop signal reached this process, and rank 0 has not said Shutdown long after it should have.
  bool orphaned() {
    if (!config_.stop_requests || config_.stop_requests() == 0) return false;
    const auto now = std::chrono::steady_clock::now();
    if (!signalled_at_) signalled_at_ = now;
    return now - *signalled_at_ > std::chrono::duration<double>(config_.stop_grace_s + config_.orphan_wait_s);
  }

  void start_next_if_idle() {
    if (current_ || queue_.empty()) return;
    comm::TaskLaunch launch = std::move(queue_.front());
    queue_.pop_front();
    CommandOptions options;
    options.tail_bytes = launch.tail_bytes;
    options.timeout_s = launch.timeout_s;
    options.kill_grace_s = config_.kill_grace_s;
    options.extra_env = config_.env;
    const double start = seconds_since(config_.job_start_unix);
    auto attempt = start_attempt(launch.launch, options, config_.kernels);
    report_.started.push_back({launch.task, launch.attempt, start});
    current_.emplace(Current{std::move(launch), start, std::move(attempt)});
  }

  void finish_current() {
    const CommandResult& result = current_->attempt->result();
    comm::TaskResult out;
    out.task = current_->launch.task;
    out.attempt = current_->launch.attempt;
    out.start = current_->start;
    out.end = seconds_since(config_.job_start_unix);
    out.status = result.status;
    out.exit_code = result.exit_code;
    out.signal = result.signal;
    out.error = result.error;
    out.stdout_tail = result.stdout_tail;
    out.stderr_tail = result.stderr_tail;
    out.metrics = result.metrics;
    report_.finished.push_back(std::move(out));
    current_.reset();
    // Start the next queued attempt before reporting, so the GPU does not wait on the network.
    start_next_if_idle();
  }

  void send_report() {
    if (report_.started.empty() && report_.finished.empty()) return;
    transport_.send(0, report_);
    report_ = {};
  }

  // Off the hot path: one clock read per loop turn, the samples themselves come from a thread.
  void send_telemetry(bool now) {
    if (!telemetry_) return;
    const auto at = std::chrono::steady_clock::now();
    if (!now && at - telemetry_sent_at_ < kTelemetryBatch) return;
    telemetry_sent_at_ = at;
    comm::WorkerTelemetry batch{telemetry_->take()};
    if (!batch.samples.empty()) transport_.send(0, batch);
  }

  void drain_messages(std::chrono::milliseconds first_wait) {
    auto wait = first_wait;
    while (auto envelope = transport_.receive(wait)) {
      wait = std::chrono::milliseconds(0);
      if (auto* assign = std::get_if<comm::AssignTasks>(&envelope->message)) {
        for (auto& task : assign->tasks) queue_.push_back(std::move(task));
      } else if (auto* retract = std::get_if<comm::RetractTasks>(&envelope->message)) {
        give_back(*retract);
      } else if (auto* cancel = std::get_if<comm::CancelAttempt>(&envelope->message)) {
        cancel_attempt(cancel->attempt);
      } else if (std::holds_alternative<comm::Shutdown>(envelope->message)) {
        stopping_ = true;
        return;
      }
    }
  }

  bool is_current(const comm::AttemptRef& ref) const {
    return current_ && current_->launch.task == ref.task && current_->launch.attempt == ref.attempt;
  }

  // Removes `ref` from the local queue; false when it is not queued here.
  bool unqueue(const comm::AttemptRef& ref) {
    auto it = std::find_if(queue_.begin(), queue_.end(), [&](const comm::TaskLaunch& launch) {
      return launch.task == ref.task && launch.attempt == ref.attempt;
    });
    if (it == queue_.end()) return false;
    queue_.erase(it);
    return true;
  }

  // Migration: what is still queued goes back; what started (or finished) stays ours.
  void give_back(const comm::RetractTasks& retract) {
    comm::RetractAck ack;
    for (const auto& ref : retract.attempts) (unqueue(ref) ? ack.retracted : ack.already_started).push_back(ref);
    send_report();  // starts reported before the ack, so rank 0 sees them in order
    transport_.send(0, ack);
  }

  void cancel_attempt(const comm::AttemptRef& ref) {
    if (is_current(ref)) {
      current_->attempt->terminate();  // reported as cancelled when it ends
    } else if (unqueue(ref)) {
      comm::TaskResult result;
      result.task = ref.task;
      result.attempt = ref.attempt;
      result.start = result.end = seconds_since(config_.job_start_unix);
      result.status = AttemptStatus::cancelled;
      result.error = "cancelled before it started";
      report_.finished.push_back(std::move(result));
    }
  }

  comm::Transport& transport_;
  const WorkerConfig& config_;
  std::deque<comm::TaskLaunch> queue_;
  std::optional<Current> current_;
  comm::WorkerReport report_;
  std::optional<TelemetrySampler> telemetry_;
  std::chrono::steady_clock::time_point telemetry_sent_at_ = std::chrono::steady_clock::now();
  bool stopping_ = false;
  std::optional<std::chrono::steady_clock::time_point> signalled_at_;
};

}  // namespace

double seconds_since(double job_start_unix) {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  return std::chrono::duration<double>(now).count() - job_start_unix;
}

bool run_worker(comm::Transport& transport, const WorkerConfig& config) { return Worker(transport, config).run(); }

}  // namespace fastgpu::worker
