// The bad job-file corpus (tests/data/bad-jobs): every file is refused with the error its first
// line announces, at the exact line and column. See tests/data/bad-jobs/README.md.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "fastgpu/job_spec.hpp"

namespace fastgpu {
namespace {

std::filesystem::path bad_jobs_dir() {
  if (const char* data = std::getenv("FASTGPU_TEST_DATA")) return std::filesystem::path(data) / "bad-jobs";
  return std::filesystem::path(__FILE__).parent_path().parent_path().parent_path() / "data" / "bad-jobs";
}

std::vector<std::string> corpus_files() {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(bad_jobs_dir(), ec)) {
    if (entry.path().extension() == ".toml") names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

struct Expectation {
  int line = 0;
  int column = 0;
  std::string message;
};

/// The file's first line, "# expect: LINE:COLUMN: MESSAGE"; nullopt when it has none.
std::optional<Expectation> expectation(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::string first;
  std::getline(in, first);
  static const std::regex pattern(R"(^# expect: (\d+):(\d+): (.+)$)");
  std::smatch match;
  if (!std::regex_match(first, match, pattern)) return std::nullopt;
  return Expectation{std::stoi(match[1]), std::stoi(match[2]), match[3]};
}

class BadJobs : public ::testing::TestWithParam<std::string> {};

TEST_P(BadJobs, AreRefusedAtTheAnnouncedPlace) {
  const std::filesystem::path file = bad_jobs_dir() / GetParam();
  const std::optional<Expectation> expected = expectation(file);
  ASSERT_TRUE(expected) << file << ": its first line must be '# expect: LINE:COLUMN: MESSAGE'";

  const auto started = std::chrono::steady_clock::now();
  try {
    const JobSpec job = load_job_file(file);
    const std::vector<Subtask> subtasks = expand_subtasks(job);
    check_program(job, bad_jobs_dir());
    FAIL() << file << " was accepted (" << subtasks.size() << " subtasks)";
  } catch (const JobFileError& error) {
    EXPECT_EQ(error.where().file, file.string());
    EXPECT_EQ(error.where().line, expected->line) << error.what();
    EXPECT_EQ(error.where().column, expected->column) << error.what();
    EXPECT_NE(error.message().find(expected->message), std::string::npos)
        << "message: " << error.message() << "\nexpected to contain: " << expected->message;
    EXPECT_EQ(std::string(error.what()).rfind(file.string() + ":" + std::to_string(expected->line) + ":" +
                                                  std::to_string(expected->column) + ": ",
                                              0),
              0u)
        << error.what();
  }
  // Refused quickly: no sweep is expanded (or even half made) before its size is checked.
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(2));
}

INSTANTIATE_TEST_SUITE_P(Corpus, BadJobs, ::testing::ValuesIn(corpus_files()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = std::filesystem::path(info.param).stem().string();
                           for (char& c : name) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return name;
                         });

TEST(BadJobsCorpus, HasAtLeastFortyFilesEachWithAnExpectation) {
  const std::vector<std::string> files = corpus_files();
  EXPECT_GE(files.size(), 40u) << "corpus folder: " << bad_jobs_dir();
  for (const std::string& name : files) EXPECT_TRUE(expectation(bad_jobs_dir() / name)) << name;
}

}  // namespace
}  // namespace fastgpu
