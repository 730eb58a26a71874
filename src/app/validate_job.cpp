// `fastgpu validate JOB`: every check `run` makes of the file, and a preview of what it would run.
#include <filesystem>
#include <iostream>
#include <sstream>

#include "app/commands.hpp"
#include "app/exit_codes.hpp"
#include "fastgpu/job_spec.hpp"

namespace fastgpu::app {
namespace {

std::string quoted_argv(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& arg : argv) {
    if (!out.empty()) out += ' ';
    const bool plain = !arg.empty() && arg.find_first_of(" \t\n'\"\\$`;&|<>(){}*?[]#~") == std::string::npos;
    if (plain) {
      out += arg;
      continue;
    }
    out += '\'';
    for (char c : arg) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    out += '\'';
  }
  return out;
}

/// "kernel sleep(seconds=0.5)": what a kernel subtask runs.
std::string kernel_call(const LaunchSpec& launch) {
  std::string out = "kernel " + launch.kernel + "(";
  for (std::size_t i = 0; i < launch.args.size(); ++i) {
    out += (i ? ", " : "") + launch.args[i].first + "=" + launch.args[i].second;
  }
  return out + ")";
}

std::string seconds(double value) {
  std::ostringstream out;
  out << value << " s";
  return out.str();
}

}  // namespace

int validate_job(const std::string& job_file) {
  try {
    JobSpec job = load_job_file(job_file);
    const auto subtasks = expand_subtasks(job);
    check_program(job, std::filesystem::current_path());  // as `run` will from this directory
    if (job.output_dir.empty()) job.output_dir = default_output_dir(job.output);
    int max_gpus = 0;
    for (const auto& subtask : subtasks) max_gpus = std::max(max_gpus, subtask.gpus);
    std::cout << job_file << ": ok\n"
              << "  job:         " << job.name << "\n"
              << "  subtasks:    " << subtasks.size() << "\n"
              << "  gpus each:   " << (subtasks.empty() ? 0 : subtasks.front().gpus)
              << (max_gpus != (subtasks.empty() ? 0 : subtasks.front().gpus) ? " (varies)" : "") << "\n"
              << "  retries:     " << job.task.retries << "\n"
              << "  timeout:     " << (job.task.timeout_s > 0 ? seconds(job.task.timeout_s) : "none")
              << "\n"
              << "  results:     " << job.output << "\n"
              << "  output_dir:  " << job.output_dir << "\n";
    constexpr std::size_t kExamples = 3;
    std::cout << "  first " << std::min(kExamples, subtasks.size()) << " subtasks "
              << (job.task.kernel.empty() ? "(argv as a shell would quote it; no shell runs it)"
                                          : "(the built-in kernel and its args)")
              << ":\n";
    for (std::size_t i = 0; i < subtasks.size() && i < kExamples; ++i) {
      const LaunchSpec launch = render_launch(job, subtasks[i], 0);
      std::cout << "    [" << subtasks[i].id << "] cost " << subtasks[i].cost << ": "
                << (launch.kernel.empty() ? quoted_argv(launch.argv) : kernel_call(launch)) << "\n";
    }
    return kExitOk;
  } catch (const UsageError& e) {
    std::cerr << "fastgpu: error: " << e.what() << std::endl;
    return kExitUsage;
  }
}

}  // namespace fastgpu::app
