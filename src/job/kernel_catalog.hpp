// The built-in kernels a job file may name (`[task] kernel = "sleep"`) and the args each takes.
// One registry, read by the job parser (names, did-you-mean, arg checks) and by the workers
// (run-time arg checks). A built-in kernel lists its args here and implements itself in
// src/worker (synthetic ones) or src/kernels; a plugin's kernels arrive through kernel_registry().
#pragma once

#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fastgpu/kernel.hpp"

namespace fastgpu::job {

using fastgpu::KernelArgSpec;
using fastgpu::KernelArgType;
using fastgpu::KernelSpec;

/// Every kernel there is, in the order they are listed to users: the built-in ones, then those
/// plugins registered (a deque: adding one keeps pointers to the others valid).
const std::deque<KernelSpec>& known_kernels();

/// The registry plugins add their kernels to (FASTGPU_PLUGIN in include/fastgpu/kernel.hpp).
/// Not thread-safe: plugins load while the job file is read, before any worker starts.
fastgpu::KernelRegistry& kernel_registry();

/// The kernel called `name`, or nullptr.
const KernelSpec* find_kernel(std::string_view name);

/// "noop, sleep, spin": the names, for messages.
std::string kernel_name_list();

/// What is wrong with `text` (a rendered arg value) for `arg`: nullopt when it is fine, else what
/// the value must be ("a number >= 0").
std::optional<std::string> kernel_arg_problem(const KernelArgSpec& arg, std::string_view text);

/// Reads a value that kernel_arg_problem accepted for a number or integer arg.
double kernel_arg_number(std::string_view text);

}  // namespace fastgpu::job
