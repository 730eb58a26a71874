#include "app/progress_line.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ostream>

#include "scheduler/scheduler.hpp"

namespace fastgpu::app {

namespace {
constexpr double kDefaultInterval_s = 10;

std::string printf_string(const char* pattern, double a, double b = 0) {
  char text[64];
  std::snprintf(text, sizeof text, pattern, a, b);
  return text;
}
}  // namespace

std::string format_short_duration(double seconds) {
  if (!std::isfinite(seconds)) return "?";
  if (seconds < 0) seconds = 0;
  if (seconds < 10) return printf_string("%.1fs", std::floor(seconds * 10) / 10);
  const auto whole = static_cast<long long>(std::llround(seconds));
  const long long days = whole / 86400, hours = whole / 3600 % 24, minutes = whole / 60 % 60, secs = whole % 60;
  char text[64];
  if (days > 0) {
    std::snprintf(text, sizeof text, "%lldd%02lldh", days, hours);
  } else if (hours > 0) {
    std::snprintf(text, sizeof text, "%lldh%02lldm", hours, minutes);
  } else if (minutes > 0) {
    std::snprintf(text, sizeof text, "%lldm%02llds", minutes, secs);
  } else {
    std::snprintf(text, sizeof text, "%llds", secs);
  }
  return text;
}

std::string format_rate(double per_second) {
  if (!std::isfinite(per_second) || per_second <= 0) return "0";
  if (per_second >= 100) return printf_string("%.0f", per_second);
  if (per_second >= 10) return printf_string("%.1f", per_second);
  if (per_second >= 1) return printf_string("%.2f", per_second);
  return printf_string("%.2g", per_second);
}

std::string format_progress_line(const ProgressSnapshot& s, std::size_t max_width) {
  std::string line = "progress: " + std::to_string(s.done) + "/" + std::to_string(s.total) + " done";
  if (s.total > 0) {
    // Floor, so 999 of 1000 does not read as 100%.
    const double percent = std::floor(1000.0 * static_cast<double>(s.done) / static_cast<double>(s.total)) / 10;
    line += percent < 10 ? printf_string(" (%.1f%%)", percent) : printf_string(" (%.0f%%)", std::floor(percent));
  }
  line += ", " + std::to_string(s.failed) + " failed, " + std::to_string(s.running) + " running";
  line += " | " + format_rate(s.rate_per_s) + " subtasks/s";
  if (s.eta_s) {
    line += " | ETA " + format_short_duration(*s.eta_s) + (s.eta_from_model ? " (model)" : " (rate)");
  } else {
    line += " | ETA ?";
  }
  line += " | GPUs busy " + std::to_string(s.busy_workers) + "/" + std::to_string(s.workers);
  line += " | elapsed " + format_short_duration(s.elapsed_s);
  if (max_width > 0 && line.size() > max_width) line.resize(max_width);
  return line;
}

double progress_interval(std::optional<double> cli_seconds, const char* env, std::string* warning) {
  if (cli_seconds) return *cli_seconds;
  if (env != nullptr && *env != '\0') {
    char* end = nullptr;
    const double value = std::strtod(env, &end);
    if (end != env && *end == '\0' && std::isfinite(value) && value > 0) return value;
    if (warning) {
      *warning = "FASTGPU_PROGRESS_INTERVAL='" + std::string(env) + "' is not a positive number of seconds; using " +
                 printf_string("%g", kDefaultInterval_s) + " s";
    }
  }
  return kDefaultInterval_s;
}

void RateWindow::add(double now, std::size_t finished) {
  samples_.emplace_back(now, finished);
  // Keep one sample at or before the window's start, so the window spans window_s_ once full.
  while (samples_.size() > 2 && samples_[1].first <= now - window_s_) samples_.pop_front();
}

double RateWindow::rate() const {
  if (samples_.size() < 2) return 0;
  const auto& [t0, n0] = samples_.front();
  const auto& [t1, n1] = samples_.back();
  if (t1 <= t0 || n1 < n0) return 0;
  return static_cast<double>(n1 - n0) / (t1 - t0);
}

ProgressReporter::ProgressReporter(std::ostream& out, bool live, double interval_s, double live_interval_s)
    : out_(out), live_(live), interval_s_(live ? live_interval_s : interval_s) {
  // A plain line waits one full interval: a short run in a log file prints none.
  next_ = live_ ? 0 : interval_s_;
}

std::size_t ProgressReporter::terminal_width(int fd) {
  winsize size{};
  if (ioctl(fd, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) return size.ws_col;
  return 0;
}

void ProgressReporter::print(const ProgressSnapshot& snapshot) {
  if (live_) {
    const std::size_t width = terminal_width(STDERR_FILENO);
    // One column short of the width: a line filling the last column wraps on some terminals.
    out_ << "\r\033[K" << format_progress_line(snapshot, width > 1 ? width - 1 : 0) << std::flush;
  } else {
    out_ << format_progress_line(snapshot) << std::endl;
  }
  ++printed_;
}

void ProgressReporter::update(const ProgressSnapshot& snapshot) {
  if (finished_ || !due(snapshot.elapsed_s)) return;
  print(snapshot);
  // Steps of the interval from the last due time; a stall does not cause a burst of lines.
  next_ = std::max(next_ + interval_s_, snapshot.elapsed_s + interval_s_ / 2);
}

void ProgressReporter::finish(const ProgressSnapshot& snapshot) {
  if (finished_) return;
  finished_ = true;
  if (printed_ == 0) return;
  print(snapshot);
  if (live_) out_ << std::endl;
}

RunProgress::RunProgress(std::ostream& out, bool live, double interval_s, double began_at)
    : reporter_(out, live, interval_s), began_at_(began_at) {}

ProgressSnapshot RunProgress::snapshot(const scheduler::Scheduler& scheduler, double now) {
  const auto counts = scheduler.counts();
  ProgressSnapshot s;
  s.elapsed_s = now - began_at_;
  s.total = scheduler.tasks().size();
  s.done = counts.done;
  s.failed = counts.failed;
  s.running = counts.running;
  s.workers = static_cast<int>(scheduler.worker_count());
  // A running subtask occupies its `gpus` workers; a speculative copy is not counted (rare, short).
  std::size_t busy = 0;
  for (const auto& task : scheduler.tasks()) {
    if (task.status == TaskStatus::running) busy += static_cast<std::size_t>(std::max(task.gpus, 1));
  }
  s.busy_workers = static_cast<int>(std::min<std::size_t>(busy, static_cast<std::size_t>(s.workers)));

  const std::size_t finished = counts.done + counts.failed + counts.cancelled;
  if (!finished_at_start_) finished_at_start_ = finished;
  rate_.add(now, finished);
  s.rate_per_s = rate_.rate();
  const std::size_t remaining = s.total - std::min(s.total, finished);
  if (remaining == 0) {
    s.eta_s = 0;
    s.eta_from_model = true;
  } else if (finished > *finished_at_start_) {
    // Before this run finished anything the model has only its priors (or history): no ETA yet.
    const double predicted = scheduler.predicted_remaining_s(now);
    if (std::isfinite(predicted) && predicted > 0 && s.workers > 0) {
      s.eta_s = predicted;
      s.eta_from_model = true;
    } else if (s.rate_per_s > 0) {
      s.eta_s = static_cast<double>(remaining) / s.rate_per_s;
    }
  }
  return s;
}

void RunProgress::tick(const scheduler::Scheduler& scheduler, double now) {
  if (!finished_at_start_) {
    // The first call records where this run started from, so the rate counts only its own work.
    snapshot(scheduler, now);
  }
  if (!reporter_.due(now - began_at_)) return;
  reporter_.update(snapshot(scheduler, now));
}

void RunProgress::finish(const scheduler::Scheduler& scheduler, double now) {
  reporter_.finish(snapshot(scheduler, now));
}

}  // namespace fastgpu::app
