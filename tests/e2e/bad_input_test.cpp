// End-to-end: `fastgpu validate` on every file of the bad job-file corpus (tests/data/bad-jobs)
// exits 2 with the announced FILE:LINE:COLUMN: message on stderr and nothing on stdout, never a
// crash; and `fastgpu run` refuses a job whose program cannot be found before anything runs.
#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>

#include "e2e/cli_harness.hpp"

namespace fastgpu::e2e {
namespace {

std::filesystem::path bad_jobs_dir() { return std::filesystem::path(FASTGPU_SOURCE_DIR) / "tests/data/bad-jobs"; }

std::vector<std::string> corpus_files() {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(bad_jobs_dir(), ec)) {
    if (entry.path().extension() == ".toml") names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

/// "LINE:COLUMN: MESSAGE" from the file's first line, "# expect: LINE:COLUMN: MESSAGE".
std::optional<std::string> expected_error(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::string first;
  std::getline(in, first);
  static const std::regex pattern(R"(^# expect: (\d+:\d+: .+)$)");
  std::smatch match;
  if (!std::regex_match(first, match, pattern)) return std::nullopt;
  return match[1].str();
}

class BadJobFiles : public CliTest, public ::testing::WithParamInterface<std::string> {};

TEST_P(BadJobFiles, ValidateExitsTwoWithTheMessage) {
  const std::optional<std::string> expected = expected_error(bad_jobs_dir() / GetParam());
  ASSERT_TRUE(expected) << GetParam() << ": no '# expect: LINE:COLUMN: MESSAGE' first line";
  // Run from the corpus folder with a relative file name, as a user would: relative programs are
  // looked up from there.
  const CliRun run = fastgpu({"validate", GetParam()}, bad_jobs_dir().string());
  EXPECT_EQ(run.exit_code, 2) << run.err;
  EXPECT_NE(run.err.find("fastgpu: error: " + GetParam() + ":" + *expected), std::string::npos)
      << "stderr: " << run.err << "\nexpected: " << GetParam() << ":" << *expected;
  EXPECT_EQ(run.err.find("internal error"), std::string::npos) << run.err;
  EXPECT_EQ(run.out, "");
}

INSTANTIATE_TEST_SUITE_P(Corpus, BadJobFiles, ::testing::ValuesIn(corpus_files()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = std::filesystem::path(info.param).stem().string();
                           for (char& c : name) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return name;
                         });

TEST_F(CliTest, AJobFileThatCannotBeReadIsNamedWithoutALine) {
  auto missing = fastgpu({"validate", "nope.toml"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("fastgpu: error: nope.toml: cannot read job file: No such file or directory"),
            std::string::npos)
      << missing.err;
  std::filesystem::create_directories(path("dir.toml"));
  auto directory = fastgpu({"validate", "dir.toml"});
  EXPECT_EQ(directory.exit_code, 2);
  EXPECT_NE(directory.err.find("dir.toml: cannot read job file: it is a directory"), std::string::npos)
      << directory.err;
  auto binary = fastgpu({"validate", "/bin/sh"});
  EXPECT_EQ(binary.exit_code, 2);
  EXPECT_NE(binary.err.find("/bin/sh:1:"), std::string::npos) << binary.err;
  EXPECT_EQ(binary.err.find("internal error"), std::string::npos) << binary.err;
}

TEST_F(CliTest, AMissingProgramStopsRunBeforeAnythingStarts) {
  const auto job = write("missing.toml", "[job]\nname = \"m\"\n[task]\ncommand = [\"./no-such-tool.sh\", \"{n}\"]\n"
                                         "[sweep]\nn = [1, 2]\n");
  const std::string expected = job + ":4:12: program './no-such-tool.sh' does not exist (looked for " +
                               (dir_ / "no-such-tool.sh").string() + ")";
  auto threads = fastgpu({"run", job, "--workers", "2"});
  EXPECT_EQ(threads.exit_code, 2);
  EXPECT_NE(threads.err.find(expected), std::string::npos) << threads.err;
  EXPECT_FALSE(std::filesystem::exists(path("m.h5"))) << "no results file for a job that never started";

  auto under_mpi = mpi_fastgpu(3, {"run", job});
  EXPECT_EQ(under_mpi.exit_code, 2);
  EXPECT_NE(under_mpi.err.find(expected), std::string::npos) << under_mpi.err;
  EXPECT_FALSE(std::filesystem::exists(path("m.h5")));

  // Once the program is there (from the directory run starts in), the same file runs.
  write("no-such-tool.sh", "#!/bin/sh\necho ran $1\n");
  std::filesystem::permissions(path("no-such-tool.sh"), std::filesystem::perms::owner_all);
  auto fixed = fastgpu({"run", job, "--workers", "2"});
  EXPECT_EQ(fixed.exit_code, 0) << fixed.err;
}

TEST_F(CliTest, ValidateLooksForRelativeProgramsFromWhereItRuns) {
  std::filesystem::create_directories(path("project"));
  const auto job = write("project/job.toml", "[job]\nname = \"p\"\n[task]\ncommand = [\"./tool.sh\"]\n");
  write("project/tool.sh", "#!/bin/sh\n");
  std::filesystem::permissions(path("project/tool.sh"), std::filesystem::perms::owner_all);
  EXPECT_EQ(fastgpu({"validate", "job.toml"}, path("project").string()).exit_code, 0);
  auto elsewhere = fastgpu({"validate", job});
  EXPECT_EQ(elsewhere.exit_code, 2);
  EXPECT_NE(elsewhere.err.find("program './tool.sh' does not exist"), std::string::npos) << elsewhere.err;
}

TEST_F(CliTest, AnEnormousSweepIsRefusedQuicklyWithoutExpanding) {
  std::string text = "[job]\nname = \"huge\"\n[task]\ncommand = [\"true\", \"{a}\", \"{b}\", \"{c}\", \"{d}\", \"{e}\"]\n"
                     "[sweep]\n";
  for (const char* axis : {"a", "b", "c", "d", "e"}) text += std::string(axis) + " = { range = [0, 1000] }\n";
  const auto job = write("huge.toml", text);
  const auto started = std::chrono::steady_clock::now();
  auto run = fastgpu({"run", job, "--workers", "1"});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find(job + ":8:1: [sweep] expands to more than 10000000 subtasks"), std::string::npos) << run.err;
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10));
}

}  // namespace
}  // namespace fastgpu::e2e
