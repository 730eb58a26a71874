#include "worker/worker_loop.hpp"

#include <chrono>
#include <algorithm>
#include <deque>
#include <optional>

#include "worker/running_attempt.hpp"

namespace fastgpu::worker {
namespace {

// While a subtask runs the worker wakes at least this often to read the scheduler's messages.
constexpr std::chrono::milliseconds kPollWhileRunning(50);
constexpr std::chrono::milliseconds kWaitWhileIdle(1000);

class Worker {
 public:
  Worker(comm::Transport& transport, const WorkerConfig& config) : transport_(transport), config_(config) {}

  void run() {
    transport_.send(0, comm::WorkerHello{config_.self});
    while (!stopping_) {
      start_next_if_idle();
      send_report();
      if (current_) {
        if (current_->attempt->poll(kPollWhileRunning)) finish_current();
        drain_messages(std::chrono::milliseconds(0));
      } else {
        drain_messages(kWaitWhileIdle);
      }
    }
    if (current_) {
      current_->attempt->terminate();
      while (!current_->attempt->poll(kPollWhileRunning)) {
      }
      finish_current();
    }
    send_report();
    transport_.send(0, comm::WorkerBye{});
  }

 private:
  struct Current {
    comm::TaskLaunch launch;
    double start = 0;
    std::unique_ptr<RunningAttempt> attempt;
  };

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
  bool stopping_ = false;
};

}  // namespace

double seconds_since(double job_start_unix) {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  return std::chrono::duration<double>(now).count() - job_start_unix;
}

void run_worker(comm::Transport& transport, const WorkerConfig& config) { Worker(transport, config).run(); }

}  // namespace fastgpu::worker
