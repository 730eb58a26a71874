// What a parameter may be called, and which parameters a job has.
#include <algorithm>

#include "job/job_parser.hpp"
#include "job/placeholders.hpp"

namespace fastgpu::job {

void check_parameter_name(const TomlReader& reader, const toml::key& key) {
  const std::string name(key.str());
  if (is_builtin_placeholder(name)) {
    reader.fail(reader.at(key), "'" + name + "' is a built-in placeholder and cannot be a parameter name");
  }
  if (!is_identifier(name)) {
    reader.fail(reader.at(key), "invalid parameter name '" + name +
                                    "': use letters, digits and '_', not starting with a digit");
  }
}

std::vector<std::string> parameter_names(const JobSpec& job) {
  std::vector<std::string> names;
  for (const SweepAxis& axis : job.sweep) names.push_back(axis.name);
  for (const ExplicitTask& task : job.tasks) {
    for (const Param& param : task.params) {
      if (std::find(names.begin(), names.end(), param.name) == names.end()) names.push_back(param.name);
    }
  }
  return names;
}

}  // namespace fastgpu::job
