// No orphans: a subtask runs in its own process group (so a timeout can stop all of it), which
// also means it would outlive a worker killed with SIGKILL. posix_spawn cannot set
// PR_SET_PDEATHSIG, and that would reach only the group's leader anyway. Instead each worker
// process starts one small guard process (`fastgpu guard-children`, in a process group of its
// own) connected by a socket: the worker sends "+PGID" when it starts a subtask and "-PGID" when
// it has reaped it. When the socket reaches end of file — the worker exited or was killed, however
// — the guard sends SIGKILL to every group still listed and exits. Costs one small write per
// subtask start and end; no extra exec per subtask. Without start_child_guard() (library users,
// tests) the calls below only keep the in-process list.
#pragma once

#include <sys/types.h>

#include <string>

namespace fastgpu::worker {

/// Starts this process's guard: `exe guard-children`. Returns false (and runs unguarded) if it
/// cannot. Call once, before subtasks start; later calls do nothing.
bool start_child_guard(const std::string& exe);

/// A subtask's process group started / its leader was reaped.
void guard_started(pid_t pgid);
void guard_ended(pid_t pgid);

/// Sends `sig` to every subtask process group this process has started and not yet reaped
/// (for stopping at once without waiting for the worker threads).
void signal_guarded_children(int sig);

/// The guard's main: reads "+PGID\n" / "-PGID\n" lines from standard input until end of file,
/// then SIGKILLs the groups still listed. Ignores SIGINT, SIGTERM, SIGHUP and SIGUSR1 (it acts
/// only on its worker's death). Returns the exit code.
int run_child_guard();

}  // namespace fastgpu::worker
