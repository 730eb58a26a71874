// check_program: the command's program exists and is executable before anything runs, so a typo
// in command[0] is one clear error at start-up rather than a spawn failure in every subtask.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "fastgpu/job_spec.hpp"
#include "job/placeholders.hpp"

namespace fastgpu {

namespace {

/// Where program errors point: at command[0], else (a JobSpec built in code) at the file.
SourceLocation program_location(const JobSpec& job) {
  SourceLocation where = job.task.program_where;
  if (where.file.empty()) where.file = job.source_path;
  return where;
}

/// The template's text when it has no placeholder ("{{" already "{"), else nothing.
std::optional<std::string> literal_text(const std::string& text) {
  std::vector<job::TemplatePart> parts;
  try {
    parts = job::parse_template(text, "command");
  } catch (const job::TemplateError&) {
    return std::nullopt;  // reported by the parser; nothing to check here
  }
  std::string out;
  for (const job::TemplatePart& part : parts) {
    if (part.placeholder) return std::nullopt;
    out += part.text;
  }
  return out;
}

enum class Found { executable, missing, directory, not_executable };

Found probe(const std::filesystem::path& path, int* error) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    *error = errno;
    return Found::missing;
  }
  if (S_ISDIR(st.st_mode)) return Found::directory;
  if (!S_ISREG(st.st_mode) || ::access(path.c_str(), X_OK) != 0) return Found::not_executable;
  return Found::executable;
}

std::vector<std::string> split_path(std::string_view search_path) {
  std::vector<std::string> dirs;
  std::size_t start = 0;
  while (true) {
    const std::size_t colon = search_path.find(':', start);
    dirs.emplace_back(search_path.substr(start, colon == std::string_view::npos ? std::string_view::npos : colon - start));
    if (colon == std::string_view::npos) break;
    start = colon + 1;
  }
  return dirs;
}

}  // namespace

void check_program(const JobSpec& job, const std::filesystem::path& launch_dir, const char* search_path) {
  if (!job.task.kernel.empty() || job.task.command.empty()) return;  // a kernel runs in-process: no program
  const std::optional<std::string> program = literal_text(job.task.command.front());
  if (!program || program->empty()) return;
  const SourceLocation where = program_location(job);

  if (program->find('/') == std::string::npos) {
    // posix_spawnp searches the PATH of the process that spawns (the worker's, which mpirun and
    // Slurm pass on from here), not the subtask's env; glibc uses /bin:/usr/bin when PATH is unset.
    if (search_path == nullptr) search_path = std::getenv("PATH");
    const std::string path_value = search_path != nullptr ? search_path : "/bin:/usr/bin";
    bool saw_unusable = false;
    for (const std::string& dir : split_path(path_value)) {
      // An empty entry means the current directory.
      const std::filesystem::path candidate = (dir.empty() ? launch_dir : launch_dir / dir) / *program;
      int error = 0;
      const Found found = probe(candidate, &error);
      if (found == Found::executable) return;
      if (found != Found::missing) saw_unusable = true;
    }
    throw JobFileError(where, "program '" + *program + "' was not found in PATH" +
                                  std::string(saw_unusable ? " (a file of that name is there, but not executable)" : "") +
                                  "; give its path (e.g. \"./" + *program + "\") or fix PATH (" +
                                  (path_value.empty() ? std::string("empty") : "PATH=" + path_value) + ")");
  }

  std::filesystem::path resolved = *program;
  if (resolved.is_relative()) {
    std::optional<std::string> cwd = literal_text(job.task.cwd);
    if (!cwd) return;  // the directory differs per subtask: checked when each one starts
    resolved = launch_dir / *cwd / resolved;
  }
  resolved = resolved.lexically_normal();
  int error = 0;
  switch (probe(resolved, &error)) {
    case Found::executable:
      return;
    case Found::missing:
      throw JobFileError(where, "program '" + *program + "' " +
                                    (error == ENOENT ? std::string("does not exist")
                                                     : "cannot be reached: " + std::string(std::strerror(error))) +
                                    " (looked for " + resolved.string() + ")");
    case Found::directory:
      throw JobFileError(where, "program '" + *program + "' is a directory (" + resolved.string() + "), not a program");
    case Found::not_executable:
      throw JobFileError(where, "program '" + *program + "' is not executable (" + resolved.string() +
                                    "): make it so with chmod +x, or name its interpreter first, e.g. [\"sh\", \"" +
                                    *program + "\", ...]");
  }
}

}  // namespace fastgpu
