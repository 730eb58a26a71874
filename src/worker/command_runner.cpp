#include "worker/command_runner.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <string_view>

#include "worker/child_guard.hpp"
#include "worker/output_capture.hpp"

extern char** environ;

namespace fastgpu::worker {

namespace {

using Clock = std::chrono::steady_clock;

// Reads per stream per poll(): enough to empty a full pipe many times over, bounded so a
// command that writes without pause cannot keep poll() from returning.
constexpr int kMaxReadsPerPoll = 16;
constexpr std::size_t kReadChunk = 64 * 1024;

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

/// "0.3", "600", "1.25": the shortest text that reads back as the same number.
std::string format_seconds(double seconds) {
  std::array<char, 64> buf{};
  auto result = std::to_chars(buf.data(), buf.data() + buf.size(), seconds, std::chars_format::fixed);
  if (result.ec != std::errc()) result = std::to_chars(buf.data(), buf.data() + buf.size(), seconds);
  return std::string(buf.data(), result.ptr);
}

std::string signal_text(int sig) {
  std::string text = "killed by signal " + std::to_string(sig);
  if (const char* abbrev = ::sigabbrev_np(sig)) {
    text += " (SIG";
    text += abbrev;
    text += ')';
  } else if (const char* description = ::strsignal(sig)) {
    text += " (";
    text += description;
    text += ')';
  }
  return text;
}

/// Moves a pipe end off the standard descriptors (possible when the worker closed its own
/// stdin/stdout/stderr), so the child's dup2 onto 0..2 cannot clobber it.
bool move_above_stdio(int& fd) {
  if (fd > 2) return true;
  const int moved = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
  if (moved < 0) return false;
  ::close(fd);
  fd = moved;
  return true;
}

int open_pidfd(pid_t pid) {
#ifdef SYS_pidfd_open
  const long fd = ::syscall(SYS_pidfd_open, pid, 0);  // always close-on-exec
  return fd >= 0 ? static_cast<int>(fd) : -1;
#else
  (void)pid;
  return -1;
#endif
}

/// environ, then `extra`, then `launch` (later wins, no duplicate names). Borrows the strings of
/// environ; owns the "name=value" strings of the overrides.
class Environment {
 public:
  Environment(const std::vector<std::pair<std::string, std::string>>& extra,
              const std::vector<std::pair<std::string, std::string>>& launch) {
    if (extra.empty() && launch.empty()) return;  // the common case: hand environ over as is
    std::vector<std::pair<std::string_view, std::string_view>> overrides;
    overrides.reserve(extra.size() + launch.size());
    auto add = [&](const std::vector<std::pair<std::string, std::string>>& vars) {
      for (const auto& [name, value] : vars) {
        if (name.empty() || name.find('=') != std::string::npos) continue;  // cannot be expressed
        bool replaced = false;
        for (auto& existing : overrides) {
          if (existing.first == name) {
            existing.second = value;
            replaced = true;
            break;
          }
        }
        if (!replaced) overrides.emplace_back(name, value);
      }
    };
    add(extra);
    add(launch);

    std::size_t count = 0;
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) ++count;
    pointers_.reserve(count + overrides.size() + 1);
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
      const std::string_view entry(*e);
      const std::string_view name = entry.substr(0, entry.find('='));
      bool overridden = false;
      for (const auto& o : overrides) {
        if (o.first == name) {
          overridden = true;
          break;
        }
      }
      if (!overridden) pointers_.push_back(*e);
    }
    owned_.reserve(overrides.size());  // no reallocation: the c_str() pointers stay valid
    for (const auto& [name, value] : overrides) {
      std::string& entry = owned_.emplace_back();
      entry.reserve(name.size() + 1 + value.size());
      entry.append(name).append(1, '=').append(value);
      pointers_.push_back(entry.data());
    }
    pointers_.push_back(nullptr);
  }

  char* const* envp() const { return pointers_.empty() ? environ : pointers_.data(); }

 private:
  std::vector<std::string> owned_;
  std::vector<char*> pointers_;
};

/// RAII for the spawn attributes and file actions.
struct SpawnSetup {
  posix_spawnattr_t attr{};
  posix_spawn_file_actions_t actions{};
  bool attr_ok = false;
  bool actions_ok = false;

  SpawnSetup() = default;
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;
  ~SpawnSetup() {
    if (actions_ok) posix_spawn_file_actions_destroy(&actions);
    if (attr_ok) posix_spawnattr_destroy(&attr);
  }

  /// Returns 0 or an errno value.
  int init(int stdout_fd, int stderr_fd, const std::string& cwd) {
    int rc = posix_spawnattr_init(&attr);
    if (rc != 0) return rc;
    attr_ok = true;
    sigset_t empty;
    sigemptyset(&empty);
    sigset_t defaults;
    sigemptyset(&defaults);
    for (int sig : {SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2, SIGCHLD}) sigaddset(&defaults, sig);
    if ((rc = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                                  POSIX_SPAWN_SETSIGDEF)) != 0 ||
        (rc = posix_spawnattr_setpgroup(&attr, 0)) != 0 ||
        (rc = posix_spawnattr_setsigmask(&attr, &empty)) != 0 ||
        (rc = posix_spawnattr_setsigdefault(&attr, &defaults)) != 0) {
      return rc;
    }
    rc = posix_spawn_file_actions_init(&actions);
    if (rc != 0) return rc;
    actions_ok = true;
    if ((rc = posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)) != 0 ||
        (rc = posix_spawn_file_actions_adddup2(&actions, stdout_fd, 1)) != 0 ||
        (rc = posix_spawn_file_actions_adddup2(&actions, stderr_fd, 2)) != 0) {
      return rc;
    }
    if (!cwd.empty() && (rc = posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str())) != 0) return rc;
    return 0;
  }
};

}  // namespace

struct RunningCommand::State {
  CommandOptions options;  // extra_env is not kept: it is used at start only
  pid_t pid = -1;
  int out_fd = -1;
  int err_fd = -1;
  int pid_fd = -1;  // readable once the process has exited; -1 where pidfd_open is missing
  bool finished = false;

  Clock::time_point started;
  bool has_timeout = false;
  Clock::time_point timeout_at;
  bool term_sent = false;
  bool kill_sent = false;
  Clock::time_point kill_at;
  enum class StopReason { none, timed_out, terminated } stop_reason = StopReason::none;

  TailBuffer out_tail;
  TailBuffer err_tail;
  MetricLineParser metrics;
  CommandResult result;

  ~State() {
    if (pid > 0 && !finished) {
      ::kill(-pid, SIGKILL);
      int status = 0;
      while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      guard_ended(pid);
    }
    close_fd(out_fd);
    close_fd(err_fd);
    close_fd(pid_fd);
  }

  void spawn_failed(int error, std::string text) {
    result.status = AttemptStatus::spawn_failed;
    result.exit_code = error == ENOENT ? 127 : 126;
    result.error = std::move(text);
    result.duration_s = std::chrono::duration<double>(Clock::now() - started).count();
    finished = true;
  }

  /// Reads what the pipe holds now; closes it at end of file.
  void read_stream(int& fd, bool is_stdout, int max_reads) {
    char buf[kReadChunk];
    for (int i = 0; fd >= 0 && i < max_reads; ++i) {
      const ssize_t n = ::read(fd, buf, sizeof buf);
      if (n > 0) {
        const auto size = static_cast<std::size_t>(n);
        if (is_stdout) {
          out_tail.append(buf, size);
          metrics.feed(buf, size);
        } else {
          err_tail.append(buf, size);
        }
        if (size < sizeof buf) return;  // the pipe is empty now; skip the read that says EAGAIN
      } else if (n == 0) {
        close_fd(fd);
      } else if (errno == EINTR) {
        continue;
      } else {
        if (errno != EAGAIN && errno != EWOULDBLOCK) close_fd(fd);
        return;
      }
    }
  }

  void signal_group(int sig) const { ::kill(-pid, sig); }

  void begin_stop(StopReason reason, Clock::time_point now) {
    if (stop_reason == StopReason::none) stop_reason = reason;
    if (term_sent) return;
    term_sent = true;
    signal_group(SIGTERM);
    kill_at = now + std::chrono::duration_cast<Clock::duration>(
                        std::chrono::duration<double>(std::max(0.0, options.kill_grace_s)));
  }

  /// Sends due signals; returns the next deadline, or time_point::max().
  Clock::time_point enforce_deadlines(Clock::time_point now) {
    if (has_timeout && !term_sent && now >= timeout_at) begin_stop(StopReason::timed_out, now);
    if (term_sent && !kill_sent && now >= kill_at) {
      kill_sent = true;
      signal_group(SIGKILL);
    }
    if (term_sent) return kill_sent ? Clock::time_point::max() : kill_at;
    return has_timeout ? timeout_at : Clock::time_point::max();
  }

  /// True when the main process has exited (not reaped yet, so its pid still names the group).
  bool has_exited() {
    siginfo_t info{};
    for (;;) {
      if (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0) {
        return info.si_pid == pid;
      }
      if (errno == EINTR) continue;
      return errno == ECHILD;  // reaped elsewhere (SIGCHLD ignored?): nothing left to wait for
    }
  }

  void finish() {
    // Drain what is already there; background processes of the task may still hold the pipes.
    read_stream(out_fd, true, 64);
    read_stream(err_fd, false, 64);
    // The unreaped leader keeps the group id from being reused, so this reaches only the task.
    signal_group(SIGKILL);
    int status = 0;
    pid_t reaped;
    while ((reaped = ::waitpid(pid, &status, 0)) < 0 && errno == EINTR) {
    }
    guard_ended(pid);
    result.duration_s = std::chrono::duration<double>(Clock::now() - started).count();
    close_fd(out_fd);
    close_fd(err_fd);
    close_fd(pid_fd);
    finished = true;

    metrics.finish();
    result.metrics = std::move(metrics.metrics());
    result.stdout_tail = out_tail.take();
    result.stderr_tail = err_tail.take();

    if (reaped != pid) {
      result.status = AttemptStatus::failed;
      result.error = "exit status lost (the process was reaped elsewhere)";
    } else if (WIFSIGNALED(status)) {
      result.signal = WTERMSIG(status);
      result.exit_code = 128 + result.signal;
      result.status = AttemptStatus::failed;
      result.error = signal_text(result.signal);
    } else {
      result.exit_code = WEXITSTATUS(status);
      result.status = result.exit_code == 0 ? AttemptStatus::done : AttemptStatus::failed;
      if (result.exit_code != 0) result.error = "exit code " + std::to_string(result.exit_code);
    }
    if (stop_reason == StopReason::timed_out) {
      result.status = AttemptStatus::timed_out;
      result.error = "timed out after " + format_seconds(options.timeout_s) + " s";
    } else if (stop_reason == StopReason::terminated) {
      result.status = AttemptStatus::cancelled;
      result.error = "terminated by the worker";
    }
  }

  bool poll(std::chrono::milliseconds wait) {
    if (finished) return true;
    Clock::time_point now = Clock::now();
    const Clock::time_point deadline = enforce_deadlines(now);

    long long timeout_ms = std::max<long long>(0, wait.count());
    if (deadline != Clock::time_point::max()) {
      const auto until = std::chrono::ceil<std::chrono::milliseconds>(deadline - now).count();
      timeout_ms = std::min(timeout_ms, std::max<long long>(0, until));
    }
    timeout_ms = std::min<long long>(timeout_ms, 1'000'000'000);

    struct pollfd fds[3];
    nfds_t count = 0;
    int out_index = -1, err_index = -1, pid_index = -1;
    if (out_fd >= 0) {
      out_index = static_cast<int>(count);
      fds[count++] = {out_fd, POLLIN, 0};
    }
    if (err_fd >= 0) {
      err_index = static_cast<int>(count);
      fds[count++] = {err_fd, POLLIN, 0};
    }
    if (pid_fd >= 0) {
      pid_index = static_cast<int>(count);
      fds[count++] = {pid_fd, POLLIN, 0};
    }
    const int ready = ::poll(fds, count, static_cast<int>(timeout_ms));
    if (ready > 0) {
      if (out_index >= 0 && fds[out_index].revents != 0) read_stream(out_fd, true, kMaxReadsPerPoll);
      if (err_index >= 0 && fds[err_index].revents != 0) read_stream(err_fd, false, kMaxReadsPerPoll);
    }
    // With a pidfd, ask the kernel about the exit only when the pidfd says so.
    const bool maybe_exited = pid_fd < 0 || (ready > 0 && fds[pid_index].revents != 0);
    if (maybe_exited && has_exited()) {
      finish();
      return true;
    }
    enforce_deadlines(Clock::now());
    return false;
  }
};

RunningCommand::RunningCommand(std::unique_ptr<State> state) : state_(std::move(state)) {}
RunningCommand::RunningCommand(RunningCommand&&) noexcept = default;
RunningCommand& RunningCommand::operator=(RunningCommand&&) noexcept = default;
RunningCommand::~RunningCommand() = default;

RunningCommand RunningCommand::start(const LaunchSpec& launch, const CommandOptions& options) {
  auto state = std::make_unique<State>();
  State& s = *state;
  s.options.tail_bytes = options.tail_bytes;
  s.options.timeout_s = options.timeout_s;
  s.options.kill_grace_s = options.kill_grace_s;
  s.out_tail = TailBuffer(options.tail_bytes);
  s.err_tail = TailBuffer(options.tail_bytes);
  s.started = Clock::now();

  if (launch.argv.empty()) {
    s.spawn_failed(EINVAL, "cannot run an empty command");
    return RunningCommand(std::move(state));
  }
  const std::string& program = launch.argv.front();

  int out_pipe[2] = {-1, -1};
  int err_pipe[2] = {-1, -1};
  auto close_pipes = [&] {
    for (int* fd : {&out_pipe[0], &out_pipe[1], &err_pipe[0], &err_pipe[1]}) close_fd(*fd);
  };
  if (::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0 ||
      !move_above_stdio(out_pipe[0]) || !move_above_stdio(out_pipe[1]) ||
      !move_above_stdio(err_pipe[0]) || !move_above_stdio(err_pipe[1]) ||
      ::fcntl(out_pipe[0], F_SETFL, O_NONBLOCK) != 0 || ::fcntl(err_pipe[0], F_SETFL, O_NONBLOCK) != 0) {
    const int error = errno;
    close_pipes();
    s.spawn_failed(error, std::string("cannot create pipes for '") + program + "': " + std::strerror(error));
    return RunningCommand(std::move(state));
  }

  std::vector<char*> argv;
  argv.reserve(launch.argv.size() + 1);
  for (const auto& arg : launch.argv) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  const Environment env(options.extra_env, launch.env);

  int rc;
  pid_t pid = -1;
  {
    SpawnSetup setup;
    rc = setup.init(out_pipe[1], err_pipe[1], launch.cwd);
    if (rc == 0) {
      // A name without '/' is looked up in the worker's PATH; a path is used as is (relative to cwd).
      rc = program.find('/') == std::string::npos
               ? ::posix_spawnp(&pid, program.c_str(), &setup.actions, &setup.attr, argv.data(), env.envp())
               : ::posix_spawn(&pid, program.c_str(), &setup.actions, &setup.attr, argv.data(), env.envp());
    }
  }
  close_fd(out_pipe[1]);
  close_fd(err_pipe[1]);
  if (rc != 0) {
    close_fd(out_pipe[0]);
    close_fd(err_pipe[0]);
    // posix_spawn reports a failed chdir and a failed exec alike: look at the directory to tell.
    struct stat st{};
    if (!launch.cwd.empty()) {
      int cwd_error = 0;
      if (::stat(launch.cwd.c_str(), &st) != 0) {
        cwd_error = errno;
      } else if (!S_ISDIR(st.st_mode)) {
        cwd_error = ENOTDIR;
      } else if (::access(launch.cwd.c_str(), X_OK) != 0) {
        cwd_error = errno;
      }
      if (cwd_error != 0) {
        s.spawn_failed(cwd_error, "cannot change to directory '" + launch.cwd + "' to run '" + program +
                                      "': " + std::strerror(cwd_error));
        return RunningCommand(std::move(state));
      }
    }
    s.spawn_failed(rc, "cannot run '" + program + "': " + std::strerror(rc));
    return RunningCommand(std::move(state));
  }

  s.pid = pid;
  guard_started(pid);  // its process group, killed by the guard if this worker dies
  s.out_fd = out_pipe[0];
  s.err_fd = err_pipe[0];
  s.pid_fd = open_pidfd(pid);
  if (options.timeout_s > 0) {
    s.has_timeout = true;
    s.timeout_at = s.started + std::chrono::duration_cast<Clock::duration>(
                                   std::chrono::duration<double>(options.timeout_s));
  }
  return RunningCommand(std::move(state));
}

bool RunningCommand::poll(std::chrono::milliseconds wait) { return state_ ? state_->poll(wait) : true; }

void RunningCommand::terminate() {
  if (!state_ || state_->finished) return;
  state_->begin_stop(State::StopReason::terminated, Clock::now());
  state_->enforce_deadlines(Clock::now());  // a grace of 0 kills at once
}

void RunningCommand::terminate(double grace_s) {
  if (!state_ || state_->finished) return;
  if (!state_->term_sent) state_->options.kill_grace_s = grace_s;
  terminate();
}

bool RunningCommand::finished() const { return !state_ || state_->finished; }

const CommandResult& RunningCommand::result() const {
  static const CommandResult empty{};
  return state_ ? state_->result : empty;
}

int RunningCommand::pid() const { return state_ ? state_->pid : -1; }

CommandResult run_command(const LaunchSpec& launch, const CommandOptions& options) {
  RunningCommand command = RunningCommand::start(launch, options);
  // poll() wakes on output, exit (pidfd) and deadlines; the wait only bounds the exit check
  // where pidfd_open is missing and a background process keeps the pipes open.
  while (!command.poll(std::chrono::milliseconds(100))) {
  }
  return command.result();
}

}  // namespace fastgpu::worker
