// Rank 0's brain, as a pure state machine: it reacts to events (a worker joined, a worker
// reported), decides, and emits messages through an injected MessageSink and records through a
// ResultsSink. It never calls MPI, reads a clock or touches a file, so the same code runs under
// MPI, with in-process threads and in tests with a fake sink and a fixed clock.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <set>
#include <vector>

#include "comm/transport.hpp"
#include "fastgpu/job_spec.hpp"
#include "fastgpu/results.hpp"

namespace fastgpu::scheduler {

struct SchedulerConfig {
  /// Attempts in flight per worker (running + queued locally). 2 hides the round trip to rank 0
  /// between subtasks while leaving little work stranded in a worker's queue.
  int prefetch = 2;
  /// Workers the run will have (0 = unknown). Until all have joined, each gets one attempt at a
  /// time, so the first to join does not take a deep queue the others then wait for.
  int expected_workers = 0;
};

/// Why a subtask failed for good: its last attempt's error and stderr tail.
struct Failure {
  std::uint32_t task = 0;
  std::string error;
  std::string stderr_tail;
};

struct StatusCounts {
  std::size_t pending = 0, running = 0, done = 0, failed = 0, cancelled = 0;
};

class Scheduler {
 public:
  /// `job.output_dir` must be set: it is passed to subtasks as {output_dir} and FASTGPU_OUTPUT_DIR.
  Scheduler(JobSpec job, std::vector<Subtask> subtasks, SchedulerConfig config, comm::MessageSink& out,
            ResultsSink& sink);

  /// The /tasks rows every subtask starts with (all pending), in subtask order.
  static std::vector<TaskRecord> initial_records(const std::vector<Subtask>& subtasks);

  void on_worker_joined(const WorkerRecord& worker, double now);
  void on_report(int worker_rank, const comm::WorkerReport& report, double now);
  bool finished() const { return unfinished_ == 0; }
  std::size_t worker_count() const { return workers_.size(); }
  const std::vector<TaskRecord>& tasks() const { return records_; }
  const std::vector<Subtask>& subtasks() const { return subtasks_; }
  StatusCounts counts() const;
  const std::vector<Failure>& failures() const { return failures_; }

 private:
  struct WorkerState {
    WorkerRecord info;
    int in_flight = 0;
  };
  struct Progress {
    std::int32_t next_attempt = 0;
    std::int32_t avoid_worker = -1;  ///< a retry prefers another worker than the one that failed
  };

  /// Hands queued tasks to workers with room: first one each to idle workers, then deeper.
  void place(double now);
  bool take_task_for(int worker_rank, std::uint32_t& task);
  comm::TaskLaunch make_launch(std::uint32_t task, std::int32_t attempt) const;
  void on_started(WorkerState& worker, const comm::TaskStarted& started);
  void on_finished(WorkerState& worker, const comm::TaskResult& result, double now);
  void update(std::uint32_t task);

  JobSpec job_;
  std::vector<Subtask> subtasks_;
  SchedulerConfig config_;
  comm::MessageSink& out_;
  ResultsSink& sink_;

  std::vector<TaskRecord> records_;
  std::vector<Progress> progress_;
  std::deque<std::uint32_t> queue_;  ///< tasks waiting for a worker; retries go to the front
  std::map<int, WorkerState> workers_;
  std::set<int> hungry_;  ///< workers with fewer than `prefetch` attempts in flight
  std::vector<Failure> failures_;
  std::size_t unfinished_ = 0;
};

}  // namespace fastgpu::scheduler
