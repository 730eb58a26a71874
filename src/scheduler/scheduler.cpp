#include "scheduler/scheduler.hpp"

#include <algorithm>

namespace fastgpu::scheduler {
namespace {
// How far into the queue a worker looks for a task it may run (a retry avoids the worker that
// failed it). Bounded so taking a task stays O(1).
constexpr std::size_t kQueueScan = 64;
}  // namespace

Scheduler::Scheduler(JobSpec job, std::vector<Subtask> subtasks, SchedulerConfig config, comm::MessageSink& out,
                     ResultsSink& sink)
    : job_(std::move(job)),
      subtasks_(std::move(subtasks)),
      config_(config),
      out_(out),
      sink_(sink),
      records_(initial_records(subtasks_)),
      progress_(subtasks_.size()),
      unfinished_(subtasks_.size()) {
  config_.prefetch = std::max(config_.prefetch, 1);
  for (std::uint32_t task = 0; task < subtasks_.size(); ++task) queue_.push_back(task);
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
  auto [it, inserted] = workers_.try_emplace(worker.rank, WorkerState{worker, 0});
  if (!inserted) return;  // a repeated hello changes nothing
  sink_.add_worker(worker);
  sink_.add_event({now, "worker_joined", -1, -1, worker.rank, worker.host + " " + worker.device});
  hungry_.insert(worker.rank);
  place(now);
}

void Scheduler::on_report(int worker_rank, const comm::WorkerReport& report, double now) {
  auto it = workers_.find(worker_rank);
  if (it == workers_.end()) return;  // reports only come after a hello
  for (const auto& started : report.started) on_started(it->second, started);
  for (const auto& result : report.finished) on_finished(it->second, result, now);
  place(now);
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

void Scheduler::place(double now) {
  const bool all_joined = static_cast<int>(workers_.size()) >= config_.expected_workers;
  const int depth = all_joined ? config_.prefetch : 1;
  std::map<int, comm::AssignTasks> batches;  // one message per worker per placement
  for (int level = 1; level <= depth && !queue_.empty(); ++level) {
    for (auto it = hungry_.begin(); it != hungry_.end() && !queue_.empty();) {
      WorkerState& worker = workers_.at(*it);
      std::uint32_t task = 0;
      if (worker.in_flight < level && take_task_for(worker.info.rank, task)) {
        const std::int32_t attempt = progress_[task].next_attempt++;
        batches[worker.info.rank].tasks.push_back(make_launch(task, attempt));
        ++worker.in_flight;
        sink_.add_event({now, "assign", task, -1, worker.info.rank, "attempt " + std::to_string(attempt)});
      }
      it = worker.in_flight >= config_.prefetch ? hungry_.erase(it) : std::next(it);
    }
  }
  for (const auto& [rank, batch] : batches) out_.send(rank, batch);
}

bool Scheduler::take_task_for(int worker_rank, std::uint32_t& task) {
  const bool only_worker = workers_.size() == 1;
  const std::size_t scan = std::min(queue_.size(), kQueueScan);
  for (std::size_t i = 0; i < scan; ++i) {
    const std::uint32_t candidate = queue_[i];
    if (only_worker || progress_[candidate].avoid_worker != worker_rank) {
      queue_.erase(queue_.begin() + static_cast<std::ptrdiff_t>(i));
      task = candidate;
      return true;
    }
  }
  return false;
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
  return launch;
}

void Scheduler::on_started(WorkerState& worker, const comm::TaskStarted& started) {
  if (started.task >= records_.size()) return;
  TaskRecord& record = records_[started.task];
  if (record.status != TaskStatus::pending) return;
  record.status = TaskStatus::running;
  record.worker = worker.info.rank;
  record.start = started.start;
  update(started.task);
}

void Scheduler::on_finished(WorkerState& worker, const comm::TaskResult& result, double now) {
  if (result.task >= records_.size()) return;
  worker.in_flight = std::max(worker.in_flight - 1, 0);
  hungry_.insert(worker.info.rank);

  AttemptRecord attempt;
  attempt.task = result.task;
  attempt.attempt = result.attempt;
  attempt.worker = worker.info.rank;
  attempt.host = worker.info.host;
  attempt.device = worker.info.device;
  attempt.start = result.start;
  attempt.end = result.end;
  attempt.status = result.status;
  attempt.exit_code = result.exit_code;
  attempt.signal = result.signal;
  attempt.error = result.error;
  attempt.stdout_tail = result.stdout_tail;
  attempt.stderr_tail = result.stderr_tail;
  attempt.metrics = result.metrics;
  sink_.add_attempt(attempt);

  TaskRecord& record = records_[result.task];
  if (record.status == TaskStatus::done || record.status == TaskStatus::failed) return;  // a late duplicate
  const Subtask& subtask = subtasks_[result.task];
  record.attempts = result.attempt + 1;
  record.worker = worker.info.rank;
  record.start = result.start;
  record.end = result.end;
  record.exit_code = result.exit_code;

  if (result.status == AttemptStatus::done) {
    record.status = TaskStatus::done;
    --unfinished_;
  } else if (result.attempt < subtask.retries) {
    record.status = TaskStatus::pending;
    progress_[result.task].avoid_worker = worker.info.rank;
    queue_.push_front(result.task);
    sink_.add_event({now, "retry", result.task, worker.info.rank, -1, result.error});
  } else {
    record.status = TaskStatus::failed;
    --unfinished_;
    failures_.push_back({result.task, result.error, result.stderr_tail});
    sink_.add_event({now, "failed", result.task, worker.info.rank, -1, result.error});
  }
  update(result.task);
}

void Scheduler::update(std::uint32_t task) { sink_.update_task(task, records_[task]); }

}  // namespace fastgpu::scheduler
