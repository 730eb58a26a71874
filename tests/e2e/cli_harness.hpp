// Runs the real `fastgpu` binary (optionally under mpiexec) in a scratch directory and reads the
// results file it writes.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "worker/command_runner.hpp"

namespace fastgpu::e2e {

struct CliRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = std::string(info->test_suite_name()) + "_" + info->name();
    for (char& c : name) {
      if (c == '/') c = '_';
    }
    // The pid keeps concurrent runs of the suite (two build trees, CI beside a developer) apart.
    dir_ = std::filesystem::temp_directory_path() / ("fastgpu_e2e_" + name + "_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    if (!HasFailure()) std::filesystem::remove_all(dir_);
  }

  std::filesystem::path path(const std::string& name) const { return dir_ / name; }

  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(dir_ / name) << text;
    return (dir_ / name).string();
  }

  /// `fastgpu ARGS...` in the scratch directory (or `cwd`).
  CliRun fastgpu(std::vector<std::string> args, const std::string& cwd = "") const {
    args.insert(args.begin(), FASTGPU_BINARY);
    return exec(args, cwd);
  }

  /// `mpiexec -n RANKS --oversubscribe fastgpu ARGS...`.
  CliRun mpi_fastgpu(int ranks, std::vector<std::string> args, const std::string& cwd = "") const {
    std::vector<std::string> argv = {MPIEXEC_BINARY, "-n", std::to_string(ranks), "--oversubscribe", FASTGPU_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    return exec(argv, cwd);
  }

  CliRun exec(const std::vector<std::string>& argv, const std::string& cwd = "") const {
    worker::CommandOptions options;
    options.tail_bytes = 1 << 20;
    options.timeout_s = 120;
    auto result = worker::run_command({argv, {}, cwd.empty() ? dir_.string() : cwd}, options);
    EXPECT_NE(result.status, AttemptStatus::timed_out) << "command timed out";
    return {result.exit_code, result.stdout_tail, result.stderr_tail};
  }

  std::filesystem::path dir_;
};

}  // namespace fastgpu::e2e
