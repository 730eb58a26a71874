#include "app/deadline.hpp"

#include <cmath>
#include <cstdlib>
#include <ctime>
#include <stdexcept>

#include "fastgpu/error.hpp"
#include "fastgpu/job_spec.hpp"
#include "worker/command_runner.hpp"

namespace fastgpu::app {

namespace {

/// Time left for recording and shutting down after the last subtask is killed.
constexpr double kShutdownMargin_s = 1;

std::string trim(std::string text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return "";
  return text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1);
}

/// "YYYY-MM-DDTHH:MM[:SS][Z]": local time unless it ends in Z.
std::optional<double> parse_calendar_time(const std::string& text) {
  std::string body = text;
  const bool utc = !body.empty() && body.back() == 'Z';
  if (utc) body.pop_back();
  std::tm tm{};
  const char* end = strptime(body.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (end == nullptr || *end != '\0') {
    tm = std::tm{};
    end = strptime(body.c_str(), "%Y-%m-%dT%H:%M", &tm);
    if (end == nullptr || *end != '\0') return std::nullopt;
  }
  tm.tm_isdst = -1;  // let mktime work out summer time
  const std::time_t t = utc ? timegm(&tm) : std::mktime(&tm);
  if (t == static_cast<std::time_t>(-1)) return std::nullopt;
  return static_cast<double>(t);
}

std::optional<double> parse_epoch(const std::string& text) {
  if (text.empty()) return std::nullopt;
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || *end != '\0' || !std::isfinite(value) || value <= 0) return std::nullopt;
  return value;
}

}  // namespace

double parse_deadline(const std::string& raw, double now_unix) {
  const std::string text = trim(raw);
  if (!text.empty() && text[0] == '@') {
    if (auto epoch = parse_epoch(text.substr(1))) return *epoch;
  } else if (text.find('T') != std::string::npos && text.find('-') != std::string::npos) {
    if (auto when = parse_calendar_time(text)) return *when;
  } else {
    try {
      return now_unix + parse_duration(text);
    } catch (const std::invalid_argument&) {
    }
  }
  throw UsageError("--deadline: cannot parse '" + raw +
                   "' (a duration from now: 90, 30m, 1h30m, 2:00:00; a local time: 2026-11-27T20:00; "
                   "UTC: 2026-11-27T20:00:00Z; seconds since the epoch: @1764270000; or none)");
}

std::optional<Deadline> resolve_deadline(const std::string& option, double now_unix, const EnvLookup& env,
                                         const SqueueQuery& squeue, std::string* warning) {
  if (option == "none") return std::nullopt;
  if (!option.empty()) return Deadline{parse_deadline(option, now_unix), "--deadline " + option};
  auto warn = [&](const std::string& text) {
    if (warning) *warning = text;
  };
  if (const char* end = env("SLURM_JOB_END_TIME"); end && *end) {
    if (auto epoch = parse_epoch(trim(end))) return Deadline{*epoch, "SLURM_JOB_END_TIME"};
    warn(std::string("SLURM_JOB_END_TIME='") + end + "' is not a time; running without a deadline");
    return std::nullopt;
  }
  const char* job = env("SLURM_JOB_ID");
  if (!job || !*job) return std::nullopt;
  const auto answer = squeue(job);
  if (!answer) {
    warn(std::string("cannot ask squeue for the end of Slurm job ") + job + "; running without a deadline");
    return std::nullopt;
  }
  const std::string end = trim(*answer);
  if (auto when = parse_calendar_time(end)) return Deadline{*when, "squeue (Slurm job " + std::string(job) + ")"};
  // "N/A", "Unknown", "NONE": no time limit, or none known.
  if (end != "N/A" && end != "Unknown" && end != "NONE") {
    warn("squeue gave the end of Slurm job " + std::string(job) + " as '" + end + "'; running without a deadline");
  }
  return std::nullopt;
}

std::optional<std::string> run_squeue(const std::string& job_id) {
  worker::CommandOptions options;
  options.timeout_s = 10;
  options.kill_grace_s = 1;
  LaunchSpec squeue;
  squeue.argv = {"squeue", "-h", "-j", job_id, "-o", "%e"};
  const auto result = worker::run_command(squeue, options);
  if (result.status != AttemptStatus::done) return std::nullopt;
  return result.stdout_tail;
}

double stop_time(const Deadline& deadline, double grace_s) {
  return deadline.unix_time - grace_s - kShutdownMargin_s;
}

}  // namespace fastgpu::app
