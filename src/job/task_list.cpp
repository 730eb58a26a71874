// An explicit [[tasks]] list: each entry a name and/or a table of parameters.
#include <algorithm>
#include <cmath>
#include <map>

#include "job/job_parser.hpp"
#include "job/subtask_id.hpp"

namespace fastgpu::job {

namespace {

ExplicitTask parse_entry(const TomlReader& reader, const toml::table& entry,
                         std::map<std::string, SourceLocation>& names_seen) {
  reader.check_keys(entry, kTaskEntryKeys, misplaced_key_messages("tasks"),
                    "parameters go in params, e.g. params = { lr = 0.1, seed = 1 }");
  ExplicitTask task;
  task.where = reader.at(entry);
  if (const toml::node* name = entry.get("name")) {
    task.name = reader.string_value(*name, "name");
    if (task.name.empty()) reader.fail(reader.at(*name), "'name' must not be empty (leave it out to name the task by its parameters)");
    if (!is_valid_task_name(task.name)) {
      reader.fail(reader.at(*name), "task name '" + task.name +
                                        "' may only contain letters, digits and '_', '.', '=', '+', ',', '-'");
    }
    const auto [previous, inserted] = names_seen.emplace(task.name, reader.at(*name));
    if (!inserted) {
      reader.fail(reader.at(*name), "task name '" + task.name + "' is already used at line " +
                                        std::to_string(previous->second.line) + "; names must be unique");
    }
  }
  if (const toml::node* gpus = entry.get("gpus")) task.gpus = bounded_int(reader, *gpus, "gpus", 1);
  if (const toml::node* params = entry.get("params")) {
    for (const auto& [key, value] : reader.entries(reader.table_value(*params, "params"))) {
      check_parameter_name(reader, *key);
      const std::string name(key->str());
      const std::optional<ParamValue> scalar = scalar_value(*value);
      if (!scalar) {
        reader.fail(reader.at(*value), "parameter '" + name +
                                           "' must be an integer, float, boolean or string, not " + type_phrase(*value));
      }
      if (const auto* f = std::get_if<double>(&*scalar); f != nullptr && !std::isfinite(*f)) {
        reader.fail(reader.at(*value), "parameter '" + name + "' must be a finite number");
      }
      task.params.push_back({name, *scalar});
    }
  }
  return task;
}

}  // namespace

std::vector<ExplicitTask> parse_task_list(const TomlReader& reader, const toml::node& node) {
  const toml::array* list = node.as_array();
  if (list == nullptr) {
    reader.fail(reader.at(node), "'tasks' must be a list of tables, written [[tasks]] (or tasks = [{ ... }]), not " +
                                     type_phrase(node));
  }
  if (list->empty()) reader.fail(reader.at(node), "'tasks' is empty: list at least one task, or leave it out");
  for (const toml::node& entry : *list) {
    if (!entry.is_table()) {
      reader.fail(reader.at(entry), "each entry of 'tasks' must be a table like { name = \"a\", params = { ... } }, not " +
                                        type_phrase(entry));
    }
  }

  std::vector<ExplicitTask> tasks;
  std::map<std::string, SourceLocation> names_seen;
  for (const toml::node& entry : *list) tasks.push_back(parse_entry(reader, *entry.as_table(), names_seen));

  // Every task lists its parameters in one order (first appearance in the file), so the same
  // parameters always give the same id however a task wrote them.
  std::vector<std::string> order;
  for (const ExplicitTask& task : tasks) {
    for (const Param& param : task.params) {
      if (std::find(order.begin(), order.end(), param.name) == order.end()) order.push_back(param.name);
    }
  }
  const auto rank = [&](const Param& p) { return std::find(order.begin(), order.end(), p.name) - order.begin(); };
  for (ExplicitTask& task : tasks) {
    std::stable_sort(task.params.begin(), task.params.end(),
                     [&](const Param& a, const Param& b) { return rank(a) < rank(b); });
  }
  return tasks;
}

}  // namespace fastgpu::job
