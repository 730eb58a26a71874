// spawn_loop N [--runner]: runs /bin/true N times and prints spawns_per_second=X.
// Without --runner: a bare posix_spawn + waitpid loop (the floor). With --runner: through
// fastgpu::worker::run_command with output capture on (pipes, tails, metric parsing, process group).
#include <spawn.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

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

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s N [--runner]\n", argv[0]);
    return 2;
  }
  const long n = std::strtol(argv[1], nullptr, 10);
  const bool runner = argc > 2 && std::strcmp(argv[2], "--runner") == 0;
  if (n <= 0) {
    std::fprintf(stderr, "N must be a positive number\n");
    return 2;
  }

  fastgpu::LaunchSpec launch;
  launch.argv = {"/bin/true"};
  fastgpu::worker::CommandOptions options;
  options.tail_bytes = 8192;

  const auto start = std::chrono::steady_clock::now();
  for (long i = 0; i < n; ++i) {
    const bool ok = runner ? fastgpu::worker::run_command(launch, options).status == fastgpu::AttemptStatus::done
                           : bare_spawn();
    if (!ok) {
      std::fprintf(stderr, "run %ld of /bin/true failed\n", i);
      return 1;
    }
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("spawns_per_second=%.0f\n", static_cast<double>(n) / seconds);
  return 0;
}
