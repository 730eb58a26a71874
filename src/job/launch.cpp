// render_launch and default_output_dir: what one attempt of a subtask runs (a command or a kernel).
#include <algorithm>
#include <cctype>

#include "fastgpu/job_spec.hpp"
#include "job/placeholders.hpp"

namespace fastgpu {

namespace {

bool ends_with_ignoring_case(std::string_view text, std::string_view suffix) {
  if (text.size() < suffix.size()) return false;
  return std::equal(suffix.begin(), suffix.end(), text.end() - static_cast<std::ptrdiff_t>(suffix.size()),
                    [](char a, char b) {
                      return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
                    });
}

}  // namespace

std::string default_output_dir(const std::string& output) {
  std::string stem = output;
  for (const std::string_view suffix : {".h5", ".hdf5"}) {
    if (ends_with_ignoring_case(stem, suffix) && stem.size() > suffix.size()) {
      stem.resize(stem.size() - suffix.size());
      break;
    }
  }
  return stem + ".outputs";
}

LaunchSpec render_launch(const JobSpec& job, const Subtask& subtask, int attempt) {
  std::vector<std::pair<std::string, std::string>> values;
  values.reserve(subtask.params.size() + 3);
  for (const Param& p : subtask.params) values.emplace_back(p.name, param_to_string(p.value));
  values.emplace_back("task_id", subtask.id);
  values.emplace_back("attempt", std::to_string(attempt));
  values.emplace_back("output_dir", job.output_dir.empty() ? default_output_dir(job.output) : job.output_dir);
  const auto lookup = [&](std::string_view name) -> const std::string* {
    for (const auto& [key, value] : values) {
      if (key == name) return &value;
    }
    return nullptr;
  };
  const auto render = [&](const std::string& text, std::string_view context) {
    try {
      return job::render_template(text, lookup, context);
    } catch (const job::TemplateError& error) {
      throw JobFileError({job.source_path, 0, 0}, std::string(error.what()) + " for subtask '" + subtask.id + "'");
    }
  };

  LaunchSpec launch;
  for (const std::string& item : job.task.command) launch.argv.push_back(render(item, "command"));
  for (const auto& [name, value] : job.task.env) launch.env.emplace_back(name, render(value, "env '" + name + "'"));
  launch.cwd = render(job.task.cwd, "cwd");
  // A kernel subtask: argv stays empty; the worker runs the kernel in-process with these args.
  launch.kernel = job.task.kernel;
  for (const auto& [name, value] : job.task.args) launch.args.emplace_back(name, render(value, "args '" + name + "'"));
  return launch;
}

}  // namespace fastgpu
