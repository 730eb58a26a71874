// What rank 0 shows while a run goes: on a terminal one live line rewritten in place, in a log
// file (Slurm output) a plain line every few seconds. The line is built by a pure function
// (format_progress_line) so it can be tested without a clock; ProgressReporter decides when to
// print and keeps the rate estimate.
#pragma once

#include <cstddef>
#include <deque>
#include <iosfwd>
#include <optional>
#include <string>
#include <utility>

namespace fastgpu::scheduler {
class Scheduler;
}

namespace fastgpu::app {

/// One moment of a run, as the progress line shows it.
struct ProgressSnapshot {
  double elapsed_s = 0;        ///< since this run began
  std::size_t total = 0;       ///< subtasks in the job
  std::size_t done = 0;        ///< done (including those done by an earlier run that was resumed)
  std::size_t failed = 0;      ///< failed for good
  std::size_t running = 0;     ///< subtasks with an attempt running
  int workers = 0;             ///< workers that joined
  int busy_workers = 0;        ///< of those, how many run an attempt now
  double rate_per_s = 0;       ///< finished subtasks per second, recently; 0 = not known yet
  std::optional<double> eta_s; ///< seconds until the last subtask ends; nullopt = not known yet
  bool eta_from_model = false; ///< the ETA is the cost model's prediction (else: remaining / rate)
};

/// "4m12s", "1h03m", "2d05h", "12s", "0.4s": short, for progress lines.
std::string format_short_duration(double seconds);

/// "12.3", "0.42", "1234": a rate with about three significant digits.
std::string format_rate(double per_second);

/**
 * @brief The progress line, without a line end, e.g.
 * `progress: 120/1000 done (12%), 2 failed, 8 running | 3.40 subtasks/s | ETA 4m12s (model) | GPUs busy 8/8 | elapsed 35s`.
 * `max_width` > 0 cuts it to that many characters (a live line must not wrap, or \r cannot rewrite it).
 */
std::string format_progress_line(const ProgressSnapshot& snapshot, std::size_t max_width = 0);

/// The plain-line interval: `cli_seconds` when given, else `env` (FASTGPU_PROGRESS_INTERVAL) when
/// it is a positive number, else 10 s. `warning` (may be null) receives why `env` was ignored.
double progress_interval(std::optional<double> cli_seconds, const char* env, std::string* warning = nullptr);

/// Recent rate of finished subtasks, from (time, finished count) samples over a sliding window.
class RateWindow {
 public:
  explicit RateWindow(double window_s = 30) : window_s_(window_s) {}
  void add(double now, std::size_t finished);
  /// Finished per second over the window (or since the first sample when shorter); 0 when none.
  double rate() const;

 private:
  double window_s_;
  std::deque<std::pair<double, std::size_t>> samples_;
};

/**
 * @brief Prints progress lines to `out`. `live`: a terminal, the line is rewritten in place
 * (\r, clear to end of line) every `live_interval_s`; else a plain line every `interval_s`.
 * Not thread-safe; call update() often (it prints only when due) and finish() once at the end.
 */
class ProgressReporter {
 public:
  ProgressReporter(std::ostream& out, bool live, double interval_s, double live_interval_s = 0.5);

  /// Whether a line is due at `elapsed_s` (so the caller can skip gathering a snapshot).
  bool due(double elapsed_s) const { return elapsed_s >= next_; }
  /// Prints the snapshot if a line is due.
  void update(const ProgressSnapshot& snapshot);
  /// The last line: a live line is redrawn with `snapshot` and ended with a newline; a plain one
  /// is printed once more when any was printed before (so the log shows how it ended).
  void finish(const ProgressSnapshot& snapshot);
  std::size_t lines_printed() const { return printed_; }
  /// Columns of the terminal on `fd` (for max_width); 0 when unknown.
  static std::size_t terminal_width(int fd);

 private:
  void print(const ProgressSnapshot& snapshot);

  std::ostream& out_;
  bool live_;
  double interval_s_;
  double next_ = 0;
  std::size_t printed_ = 0;
  bool finished_ = false;
};

/**
 * @brief Rank 0's progress over a run: gathers snapshots from the scheduler (counts, busy
 * workers, rate, ETA) and hands them to a ProgressReporter. Times are the scheduler's clock
 * (seconds since job start); `began_at` is when this run began on it (later than 0 on resume).
 * The ETA is the cost model's predicted remaining work divided across the workers
 * (Scheduler::predicted_remaining_s) once a subtask finished in this run, else remaining / rate.
 */
class RunProgress {
 public:
  RunProgress(std::ostream& out, bool live, double interval_s, double began_at);
  /// Call often (every scheduler loop step): prints when a line is due.
  void tick(const scheduler::Scheduler& scheduler, double now);
  /// The final line (ended with a newline), before the run's summary.
  void finish(const scheduler::Scheduler& scheduler, double now);
  const ProgressReporter& reporter() const { return reporter_; }

 private:
  ProgressSnapshot snapshot(const scheduler::Scheduler& scheduler, double now);

  ProgressReporter reporter_;
  RateWindow rate_;
  double began_at_;
  std::optional<std::size_t> finished_at_start_;  ///< done + failed when this run began (resume)
};

}  // namespace fastgpu::app
