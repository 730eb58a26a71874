#include "worker/worker_loop.hpp"

#include <chrono>
#include <csignal>
#include <algorithm>
#include <deque>
#include <optional>

#include "device/device_factory.hpp"
#include "worker/kernel_attempt.hpp"
#include "worker/running_attempt.hpp"
#include "worker/synthetic_kernels.hpp"
#include "worker/telemetry.hpp"
#include "worker/worker_reductions.hpp"

namespace fastgpu::worker {
namespace {

// While a subtask runs the worker wakes at least this often to read the scheduler's messages.
constexpr std::chrono::milliseconds kPollWhileRunning(50);
constexpr std::chrono::milliseconds kWaitWhileIdle(1000);
// Results of attempts that ended at once go to rank 0 in batches of up to this many, each held at
// most WorkerConfig::report_hold_s (a report also goes before the worker runs or waits on anything).
constexpr std::size_t kReportBatch = 16;
// Telemetry samples go to rank 0 in batches, one message at most this often.
constexpr std::chrono::milliseconds kTelemetryBatch(1000);
// A moved subtask's state is posted before rank 0 even hears it moved, so it is normally there when
// the continuation starts; this long only if the source is slow to send (or gone).
constexpr std::chrono::milliseconds kStateArrival(60000);

// Transfers between the same two workers are told apart by task: tag and a header.
int state_tag(std::uint32_t task) { return static_cast<int>(task % comm::Collectives::kStateTags); }
std::string state_header(std::uint32_t task) {
  return {reinterpret_cast<const char*>(&task), sizeof task};
}

class Worker {
 public:
  Worker(comm::Transport& transport, const WorkerConfig& config)
      : transport_(transport), config_(config), device_(config.device) {
    services_.stop_requested = [this] { return stop_requested_while_running(); };
    services_.slowdown = config.kernels.slowdown;
  }

  bool run() {
    if (config_.on_start) config_.on_start();
    if (!config_.reductions.empty()) {
      reductions_.emplace(device(), config_.reductions);
      services_.reductions = &*reductions_;
    }
    if (!config_.inputs.empty()) {
      if (!config_.collectives) throw Error("the job has shared inputs but this worker has no collectives");
      inputs_ = load_shared_inputs(config_.inputs, config_.read_input, *config_.collectives, device());
      services_.inputs = &inputs_;
    }
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
      send_telemetry(false);
      std::erase_if(posted_states_, [](const auto& posted) { return posted->done(); });
      if (current_) {
        // Attempts over as soon as they start (noop kernels, ones that could not start) are
        // reported together: one message for a batch, not one per subtask, which rank 0 and the
        // transport would each pay for. Before running or waiting on any other, the worker says
        // what it has (a compute kernel runs inside poll()).
        if (current_->attempt->finished()) {
          finish_current();
          if (report_due()) send_report();
        } else {
          send_report();
          if (current_->attempt->poll(kPollWhileRunning)) finish_current();
        }
        drain_messages(std::chrono::milliseconds(0));
      } else {
        send_report();
        drain_messages(kWaitWhileIdle);
      }
    }
    stop_current();
    send_report();
    // A state no continuation took (the run stopped first): that subtask starts over on resume.
    for (auto& posted : posted_states_) posted->cancel();
    posted_states_.clear();
    combine_reductions();
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
    std::unique_ptr<RunningAttempt> attempt;
    if (launch.gang.size() > 1) add_gang_env(launch, options.extra_env);
    if (auto kernel = make_compute_kernel(launch.launch.kernel)) {
      cancel_current_ = false;
      migrate_to_ = -1;
      current_checkpointable_ = kernel->checkpointable();
      KernelServices services = services_;
      try {
        services.device = &device();  // a GPU that cannot be used fails this attempt, not the worker
        if (launch.gang.size() > 1) {
          gang_ = join_gang(launch);  // waits for the other members to reach this subtask
          services.communicator = gang_.get();
        }
        if (launch.restore_from >= 0) launch.restore = take_moved_state(launch);
        attempt = start_kernel_attempt(std::move(kernel), launch.launch, launch.task, launch.attempt, options, services,
                                       launch.restore);
      } catch (const std::exception& e) {
        CommandResult failed;
        failed.status = AttemptStatus::failed;
        failed.error = std::string("could not start: ") + e.what();
        attempt = finished_attempt(std::move(failed));
      }
    } else {
      attempt = start_attempt(launch.launch, options, config_.kernels);
    }
    report().started.push_back({launch.task, launch.attempt, start});
    current_.emplace(Current{std::move(launch), start, std::move(attempt)});
  }

  void finish_current() {
    const CommandResult& result = current_->attempt->result();
    comm::TaskResult out;
    out.task = current_->launch.task;
    out.attempt = current_->launch.attempt;
    out.start = current_->start;
    out.end = seconds_since(config_.job_start_unix);
    out.status = killed_by_the_stop(result) ? AttemptStatus::interrupted : result.status;
    out.exit_code = result.exit_code;
    out.signal = result.signal;
    out.error = result.error;
    out.stdout_tail = result.stdout_tail;
    out.stderr_tail = result.stderr_tail;
    out.metrics = result.metrics;
    out.arrays = result.arrays;
    out.checkpoint = result.checkpoint;
    if (out.status == AttemptStatus::cancelled && !out.checkpoint.empty()) post_moved_state(out);
    report().finished.push_back(std::move(out));
    const bool device_lost = result.device_lost;
    const std::string reason = result.error;
    current_.reset();
    gang_.reset();
    if (device_lost && !retired_) retire(reason);
    // Start the next queued attempt before reporting, so the GPU does not wait on the network.
    start_next_if_idle();
  }

  // The device is unusable: no more one-GPU subtasks here. The queued ones go back to rank 0 to
  // run elsewhere; multi-GPU ones stay, so their other members are not left waiting for this one.
  void retire(const std::string& reason) {
    retired_ = true;
    comm::WorkerRetired retired{reason, {}};
    return_single_gpu(queue_, retired.returned);
    // Before the failed attempt's report: rank 0 then retries it knowing this worker is gone.
    transport_.send(0, std::move(retired));
    send_report();
  }

  // Stopped to move (MigrateAttempt): the state goes straight to the worker it continues on, posted
  // before the report so that it is on its way when that worker starts it. Not when the run stops:
  // then it goes to rank 0 with the result, which records it for --resume.
  void post_moved_state(comm::TaskResult& out) {
    const bool stopping = shutdown_read_ || stopping_ || (config_.stop_requests && config_.stop_requests() > 0);
    if (migrate_to_ < 0 || !config_.collectives || stopping) return;
    out.state_sent_to = migrate_to_;
    out.state_bytes = out.checkpoint.size();
    posted_states_.push_back(config_.collectives->post_state(state_header(out.task) + std::move(out.checkpoint),
                                                             migrate_to_ - 1, state_tag(out.task)));
    out.checkpoint.clear();
    out.error += "; sent worker to worker to rank " + std::to_string(out.state_sent_to);
  }

  // The continuation of a moved subtask: its state, from the worker it was moved off.
  std::string take_moved_state(const comm::TaskLaunch& launch) {
    if (!config_.collectives) throw Error("its state is on another worker and this worker has no collectives");
    const std::string header = state_header(launch.task);
    auto state = config_.collectives->take_state(launch.restore_from - 1, state_tag(launch.task),
                                                 header.size() + launch.restore_bytes, kStateArrival);
    if (!state) {
      throw Error("its checkpoint did not come from worker " + std::to_string(launch.restore_from) + " within " +
                  std::to_string(kStateArrival.count() / 1000) + " s");
    }
    if (!state->starts_with(header)) {
      throw Error("the checkpoint from worker " + std::to_string(launch.restore_from) + " is another subtask's");
    }
    return state->substr(header.size());
  }

  // Moves the one-GPU launches out of `launches` into `returned`.
  static void return_single_gpu(std::deque<comm::TaskLaunch>& launches, std::vector<comm::AttemptRef>& returned) {
    std::erase_if(launches, [&](const comm::TaskLaunch& launch) {
      if (launch.gang.size() > 1) return false;
      returned.push_back({launch.task, launch.attempt});
      return true;
    });
  }

  // The report being gathered; when it was empty, the time it opened (report_due()).
  comm::WorkerReport& report() {
    if (report_.started.empty() && report_.finished.empty()) report_opened_ = std::chrono::steady_clock::now();
    return report_;
  }

  // Whether the results held back should go now: enough of them, the oldest held long enough, or
  // the local queue about to run dry before rank 0 could refill it.
  bool report_due() const {
    const std::size_t held = report_.finished.size();
    return held >= kReportBatch || queue_.size() < held ||
           std::chrono::steady_clock::now() - report_opened_ >= std::chrono::duration<double>(config_.report_hold_s);
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

  // Slurm (scancel, the time limit) signals every process of the job at once: a subtask can die of
  // that SIGTERM before rank 0's Shutdown arrives. It was stopped, not broken: run it again.
  bool killed_by_the_stop(const CommandResult& result) const {
    const bool by_stop_signal = result.signal == SIGTERM || result.signal == SIGINT || result.signal == SIGKILL;
    return result.status == AttemptStatus::failed && by_stop_signal && config_.stop_requests &&
           config_.stop_requests() > 0;
  }

  // Made when first needed, on the worker's own thread: a worker that only runs commands never
  // touches CUDA (its subtasks use the GPU), so it runs where the CUDA runtime cannot start.
  fastgpu::Device& device() {
    if (!device_) device_ = config_.make_device ? config_.make_device() : device::make_cpu_device();
    return *device_;
  }

  // The communicator of a multi-GPU kernel subtask: a subgroup of the workers' collectives that
  // only its members make (collectives rank = worker rank - 1), tagged by the attempt so that
  // gangs forming at the same time do not meet each other's members.
  std::unique_ptr<comm::Collectives> join_gang(const comm::TaskLaunch& launch) {
    if (!config_.collectives) throw Error("a multi-GPU subtask needs the workers' collectives, and this worker has none");
    std::vector<int> members;
    for (std::int32_t rank : launch.gang) members.push_back(rank - 1);
    constexpr int kTags = 30000;  // MPI guarantees tags up to 32767
    const int tag = static_cast<int>((static_cast<std::uint64_t>(launch.task) * 64 + launch.attempt) % kTags) + 1;
    return config_.collectives->subgroup(members, tag);
  }

  // A multi-GPU command subtask: one process per member, with the variables torchrun sets, so a
  // PyTorch DDP script runs unchanged. Each process sees only its own GPU (CUDA_VISIBLE_DEVICES),
  // so its LOCAL_RANK is 0: `cuda:LOCAL_RANK` is that GPU.
  void add_gang_env(const comm::TaskLaunch& launch, std::vector<std::pair<std::string, std::string>>& env) const {
    const auto self = std::find(launch.gang.begin(), launch.gang.end(), config_.self.rank);
    const auto rank = self - launch.gang.begin();
    constexpr int kFirstPort = 29500, kPorts = 20000;
    const auto port = kFirstPort + static_cast<int>((static_cast<std::uint64_t>(launch.task) * 64 + launch.attempt) % kPorts);
    env.emplace_back("RANK", std::to_string(rank));
    env.emplace_back("WORLD_SIZE", std::to_string(launch.gang.size()));
    env.emplace_back("LOCAL_RANK", "0");
    env.emplace_back("LOCAL_WORLD_SIZE", "1");
    env.emplace_back("MASTER_ADDR", launch.gang_host);
    env.emplace_back("MASTER_PORT", std::to_string(port));
  }

  // At Shutdown: every worker rank 0 did not list as retired takes part (the collectives need
  // all); the first one reports. A retired one sends its own totals, without its device.
  void combine_reductions() {
    if (!reductions_) return;
    if (!config_.collectives) throw Error("the job has reductions but this worker has no collectives to combine them");
    auto listed = [&](int rank) { return std::ranges::find(retired_peers_, rank) != retired_peers_.end(); };
    if (listed(config_.self.rank)) {
      transport_.send(0, comm::ReductionResult{reductions_->totals()});
      return;
    }
    std::unique_ptr<comm::Collectives> healthy;
    if (!retired_peers_.empty()) {
      std::vector<int> members;  // collectives rank = worker rank - 1
      for (int i = 0; i < config_.collectives->size(); ++i) {
        if (!listed(i + 1)) members.push_back(i);
      }
      constexpr int kHealthyWorkersTag = 32000;  // above the gangs' tags (join_gang)
      healthy = config_.collectives->subgroup(members, kHealthyWorkersTag);
    }
    comm::Collectives& group = healthy ? *healthy : *config_.collectives;
    std::vector<ReductionValue> values = reductions_->combine(group);
    if (group.rank() == 0) transport_.send(0, comm::ReductionResult{std::move(values)});
  }

  // Called by a running kernel (through Context::stop_requested): reads the messages that came
  // meanwhile, keeping them for the loop, and says whether they ask this attempt to stop.
  bool stop_requested_while_running() {
    while (auto envelope = transport_.receive(std::chrono::milliseconds(0))) {
      if (std::holds_alternative<comm::Shutdown>(envelope->message)) shutdown_read_ = true;
      const auto* cancel = std::get_if<comm::CancelAttempt>(&envelope->message);
      if (cancel && is_current(cancel->attempt)) cancel_current_ = true;
      // Asked to move: only a kernel that can checkpoint stops for it; any other runs on.
      const auto* migrate = std::get_if<comm::MigrateAttempt>(&envelope->message);
      if (migrate && is_current(migrate->attempt) && current_checkpointable_) {
        cancel_current_ = true;
        migrate_to_ = migrate->to;
      }
      deferred_.push_back(std::move(*envelope));
    }
    return shutdown_read_ || cancel_current_ || (config_.stop_requests && config_.stop_requests() > 0);
  }

  void drain_messages(std::chrono::milliseconds first_wait) {
    while (!deferred_.empty() && !stopping_) {
      comm::Envelope envelope = std::move(deferred_.front());
      deferred_.pop_front();
      handle(envelope);
    }
    if (stopping_) return;
    auto wait = first_wait;
    while (auto envelope = transport_.receive(wait)) {
      wait = std::chrono::milliseconds(0);
      handle(*envelope);
      if (stopping_) return;
    }
  }

  void handle(comm::Envelope& envelope) {
    if (auto* assign = std::get_if<comm::AssignTasks>(&envelope.message)) {
      std::deque<comm::TaskLaunch> tasks(std::make_move_iterator(assign->tasks.begin()),
                                         std::make_move_iterator(assign->tasks.end()));
      if (retired_) {  // sent before rank 0 read that this worker retired
        comm::WorkerRetired again{"retired earlier", {}};
        return_single_gpu(tasks, again.returned);
        if (!again.returned.empty()) transport_.send(0, std::move(again));
      }
      for (auto& task : tasks) enqueue(std::move(task));
    } else if (auto* retract = std::get_if<comm::RetractTasks>(&envelope.message)) {
      give_back(*retract);
    } else if (auto* cancel = std::get_if<comm::CancelAttempt>(&envelope.message)) {
      cancel_attempt(cancel->attempt);
    } else if (const auto* shutdown = std::get_if<comm::Shutdown>(&envelope.message)) {
      stopping_ = true;
      retired_peers_ = shutdown->retired;
    }
  }

  // In order, but a backfilled launch goes before the first multi-GPU one waiting here.
  void enqueue(comm::TaskLaunch launch) {
    auto at = queue_.end();
    if (launch.ahead_of_gang) {
      at = std::find_if(queue_.begin(), queue_.end(), [](const comm::TaskLaunch& l) { return l.gang.size() > 1; });
    }
    queue_.insert(at, std::move(launch));
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
      report().finished.push_back(std::move(result));
    }
  }

  comm::Transport& transport_;
  const WorkerConfig& config_;
  std::deque<comm::TaskLaunch> queue_;
  std::optional<Current> current_;
  comm::WorkerReport report_;
  std::chrono::steady_clock::time_point report_opened_;
  std::optional<TelemetrySampler> telemetry_;
  std::shared_ptr<fastgpu::Device> device_;
  std::optional<WorkerReductions> reductions_;
  SharedInputs inputs_;
  KernelServices services_;
  std::unique_ptr<comm::Collectives> gang_;  ///< the running multi-GPU kernel's communicator
  std::deque<comm::Envelope> deferred_;  ///< read while a kernel ran, handled after it
  bool shutdown_read_ = false;   ///< a Shutdown is among deferred_: every kernel stops
  bool cancel_current_ = false;  ///< the running kernel's attempt was cancelled (or asked to move)
  bool current_checkpointable_ = false;  ///< the running kernel can checkpoint (it may move)
  std::int32_t migrate_to_ = -1;  ///< the running kernel was asked to move to this worker rank
  /// States of moved subtasks on their way to other workers (post_moved_state), until delivered.
  std::vector<std::unique_ptr<comm::PostedState>> posted_states_;
  std::chrono::steady_clock::time_point telemetry_sent_at_ = std::chrono::steady_clock::now();
  bool stopping_ = false;
  bool retired_ = false;                  ///< the device is unusable: no more one-GPU subtasks
  std::vector<std::int32_t> retired_peers_;  ///< from Shutdown: the workers rank 0 knows retired
  std::optional<std::chrono::steady_clock::time_point> signalled_at_;
};

}  // namespace

double seconds_since(double job_start_unix) {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  return std::chrono::duration<double>(now).count() - job_start_unix;
}

bool run_worker(comm::Transport& transport, const WorkerConfig& config) { return Worker(transport, config).run(); }

}  // namespace fastgpu::worker
