// docs/job-file.md stays true: every complete job file in it parses (or fails exactly as shown).
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "job_test_util.hpp"

namespace fastgpu {
namespace {

struct Block {
  std::string language;
  std::string text;
  int line = 0;  ///< where the block starts in the page
};

std::vector<Block> fenced_blocks(const std::string& page) {
  std::vector<Block> blocks;
  std::istringstream lines(page);
  std::string line;
  int number = 0;
  Block* open = nullptr;
  while (std::getline(lines, line)) {
    ++number;
    if (line.rfind("```", 0) == 0) {
      if (open == nullptr) {
        blocks.push_back({line.substr(3), "", number});
        open = &blocks.back();
      } else {
        open = nullptr;
      }
    } else if (open != nullptr) {
      open->text += line + "\n";
    }
  }
  return blocks;
}

std::string read_page() {
  std::ifstream in(testing::repo_root() / "docs" / "job-file.md");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(DocsExamples, EveryJobFileBehavesAsShown) {
  const std::string page = read_page();
  ASSERT_FALSE(page.empty()) << "docs/job-file.md not found";
  const std::vector<Block> blocks = fenced_blocks(page);
  int files = 0, errors = 0;
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    const Block& block = blocks[i];
    if (block.language != "toml" || block.text.find("[job]") == std::string::npos) continue;
    ++files;
    // "# jobs/x.toml" on the first line names the file; a text block right after that starts
    // with that name is the error the file must give.
    std::string path = "job.toml";
    if (block.text.rfind("# ", 0) == 0) path = block.text.substr(2, block.text.find('\n') - 2);
    std::string expected = "no error";
    if (i + 1 < blocks.size() && blocks[i + 1].language == "text" && blocks[i + 1].text.rfind(path + ":", 0) == 0) {
      expected = blocks[i + 1].text.substr(0, blocks[i + 1].text.find('\n'));
      ++errors;
    }
    std::string actual = "no error";
    try {
      expand_subtasks(parse_job(block.text, path));
    } catch (const JobFileError& error) {
      actual = error.what();
    }
    EXPECT_EQ(actual, expected) << "the example at docs/job-file.md:" << block.line;
  }
  EXPECT_GE(files, 10);
  EXPECT_GE(errors, 3);
}

const JobSpec* find_job(const std::vector<JobSpec>& jobs, const std::string& name) {
  for (const JobSpec& job : jobs) {
    if (job.name == name) return &job;
  }
  return nullptr;
}

TEST(DocsExamples, WhatTheTextSays) {
  std::vector<JobSpec> jobs;
  for (const Block& block : fenced_blocks(read_page())) {
    if (block.language != "toml" || block.text.find("[job]") == std::string::npos) continue;
    try {
      jobs.push_back(parse_job(block.text, "job.toml"));
    } catch (const JobFileError&) {
    }
  }

  const JobSpec* sweep = find_job(jobs, "sweep");
  ASSERT_NE(sweep, nullptr);
  const auto subtasks = expand_subtasks(*sweep);
  ASSERT_EQ(subtasks.size(), 16u);
  EXPECT_EQ(subtasks.front().id, "lr=0.1,seed=0,epochs=10");
  EXPECT_EQ(render_launch(*sweep, subtasks.front(), 0).argv,
            (std::vector<std::string>{"python3", "train.py", "--lr", "0.1", "--seed", "0"}));
  EXPECT_EQ(render_launch(*sweep, subtasks.back(), 0).argv,
            (std::vector<std::string>{"python3", "train.py", "--lr", "0.01", "--seed", "7"}));

  const JobSpec* placeholders = find_job(jobs, "placeholders");
  ASSERT_NE(placeholders, nullptr);
  const Subtask seven = expand_subtasks(*placeholders).at(0);
  const LaunchSpec launch = render_launch(*placeholders, seven, 1);
  EXPECT_EQ(launch.argv, (std::vector<std::string>{"./run", "--seed=7", "--out", "results/ph.outputs/seed=7", "--try",
                                                   "1", "--json", "{\"seed\": 7}"}));
  EXPECT_EQ(launch.cwd, "work/7");
  EXPECT_EQ(launch.env, (std::vector<std::pair<std::string, std::string>>{{"RUN_ID", "seed=7"}}));

  const JobSpec* order = find_job(jobs, "order");
  ASSERT_NE(order, nullptr);
  std::vector<std::string> ids;
  for (const Subtask& s : expand_subtasks(*order)) ids.push_back(s.id);
  EXPECT_EQ(ids, (std::vector<std::string>{"a=1,b=x", "a=1,b=y", "a=1,b=z", "a=2,b=x", "a=2,b=y", "a=2,b=z"}));

  const JobSpec* grid = find_job(jobs, "grid");
  ASSERT_NE(grid, nullptr);
  EXPECT_EQ(expand_subtasks(*grid).size(), 2u * 3u * 5u * 2u);

  const JobSpec* env = find_job(jobs, "env");
  ASSERT_NE(env, nullptr);
  EXPECT_EQ(env->task.env.at("OMP_NUM_THREADS"), "8");
  EXPECT_EQ(env->task.env.at("SOLVER_TOLERANCE"), "1e-06");
  EXPECT_EQ(env->task.env.at("SOLVER_VERBOSE"), "true");

  const JobSpec* shards = find_job(jobs, "shards");
  ASSERT_NE(shards, nullptr);
  for (const Subtask& s : expand_subtasks(*shards)) EXPECT_EQ(s.id[0], 'p') << s.id;

  const JobSpec* ablation = find_job(jobs, "ablation");
  ASSERT_NE(ablation, nullptr);
  const auto listed = expand_subtasks(*ablation);
  ASSERT_EQ(listed.size(), 3u);
  EXPECT_EQ(listed[1].id, "lr=0.1,depth=101");
}

}  // namespace
}  // namespace fastgpu
