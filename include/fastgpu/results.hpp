/** @file The rows of the results file, and the sink the scheduler records them into. */
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

namespace fastgpu {

inline constexpr double kNoTime = std::numeric_limits<double>::quiet_NaN();
/// A telemetry value that was not measured (no GPU, no NVML, a field the GPU does not report).
inline constexpr double kNotMeasured = std::numeric_limits<double>::quiet_NaN();

/** @brief A subtask's status; stored as the HDF5 enum `task_status`. */
enum class TaskStatus : std::int8_t { pending = 0, running = 1, done = 2, failed = 3, cancelled = 4 };

/** @brief How one attempt ended; stored as the HDF5 enum `attempt_status`. */
enum class AttemptStatus : std::int8_t {
  running = 0,       ///< not finished (seen only in a file of a killed run)
  done = 1,          ///< exit code 0
  failed = 2,        ///< non-zero exit code or killed by a signal
  timed_out = 3,     ///< killed after the task's timeout
  spawn_failed = 4,  ///< could not start (executable not found, bad cwd, ...)
  lost = 5,          ///< its worker went away
  cancelled = 6,     ///< stopped by the scheduler
  superseded = 7,    ///< a speculative copy of the same subtask finished first; this one was stopped
  interrupted = 8,   ///< in flight when the run stopped (signal, deadline, crash); run again on resume
};

inline const char* to_string(TaskStatus status) {
  switch (status) {
    case TaskStatus::pending: return "pending";
    case TaskStatus::running: return "running";
    case TaskStatus::done: return "done";
    case TaskStatus::failed: return "failed";
    case TaskStatus::cancelled: return "cancelled";
  }
  return "unknown";
}

inline const char* to_string(AttemptStatus status) {
  switch (status) {
    case AttemptStatus::running: return "running";
    case AttemptStatus::done: return "done";
    case AttemptStatus::failed: return "failed";
    case AttemptStatus::timed_out: return "timed_out";
    case AttemptStatus::spawn_failed: return "spawn_failed";
    case AttemptStatus::lost: return "lost";
    case AttemptStatus::cancelled: return "cancelled";
    case AttemptStatus::superseded: return "superseded";
    case AttemptStatus::interrupted: return "interrupted";
  }
  return "unknown";
}

/** @brief /job attributes. */
struct JobInfo {
  std::string name;
  std::string spec;         ///< the job file's text
  std::string source_path;
  std::string output_dir;
  std::string fastgpu_version;
  std::string started;      ///< ISO 8601, UTC
  double started_unix = 0;  ///< seconds since the epoch; every other time is relative to it
  std::string finished;     ///< ISO 8601, UTC; empty while running
  std::string status;       ///< running, done, failed
  std::string transport;    ///< mpi or threads
};

/** @brief One /tasks row. Times are seconds since job start (NaN when unset). */
struct TaskRecord {
  std::string id;
  std::string name;
  std::string params;  ///< JSON object text
  double cost = 1;
  std::int32_t gpus = 1;
  TaskStatus status = TaskStatus::pending;
  std::int32_t attempts = 0;
  std::int32_t worker = -1;  ///< rank of the worker that ran the last attempt
  double start = kNoTime;
  double end = kNoTime;
  std::int32_t exit_code = -1;
};

/** @brief A metric parsed from a `FASTGPU_METRIC name=value` line. */
struct Metric {
  std::string name;
  double value = 0;
};

/** @brief An array a kernel attempt recorded with Context::output (a loss curve, ...). */
struct OutputArray {
  std::string name;
  std::vector<double> values;
};

/** @brief One /attempts row, with its /outputs (stdout/stderr tails, metrics). */
struct AttemptRecord {
  std::int64_t task = -1;  ///< row in /tasks
  std::int32_t attempt = 0;  ///< 0 for the first attempt
  std::int32_t worker = -1;
  std::string host;
  std::string device;
  double start = kNoTime;
  double end = kNoTime;
  AttemptStatus status = AttemptStatus::running;
  std::int32_t exit_code = -1;  ///< exit status, 128+N when killed by signal N, -1 when it never ran
  std::int32_t signal = 0;
  double predicted_s = kNoTime;
  bool migrated = false;
  std::string error;  ///< why it failed, in words ("exit code 3", "timed out after 10 s", ...)
  std::string stdout_tail;
  std::string stderr_tail;
  std::vector<Metric> metrics;
  std::vector<OutputArray> arrays;  ///< /outputs/arrays
  /// A checkpointable kernel stopped early: its state (Kernel::checkpoint), from which the next
  /// attempt continues, in this run or after --resume (/outputs/checkpoints). Bytes; may hold NULs.
  std::string checkpoint;
};

/** @brief One /workers row. */
struct WorkerRecord {
  std::int32_t rank = -1;
  std::string host;
  std::int32_t local_rank = -1;  ///< index among the workers on its node
  std::string device;            ///< "cuda:N" or "cpu"
  std::string gpu_name;
  std::string gpu_uuid;
  // Where it runs on its host (src/device/topology.hpp); absent in files from before them.
  std::string pci_bus_id;        ///< its GPU's PCI address, "0000:3b:00.0"; "" for cpu or unknown
  std::int32_t numa_node = -1;   ///< NUMA node of its GPU (cpu: of cpu_set); -1 unknown or several
  std::string cpu_set;           ///< CPUs its thread may run on, list form "0-3,8"; "" unknown
};

/** @brief One /events row: a scheduler decision. */
struct EventRecord {
  double time = 0;
  std::string kind;  ///< assign, retry, failed, worker_joined, ...
  std::int64_t task = -1;
  std::int32_t from = -1;
  std::int32_t to = -1;
  std::string detail;
};

/**
 * @brief One /telemetry row: a worker's device as sampled while the run went. A field the worker
 * could not measure is NaN (GPU fields on a CPU slot or without NVML; CPU fields are always set).
 */
struct TelemetrySample {
  double time = 0;           ///< seconds since job start
  std::int32_t worker = -1;  ///< rank
  double gpu_util = kNotMeasured;        ///< % of the last sample period a kernel ran on the GPU (NVML)
  double mem_used_bytes = kNotMeasured;  ///< GPU memory in use, all processes
  double power_w = kNotMeasured;         ///< board power draw
  double temp_c = kNotMeasured;          ///< GPU core temperature
  double sm_clock_mhz = kNotMeasured;    ///< current SM clock
  double cpu_util = kNotMeasured;        ///< the worker's process tree, % of one core (200 = two cores busy)
  double rss_bytes = kNotMeasured;       ///< resident memory of the worker's process tree
};

/**
 * @brief A job-level reduction (`[[reduce]]`) as combined across workers: /reductions/NAME holds
 * the result; for "mean" the weighted sums stay in /reductions/NAME.sum so a resumed run can add
 * to them exactly.
 */
struct ReductionValue {
  std::string name;
  std::string op;              ///< sum, min, max, mean
  std::vector<double> values;  ///< combined: sums (weighted sums for mean), minima or maxima
  double weight = 0;           ///< mean: the sum of the weights
  std::int64_t contributions = 0;  ///< done attempts added in, over every run of the job

  /** @brief What /reductions/NAME shows: values, divided by the weight for a mean. */
  std::vector<double> result() const {
    if (op != "mean") return values;
    std::vector<double> out(values);
    for (double& v : out) v = weight != 0 ? v / weight : std::numeric_limits<double>::quiet_NaN();
    return out;
  }
};

/** @brief Everything in one results file, as read back. */
struct Results {
  JobInfo job;
  std::vector<TaskRecord> tasks;
  std::vector<AttemptRecord> attempts;  ///< with their tails and metrics filled in
  std::vector<WorkerRecord> workers;
  std::vector<EventRecord> events;
  std::vector<TelemetrySample> telemetry;  ///< /telemetry, in the order recorded
  std::vector<ReductionValue> reductions;  ///< /reductions, in the job file's order
};

/**
 * @brief Where the scheduler records what happens. The HDF5 writer implements it; tests use a
 * vector-backed one. Calls come from one thread.
 */
class ResultsSink {
 public:
  virtual ~ResultsSink() = default;
  virtual void add_worker(const WorkerRecord& worker) = 0;
  virtual void update_task(std::size_t index, const TaskRecord& task) = 0;
  virtual void add_attempt(const AttemptRecord& attempt) = 0;
  virtual void add_event(const EventRecord& event) = 0;
  /// Device samples from the workers (/telemetry). Sinks that do not keep them ignore them.
  virtual void add_telemetry(const std::vector<TelemetrySample>& samples) { (void)samples; }
};

}  // namespace fastgpu
