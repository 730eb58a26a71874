// parse_job and load_job_file: the top level of a job file.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>

#include "job/job_parser.hpp"

namespace fastgpu {

namespace {

/// The position of a top-level table or array: its key, which for [name] is the header.
SourceLocation location_of(const job::TomlReader& reader, const toml::table& root, std::string_view key) {
  for (const auto& [k, node] : reader.entries(root)) {
    if (k->str() == key) return reader.at(*k);
  }
  return reader.at(toml::source_region{});
}

}  // namespace

JobSpec parse_job(std::string_view text, const std::string& source_path) {
  const job::TomlReader reader(source_path);
  toml::table root;
  try {
    root = toml::parse(text, std::string_view(source_path));
  } catch (const toml::parse_error& error) {
    reader.fail(reader.at(error.source()), "invalid TOML: " + std::string(error.description()));
  }

  reader.check_keys(root, job::kTopLevelKeys, job::misplaced_key_messages(""));

  JobSpec job;
  job.source_path = source_path;
  job.source_text = std::string(text);

  const toml::node* job_node = root.get("job");
  if (job_node == nullptr) {
    reader.fail(reader.at(root), "missing [job] table: every job file needs one, with at least name = \"...\"");
  }
  job::parse_job_table(reader, reader.table_value(*job_node, "job"), job);

  const toml::node* task_node = root.get("task");
  if (task_node == nullptr) {
    reader.fail(reader.at(root),
                "missing [task] table: it says what each subtask runs, e.g. command = [\"python3\", \"train.py\"]");
  }
  const std::vector<job::TemplateUse> uses =
      job::parse_task_table(reader, reader.table_value(*task_node, "task"), job.task);

  const toml::node* sweep_node = root.get("sweep");
  const toml::node* tasks_node = root.get("tasks");
  if (sweep_node != nullptr && tasks_node != nullptr) {
    const SourceLocation sweep_at = location_of(reader, root, "sweep");
    const SourceLocation tasks_at = location_of(reader, root, "tasks");
    const bool tasks_later = std::pair(tasks_at.line, tasks_at.column) > std::pair(sweep_at.line, sweep_at.column);
    reader.fail(tasks_later ? tasks_at : sweep_at,
                "a job has either a [sweep] or a [[tasks]] list, not both");
  }
  if (sweep_node != nullptr) job.sweep = job::parse_sweep_table(reader, reader.table_value(*sweep_node, "sweep"));
  if (tasks_node != nullptr) job.tasks = job::parse_task_list(reader, *tasks_node);

  if (const toml::node* reduce_node = root.get("reduce")) job.reductions = job::parse_reductions(reader, *reduce_node);
  job::check_reduce_arg(reader, root, job);
  if (const toml::node* input_node = root.get("input")) job.inputs = job::parse_inputs(reader, *input_node, source_path);
  job::check_placeholders(reader, uses, job);
  return job;
}

JobSpec load_job_file(const std::filesystem::path& path) {
  const std::string name = path.string();
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    throw JobFileError({name, 0, 0}, "cannot read job file: it is a directory");
  }
  errno = 0;
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(name.c_str(), "rb"), &std::fclose);
  if (!file) throw JobFileError({name, 0, 0}, "cannot read job file: " + std::string(std::strerror(errno)));
  std::string text;
  char buffer[65536];
  std::size_t got = 0;
  while ((got = std::fread(buffer, 1, sizeof buffer, file.get())) > 0) text.append(buffer, got);
  if (std::ferror(file.get()) != 0) {
    throw JobFileError({name, 0, 0}, "cannot read job file: " + std::string(std::strerror(errno)));
  }
  return parse_job(text, name);
}

}  // namespace fastgpu
