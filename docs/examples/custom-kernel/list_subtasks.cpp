// A program linked with FastGPU::core: reads a job file as `fastgpu validate` does (its plugins
// are loaded and every kernel arg is checked) and prints one line per subtask.
//
//   build/list_subtasks job.toml
#include <exception>
#include <iostream>

#include <fastgpu/job_spec.hpp>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: list_subtasks JOB.toml\n";
    return 2;
  }
  try {
    const fastgpu::JobSpec job = fastgpu::load_job_file(argv[1]);
    for (const std::string& plugin : job.plugins) std::cout << "plugin " << plugin << "\n";
    for (const fastgpu::Subtask& subtask : fastgpu::expand_subtasks(job)) {
      std::cout << subtask.id << "  kernel " << job.task.kernel << "  " << fastgpu::params_json(subtask) << "\n";
    }
  } catch (const fastgpu::UsageError& error) {
    std::cerr << error.what() << "\n";
    return 2;
  } catch (const std::exception& error) {
    std::cerr << "error: " << error.what() << "\n";
    return 4;
  }
  return 0;
}
