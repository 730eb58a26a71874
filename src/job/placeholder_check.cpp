// Checks that every placeholder of the [task] template has a value in every subtask.
#include <algorithm>

#include "job/job_parser.hpp"
#include "job/placeholders.hpp"
#include "job/suggest.hpp"

namespace fastgpu::job {

namespace {

std::string list_parameters(const std::vector<std::string>& names) {
  if (names.empty()) return "the job has no parameters (built-in placeholders: {task_id}, {attempt}, {output_dir})";
  std::string out = "parameters are: ";
  for (std::size_t i = 0; i < names.size(); ++i) out += (i ? ", " : "") + names[i];
  return out;
}

std::string describe(const ExplicitTask& task, std::size_t index) {
  if (!task.name.empty()) return "task '" + task.name + "'";
  return "task " + std::to_string(index + 1) + " of [[tasks]]";
}

}  // namespace

void check_placeholders(const TomlReader& reader, const std::vector<TemplateUse>& uses, const JobSpec& job) {
  const std::vector<std::string> parameters = parameter_names(job);
  for (const TemplateUse& use : uses) {
    for (const std::string& name : template_placeholders(use.text, use.context)) {
      if (is_builtin_placeholder(name)) {
        if (use.params_only) {
          reader.fail(use.where, "'{" + name + "}' cannot be used in " + use.context +
                                     ": it is computed before any attempt runs, so only parameters can be used");
        }
        continue;
      }
      if (std::find(parameters.begin(), parameters.end(), name) != parameters.end()) continue;
      std::vector<std::string> candidates = parameters;
      if (!use.params_only) candidates.insert(candidates.end(), kBuiltinPlaceholders.begin(), kBuiltinPlaceholders.end());
      std::string message = "unknown placeholder '{" + name + "}' in " + use.context;
      if (const std::string match = closest_match(name, candidates); !match.empty()) {
        message += " (did you mean '{" + match + "}'?)";
      }
      reader.fail(use.where, message + "; " + list_parameters(parameters));
    }
  }

  // With an explicit list, every task must define every parameter the templates use.
  for (std::size_t i = 0; i < job.tasks.size(); ++i) {
    const ExplicitTask& task = job.tasks[i];
    for (const TemplateUse& use : uses) {
      for (const std::string& name : template_placeholders(use.text, use.context)) {
        if (is_builtin_placeholder(name)) continue;
        const bool defined = std::any_of(task.params.begin(), task.params.end(),
                                         [&](const Param& p) { return p.name == name; });
        if (!defined) {
          reader.fail(task.where, describe(task, i) + " does not set parameter '" + name + "', which " + use.context +
                                      " uses ('{" + name + "}'); add it to its params");
        }
      }
    }
  }
}

}  // namespace fastgpu::job
