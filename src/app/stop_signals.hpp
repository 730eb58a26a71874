// SIGTERM, SIGINT and SIGUSR1 ask a run to stop (mpirun and srun forward them to every rank).
// The handler only counts them in an atomic; rank 0's loop looks at the count at least every
// 100 ms. One request: stop starting subtasks, stop the workers (their commands get SIGTERM,
// then SIGKILL after --grace), record everything, exit 3. Two: finish the file and exit 3 at once.
#pragma once

namespace fastgpu::app {

/// Installs the counting handler for SIGTERM, SIGINT and SIGUSR1 (process-wide, idempotent).
/// Subtasks do not inherit it: exec resets handled signals, and the spawner resets them too.
void install_stop_handlers();

/// How many stop signals arrived since install_stop_handlers() (or the last reset).
int stop_requests();

/// Forgets the requests seen so far (tests that run several jobs in one process).
void reset_stop_requests();

}  // namespace fastgpu::app
