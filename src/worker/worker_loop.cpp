#include "worker/worker_loop.hpp"

#include <chrono>
#include <deque>
#include <optional>

#include "worker/command_runner.hpp"

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
        if (current_->command.poll(kPollWhileRunning)) finish_current();
        drain_messages(std::chrono::milliseconds(0));
      } else {
        drain_messages(kWaitWhileIdle);
      }
    }
    if (current_) {
      current_->command.terminate();
      while (!current_->command.poll(kPollWhileRunning)) {
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
    RunningCommand command;
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
    RunningCommand command = RunningCommand::start(launch.launch, options);
    report_.started.push_back({launch.task, launch.attempt, start});
    current_.emplace(Current{std::move(launch), start, std::move(command)});
  }

  void finish_current() {
    const CommandResult& result = current_->command.result();
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
      } else if (std::holds_alternative<comm::Shutdown>(envelope->message)) {
        stopping_ = true;
        return;
      }
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
