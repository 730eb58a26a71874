// The synthetic kernels noop, sleep and spin: in-process subtasks of exact, repeatable length for
// load-balancing tests and benchmarks, made FACTOR times slower on chosen ranks by
// FASTGPU_SLOWDOWN="RANK=FACTOR,...". Their names and args are registered in job/kernel_catalog.hpp.
#pragma once

#include <map>
#include <memory>
#include <string_view>

#include "worker/running_attempt.hpp"

namespace fastgpu::worker {

/**
 * Starts `launch.kernel` when it is a synthetic kernel; nullptr when it is not one.
 *   noop            finishes at once.
 *   sleep seconds   waits seconds x slowdown without using the CPU; poll(wait) sleeps at most `wait`.
 *   spin  seconds   keeps the calling thread busy for seconds x slowdown, at most `wait` per poll().
 * A result that is done has exit code 0, duration_s as measured and the metric `seconds` (the
 * same actual time). CommandOptions::timeout_s gives timed_out ("timed out after X s") and
 * terminate() gives cancelled, both with exit code -1; an arg the kernel does not accept (checked
 * against the registry) gives failed, exit code -1, with the reason in `error`.
 */
std::unique_ptr<RunningAttempt> start_synthetic_kernel(const LaunchSpec& launch, const CommandOptions& options,
                                                       const KernelConfig& kernels);

/// An attempt that is already over, with this result (a kernel that could not start, ...).
std::unique_ptr<RunningAttempt> finished_attempt(CommandResult result);

/// Parses FASTGPU_SLOWDOWN, "RANK=FACTOR,RANK=FACTOR" (spaces allowed around items, '=' and ','):
/// ranks are integers >= 0, each listed once; factors are numbers > 0. Throws UsageError saying
/// what is wrong. An empty text gives an empty map.
std::map<int, double> parse_slowdown(std::string_view text);

/// The FASTGPU_SLOWDOWN factor for `rank`: 1 when `env_value` is null or empty or does not list
/// the rank. Throws UsageError when `env_value` is malformed (whichever rank is asked for).
double slowdown_for_rank(const char* env_value, int rank);

}  // namespace fastgpu::worker
