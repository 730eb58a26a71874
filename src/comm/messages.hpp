// The closed protocol between the scheduler (rank 0) and the workers. Every message is one
// alternative of `Message`; encode/decode is the only wire format, used by every transport.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "fastgpu/job_spec.hpp"
#include "fastgpu/results.hpp"

namespace fastgpu::comm {

/// Scheduler -> worker: one attempt to run, fully rendered.
struct TaskLaunch {
  std::uint32_t task = 0;  ///< row in /tasks
  std::int32_t attempt = 0;
  LaunchSpec launch;
  double timeout_s = 0;
  std::uint64_t tail_bytes = 0;
  /// A multi-GPU subtask (`gpus = k`): the k worker ranks that run it together, in member order
  /// (member 0 leads); each gets this same launch. Empty for a one-GPU subtask.
  std::vector<std::int32_t> gang;
  std::string gang_host;  ///< member 0's host: MASTER_ADDR for command subtasks
  std::string restore;    ///< a kernel state to continue from (an earlier attempt's checkpoint)
  /// In-flight migration, worker to worker: the rank that posted this subtask's state
  /// (Collectives::post_state) when it checkpointed, and the state's size; -1 when none. The
  /// worker takes the state from there before it starts the kernel.
  std::int32_t restore_from = -1;
  std::uint64_t restore_bytes = 0;
  /// Backfill: queue it before the worker's first queued multi-GPU attempt, not at the end.
  bool ahead_of_gang = false;
};

/// Worker -> scheduler, once at start: who and where it is.
struct WorkerHello {
  WorkerRecord worker;
};

/// Scheduler -> worker: append these to the worker's local queue, in order.
struct AssignTasks {
  std::vector<TaskLaunch> tasks;
};

struct TaskStarted {
  std::uint32_t task = 0;
  std::int32_t attempt = 0;
  double start = 0;  ///< seconds since job start
};

struct TaskResult {
  std::uint32_t task = 0;
  std::int32_t attempt = 0;
  double start = 0;
  double end = 0;
  AttemptStatus status = AttemptStatus::failed;
  std::int32_t exit_code = -1;
  std::int32_t signal = 0;
  std::string error;
  std::string stdout_tail;
  std::string stderr_tail;
  std::vector<Metric> metrics;
  std::vector<OutputArray> arrays;  ///< a kernel's Context::output arrays
  std::string checkpoint;           ///< a checkpointable kernel's state when it was stopped early
  /// Stopped to move (MigrateAttempt): the state went straight to this worker rank instead of in
  /// `checkpoint` (which is then empty), `state_bytes` long; -1 when it did not.
  std::int32_t state_sent_to = -1;
  std::uint64_t state_bytes = 0;
};

/// Worker -> scheduler: what started and what finished since the last report (batched).
struct WorkerReport {
  std::vector<TaskStarted> started;
  std::vector<TaskResult> finished;
};

/// One attempt of one subtask.
struct AttemptRef {
  std::uint32_t task = 0;
  std::int32_t attempt = 0;
};

/// Scheduler -> worker: take these queued attempts back (to migrate them). The worker answers
/// with RetractAck; an attempt it already started stays with it.
struct RetractTasks {
  std::vector<AttemptRef> attempts;
};

/// Worker -> scheduler: which of the retracted attempts were removed from its queue, and which
/// had already started (and so go on running here).
struct RetractAck {
  std::vector<AttemptRef> retracted;
  std::vector<AttemptRef> already_started;
};

/// Scheduler -> worker: stop this attempt (another copy of the subtask finished first). A queued
/// one is dropped, a running one terminated; either way it is reported as a finished attempt.
struct CancelAttempt {
  AttemptRef attempt;
};

/// Scheduler -> worker: stop running tasks, report, say goodbye, exit.
struct Shutdown {
  /// Workers retired after their device became unusable (WorkerRetired): they send their
  /// reductions to rank 0 themselves, and the others combine without them.
  std::vector<std::int32_t> retired;
};

/// Worker -> scheduler: the worker's last message.
struct WorkerBye {};

/// Worker -> scheduler: device samples taken since the last one (--telemetry-interval), batched
/// about once a second. Apart from WorkerReport so the scheduler never sees them: rank 0's loop
/// hands them straight to the results file.
struct WorkerTelemetry {
  std::vector<TelemetrySample> samples;
};

/// Worker -> scheduler, from the first worker only, before its goodbye: the job's reductions
/// combined over every worker's buffer (collectives at Shutdown), for /reductions.
struct ReductionResult {
  std::vector<ReductionValue> values;
};

/// Scheduler -> worker: checkpoint this running attempt and stop it (in-flight migration). A
/// checkpointable kernel returns at its next safe point and reports `cancelled`; its state goes
/// straight to worker `to` (TaskResult::state_sent_to) when the workers have collectives, else back
/// with the result. The scheduler continues it on `to`. Any other attempt ignores it and runs on.
struct MigrateAttempt {
  AttemptRef attempt;
  std::int32_t to = -1;  ///< the worker rank it continues on
};

/// Worker -> scheduler, just before the report of the attempt that found its device unusable
/// (DeviceLostError): it runs no more one-GPU subtasks. `returned` are the one-GPU attempts it had
/// queued (never started), and any assigned to it later; multi-GPU ones it still takes part in, so
/// that their other members are not left waiting.
struct WorkerRetired {
  std::string reason;
  std::vector<AttemptRef> returned;
};

// New alternatives go at the end: the index is the message's type on the wire.
using Message = std::variant<WorkerHello, AssignTasks, WorkerReport, Shutdown, WorkerBye, RetractTasks, RetractAck,
                             CancelAttempt, WorkerTelemetry, ReductionResult, MigrateAttempt, WorkerRetired>;

/// Serializes a message (little-endian host layout: ranks of one job share an architecture).
std::string encode(const Message& message);
/// Parses bytes made by encode(); throws fastgpu::Error on truncated or unknown input.
Message decode(std::string_view bytes);

}  // namespace fastgpu::comm
