// A worker's device telemetry (/telemetry): a background thread samples the worker's GPU through
// NVML and the CPU use and memory of its process tree from /proc, every --telemetry-interval
// seconds. The worker loop only takes the samples in batches, so short subtasks are not slowed.
#pragma once

#include <sys/types.h>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "fastgpu/results.hpp"
#include "worker/nvml.hpp"

namespace fastgpu::worker {

/** @brief What /proc/PID/stat says about one process. */
struct ProcStat {
  pid_t pid = 0;
  pid_t ppid = 0;
  double cpu_s = 0;      ///< user + system time of the process and of its children it has reaped
  double rss_bytes = 0;  ///< resident set size
};

/** @brief Parses /proc/@p pid/stat; nullopt when the process is gone or the file is unreadable. */
std::optional<ProcStat> read_proc_stat(pid_t pid);

/**
 * @brief CPU use and RSS of this process and every live descendant (its subtasks and theirs).
 * A subtask that ends moves its time into its parent's reaped-children time, so the tree's total
 * does not jump when it exits. With --workers N (threads) the workers share one process and each
 * reports the whole process.
 */
class ProcessTreeSampler {
 public:
  ProcessTreeSampler();
  /**
   * @brief Sets cpu_util (% of one core over the time since the previous call; NaN on the first)
   * and rss_bytes. @p now_s is any monotonic time in seconds.
   */
  void sample(TelemetrySample& out, double now_s);

 private:
  double last_cpu_s_ = -1;
  double last_time_s_ = 0;
};

/** @brief Samples one worker's device every interval on its own thread until stopped. */
class TelemetrySampler {
 public:
  /**
   * @brief Starts sampling for worker @p self (its device "cuda:ID" is looked up in NVML; "cpu"
   * gets CPU fields only). Times are seconds since @p job_start_unix. When the worker has a GPU
   * that NVML cannot give, says so once on stderr and records CPU fields only.
   */
  TelemetrySampler(const WorkerRecord& self, double interval_s, double job_start_unix);
  /** @brief stop(). */
  ~TelemetrySampler();
  TelemetrySampler(const TelemetrySampler&) = delete;
  TelemetrySampler& operator=(const TelemetrySampler&) = delete;

  /** @brief The samples taken since the last call, oldest first. */
  std::vector<TelemetrySample> take();
  /** @brief Ends the thread, after one last sample if half an interval has passed since the last. */
  void stop();
  /** @brief Whether GPU fields are sampled (NVML opened the worker's GPU). */
  bool has_gpu() const { return gpu_ != nullptr; }

 private:
  void run();
  void sample_now();

  std::int32_t rank_;
  double interval_s_;
  double job_start_unix_;
  std::unique_ptr<NvmlDevice> gpu_;
  ProcessTreeSampler cpu_;
  double last_sample_s_ = 0;  // monotonic
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::vector<TelemetrySample> samples_;
  std::thread thread_;
};

/** @brief The NVML id of a worker's GPU: its UUID, else the CUDA_VISIBLE_DEVICES entry; "" for a CPU slot. */
std::string nvml_id(const WorkerRecord& worker);

}  // namespace fastgpu::worker
