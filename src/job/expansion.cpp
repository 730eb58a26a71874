// expand_subtasks: the cartesian product of a sweep (last axis fastest), or the explicit list.
#include <set>
#include <unordered_map>

#include "fastgpu/job_spec.hpp"
#include "job/job_parser.hpp"
#include "job/placeholders.hpp"
#include "job/subtask_id.hpp"

namespace fastgpu {

namespace {

/// Where a cost error points: where cost was written, else the file.
SourceLocation cost_location(const JobSpec& job) {
  SourceLocation where = job.task.cost_where;
  if (where.file.empty()) where.file = job.source_path;
  return where;
}

/// Computes each subtask's cost: once when the cost is fixed, else per subtask from its parameters.
class CostRenderer {
 public:
  explicit CostRenderer(const JobSpec& job) : job_(job) {
    try {
      parts_ = job::parse_template(job.task.cost, "cost");
    } catch (const job::TemplateError& error) {
      throw JobFileError(cost_location(job), error.what());
    }
    fixed_ = std::none_of(parts_.begin(), parts_.end(), [](const job::TemplatePart& p) { return p.placeholder; });
    if (fixed_) {
      const std::optional<double> cost = job::parse_cost(job.task.cost);
      if (!cost) throw JobFileError(cost_location(job), "'cost' must be a positive number, not '" + job.task.cost + "'");
      cost_ = *cost;
    }
  }

  double operator()(const std::vector<Param>& params, const std::string& subtask_name) const {
    if (fixed_) return cost_;
    std::vector<std::pair<std::string, std::string>> values;
    for (const Param& p : params) values.emplace_back(p.name, param_to_string(p.value));
    const auto lookup = [&](std::string_view name) -> const std::string* {
      for (const auto& [key, value] : values) {
        if (key == name) return &value;
      }
      return nullptr;
    };
    std::string text;
    try {
      text = job::render_template(parts_, lookup, "cost");
    } catch (const job::TemplateError& error) {
      throw JobFileError(cost_location(job_), std::string(error.what()) + " for subtask '" + subtask_name + "'");
    }
    const std::optional<double> cost = job::parse_cost(text);
    if (!cost) {
      throw JobFileError(cost_location(job_), "cost for subtask '" + subtask_name + "' is '" + text +
                                                  "', which is not a positive number");
    }
    return *cost;
  }

 private:
  const JobSpec& job_;
  std::vector<job::TemplatePart> parts_;
  bool fixed_ = false;
  double cost_ = 1;
};

Subtask make_subtask(const JobSpec& job, std::string id, std::string name, std::vector<Param> params) {
  Subtask subtask;
  subtask.id = std::move(id);
  subtask.name = std::move(name);
  subtask.params = std::move(params);
  subtask.gpus = job.task.gpus;
  subtask.timeout_s = job.task.timeout_s;
  subtask.retries = job.task.retries;
  return subtask;
}

std::vector<Subtask> expand_sweep(const JobSpec& job, const CostRenderer& cost) {
  // Per axis and value: the text, and whether it may appear in a readable id.
  struct Rendered {
    std::string text;
    bool readable;
  };
  std::vector<std::vector<Rendered>> rendered(job.sweep.size());
  std::size_t total = 1;
  for (std::size_t a = 0; a < job.sweep.size(); ++a) {
    const SweepAxis& axis = job.sweep[a];
    if (axis.values.empty()) throw JobFileError(axis.where, "sweep '" + axis.name + "' is empty");
    std::set<std::string> seen;
    for (const ParamValue& value : axis.values) {
      std::string text = param_to_string(value);
      if (!seen.insert(text).second) {
        throw JobFileError(axis.where, "sweep '" + axis.name + "' lists '" + text + "' twice; every value must read differently");
      }
      const bool readable = !text.empty() && text.find_first_not_of(
          "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.+-") == std::string::npos;
      rendered[a].push_back({std::move(text), readable});
    }
    // Checked before multiplying, so no number of axes can overflow the count.
    if (axis.values.size() > job::kMaxSubtasks / total) {
      throw JobFileError(axis.where, "[sweep] expands to more than " + std::to_string(job::kMaxSubtasks) +
                                         " subtasks, the most a job may have");
    }
    total *= axis.values.size();
  }

  std::vector<Subtask> subtasks;
  subtasks.reserve(total);
  std::vector<std::size_t> index(job.sweep.size(), 0);
  for (std::size_t n = 0; n < total; ++n) {
    std::vector<Param> params;
    params.reserve(job.sweep.size());
    std::string id, name;
    bool readable = true;
    for (std::size_t a = 0; a < job.sweep.size(); ++a) {
      const Rendered& r = rendered[a][index[a]];
      params.push_back({job.sweep[a].name, job.sweep[a].values[index[a]]});
      readable = readable && r.readable;
      id += (a ? "," : "") + job.sweep[a].name + "=" + r.text;
      name += (a ? " " : "") + job.sweep[a].name + "=" + r.text;
    }
    if (!readable || id.size() > job::kMaxReadableIdLength) id = job::derive_id(params, job.name);
    Subtask subtask = make_subtask(job, std::move(id), std::move(name), std::move(params));
    subtask.cost = cost(subtask.params, subtask.name);
    subtasks.push_back(std::move(subtask));
    // Odometer: the last axis turns fastest.
    for (std::size_t a = job.sweep.size(); a-- > 0;) {
      if (++index[a] < job.sweep[a].values.size()) break;
      index[a] = 0;
    }
  }
  return subtasks;
}

std::vector<Subtask> expand_list(const JobSpec& job, const CostRenderer& cost) {
  std::vector<Subtask> subtasks;
  std::unordered_map<std::string, std::size_t> seen;
  for (std::size_t i = 0; i < job.tasks.size(); ++i) {
    const ExplicitTask& task = job.tasks[i];
    std::string id = task.name.empty() ? job::derive_id(task.params, job.name) : task.name;
    std::string name = task.name.empty() ? job::derive_name(task.params, job.name) : task.name;
    if (const auto it = seen.find(id); it != seen.end()) {
      const ExplicitTask& first = job.tasks[it->second];
      throw JobFileError(task.where, "this task has the same id '" + id + "' as the task at line " +
                                         std::to_string(first.where.line) +
                                         "; give one of them a different 'name' or different params");
    }
    seen.emplace(id, i);
    Subtask subtask = make_subtask(job, std::move(id), std::move(name), task.params);
    if (task.gpus > 0) subtask.gpus = task.gpus;
    subtask.cost = cost(subtask.params, subtask.name);
    subtasks.push_back(std::move(subtask));
  }
  return subtasks;
}

}  // namespace

std::vector<Subtask> expand_subtasks(const JobSpec& job) {
  const CostRenderer cost(job);
  std::vector<Subtask> subtasks;
  if (!job.sweep.empty()) {
    subtasks = expand_sweep(job, cost);
  } else if (!job.tasks.empty()) {
    subtasks = expand_list(job, cost);
  } else {
    subtasks.push_back(make_subtask(job, job.name, job.name, {}));
    subtasks.back().cost = cost({}, job.name);
  }
  job::check_kernel_args(job, subtasks);
  return subtasks;
}

}  // namespace fastgpu
