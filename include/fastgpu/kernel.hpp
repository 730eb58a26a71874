/**
 * @file The kernel-task API: how to write an in-process subtask that runs on a worker's device.
 *
 * A kernel is a class derived from fastgpu::Kernel whose run() does the work through a Context
 * (its device and stream, typed arguments, metrics and outputs, job-level reductions, a
 * communicator for multi-GPU subtasks). It is registered under a name with its arguments, so job
 * files can say `kernel = "NAME"` and have their arguments checked before anything runs. Built-in
 * kernels register themselves; user kernels come from a plugin, a shared library named in the
 * job file (`plugin = "libmy_kernels.so"`) that exports FASTGPU_PLUGIN(registry) { ... }.
 * docs/kernels.md explains it; docs/examples/custom-kernel/ is a complete project.
 */
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fastgpu/communicator.hpp"
#include "fastgpu/device.hpp"
#include "fastgpu/error.hpp"

namespace fastgpu {

/** @brief The type of a kernel argument, checked in the job file before anything runs. */
enum class KernelArgType { number, integer, boolean, string };

/** @brief One argument a kernel accepts (`[task.args] NAME = "..."`). */
struct KernelArgSpec {
  std::string name;
  KernelArgType type = KernelArgType::string;
  bool required = false;
  /** @brief number and integer: the smallest value allowed. */
  double minimum = -std::numeric_limits<double>::infinity();
  std::string help;     ///< what it means, for messages and docs: "how long it sleeps, in seconds"
  std::string example;  ///< a value to show in messages: "1"
};

/** @brief A subtask's kernel arguments, rendered from the job file, read with their types. */
class KernelArgs {
 public:
  KernelArgs() = default;
  explicit KernelArgs(std::vector<std::pair<std::string, std::string>> values) : values_(std::move(values)) {}

  /** @brief The text of `name`, or nullptr when the job file did not give it. */
  const std::string* find(std::string_view name) const {
    for (const auto& [key, value] : values_) {
      if (key == name) return &value;
    }
    return nullptr;
  }
  bool has(std::string_view name) const { return find(name) != nullptr; }
  /** @brief The value of `name` as a number; throws KernelError when missing or not a number. */
  double number(std::string_view name) const { return parse_number(name, text(name)); }
  double number(std::string_view name, double fallback) const { return has(name) ? number(name) : fallback; }
  /** @brief The value of `name` as an integer; throws KernelError when missing or not an integer. */
  std::int64_t integer(std::string_view name) const {
    const double value = number(name);
    if (value != static_cast<double>(static_cast<std::int64_t>(value))) {
      throw KernelError("arg '" + std::string(name) + "' must be an integer, not '" + text(name) + "'");
    }
    return static_cast<std::int64_t>(value);
  }
  std::int64_t integer(std::string_view name, std::int64_t fallback) const {
    return has(name) ? integer(name) : fallback;
  }
  bool boolean(std::string_view name, bool fallback) const {
    const std::string* value = find(name);
    if (value == nullptr) return fallback;
    if (*value == "true") return true;
    if (*value == "false") return false;
    throw KernelError("arg '" + std::string(name) + "' must be true or false, not '" + *value + "'");
  }
  std::string string(std::string_view name, std::string fallback = {}) const {
    const std::string* value = find(name);
    return value != nullptr ? *value : fallback;
  }
  const std::vector<std::pair<std::string, std::string>>& all() const { return values_; }

 private:
  const std::string& text(std::string_view name) const {
    const std::string* value = find(name);
    if (value == nullptr) throw KernelError("missing arg '" + std::string(name) + "'");
    return *value;
  }
  static double parse_number(std::string_view name, const std::string& text) {
    std::size_t used = 0;
    double value = 0;
    try {
      value = std::stod(text, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != text.size()) {
      throw KernelError("arg '" + std::string(name) + "' must be a number, not '" + text + "'");
    }
    return value;
  }
  std::vector<std::pair<std::string, std::string>> values_;
};

/**
 * @brief A job-level reduction (`[[reduce]]` in the job file) as a kernel adds into it: `size`
 * doubles in the worker's device memory, combined across workers at the end of the run (and when
 * it stops early) with NCCL (MPI on the CPU) and written to /reductions/NAME. Kernels add with
 * Context::reduce() from the host, or write into `data` from device code: it is this attempt's
 * own buffer, filled with the op's identity, and counts only if the attempt ends done.
 * For op "mean", data[size] is the weight: the result is data[0..size) / weight.
 */
struct ReductionSlot {
  std::string name;
  std::string op;  ///< "sum", "min", "max" or "mean"
  std::size_t size = 1;
  double* data = nullptr;  ///< device memory: size values (size + 1 for mean)
};

/** @brief What a running kernel sees: its device, arguments, outputs and communicator. */
class Context {
 public:
  virtual ~Context() = default;
  /** @brief The worker's device (CPU or one CUDA GPU). */
  virtual Device& device() = 0;
  /** @brief The cudaStream_t to run on (as void*); nullptr on the CPU. Same as device().stream(). */
  void* stream() { return device().stream(); }
  virtual const KernelArgs& args() const = 0;
  /** @brief The subtask's row in /tasks, and the attempt number (0 first). */
  virtual std::int64_t task_id() const = 0;
  virtual int attempt() const = 0;
  /** @brief Records a metric for this attempt (/outputs, `inspect --tasks-csv` columns). */
  virtual void metric(std::string_view name, double value) = 0;
  /** @brief Records an array output of this attempt: /outputs/arrays/TASK/NAME. */
  virtual void output(std::string_view name, std::span<const double> values) = 0;
  /** @brief This attempt's buffer for the job's reduction `name`; throws KernelError if undeclared. */
  virtual ReductionSlot& reduction(std::string_view name) = 0;
  /** @brief Adds host `values` (size of the reduction) into reduction `name`; `weight` for "mean". */
  virtual void reduce(std::string_view name, std::span<const double> values, double weight = 1) = 0;
  /** @brief A shared input (`[[input]]` in the job file), read once and broadcast to every worker. */
  virtual std::span<const double> input(std::string_view name) = 0;
  /** @brief The GPUs of this subtask (`gpus = k`): size k; size 1 for a one-GPU subtask. */
  virtual Communicator& communicator() = 0;
  /**
   * @brief True when the kernel should return soon: it was cancelled, timed out, or the run is
   * stopping. A checkpointable kernel then returns at its next safe point and its state is kept
   * with checkpoint(); others may simply return (the attempt is recorded interrupted).
   */
  virtual bool stop_requested() const = 0;
};

/** @brief A kernel task. One object runs one attempt; run() may throw KernelError to fail it. */
class Kernel {
 public:
  virtual ~Kernel() = default;
  virtual void run(Context& context) = 0;
  /** @brief True when checkpoint()/restore() are implemented (in-flight migration, stops). */
  virtual bool checkpointable() const { return false; }
  /** @brief The state after run() returned early on stop_requested(): enough to continue. */
  virtual std::vector<std::byte> checkpoint(Context& context) {
    (void)context;
    return {};
  }
  /** @brief Called before run() with a state checkpoint() produced, possibly on another worker. */
  virtual void restore(Context& context, std::span<const std::byte> state) {
    (void)context;
    (void)state;
  }
};

/** @brief A kernel as registered: its name, what it does, its arguments and how to make one. */
struct KernelSpec {
  std::string name;
  std::string help;  ///< one line: "waits, without using the CPU"
  std::vector<KernelArgSpec> args;
  /** @brief Makes the kernel for one attempt; empty for the worker's own synthetic kernels. */
  std::function<std::unique_ptr<Kernel>()> make;

  const KernelArgSpec* find_arg(std::string_view arg) const {
    for (const KernelArgSpec& spec : args) {
      if (spec.name == arg) return &spec;
    }
    return nullptr;
  }
};

/** @brief Where kernels are registered; a plugin gets the host's registry in FASTGPU_PLUGIN. */
class KernelRegistry {
 public:
  virtual ~KernelRegistry() = default;
  /** @brief Adds a kernel; throws UsageError when the name is taken or empty. */
  virtual void add(KernelSpec spec) = 0;
};

/** @brief Registers `Kernel` (default-constructible) under `name`. */
template <class KernelClass>
void add_kernel(KernelRegistry& registry, std::string name, std::string help, std::vector<KernelArgSpec> args) {
  registry.add(KernelSpec{std::move(name), std::move(help), std::move(args),
                          [] { return std::unique_ptr<Kernel>(std::make_unique<KernelClass>()); }});
}

}  // namespace fastgpu

/** @brief The name of the function a plugin exports (C linkage), looked up with dlsym. */
#define FASTGPU_PLUGIN_ENTRY_NAME "fastgpu_register_kernels"

/**
 * @brief Defines a plugin's entry point: FASTGPU_PLUGIN(registry) { fastgpu::add_kernel<...>(registry, ...); }
 * It is called once, when a job file names the plugin.
 */
#define FASTGPU_PLUGIN(registry)                                                                 \
  extern "C" __attribute__((visibility("default"))) void fastgpu_register_kernels(               \
      fastgpu::KernelRegistry& registry)
