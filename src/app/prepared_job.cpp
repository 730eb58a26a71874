#include "app/prepared_job.hpp"

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <iostream>

#include "fastgpu/config.hpp"
#include "io/input_dataset.hpp"
#include "io/journal.hpp"
#include "io/results_reader.hpp"
#include "scheduler/scheduler.hpp"

namespace fastgpu::app {

PreparedJob prepare_job(const RunOptions& options) {
  PreparedJob prepared;
  scheduler::parse_policy(options.policy);  // a bad --policy is a usage error before any work
  prepared.job = load_job_file(options.job_file);
  prepared.subtasks = expand_subtasks(prepared.job);
  check_program(prepared.job, std::filesystem::current_path());
  if (options.output) prepared.job.output = *options.output;
  prepared.output = prepared.job.output;
  if (options.resume) {
    if (!std::filesystem::exists(prepared.output)) {
      throw UsageError("--resume: results file '" + prepared.output.string() + "' does not exist (nothing to resume)");
    }
    if (io::journal_state(prepared.output) == io::JournalState::live) {
      throw UsageError("--resume: results file '" + prepared.output.string() +
                       "' is being written by another running fastgpu");
    }
    try {
      prepared.previous = io::read_results(prepared.output);
    } catch (const Error& e) {
      throw UsageError(std::string("--resume: cannot resume from '") + prepared.output.string() + "': " + e.what());
    }
    if (prepared.previous->job.spec != prepared.job.source_text && !options.force) {
      throw UsageError("--resume: job file '" + options.job_file + "' changed since '" + prepared.output.string() +
                       "' was written; pass --force to resume anyway (results are kept only for subtasks whose "
                       "id and parameters are unchanged)");
    }
    if (!options.history) {
      try {
        prepared.history = io::read_model(prepared.output);  // a finished run's model: a good prior
      } catch (const Error&) {
      }
    }
  } else if (std::filesystem::exists(prepared.output) && !options.force) {
    throw UsageError("results file '" + prepared.output.string() +
                     "' already exists; pass --resume to continue it or --force to overwrite it");
  }
  std::string deadline_warning;
  prepared.deadline = resolve_deadline(options.deadline, unix_now(), std::getenv, run_squeue, &deadline_warning);
  if (!deadline_warning.empty()) std::cerr << "fastgpu: warning: " << deadline_warning << std::endl;
  if (prepared.job.output_dir.empty()) prepared.job.output_dir = default_output_dir(prepared.job.output);
  prepared.job.output_dir = std::filesystem::absolute(prepared.job.output_dir).lexically_normal().string();
  // Subtasks are told to write there: a directory that cannot be made is a usage error, found now.
  std::error_code made;
  std::filesystem::create_directories(prepared.job.output_dir, made);
  if (made) throw UsageError("cannot create output_dir '" + prepared.job.output_dir + "': " + made.message());
  for (const InputSpec& input : prepared.job.inputs) io::check_input(input);  // a usage error before anything starts
  if (options.history) {
    try {
      prepared.history = io::read_model(*options.history);
    } catch (const IoError& e) {
      throw UsageError(std::string("--history: ") + e.what());
    }
    if (!prepared.history) {
      throw UsageError("--history: '" + *options.history + "' has no /model (not a finished FastGPU run?)");
    }
  }
  return prepared;
}

JobInfo make_job_info(const PreparedJob& prepared, double started_unix, const std::string& transport) {
  JobInfo info;
  info.name = prepared.job.name;
  info.spec = prepared.job.source_text;
  info.source_path = prepared.job.source_path;
  info.output_dir = prepared.job.output_dir;
  info.fastgpu_version = FASTGPU_VERSION;
  info.started = iso_time(started_unix);
  info.started_unix = started_unix;
  info.status = "running";
  info.transport = transport;
  return info;
}

double unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string iso_time(double unix_seconds) {
  const auto seconds = static_cast<std::time_t>(unix_seconds);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

}  // namespace fastgpu::app
