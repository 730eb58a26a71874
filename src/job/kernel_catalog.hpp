// The built-in kernels a job file may name (`[task] kernel = "sleep"`) and the args each takes.
// One registry, read by the job parser (names, did-you-mean, arg checks) and by the workers
// (run-time arg checks); a new kernel registers here and implements itself in src/worker or
// src/kernels.
#pragma once

#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fastgpu::job {

enum class KernelArgType { number, integer, boolean, string };

struct KernelArgSpec {
  std::string name;
  KernelArgType type = KernelArgType::string;
  bool required = false;
  /// number and integer: the smallest value allowed.
  double minimum = -std::numeric_limits<double>::infinity();
  std::string help;     ///< what it means, for messages and docs: "how long it sleeps, in seconds"
  std::string example;  ///< a value to show in messages: "1"
};

struct KernelSpec {
  std::string name;
  std::string help;  ///< one line: "waits, without using the CPU"
  std::vector<KernelArgSpec> args;

  const KernelArgSpec* find_arg(std::string_view arg) const;
};

/// Every kernel there is, in the order they are listed to users.
const std::vector<KernelSpec>& known_kernels();

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
