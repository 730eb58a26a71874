// spawn_loop N [--runner] [--procs K]: runs /bin/true N times and prints spawns_per_second=X.
// Without --runner: a bare posix_spawn + waitpid loop (the floor). With --runner: through
// fastgpu::worker::run_command with output capture on (pipes, tails, metric parsing, process group).
// With --procs K: K forked processes run such loops side by side, N/K spawns each (the first ones
// take the remainder); the rate is N over the wall time from before the forks to the last exit,
// i.e. what K workers could reach together on this machine.
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "worker/command_runner.hpp"

extern char** environ;

namespace {

bool bare_spawn() {
  char program[] = "/bin/true";
  char* argv[] = {program, nullptr};
  pid_t pid = -1;
  if (posix_spawn(&pid, program, nullptr, nullptr, argv, environ) != 0) return false;
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return false;
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/// Runs /bin/true `n` times; false (after a message) when one run fails.
bool spawn_loop(long n, bool runner) {
  fastgpu::LaunchSpec launch;
  launch.argv = {"/bin/true"};
  fastgpu::worker::CommandOptions options;
  options.tail_bytes = 8192;
  for (long i = 0; i < n; ++i) {
    const bool ok = runner ? fastgpu::worker::run_command(launch, options).status == fastgpu::AttemptStatus::done
                           : bare_spawn();
    if (!ok) {
      std::fprintf(stderr, "run %ld of /bin/true failed\n", i);
      return false;
    }
  }
  return true;
}

/// Forks `procs` loops sharing `n` runs; true when every one succeeded.
bool parallel_loops(long n, bool runner, long procs) {
  std::vector<pid_t> children;
  for (long p = 0; p < procs; ++p) {
    const long share = n / procs + (p < n % procs ? 1 : 0);
    const pid_t pid = fork();
    if (pid < 0) {
      std::perror("fork");
      return false;
    }
    if (pid == 0) _exit(spawn_loop(share, runner) ? 0 : 1);
    children.push_back(pid);
  }
  bool ok = true;
  for (const pid_t child : children) {
    int status = 0;
    if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status) != 0) ok = false;
  }
  return ok;
}

int usage(const char* program) {
  std::fprintf(stderr, "usage: %s N [--runner] [--procs K]\n", program);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage(argv[0]);
  const long n = std::strtol(argv[1], nullptr, 10);
  bool runner = false;
  long procs = 1;
  for (int i = 2; i < argc; ++i) {
    if (std::strcmp(argv[i], "--runner") == 0) {
      runner = true;
    } else if (std::strcmp(argv[i], "--procs") == 0 && i + 1 < argc) {
      procs = std::strtol(argv[++i], nullptr, 10);
    } else {
      return usage(argv[0]);
    }
  }
  if (n <= 0 || procs <= 0) {
    std::fprintf(stderr, "N and K must be positive numbers\n");
    return 2;
  }

  const auto start = std::chrono::steady_clock::now();
  const bool ok = procs == 1 ? spawn_loop(n, runner) : parallel_loops(n, runner, procs);
  if (!ok) return 1;
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("spawns_per_second=%.0f\n", static_cast<double>(n) / seconds);
  return 0;
}
