// check_program: command[0] must name something that can run, checked before anything runs.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "job_test_util.hpp"

namespace fastgpu {
namespace {

using testing::job_with;

class CheckProgram : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::temp_directory_path() / ("fastgpu_check_program_" + std::string(info->name()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_ / "bin");
    std::filesystem::create_directories(dir_ / "work");
    make_file("bin/tool", 0755);
    make_file("bin/plain", 0644);
    make_file("work/run.sh", 0755);
    make_file("run.sh", 0755);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void make_file(const std::string& name, mode_t mode) const {
    std::ofstream(dir_ / name) << "#!/bin/sh\n";
    ::chmod((dir_ / name).c_str(), mode);
  }

  /// check_program's message, or "ok"; PATH is only dir_/bin.
  std::string check(std::string_view command, std::string_view rest = {}) const {
    try {
      const JobSpec job = parse_job(job_with(command, rest), "jobs/x.toml");
      const std::string search = (dir_ / "bin").string();
      check_program(job, dir_, search.c_str());
    } catch (const JobFileError& error) {
      return error.what();
    }
    return "ok";
  }

  std::filesystem::path dir_;
};

TEST_F(CheckProgram, FindsNamesInThePathAndPathsFromTheLaunchDirectory) {
  EXPECT_EQ(check(R"(["tool", "x"])"), "ok");
  EXPECT_EQ(check(R"(["./run.sh"])"), "ok");
  EXPECT_EQ(check(R"(["bin/tool"])"), "ok");
  EXPECT_EQ(check(R"([")" + (dir_ / "bin/tool").string() + R"("])"), "ok");
}

TEST_F(CheckProgram, ReportsANameMissingFromThePathAtCommandZero) {
  EXPECT_EQ(check(R"(["tol", "x"])"),
            "jobs/x.toml:4:12: program 'tol' was not found in PATH; give its path (e.g. \"./tol\") or fix PATH (PATH=" +
                (dir_ / "bin").string() + ")");
  EXPECT_EQ(check(R"(["plain"])"),
            "jobs/x.toml:4:12: program 'plain' was not found in PATH (a file of that name is there, but not "
            "executable); give its path (e.g. \"./plain\") or fix PATH (PATH=" +
                (dir_ / "bin").string() + ")");
}

TEST_F(CheckProgram, ReportsMissingDirectoryAndNotExecutablePaths) {
  EXPECT_EQ(check(R"(["./nope.sh"])"),
            "jobs/x.toml:4:12: program './nope.sh' does not exist (looked for " + (dir_ / "nope.sh").string() + ")");
  EXPECT_EQ(check(R"(["bin"])"),
            "jobs/x.toml:4:12: program 'bin' was not found in PATH; give its path (e.g. \"./bin\") or fix PATH (PATH=" +
                (dir_ / "bin").string() + ")");
  EXPECT_EQ(check(R"(["./bin"])"),
            "jobs/x.toml:4:12: program './bin' is a directory (" + (dir_ / "bin").string() + "), not a program");
  EXPECT_EQ(check(R"(["bin/plain"])"),
            "jobs/x.toml:4:12: program 'bin/plain' is not executable (" + (dir_ / "bin/plain").string() +
                "): make it so with chmod +x, or name its interpreter first, e.g. [\"sh\", \"bin/plain\", ...]");
}

TEST_F(CheckProgram, ResolvesRelativePathsFromAFixedCwd) {
  EXPECT_EQ(check(R"(["./run.sh"])", "cwd = \"work\"\n"), "ok");
  EXPECT_EQ(check(R"(["./tool"])", "cwd = \"bin\"\n"), "ok");
  EXPECT_EQ(check(R"(["./tool"])", "cwd = \"work\"\n"),
            "jobs/x.toml:4:12: program './tool' does not exist (looked for " + (dir_ / "work/tool").string() + ")");
  // A name without '/' is looked up in PATH whatever the cwd.
  EXPECT_EQ(check(R"(["tool"])", "cwd = \"work\"\n"), "ok");
}

TEST_F(CheckProgram, SkipsWhatOnlyEachSubtaskKnows) {
  EXPECT_EQ(check(R"(["{prog}"])", "[sweep]\nprog = [\"nope\"]\n"), "ok");
  EXPECT_EQ(check(R"(["bin/{prog}"])", "[sweep]\nprog = [\"nope\"]\n"), "ok");
  EXPECT_EQ(check(R"(["./nope.sh"])", "cwd = \"work/{seed}\"\n[sweep]\nseed = [1]\n"), "ok");
}

TEST_F(CheckProgram, EscapedBracesAreLiteral) {
  EXPECT_EQ(check(R"(["no{{such}}"])"),
            "jobs/x.toml:4:12: program 'no{such}' was not found in PATH; give its path (e.g. \"./no{such}\") or fix "
            "PATH (PATH=" +
                (dir_ / "bin").string() + ")");
}

TEST_F(CheckProgram, AnEmptyPathEntryIsTheLaunchDirectory) {
  try {
    check_program(parse_job(job_with(R"(["run.sh"])"), "jobs/x.toml"), dir_, "/nonexistent:");
  } catch (const JobFileError& error) {
    FAIL() << error.what();
  }
}

TEST(CheckProgramLocation, PointsAtTheFileWhenTheJobWasBuiltInCode) {
  JobSpec job;
  job.source_path = "built.toml";
  job.task.command = {"/nonexistent/fastgpu/tool"};
  try {
    check_program(job, "/");
    FAIL();
  } catch (const JobFileError& error) {
    EXPECT_EQ(error.where().file, "built.toml");
    EXPECT_EQ(error.where().line, 0);
  }
}

}  // namespace
}  // namespace fastgpu
