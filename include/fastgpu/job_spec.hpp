/** @file A job file, parsed and validated, and the subtasks it expands to. */
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "fastgpu/error.hpp"

namespace fastgpu {

/** @brief A parameter value as written in the job file. */
using ParamValue = std::variant<std::int64_t, double, bool, std::string>;

/** @brief The text a placeholder expands to: 3, 0.1, true, abc (no quotes). */
std::string param_to_string(const ParamValue& value);

struct Param {
  std::string name;
  ParamValue value;
};

/** @brief One axis of a [sweep]: a name and its values, in file order. */
struct SweepAxis {
  std::string name;
  std::vector<ParamValue> values;
  SourceLocation where;
};

/** @brief One entry of an explicit [[tasks]] list. */
struct ExplicitTask {
  std::string name;  ///< may be empty: the id then derives from the parameters
  std::vector<Param> params;
  int gpus = 0;      ///< this task's GPUs (worker ranks); 0 = [task] gpus
  SourceLocation where;
};

/** @brief The [task] table: the template every subtask is made from. Strings may hold placeholders. */
struct TaskTemplate {
  std::vector<std::string> command;              ///< argv; never given to a shell (empty for a kernel)
  std::string kernel;                            ///< in-process kernel name (noop, sleep, spin, ...); empty for a command
  std::map<std::string, std::string> args;       ///< [task.args]: the kernel's arguments, values are templates
  std::map<std::string, std::string> env;        ///< extra environment, values are templates
  std::string cwd;                               ///< template; empty = where `fastgpu run` started
  int gpus = 1;                                  ///< GPUs (worker ranks) per subtask
  std::string cost = "1";                        ///< template that must render to a number > 0
  double timeout_s = 0;                          ///< per attempt; 0 = no limit
  int retries = 0;                               ///< extra attempts after a failure
  std::size_t output_tail_bytes = 8192;          ///< stdout/stderr bytes kept per attempt
  SourceLocation cost_where;                     ///< where `cost` was written, for errors at expansion
  SourceLocation program_where;                  ///< where command[0] was written, for check_program
  SourceLocation cwd_where;                      ///< where `cwd` was written (file only when unset)
  std::map<std::string, SourceLocation> args_where;  ///< where each [task.args] value was written
};

/** @brief A whole job file. */
/** @brief A job-level reduction, `[[reduce]]`: kernels add into it, the run combines it across workers. */
struct ReductionSpec {
  std::string name;      ///< written to /reductions/NAME
  std::string op;        ///< "sum", "min", "max" or "mean" (weighted: sum of values / sum of weights)
  std::size_t size = 1;  ///< values in the reduction (an array reduction when > 1)
};

/** @brief A shared input, `[[input]]`: an HDF5 dataset read once and broadcast to every worker's GPU. */
struct InputSpec {
  std::string name;     ///< what kernels ask Context::input for
  std::string file;     ///< the HDF5 file, an absolute path
  std::string dataset;  ///< the dataset's path in it, e.g. "/x"
};

/** @brief `[job.gpu_hour_prices]`: the price of one GPU of a model for one hour. */
struct GpuModelPrice {
  std::string model;  ///< found case-insensitively in a worker's GPU name ("H100" in "NVIDIA H100 80GB HBM3")
  double price = 0;
};

struct JobSpec {
  std::string name;
  std::string output;      ///< results file; default "<name>.h5"
  std::string output_dir;  ///< value of {output_dir}; empty = default_output_dir(output), set by `run`
  std::optional<double> gpu_hour_price;  ///< price of one GPU (worker) for one hour; `inspect` reports the cost
  /// Prices per GPU model, in file order; gpu_hour_price stays the price of every other GPU and CPU slot.
  std::vector<GpuModelPrice> gpu_hour_prices;
  /// [job] plugin: shared libraries of user kernels, absolute paths, loaded while the file is read.
  std::vector<std::string> plugins;
  std::vector<ReductionSpec> reductions;  ///< [[reduce]] tables, in file order
  std::vector<InputSpec> inputs;          ///< [[input]] tables, in file order
  std::string source_path;
  std::string source_text;
  TaskTemplate task;
  std::vector<SweepAxis> sweep;      ///< cartesian product; empty when [[tasks]] is used
  std::vector<ExplicitTask> tasks;   ///< explicit list; empty when [sweep] is used
};

/** @brief One subtask, expanded from the job. */
struct Subtask {
  std::string id;             ///< stable: the explicit name, else derived from the parameters
  std::string name;           ///< human readable: the explicit name, else "lr=0.1 seed=3"
  std::vector<Param> params;  ///< in sweep-axis (or file) order
  double cost = 1;
  int gpus = 1;
  double timeout_s = 0;
  int retries = 0;
};

/** @brief What a worker needs to start one attempt: everything rendered, nothing left to a shell. */
struct LaunchSpec {
  std::vector<std::string> argv;
  std::vector<std::pair<std::string, std::string>> env;  ///< added to the worker's environment
  std::string cwd;                                       ///< empty = worker's current directory
  std::string kernel;                                     ///< non-empty: run this in-process kernel, not argv
  std::vector<std::pair<std::string, std::string>> args;  ///< the kernel's rendered arguments
};

/** @brief Reads and validates a job file; throws JobFileError naming file:line:column. */
JobSpec load_job_file(const std::filesystem::path& path);

/** @brief Parses job-file text; `source_path` is used in error messages. */
JobSpec parse_job(std::string_view text, const std::string& source_path);

/**
 * @brief Checks, before anything runs, that the command's program (command[0]) can be started,
 * when it has no placeholder: a name without '/' must be an executable file in one of the
 * directories of @p search_path (the PATH environment variable when null; posix_spawnp looks there
 * too); a path with '/' must name an executable file, a relative one taken from @p launch_dir and
 * the task's `cwd` (skipped when `cwd` has a placeholder). Throws JobFileError at command[0].
 */
void check_program(const JobSpec& job, const std::filesystem::path& launch_dir, const char* search_path = nullptr);

/** @brief Expands the sweep or task list into subtasks (same file, same ids, same order). */
std::vector<Subtask> expand_subtasks(const JobSpec& job);

/** @brief The subtask's parameters as a JSON object text, e.g. {"lr":0.1,"seed":3}. */
std::string params_json(const Subtask& subtask);

/** @brief Renders the command, env and cwd of one attempt: {param}s and {task_id} {attempt} {output_dir}. */
LaunchSpec render_launch(const JobSpec& job, const Subtask& subtask, int attempt);

/** @brief "results/x.h5" -> "results/x.outputs": where {output_dir} points unless the job sets it. */
std::string default_output_dir(const std::string& output);

/** @brief Parses "90", "1.5s", "10m", "2h", "1h30m", "1d"; throws std::invalid_argument. */
double parse_duration(std::string_view text);

}  // namespace fastgpu
