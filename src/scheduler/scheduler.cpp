#include "scheduler/scheduler.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "fastgpu/error.hpp"

namespace fastgpu::scheduler {

Policy parse_policy(const std::string& name) {
  if (name == "cost") return Policy::cost;
  if (name == "greedy") return Policy::greedy;
  if (name == "static") return Policy::static_;
  throw UsageError("unknown policy '" + name + "' (choose cost, greedy or static)");
}

const char* to_string(Policy policy) {
  switch (policy) {
    case Policy::cost: return "cost";
    case Policy::greedy: return "greedy";
    case Policy::static_: return "static";
  }
  return "unknown";
}

Scheduler::Scheduler(JobSpec job, std::vector<Subtask> subtasks, SchedulerConfig config, comm::MessageSink& out,
                     ResultsSink& sink, const CostModelSnapshot* history)
    : job_(std::move(job)),
      subtasks_(std::move(subtasks)),
      config_(config),
      out_(out),
      sink_(sink),
      records_(initial_records(subtasks_)),
      states_(subtasks_.size()),
      unfinished_(subtasks_.size()) {
  if (config_.prefetch <= 0) config_.prefetch = config_.policy == Policy::cost ? 32 : 2;
  if (history) model_.seed(*history);
  const int class_id = model_.class_id(job_.task.kernel.empty() ? "command" : job_.task.kernel);
  for (std::uint32_t task = 0; task < subtasks_.size(); ++task) {
    states_[task].class_id = class_id;
    if (config_.policy != Policy::static_) enqueue(task);
  }
  next_rebalance_ = config_.policy == Policy::cost ? rebalance_interval() : std::numeric_limits<double>::infinity();
}

std::vector<TaskRecord> Scheduler::initial_records(const std::vector<Subtask>& subtasks) {
  std::vector<TaskRecord> records;
  records.reserve(subtasks.size());
  for (const auto& subtask : subtasks) {
    TaskRecord record;
    record.id = subtask.id;
    record.name = subtask.name;
    record.params = params_json(subtask);
    record.cost = subtask.cost;
    record.gpus = subtask.gpus;
    records.push_back(std::move(record));
  }
  return records;
}

void Scheduler::on_worker_joined(const WorkerRecord& worker, double now) {
  auto [it, inserted] = workers_.try_emplace(worker.rank, WorkerState{worker, {}, std::nullopt});
  if (!inserted) return;  // a repeated hello changes nothing
  model_.add_worker(worker.rank, worker.host, worker.device);
  sink_.add_worker(worker);
  sink_.add_event({now, "worker_joined", -1, -1, worker.rank, worker.host + " " + worker.device});
  if (by_rank_.size() <= static_cast<std::size_t>(worker.rank)) by_rank_.resize(static_cast<std::size_t>(worker.rank) + 1);
  by_rank_[static_cast<std::size_t>(worker.rank)] = &it->second;
  it->second.host = host_ids_.try_emplace(worker.host, static_cast<int>(host_ids_.size())).first->second;
  host_workers_.resize(host_ids_.size());
  largest_host_ = std::max(largest_host_, ++host_workers_[static_cast<std::size_t>(it->second.host)]);
  it->second.ready_key = now;
  it->second.bucket = other_bucket(it->second);
  by_ready_[it->second.bucket].emplace(now, worker.rank);
  idle_.insert(worker.rank);
  const double factor = std::max(model_.factor(worker.rank), 1e-9);
  speed_bound_ += 1 / factor;
  wake(worker.rank);
  if (static_cast<int>(workers_.size()) == config_.expected_workers) {
    // Everyone is here: the workers held to one attempt while waiting may now queue deeper.
    for (const auto& [rank, state] : workers_) wake(rank);
  }
  if (!stopping_) place(now);
}

void Scheduler::on_report(int worker_rank, const comm::WorkerReport& report, double now) {
  auto it = workers_.find(worker_rank);
  if (it == workers_.end()) return;  // reports only come after a hello
  for (const auto& started : report.started) on_started(it->second, started);
  for (const auto& result : report.finished) on_finished(it->second, result, now);
  if (!stopping_) place(now);
}

void Scheduler::on_retract_ack(int worker_rank, const comm::RetractAck& ack, double now) {
  auto from = workers_.find(worker_rank);
  if (from == workers_.end()) return;
  std::map<int, comm::AssignTasks> batches;
  for (const auto& ref : ack.retracted) {
    LiveAttempt* live = find_live(ref.task, ref.attempt);
    if (!live || live->phase != Phase::retracting) continue;
    const int to = live->retract_to;
    forget(from->second, ref);
    auto& attempts = states_[ref.task].live;
    attempts.erase(std::remove_if(attempts.begin(), attempts.end(),
                                  [&](const LiveAttempt& a) { return a.attempt == ref.attempt; }),
                   attempts.end());
    wake(worker_rank);
    auto target = workers_.find(to);
    if (target == workers_.end()) {
      enqueue(ref.task);
      continue;
    }
    sink_.add_event({now, "migrate", ref.task, worker_rank, to, "attempt " + std::to_string(ref.attempt)});
    // The same attempt number: it never ran on the old worker, so it moves rather than repeats.
    assign(target->second, ref.task, ref.attempt, now, /*migrated=*/true, /*speculative=*/false, batches);
  }
  for (const auto& ref : ack.already_started) {
    // Too late: it started on the old worker and stays there. Never also started elsewhere.
    if (LiveAttempt* live = find_live(ref.task, ref.attempt); live && live->phase == Phase::retracting) {
      const auto& running = from->second.running;
      const bool is_running = running && running->task == ref.task && running->attempt == ref.attempt;
      live->phase = is_running ? Phase::running : Phase::queued;  // else on_started makes it running
      live->retract_to = -1;
      touch(from->second);
      sink_.add_event({now, "retract_failed", ref.task, worker_rank, -1, "already started"});
    }
  }
  for (const auto& [rank, batch] : batches) out_.send(rank, batch);
  if (!stopping_) place(now);
}

void Scheduler::on_tick(double now) {
  if (stopping_ || now < next_rebalance_) return;
  // Every event (report, arrival, join, ...) places, so a round_ unchanged since the last round's
  // placement means nothing happened in between.
  quiet_rounds_ = round_ == tick_round_ ? quiet_rounds_ + 1 : 0;
  rebalance(now);
  migrate_running(now);
  next_rebalance_ = now + rebalance_interval() * quiet_backoff(now);
  place(now);  // a worker whose running subtask nears its end may queue its next one now
  tick_round_ = round_;
}

double Scheduler::quiet_backoff(double now) {
  // Between events only time moves: what a round weighs changes only as running attempts age
  // (one past its prediction is expected to need half as long again). Rounds that follow one
  // another with no event in between come at doubling intervals, up to 64 times the usual one
  // and at most a twentieth of the youngest running attempt's age, so a round comes at most 5 %
  // late for any of them. Days of Philly jobs between two events took millions of 5-s rounds;
  // subtasks of seconds report more often than that and never see a longer interval.
  if (quiet_rounds_ == 0) return 1;
  double youngest = std::numeric_limits<double>::infinity();
  bool idle = false;
  for (const WorkerState& worker : in_rank_order()) {
    if (worker.retired) continue;
    if (!worker.running) {
      idle = true;
      continue;
    }
    if (const LiveAttempt* live = find_live(worker.running->task, worker.running->attempt)) {
      youngest = std::min(youngest, now - live->start);
    }
  }
  if (!std::isfinite(youngest)) return 1;  // nothing runs: whatever is queued starts soon
  // An idle worker that a later round may fill (backfill before a gang whose members overran, a
  // running subtask moved off a worker that slowed down, a copy of a straggler, an attempt moved
  // off a worker whose subtask overran): rounds keep their pace. Only idle workers waiting for
  // gangs to start, with nothing else to give them, let them back off.
  if (idle && (!pending_.empty() || gangs_.empty() || any_movable(now))) return 1;
  const double doubled = std::ldexp(1.0, std::min(quiet_rounds_, 6));
  return std::clamp(youngest / 20 / rebalance_interval(), 1.0, doubled);
}

double Scheduler::rebalance_interval() const {
  if (config_.rebalance_interval_s > 0) return config_.rebalance_interval_s;
  // Half a mean subtask, at least 0.1 s; at most 5 s, or a twentieth of a mean subtask when
  // subtasks last longer than 100 s: a round that comes later costs them at most 5 % of their time,
  // and hour-long subtasks do not need a round every 5 s (a simulation of months of them would
  // spend millions of rounds there).
  const double mean = placed_ > 0 ? mean_predicted_s_ : 1.0;
  return std::clamp(mean / 2, 0.1, std::max(5.0, mean / 20));
}

StatusCounts Scheduler::counts() const {
  StatusCounts counts;
  for (const auto& record : records_) {
    switch (record.status) {
      case TaskStatus::pending: ++counts.pending; break;
      case TaskStatus::running: ++counts.running; break;
      case TaskStatus::done: ++counts.done; break;
      case TaskStatus::failed: ++counts.failed; break;
      case TaskStatus::cancelled: ++counts.cancelled; break;
    }
  }
  return counts;
}

double Scheduler::predicted_remaining_s(double now) const {
  double total = 0;
  for (const auto& [rank, worker] : workers_) {
    if (!worker.retired) total += ready_time(worker, now) - now;
  }
  for (const auto& [key, task] : pending_) {
    total += model_.predict(-1, states_[task].class_id, subtasks_[task].cost).seconds;
  }
  for (const auto& [key, task] : gangs_) {
    total += subtasks_[task].gpus * model_.predict(-1, states_[task].class_id, subtasks_[task].cost).seconds;
  }
  for (const auto& [rank, block] : own_) {
    for (auto task : block) total += model_.predict(rank, states_[task].class_id, subtasks_[task].cost).seconds;
  }
  return usable_workers() == 0 ? total : total / static_cast<double>(usable_workers());
}

comm::TaskLaunch Scheduler::make_launch(std::uint32_t task, std::int32_t attempt) const {
  const Subtask& subtask = subtasks_[task];
  comm::TaskLaunch launch;
  launch.task = task;
  launch.attempt = attempt;
  launch.launch = render_launch(job_, subtask, attempt);
  // Set last, so a job's env cannot make a subtask lie about who it is.
  launch.launch.env.emplace_back("FASTGPU_TASK_ID", subtask.id);
  launch.launch.env.emplace_back("FASTGPU_ATTEMPT", std::to_string(attempt));
  launch.launch.env.emplace_back("FASTGPU_JOB", job_.name);
  launch.launch.env.emplace_back("FASTGPU_OUTPUT_DIR", job_.output_dir);
  launch.timeout_s = subtask.timeout_s;
  launch.tail_bytes = job_.task.output_tail_bytes;
  launch.restore = states_[task].checkpoint;
  return launch;
}

Scheduler::LiveAttempt* Scheduler::find_live(std::uint32_t task, std::int32_t attempt) {
  if (task >= states_.size()) return nullptr;
  for (auto& live : states_[task].live) {
    if (live.attempt == attempt) return &live;
  }
  return nullptr;
}

void Scheduler::forget(WorkerState& worker, const comm::AttemptRef& ref) {
  auto same = [&](const comm::AttemptRef& r) { return r.task == ref.task && r.attempt == ref.attempt; };
  worker.queue.erase(std::remove_if(worker.queue.begin(), worker.queue.end(), same), worker.queue.end());
  if (worker.running && same(*worker.running)) worker.running.reset();
  touch(worker);
}

void Scheduler::on_started(WorkerState& worker, const comm::TaskStarted& started) {
  LiveAttempt* live = find_live(started.task, started.attempt);
  if (!live) return;
  forget(worker, {started.task, started.attempt});
  worker.running = comm::AttemptRef{started.task, started.attempt};
  if (live->phase == Phase::queued) live->phase = Phase::running;
  live->start = started.start;
  TaskRecord& record = records_[started.task];
  if (record.status == TaskStatus::pending) {
    record.status = TaskStatus::running;
    record.worker = live->gang ? live->worker : worker.info.rank;  // a gang's lead
    record.start = started.start;
    update(started.task);
  }
}

void Scheduler::on_finished(WorkerState& worker, const comm::TaskResult& result, double now) {
  if (result.task >= states_.size()) return;
  forget(worker, {result.task, result.attempt});
  wake(worker.info.rank);
  if (is_gang(subtasks_[result.task])) {
    on_gang_member_finished(worker, result, now);
  } else {
    settle(worker, result, now);
  }
}

void Scheduler::settle(WorkerState& worker, const comm::TaskResult& result, double now) {
  TaskState& state = states_[result.task];
  auto live_it = std::find_if(state.live.begin(), state.live.end(),
                              [&](const LiveAttempt& a) { return a.attempt == result.attempt; });
  const bool known = live_it != state.live.end();
  const LiveAttempt live = known ? *live_it : LiveAttempt{};
  if (known) state.live.erase(live_it);
  if (live.calibration && worker.calibrating > 0) --worker.calibrating;

  TaskRecord& record = records_[result.task];
  const bool settled = record.status == TaskStatus::done || record.status == TaskStatus::failed;

  AttemptRecord attempt;
  attempt.task = result.task;
  attempt.attempt = result.attempt;
  attempt.worker = worker.info.rank;
  attempt.host = worker.info.host;
  attempt.device = worker.info.device;
  attempt.start = result.start;
  attempt.end = result.end;
  // The copy that did not finish first was superseded, whether the cancel stopped it or it ended
  // before the cancel reached it: only the winner's result counts.
  attempt.status = live.phase == Phase::cancelling ? AttemptStatus::superseded : result.status;
  // Checkpointed to move (in-flight migration): interrupted here, it continues elsewhere.
  const bool sent_direct = result.state_sent_to >= 0;
  const bool moved_out =
      live.migrating && result.status == AttemptStatus::cancelled && (!result.checkpoint.empty() || sent_direct);
  if (moved_out) attempt.status = AttemptStatus::interrupted;
  // Stopped by the run's stop (Shutdown), not by a decision about this subtask; or killed by a stop
  // signal its worker saw (Slurm signals every process at once), which the worker reports as such.
  const bool interrupted = (stopping_ && attempt.status == AttemptStatus::cancelled) ||
                           attempt.status == AttemptStatus::interrupted;
  if (interrupted) attempt.status = AttemptStatus::interrupted;
  attempt.exit_code = result.exit_code;
  attempt.signal = result.signal;
  attempt.predicted_s = known ? live.predicted_s : kNoTime;
  attempt.migrated = live.migrated;
  attempt.error = result.error;
  attempt.stdout_tail = result.stdout_tail;
  attempt.stderr_tail = result.stderr_tail;
  attempt.metrics = result.metrics;
  attempt.arrays = result.arrays;
  attempt.checkpoint = result.checkpoint;
  sink_.add_attempt(attempt);
  if (settled) return;  // a late copy or a duplicate: recorded, decides nothing

  const Subtask& subtask = subtasks_[result.task];
  record.attempts = state.next_attempt;
  record.worker = worker.info.rank;
  record.start = result.start;
  record.end = result.end;
  record.exit_code = result.exit_code;

  if (interrupted) {
    // Not a failure: it runs again on resume (unless another copy still finishes it now), or
    // now when only its worker was signalled and the run goes on; from its checkpoint if it left one.
    if (!result.checkpoint.empty()) state.checkpoint = result.checkpoint;
    if (state.live.empty()) record.status = TaskStatus::pending;
    if (state.live.empty() && !stopping_) {
      if (moved_out && sent_direct) {
        continue_moved(worker, result, now);
      } else if (moved_out) {
        enqueue(result.task);
        state.arrives_migrated = true;
        state.avoid_worker = worker.info.rank;  // not back onto the worker it was moved off
        sink_.add_event({now, "migrate_running", result.task, worker.info.rank, live.retract_to,
                         "checkpointed after " + std::to_string(result.end - result.start) + " s (" +
                             std::to_string(result.checkpoint.size()) + " bytes, through rank 0); it continues from there"});
      } else {
        enqueue(result.task);
        sink_.add_event({now, "requeue", result.task, worker.info.rank, -1, result.error + " (a stop signal on its worker)"});
      }
    }
  } else if (result.status == AttemptStatus::done) {
    const bool speed_was_known = model_.speed_known(worker.info.rank, kCalibrationRuns);
    // Not a gang: its time is the slowest member's plus their communication, no sample of one
    // worker's speed.
    if (!is_gang(subtask)) model_.observe(worker.info.rank, state.class_id, subtask.cost, result.end - result.start);
    if (config_.policy == Policy::cost && !speed_was_known && model_.speed_known(worker.info.rank, kCalibrationRuns)) {
      sink_.add_event({now, "calibrated", -1, -1, worker.info.rank,
                       "speed factor " + std::to_string(model_.factor(worker.info.rank)) + " after " +
                           std::to_string(kCalibrationRuns) + " subtasks"});
    }
    record.status = TaskStatus::done;
    state.checkpoint.clear();
    --unfinished_;
    if (live.speculative || !state.live.empty()) {
      sink_.add_event({now, "speculation_won", result.task, worker.info.rank, -1,
                       std::string(live.speculative ? "copy" : "original") + " attempt " +
                           std::to_string(result.attempt) + " finished first"});
    }
    for (auto& other : state.live) {  // the losing copies
      other.phase = Phase::cancelling;
      if (auto w = workers_.find(other.worker); w != workers_.end()) touch(w->second);
      out_.send(other.worker, comm::CancelAttempt{{result.task, other.attempt}});
    }
  } else if (!state.live.empty()) {
    // Another copy is still running: it may yet succeed, so this failure decides nothing.
    ++state.failures;
    sink_.add_event({now, "copy_failed", result.task, worker.info.rank, -1, result.error});
  } else if (state.failures++ < subtask.retries) {
    record.status = TaskStatus::pending;
    state.avoid_worker = worker.info.rank;
    enqueue(result.task);
    sink_.add_event({now, "retry", result.task, worker.info.rank, -1, result.error});
  } else {
    record.status = TaskStatus::failed;
    --unfinished_;
    failures_.push_back({result.task, result.error, result.stderr_tail});
    sink_.add_event({now, "failed", result.task, worker.info.rank, -1, result.error});
  }
  update(result.task);
}

// The state of a subtask checkpointed to move went straight to the worker chosen for it
// (Collectives::post_state): the continuation goes there, and takes the state from the source. If
// that worker is gone, the state is out of reach: the subtask starts over from what rank 0 holds.
void Scheduler::continue_moved(WorkerState& source, const comm::TaskResult& result, double now) {
  TaskState& state = states_[result.task];
  auto target = workers_.find(result.state_sent_to);
  if (target == workers_.end() || target->second.retired) {
    enqueue(result.task);
    state.avoid_worker = source.info.rank;
    sink_.add_event({now, "requeue", result.task, source.info.rank, result.state_sent_to,
                     "its checkpoint went to a worker that is gone; it starts over"});
    return;
  }
  std::map<int, comm::AssignTasks> batches;
  assign(target->second, result.task, state.next_attempt++, now, /*migrated=*/true, /*speculative=*/false, batches);
  comm::TaskLaunch& launch = batches.at(target->first).tasks.back();
  launch.restore.clear();  // an older checkpoint rank 0 holds: the one posted is newer
  launch.restore_from = source.info.rank;
  launch.restore_bytes = result.state_bytes;
  sink_.add_event({now, "migrate_running", result.task, source.info.rank, target->first,
                   "checkpointed after " + std::to_string(result.end - result.start) + " s (" +
                       std::to_string(result.state_bytes) + " bytes, worker to worker); it continues from there"});
  for (const auto& [rank, batch] : batches) out_.send(rank, batch);
}

void Scheduler::resume_from(const std::vector<TaskRecord>& records, const std::vector<std::int32_t>& next_attempts) {
  for (std::uint32_t task = 0; task < records_.size() && task < records.size(); ++task) {
    records_[task] = records[task];
    if (task < next_attempts.size()) states_[task].next_attempt = next_attempts[task];
    const bool settled = records_[task].status == TaskStatus::done;
    if (!settled) {
      records_[task].status = TaskStatus::pending;
      continue;
    }
    --unfinished_;
    for (auto it = pending_.begin(); it != pending_.end();) {
      const auto here = it++;
      if (here->second == task) unqueue(here);
    }
    std::erase_if(gangs_, [&](const auto& entry) { return entry.second == task; });
    std::erase(too_big_, task);
  }
}

void Scheduler::resume_checkpoints(const std::map<std::uint32_t, std::string>& checkpoints) {
  for (const auto& [task, state] : checkpoints) {
    if (task < states_.size() && records_[task].status != TaskStatus::done) states_[task].checkpoint = state;
  }
}

void Scheduler::hold_all() {
  pending_.clear();
  gangs_.clear();
  too_big_.clear();
}

void Scheduler::release(const std::vector<std::uint32_t>& tasks, double now) {
  for (const std::uint32_t task : tasks) {
    if (task < records_.size() && records_[task].status == TaskStatus::pending) enqueue(task);
  }
  if (!stopping_) place(now);
}

void Scheduler::stop(double now, const std::string& why) {
  if (stopping_) return;
  stopping_ = true;
  sink_.add_event({now, "stop", -1, -1, -1, why});
}

void Scheduler::abandon_running(double now) {
  ++walk_epoch_;  // the attempts dropped below are still in the queues that list them
  for (std::uint32_t task = 0; task < states_.size(); ++task) {
    auto& state = states_[task];
    bool any = false;
    for (const auto& live : state.live) {
      if (live.phase != Phase::running && live.phase != Phase::cancelling) continue;
      auto worker = workers_.find(live.worker);
      AttemptRecord attempt;
      attempt.task = task;
      attempt.attempt = live.attempt;
      attempt.worker = live.worker;
      if (worker != workers_.end()) {
        attempt.host = worker->second.info.host;
        attempt.device = worker->second.info.device;
      }
      attempt.start = live.start;
      attempt.end = now;
      attempt.status = AttemptStatus::interrupted;
      attempt.predicted_s = live.predicted_s;
      attempt.migrated = live.migrated;
      attempt.error = "in flight when the run was stopped at once";
      sink_.add_attempt(attempt);
      any = true;
    }
    state.live.clear();
    if (any && records_[task].status == TaskStatus::running) {
      records_[task].status = TaskStatus::pending;
      records_[task].attempts = state.next_attempt;
      update(task);
    }
  }
}

void Scheduler::update(std::uint32_t task) { sink_.update_task(task, records_[task]); }

}  // namespace fastgpu::scheduler
