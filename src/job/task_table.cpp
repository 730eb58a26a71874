// The [task] table: the template every subtask is made from.
#include <charconv>
#include <climits>
#include <cmath>
#include <sstream>
#include <stdexcept>

#include "job/job_parser.hpp"
#include "job/placeholders.hpp"

namespace fastgpu::job {

int bounded_int(const TomlReader& reader, const toml::node& node, std::string_view what, std::int64_t minimum,
                std::int64_t maximum, std::string_view why) {
  const std::int64_t value = reader.integer_value(node, what);
  if (value < minimum) {
    reader.fail(reader.at(node), "'" + std::string(what) + "' must be at least " + std::to_string(minimum) + ", not " +
                                     std::to_string(value));
  }
  if (value > maximum) {
    if (why.empty()) reader.fail(reader.at(node), "'" + std::string(what) + "' is too large");
    reader.fail(reader.at(node), "'" + std::string(what) + "' must be at most " + std::to_string(maximum) + ", not " +
                                     std::to_string(value) + " (" + std::string(why) + ")");
  }
  return static_cast<int>(value);
}

namespace {

bool is_env_name(std::string_view name) { return is_identifier(name); }

/// Checks the template's syntax now, so the error points at it; names are checked later.
void remember(const TomlReader& reader, std::vector<TemplateUse>& uses, const toml::node& node, std::string text,
              std::string context, bool params_only = false) {
  try {
    parse_template(text, context);
  } catch (const TemplateError& error) {
    reader.fail(reader.at(node), error.what());
  }
  uses.push_back({std::move(text), reader.at(node), std::move(context), params_only});
}

std::string command_hint(std::string_view line) {
  std::istringstream words{std::string(line)};
  std::string word, items;
  while (words >> word) items += (items.empty() ? "\"" : ", \"") + word + "\"";
  return items.empty() ? "" : " (write command = [" + items + "])";
}

void parse_command(const TomlReader& reader, const toml::node& node, TaskTemplate& task,
                   std::vector<TemplateUse>& uses) {
  if (const auto* line = node.as_string()) {
    reader.fail(reader.at(node), "'command' must be an array of strings (the program and its arguments, never run "
                                 "by a shell), not a string" + command_hint(line->get()));
  }
  const toml::array& items = reader.array_value(node, "command");
  if (items.empty()) reader.fail(reader.at(node), "'command' must not be empty: give the program and its arguments");
  for (std::size_t i = 0; i < items.size(); ++i) {
    const toml::node& item = *items.get(i);
    const auto* text = item.as_string();
    if (text == nullptr) {
      std::string message = "command[" + std::to_string(i) + "] must be a string, not " + type_phrase(item);
      if (item.is_number() || item.is_boolean()) message += " (quote it: every argument is text)";
      reader.fail(reader.at(item), message);
    }
    if (i == 0 && text->get().empty()) reader.fail(reader.at(item), "command[0], the program to run, must not be empty");
    if (i == 0) task.program_where = reader.at(item);
    task.command.push_back(text->get());
    remember(reader, uses, item, text->get(), "command");
  }
}

void parse_env(const TomlReader& reader, const toml::node& node, TaskTemplate& task, std::vector<TemplateUse>& uses) {
  const toml::table& table = reader.table_value(node, "env");
  for (const auto& [key, value] : reader.entries(table)) {
    const std::string name(key->str());
    if (!is_env_name(name)) {
      reader.fail(reader.at(*key), "invalid environment variable name '" + name +
                                       "': use letters, digits and '_', not starting with a digit");
    }
    const std::optional<ParamValue> scalar = scalar_value(*value);
    if (!scalar) {
      reader.fail(reader.at(*value), "env '" + name + "' must be a string, number or boolean, not " + type_phrase(*value));
    }
    if (const auto* f = std::get_if<double>(&*scalar); f != nullptr && !std::isfinite(*f)) {
      reader.fail(reader.at(*value), "env '" + name + "' must be a finite number");
    }
    const std::string text = param_to_string(*scalar);
    task.env[name] = text;
    if (value->is_string()) remember(reader, uses, *value, text, "env '" + name + "'");
  }
}


void parse_cost_value(const TomlReader& reader, const toml::node& node, TaskTemplate& task,
                      std::vector<TemplateUse>& uses) {
  task.cost_where = reader.at(node);
  if (const auto* text = node.as_string()) {
    remember(reader, uses, node, text->get(), "cost", true);
    task.cost = text->get();
    if (template_placeholders(task.cost, "cost").empty() && !parse_cost(task.cost)) {
      reader.fail(reader.at(node), "'cost' must be a positive number or a template like \"{epochs}\", not '" +
                                       task.cost + "'");
    }
    return;
  }
  if (!node.is_number()) {
    reader.fail(reader.at(node), "'cost' must be a number or a string template like \"{epochs}\", not " +
                                     type_phrase(node));
  }
  const std::optional<ParamValue> value = scalar_value(node);
  const double number = node.is_integer() ? static_cast<double>(std::get<std::int64_t>(*value))
                                          : std::get<double>(*value);
  if (!std::isfinite(number) || number <= 0) {
    reader.fail(reader.at(node), "'cost' must be a positive number, not " + param_to_string(*value));
  }
  task.cost = param_to_string(*value);
}

void parse_timeout(const TomlReader& reader, const toml::node& node, TaskTemplate& task) {
  double seconds = 0;
  if (const auto* text = node.as_string()) {
    try {
      seconds = parse_duration(text->get());
    } catch (const std::invalid_argument& error) {
      reader.fail(reader.at(node), error.what());
    }
  } else if (const auto* integer = node.as_integer()) {
    seconds = static_cast<double>(integer->get());
  } else if (const auto* number = node.as_floating_point()) {
    seconds = number->get();
  } else {
    reader.fail(reader.at(node), "'timeout' must be a duration like \"10m\" or a number of seconds, not " +
                                     type_phrase(node));
  }
  if (!std::isfinite(seconds)) reader.fail(reader.at(node), "'timeout' must be a finite duration");
  if (seconds <= 0) {
    reader.fail(reader.at(node), "'timeout' must be greater than zero (leave it out for no time limit)");
  }
  task.timeout_s = seconds;
}

}  // namespace

std::optional<double> parse_cost(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  double value = 0;
  const auto result = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || result.ec != std::errc() || result.ptr != text.data() + text.size()) return std::nullopt;
  if (!std::isfinite(value) || value <= 0) return std::nullopt;
  return value;
}

std::vector<TemplateUse> parse_task_table(const TomlReader& reader, const toml::table& table, TaskTemplate& task) {
  reader.check_keys(table, kTaskKeys, misplaced_key_messages("task"));

  std::vector<TemplateUse> uses;
  const toml::node* command = table.get("command");
  const toml::node* kernel = table.get("kernel");
  if (command == nullptr && kernel == nullptr) {
    reader.fail(reader.at(table), "missing required key 'command' in [task] (the program and its arguments, "
                                  "e.g. command = [\"python3\", \"train.py\", \"--seed\", \"{seed}\"])");
  }
  if (command != nullptr && kernel != nullptr) {
    // Point at whichever of the two comes second.
    SourceLocation second;
    for (const auto& [key, node] : reader.entries(table)) {
      if (key->str() == "command" || key->str() == "kernel") second = reader.at(*key);
    }
    reader.fail(second, "a [task] has either 'command' (a program to run) or 'kernel' (a built-in kernel), not both");
  }
  for (const auto& [key, node] : reader.entries(table)) {
    const std::string name(key->str());
    if (name == "command") {
      parse_command(reader, *node, task, uses);
    } else if (name == "kernel") {
      parse_kernel(reader, table, *node, task, uses);  // reads [task.args] too
    } else if (name == "args" && kernel == nullptr) {
      reader.fail(reader.at(*key), "'args' is for kernel subtasks (kernel = \"...\"); a command takes its arguments "
                                   "in 'command'");
    } else if (name == "env") {
      parse_env(reader, *node, task, uses);
    } else if (name == "cwd") {
      task.cwd = reader.string_value(*node, "cwd");
      task.cwd_where = reader.at(*node);
      remember(reader, uses, *node, task.cwd, "cwd");
    } else if (name == "gpus") {
      task.gpus = bounded_int(reader, *node, "gpus", 1);
    } else if (name == "cost") {
      parse_cost_value(reader, *node, task, uses);
    } else if (name == "timeout") {
      parse_timeout(reader, *node, task);
    } else if (name == "retries") {
      task.retries = bounded_int(reader, *node, "retries", 0, kMaxRetries,
                                 "more attempts will not rescue a subtask that keeps failing");
    } else if (name == "output_tail") {
      task.output_tail_bytes = static_cast<std::size_t>(
          bounded_int(reader, *node, "output_tail", 0, kMaxOutputTail, "64 MiB per stream is the most kept"));
    }
  }
  return uses;
}

}  // namespace fastgpu::job
