#include "worker/child_guard.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <mutex>
#include <set>
#include <string>

extern char** environ;

namespace fastgpu::worker {
namespace {

std::mutex g_mutex;
int g_socket = -1;  // the worker's end; close-on-exec so subtasks do not hold it open
bool g_tried = false;
std::set<pid_t> g_groups;

void send_line(char sign, pid_t pgid) {
  if (g_socket < 0) return;
  const std::string line = sign + std::to_string(pgid) + "\n";
  // MSG_NOSIGNAL: a guard that died must not take the worker down with SIGPIPE.
  while (::send(g_socket, line.data(), line.size(), MSG_NOSIGNAL) < 0 && errno == EINTR) {
  }
}

}  // namespace

bool start_child_guard(const std::string& exe) {
  std::lock_guard lock(g_mutex);
  if (g_tried) return g_socket >= 0;
  g_tried = true;
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) return false;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_t actions;
  posix_spawnattr_init(&attr);
  posix_spawn_file_actions_init(&actions);
  // Its own process group: `kill -9 -RUN_PGID` (or Ctrl-C) reaches the run, not its guard.
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 0);
  char* argv[] = {const_cast<char*>(exe.c_str()), const_cast<char*>("guard-children"), nullptr};
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, exe.c_str(), &actions, &attr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  ::close(fds[1]);
  if (rc != 0) {
    ::close(fds[0]);
    return false;
  }
  // The guard is never reaped by us: it outlives this process by design (init reaps it). While we
  // live it is a child; a zombie after it exits early costs nothing.
  g_socket = fds[0];
  return true;
}

void guard_started(pid_t pgid) {
  std::lock_guard lock(g_mutex);
  g_groups.insert(pgid);
  send_line('+', pgid);
}

void guard_ended(pid_t pgid) {
  std::lock_guard lock(g_mutex);
  g_groups.erase(pgid);
  send_line('-', pgid);
}

void signal_guarded_children(int sig) {
  std::lock_guard lock(g_mutex);
  for (pid_t pgid : g_groups) ::kill(-pgid, sig);
}

int run_child_guard() {
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGUSR1, SIGPIPE}) ::signal(sig, SIG_IGN);
  std::set<pid_t> groups;
  std::string pending;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(0, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // end of file: the worker is gone
    pending.append(buf, static_cast<std::size_t>(n));
    std::size_t newline;
    while ((newline = pending.find('\n')) != std::string::npos) {
      const std::string line = pending.substr(0, newline);
      pending.erase(0, newline + 1);
      if (line.size() < 2) continue;
      const pid_t pgid = static_cast<pid_t>(std::strtol(line.c_str() + 1, nullptr, 10));
      if (pgid <= 1) continue;
      if (line[0] == '+') groups.insert(pgid);
      if (line[0] == '-') groups.erase(pgid);
    }
  }
  for (pid_t pgid : groups) ::kill(-pgid, SIGKILL);
  return 0;
}

}  // namespace fastgpu::worker
