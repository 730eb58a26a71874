// [task] kernel = "sleep" with [task.args]: a built-in kernel instead of a command, checked
// against the kernel registry (job/kernel_catalog.hpp).
#include <cmath>

#include "job/job_parser.hpp"
#include "job/kernel_catalog.hpp"
#include "job/placeholders.hpp"
#include "job/suggest.hpp"

namespace fastgpu::job {

namespace {

std::vector<std::string> names_of(const std::deque<KernelSpec>& kernels) {
  std::vector<std::string> names;
  for (const KernelSpec& kernel : kernels) names.push_back(kernel.name);
  return names;
}

std::string arg_list(const KernelSpec& kernel) {
  std::string out;
  for (const KernelArgSpec& arg : kernel.args) out += (out.empty() ? "" : ", ") + arg.name;
  return out;
}

/// "kernel 'sleep' arg 'seconds'"
std::string describe(const KernelSpec& kernel, const KernelArgSpec& arg) {
  return "kernel '" + kernel.name + "' arg '" + arg.name + "'";
}

/// The template's text when it has no placeholder ("{{" already "{"), else nothing.
std::optional<std::string> literal_text(const std::vector<TemplatePart>& parts) {
  std::string out;
  for (const TemplatePart& part : parts) {
    if (part.placeholder) return std::nullopt;
    out += part.text;
  }
  return out;
}

const KernelSpec& kernel_named(const TomlReader& reader, const toml::node& node) {
  const std::string& name = reader.string_value(node, "kernel");
  if (name.empty()) {
    reader.fail(reader.at(node), "'kernel' must not be empty (known kernels: " + kernel_name_list() + ")");
  }
  if (const KernelSpec* kernel = find_kernel(name)) return *kernel;
  std::string message = "unknown kernel '" + name + "'";
  if (const std::string match = closest_match(name, names_of(known_kernels())); !match.empty()) {
    message += " (did you mean '" + match + "'?)";
  } else {
    message += " (known kernels: " + kernel_name_list() + ")";
  }
  reader.fail(reader.at(node), message);
}

}  // namespace

void parse_kernel(const TomlReader& reader, const toml::table& table, const toml::node& node, TaskTemplate& task,
                  std::vector<TemplateUse>& uses) {
  const KernelSpec& kernel = kernel_named(reader, node);
  task.kernel = kernel.name;

  // Missing args are reported at [task.args] when there is one, else at `kernel`.
  SourceLocation args_at = reader.at(node);
  for (const auto& [key, value] : reader.entries(table)) {
    if (key->str() != "args") continue;
    args_at = reader.at(*key);
    const toml::table& args = reader.table_value(*value, "args");
    for (const auto& [arg_key, arg_node] : reader.entries(args)) {
      const std::string name(arg_key->str());
      const KernelArgSpec* arg = kernel.find_arg(name);
      if (arg == nullptr) {
        std::string message = "unknown arg '" + name + "' for kernel '" + kernel.name + "'";
        std::vector<std::string> arg_names;
        for (const KernelArgSpec& a : kernel.args) arg_names.push_back(a.name);
        if (const std::string match = closest_match(name, arg_names); !match.empty()) {
          message += " (did you mean '" + match + "'?)";
        } else if (kernel.args.empty()) {
          message += " (it takes no args: leave [task.args] out)";
        } else {
          message += " (its args are: " + arg_list(kernel) + ")";
        }
        reader.fail(reader.at(*arg_key), message);
      }
      const std::optional<ParamValue> scalar = scalar_value(*arg_node);
      if (!scalar) {
        reader.fail(reader.at(*arg_node),
                    "args '" + name + "' must be a string, number or boolean, not " + type_phrase(*arg_node));
      }
      if (const auto* f = std::get_if<double>(&*scalar); f != nullptr && !std::isfinite(*f)) {
        reader.fail(reader.at(*arg_node), "args '" + name + "' must be a finite number");
      }
      const std::string text = param_to_string(*scalar);
      std::optional<std::string> literal = text;
      if (arg_node->is_string()) {
        const std::string context = "args '" + name + "'";
        std::vector<TemplatePart> parts;
        try {
          parts = parse_template(text, context);
        } catch (const TemplateError& error) {
          reader.fail(reader.at(*arg_node), error.what());
        }
        uses.push_back({text, reader.at(*arg_node), context, false});
        literal = literal_text(parts);
      }
      // With a placeholder, the value is known per subtask: check_kernel_args checks it then.
      if (literal) {
        if (const std::optional<std::string> want = kernel_arg_problem(*arg, *literal)) {
          reader.fail(reader.at(*arg_node), describe(kernel, *arg) + " must be " + *want + " (" + arg->help +
                                                "), not '" + *literal + "'");
        }
      }
      task.args[name] = text;
      task.args_where[name] = reader.at(*arg_node);
    }
  }
  for (const KernelArgSpec& arg : kernel.args) {
    if (arg.required && !task.args.contains(arg.name)) {
      reader.fail(args_at, "kernel '" + kernel.name + "' needs arg '" + arg.name + "' (" + arg.help +
                               "): add it to [task.args], e.g. " + arg.name + " = " + arg.example);
    }
  }
}

void check_kernel_args(const JobSpec& job, const std::vector<Subtask>& subtasks) {
  const KernelSpec* kernel = find_kernel(job.task.kernel);
  if (kernel == nullptr) return;  // no kernel, or a JobSpec made in code: the worker reports it
  struct Templated {
    const KernelArgSpec* spec;
    std::vector<TemplatePart> parts;
    SourceLocation where;
  };
  std::vector<Templated> templated;
  for (const auto& [name, text] : job.task.args) {
    const KernelArgSpec* spec = kernel->find_arg(name);
    if (spec == nullptr) continue;
    std::vector<TemplatePart> parts;
    try {
      parts = parse_template(text, "args '" + name + "'");
    } catch (const TemplateError&) {
      continue;  // reported by the parser
    }
    if (literal_text(parts)) continue;  // checked by the parser
    SourceLocation where;
    if (const auto it = job.task.args_where.find(name); it != job.task.args_where.end()) where = it->second;
    if (where.file.empty()) where.file = job.source_path;
    templated.push_back({spec, std::move(parts), std::move(where)});
  }
  if (templated.empty()) return;

  const std::string output_dir = job.output_dir.empty() ? default_output_dir(job.output) : job.output_dir;
  std::vector<std::pair<std::string, std::string>> values;
  for (const Subtask& subtask : subtasks) {
    values.clear();
    for (const Param& p : subtask.params) values.emplace_back(p.name, param_to_string(p.value));
    values.emplace_back("task_id", subtask.id);
    values.emplace_back("attempt", "0");
    values.emplace_back("output_dir", output_dir);
    const auto lookup = [&](std::string_view name) -> const std::string* {
      for (const auto& [key, value] : values) {
        if (key == name) return &value;
      }
      return nullptr;
    };
    for (const Templated& arg : templated) {
      std::string text;
      try {
        text = render_template(arg.parts, lookup, "args '" + arg.spec->name + "'");
      } catch (const TemplateError& error) {
        throw JobFileError(arg.where, std::string(error.what()) + " for subtask '" + subtask.id + "'");
      }
      if (const std::optional<std::string> want = kernel_arg_problem(*arg.spec, text)) {
        throw JobFileError(arg.where, describe(*kernel, *arg.spec) + " is '" + text + "' for subtask '" + subtask.id +
                                          "', which is not " + *want + " (" + arg.spec->help + ")");
      }
    }
  }
}

}  // namespace fastgpu::job
