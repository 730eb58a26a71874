// libFuzzer target: job-file text -> parse_job -> expand_subtasks -> render every launch.
//
// A job file is either refused with a JobFileError / UsageError naming a place in the file, or
// accepted; then it expands, and every subtask renders (a placeholder the parser let through but
// the renderer cannot fill is a finding). Anything else escaping, a crash, a sanitizer report, a
// hang or unbounded memory is a finding. Run it with scripts/fuzz.sh.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "fastgpu/job_spec.hpp"

namespace {

constexpr const char* kSource = "fuzz.toml";

/// Expanding is linear in the subtasks and the parser allows 10,000,000: fine for a job, too slow
/// for one fuzz input. Bigger jobs are parsed (and their size checked) but not expanded.
constexpr std::uint64_t kMaxExpanded = 20'000;

std::uint64_t subtask_count(const fastgpu::JobSpec& job) {
  if (!job.tasks.empty()) return job.tasks.size();
  std::uint64_t total = 1;
  for (const auto& axis : job.sweep) {
    if (axis.values.size() > 0 && total > UINT64_MAX / axis.values.size()) return UINT64_MAX;
    total *= axis.values.size();
  }
  return total;
}

[[noreturn]] void finding(const std::string& what) {
  std::fprintf(stderr, "job_parser_fuzz: %s\n", what.c_str());
  std::abort();
}

void check_location(const fastgpu::JobFileError& error) {
  if (error.where().file != kSource) finding("error names another file: " + std::string(error.what()));
  if (error.where().line < 0 || error.where().column < 0) finding("negative location: " + std::string(error.what()));
  if (error.message().empty()) finding("empty message");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  fastgpu::JobSpec job;
  try {
    job = fastgpu::parse_job(text, kSource);
  } catch (const fastgpu::JobFileError& error) {
    check_location(error);
    return 0;
  } catch (const fastgpu::UsageError&) {
    return 0;
  }

  if (subtask_count(job) > kMaxExpanded) return 0;
  std::vector<fastgpu::Subtask> subtasks;
  try {
    subtasks = fastgpu::expand_subtasks(job);
  } catch (const fastgpu::JobFileError& error) {
    check_location(error);  // a cost that renders to no number, two tasks with one id, ...
    return 0;
  }
  if (subtasks.empty()) finding("an accepted job expanded to no subtasks");

  // Touches only paths that do not exist: exercises the checks, not the disk.
  try {
    fastgpu::check_program(job, "/nonexistent-fastgpu-fuzz", "/nonexistent-fastgpu-fuzz");
  } catch (const fastgpu::JobFileError& error) {
    check_location(error);
  }

  for (std::size_t i = 0; i < subtasks.size() && i < 100; ++i) {
    try {
      (void)fastgpu::render_launch(job, subtasks[i], 1);
      (void)fastgpu::params_json(subtasks[i]);
    } catch (const fastgpu::JobFileError& error) {
      finding("an accepted job's subtask '" + subtasks[i].id + "' does not render: " + error.what());
    }
  }
  return 0;
}
