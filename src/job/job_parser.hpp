// The steps of parse_job, one table each. Internal to src/job.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <toml++/toml.h>

#include "fastgpu/job_spec.hpp"
#include "job/toml_reader.hpp"

namespace fastgpu::job {

/// The most subtasks one job may expand to (a sweep is checked when parsed).
inline constexpr std::size_t kMaxSubtasks = 10'000'000;

/// The most extra attempts a subtask may have: more is a mistake, never a plan.
inline constexpr std::int64_t kMaxRetries = 1000;

/// The most bytes of stdout (and of stderr) kept per attempt: they travel in one message to rank 0.
inline constexpr std::int64_t kMaxOutputTail = std::int64_t{64} << 20;

/// The keys allowed in each table.
inline const std::vector<std::string> kTopLevelKeys = {"job", "task", "sweep", "tasks", "reduce", "input"};
inline const std::vector<std::string> kJobKeys = {"name",           "output",          "output_dir",
                                                  "gpu_hour_price", "gpu_hour_prices", "plugin"};
inline const std::vector<std::string> kTaskKeys = {"command", "kernel",  "args",    "env",        "cwd",
                                                   "gpus",    "cost",    "timeout", "retries", "output_tail"};
inline const std::vector<std::string> kTaskEntryKeys = {"name", "params", "gpus"};

/// Messages for keys written in the wrong table, e.g. 'gpus' in [job]: "unknown key 'gpus'
/// (it belongs in [task])". `here` is the table being read: "", "job", "task" or "tasks".
std::map<std::string, std::string> misplaced_key_messages(std::string_view here);

/// A template string of the [task] table, remembered to check its placeholders once the
/// parameters are known.
struct TemplateUse {
  std::string text;
  SourceLocation where;
  std::string context;       ///< "command", "env 'X'", "cwd", "cost"
  bool params_only = false;  ///< cost: computed before any attempt, so no built-ins
};

void parse_job_table(const TomlReader& reader, const toml::table& table, JobSpec& job);

/// A name that becomes an HDF5 dataset name or a lookup key ([[reduce]], [[input]]): a plain word
/// of letters, digits, '_' and '-', not empty.
bool is_plain_name(std::string_view name);

/// The [[reduce]] list: names unique, op one of sum/min/max/mean, size 1..2^24.
std::vector<ReductionSpec> parse_reductions(const TomlReader& reader, const toml::node& node);

/// The [[input]] list: names unique, `file` made absolute (relative: from the job file's
/// directory), `dataset` an absolute HDF5 path. The file and dataset are checked when a run starts.
std::vector<InputSpec> parse_inputs(const TomlReader& reader, const toml::node& node, const std::string& job_file);

/// A kernel's `reduce` arg (montecarlo's, a plugin's) must name a declared [[reduce]] unless it
/// has a placeholder.
void check_reduce_arg(const TomlReader& reader, const toml::table& root, const JobSpec& job);

/// Fills `task`; returns its template strings in file order. Template syntax is checked here.
/// An integer in [minimum, maximum] (fails at the node otherwise); `why` explains the maximum.
int bounded_int(const TomlReader& reader, const toml::node& node, std::string_view what, std::int64_t minimum,
                std::int64_t maximum = INT_MAX, std::string_view why = {});

std::vector<TemplateUse> parse_task_table(const TomlReader& reader, const toml::table& table, TaskTemplate& task);

/// `kernel` of the [task] table (at `node`), with its [task.args] when the table has them: the name
/// and the args are checked against the kernel registry (src/job/kernel_catalog.hpp); literal
/// values now, values with placeholders by check_kernel_args. Their templates go to `uses`.
void parse_kernel(const TomlReader& reader, const toml::table& table, const toml::node& node, TaskTemplate& task,
                  std::vector<TemplateUse>& uses);

/// Every kernel arg with a placeholder renders, for every subtask (its first attempt), to a value
/// the kernel accepts; fails at the arg's value otherwise.
void check_kernel_args(const JobSpec& job, const std::vector<Subtask>& subtasks);

/// Parses a cost that has no placeholders: a number > 0, finite. Returns nullopt when it is not one.
std::optional<double> parse_cost(std::string_view text);

/// Parameter names are identifiers and not built-in placeholders; fails at the key otherwise.
void check_parameter_name(const TomlReader& reader, const toml::key& key);

std::vector<SweepAxis> parse_sweep_table(const TomlReader& reader, const toml::table& table);

std::vector<ExplicitTask> parse_task_list(const TomlReader& reader, const toml::node& node);

/// Every placeholder names a parameter or a built-in; with [[tasks]], every task defines every
/// parameter the templates use.
void check_placeholders(const TomlReader& reader, const std::vector<TemplateUse>& uses, const JobSpec& job);

/// The parameter names of the job: the sweep axes, or every name a [[tasks]] entry defines, in
/// order of first appearance.
std::vector<std::string> parameter_names(const JobSpec& job);

}  // namespace fastgpu::job
