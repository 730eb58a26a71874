// The exit codes of `fastgpu`, a contract scripts and Slurm templates rely on (DESIGN.md).
#pragma once

namespace fastgpu::app {

enum ExitCode : int {
  kExitOk = 0,           ///< every subtask done
  kExitTasksFailed = 1,  ///< some subtasks failed for good
  kExitUsage = 2,        ///< invalid usage or job file
  kExitStopped = 3,      ///< stopped early (signal, deadline) with a resumable results file
  kExitInternal = 4,     ///< internal error
};

}  // namespace fastgpu::app
