// Shared helpers of the io unit tests: a scratch directory per test and sample records.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "fastgpu/results.hpp"

namespace fastgpu::io::test {

/** @brief Gives each test an empty directory, removed afterwards. */
class ScratchDir : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::temp_directory_path() /
           ("fastgpu_io_" + std::to_string(::getpid()) + "_" + info->test_suite_name() + "_" + info->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  const std::filesystem::path& dir() const { return dir_; }

 private:
  std::filesystem::path dir_;
};

/** @brief Equal, or both NaN. */
inline bool same(double a, double b) { return (std::isnan(a) && std::isnan(b)) || a == b; }

inline JobInfo sample_job() {
  JobInfo job;
  job.name = "sweep-λ";
  job.spec = "name = \"sweep\"\n[sweep]\nlr = [0.1, 0.01]\n";
  job.source_path = "/home/u/jobs/sweep.toml";
  job.output_dir = "/home/u/results/sweep";
  job.fastgpu_version = "0.1.0";
  job.started = "2024-05-01T12:00:00Z";
  job.started_unix = 1714564800.25;
  job.finished = "";
  job.status = "running";
  job.transport = "threads";
  return job;
}

inline std::vector<TaskRecord> sample_tasks(std::size_t n) {
  std::vector<TaskRecord> tasks;
  for (std::size_t i = 0; i < n; ++i) {
    TaskRecord t;
    t.id = "t" + std::to_string(i);
    t.name = i % 2 == 0 ? "" : "name " + std::to_string(i);
    t.params = R"({"lr":0.1,"i":)" + std::to_string(i) + "}";
    t.cost = 1.5 * static_cast<double>(i + 1);
    t.gpus = static_cast<std::int32_t>(i % 4 + 1);
    tasks.push_back(t);
  }
  return tasks;
}

inline AttemptRecord sample_attempt(std::int64_t task, std::int32_t n) {
  AttemptRecord a;
  a.task = task;
  a.attempt = n;
  a.worker = static_cast<std::int32_t>(task % 3);
  a.host = "node" + std::to_string(task % 2);
  a.device = "cuda:" + std::to_string(task % 4);
  a.start = 0.5 * static_cast<double>(task);
  a.end = a.start + 2;
  a.status = n == 0 ? AttemptStatus::failed : AttemptStatus::done;
  a.exit_code = n == 0 ? 3 : 0;
  a.signal = 0;
  a.predicted_s = 1.75;
  a.migrated = task % 5 == 0;
  a.error = n == 0 ? "exit code 3" : "";
  a.stdout_tail = "out " + std::to_string(task) + "\n";
  a.stderr_tail = n == 0 ? "boom\n" : "";
  a.metrics = {{"loss", 0.25 * static_cast<double>(task)}, {"acc", 0.9}};
  return a;
}

/** @brief Runs a shell command, returning its exit status and stdout. */
inline int run_command(const std::string& command, std::string* output = nullptr) {
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return -1;
  char buffer[4096];
  std::size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) {
    if (output != nullptr) output->append(buffer, n);
  }
  const int status = ::pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

inline std::string quote(const std::filesystem::path& path) {
  std::string out = "'";
  for (char c : path.string()) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace fastgpu::io::test
