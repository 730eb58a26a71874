// Helpers shared by the job-file tests.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>

#include "fastgpu/job_spec.hpp"

namespace fastgpu::testing {

/// tests/data/job, found from this file's path (FASTGPU_TEST_DATA when run by ctest).
inline std::filesystem::path job_data_dir() {
  if (const char* data = std::getenv("FASTGPU_TEST_DATA")) return std::filesystem::path(data) / "job";
  return std::filesystem::path(__FILE__).parent_path().parent_path().parent_path() / "data" / "job";
}

/// The repository root, found from this file's path.
inline std::filesystem::path repo_root() {
  return std::filesystem::path(__FILE__).parent_path().parent_path().parent_path().parent_path();
}

/// Parses and expands `text` as "jobs/x.toml"; returns the error's what(), or "no error".
inline std::string job_error(std::string_view text) {
  try {
    const JobSpec job = parse_job(text, "jobs/x.toml");
    expand_subtasks(job);
  } catch (const JobFileError& error) {
    return error.what();
  }
  return "no error";
}

/// A minimal valid header: [job] and a [task] running `command`.
inline std::string job_with(std::string_view command, std::string_view rest = {}) {
  return "[job]\nname = \"x\"\n[task]\ncommand = " + std::string(command) + "\n" + std::string(rest);
}

}  // namespace fastgpu::testing
