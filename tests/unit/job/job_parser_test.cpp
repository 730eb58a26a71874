// Valid job files: every key read, defaults, file order.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "job_test_util.hpp"

namespace fastgpu {
namespace {

using testing::job_with;

// DESIGN.md's example, with [[tasks]] left out (a job has one or the other).
constexpr const char* kDesignExample = R"([job]
name = "sweep"                      # required
output = "results/sweep.h5"         # default <name>.h5; -o overrides

[task]                              # the template every subtask is made from
command = ["python3", "train.py", "--lr", "{lr}", "--seed", "{seed}"]   # argv, {param} placeholders
env = { OMP_NUM_THREADS = "4" }
gpus = 1                            # GPUs (worker ranks) per subtask
cost = "{epochs}"                   # relative cost estimate, number or placeholder; default 1
timeout = "10m"                     # per attempt
retries = 2                         # extra attempts after a failure

[sweep]                             # one subtask per combination (cartesian product)
lr = [0.1, 0.01]
seed = { range = [0, 8] }           # 0..7
epochs = [10, 20]
)";

TEST(ParseJob, DesignExample) {
  const JobSpec job = parse_job(kDesignExample, "jobs/sweep.toml");
  EXPECT_EQ(job.name, "sweep");
  EXPECT_EQ(job.output, "results/sweep.h5");
  EXPECT_EQ(job.output_dir, "");
  EXPECT_EQ(job.source_path, "jobs/sweep.toml");
  EXPECT_EQ(job.source_text, kDesignExample);
  EXPECT_EQ(job.task.command,
            (std::vector<std::string>{"python3", "train.py", "--lr", "{lr}", "--seed", "{seed}"}));
  EXPECT_EQ(job.task.env, (std::map<std::string, std::string>{{"OMP_NUM_THREADS", "4"}}));
  EXPECT_EQ(job.task.cwd, "");
  EXPECT_EQ(job.task.gpus, 1);
  EXPECT_EQ(job.task.cost, "{epochs}");
  EXPECT_EQ(job.task.cost_where.line, 9);
  EXPECT_EQ(job.task.cost_where.column, 8);
  EXPECT_DOUBLE_EQ(job.task.timeout_s, 600);
  EXPECT_EQ(job.task.retries, 2);
  EXPECT_EQ(job.task.output_tail_bytes, 8192u);
  ASSERT_EQ(job.sweep.size(), 3u);
  EXPECT_EQ(job.sweep[0].name, "lr");
  EXPECT_EQ(job.sweep[0].values, (std::vector<ParamValue>{0.1, 0.01}));
  EXPECT_EQ(job.sweep[0].where.line, 14);
  EXPECT_EQ(job.sweep[0].where.column, 1);
  EXPECT_EQ(job.sweep[1].name, "seed");
  ASSERT_EQ(job.sweep[1].values.size(), 8u);
  EXPECT_EQ(job.sweep[1].values.front(), ParamValue{std::int64_t{0}});
  EXPECT_EQ(job.sweep[1].values.back(), ParamValue{std::int64_t{7}});
  EXPECT_EQ(job.sweep[2].name, "epochs");
  EXPECT_TRUE(job.tasks.empty());

  const std::vector<Subtask> subtasks = expand_subtasks(job);
  ASSERT_EQ(subtasks.size(), 32u);
  EXPECT_EQ(subtasks[0].id, "lr=0.1,seed=0,epochs=10");
  EXPECT_EQ(subtasks[0].name, "lr=0.1 seed=0 epochs=10");
  EXPECT_DOUBLE_EQ(subtasks[0].cost, 10);
  EXPECT_EQ(subtasks[1].id, "lr=0.1,seed=0,epochs=20");
  EXPECT_DOUBLE_EQ(subtasks[1].cost, 20);
  EXPECT_EQ(subtasks[2].id, "lr=0.1,seed=1,epochs=10");
  EXPECT_EQ(subtasks[31].id, "lr=0.01,seed=7,epochs=20");
  for (const Subtask& s : subtasks) {
    EXPECT_EQ(s.gpus, 1);
    EXPECT_DOUBLE_EQ(s.timeout_s, 600);
    EXPECT_EQ(s.retries, 2);
  }
}

TEST(ParseJob, DesignExplicitList) {
  const JobSpec job = parse_job(R"([job]
name = "sweep"
[task]
command = ["python3", "train.py", "--lr", "{lr}", "--seed", "{seed}"]
[[tasks]]
name = "first"
params = { lr = 0.1, seed = 1 }
)", "jobs/tasks.toml");
  ASSERT_EQ(job.tasks.size(), 1u);
  EXPECT_EQ(job.tasks[0].name, "first");
  EXPECT_EQ(job.tasks[0].where.line, 5);
  ASSERT_EQ(job.tasks[0].params.size(), 2u);
  EXPECT_EQ(job.tasks[0].params[0].name, "lr");
  EXPECT_EQ(job.tasks[0].params[0].value, ParamValue{0.1});
  EXPECT_EQ(job.tasks[0].params[1].name, "seed");
  EXPECT_EQ(job.tasks[0].params[1].value, ParamValue{std::int64_t{1}});
  EXPECT_TRUE(job.sweep.empty());
}

TEST(ParseJob, Defaults) {
  const JobSpec job = parse_job(job_with(R"(["true"])"), "x.toml");
  EXPECT_EQ(job.name, "x");
  EXPECT_EQ(job.output, "x.h5");
  EXPECT_EQ(job.output_dir, "");
  EXPECT_TRUE(job.task.env.empty());
  EXPECT_EQ(job.task.cwd, "");
  EXPECT_EQ(job.task.gpus, 1);
  EXPECT_EQ(job.task.cost, "1");
  EXPECT_DOUBLE_EQ(job.task.timeout_s, 0);
  EXPECT_EQ(job.task.retries, 0);
  EXPECT_EQ(job.task.output_tail_bytes, 8192u);
  EXPECT_TRUE(job.sweep.empty());
  EXPECT_TRUE(job.tasks.empty());
}

TEST(ParseJob, EveryTaskKey) {
  const JobSpec job = parse_job(R"([job]
name = "all.keys-1"
output = "out/all.h5"
output_dir = "/scratch/all"
[task]
command = ["./sim", "--out", "{output_dir}/{task_id}.{attempt}", "{{literal}}"]
cwd = "runs/{task_id}"
gpus = 4
cost = 2.5
timeout = 90
retries = 3
output_tail = 0
[task.env]
OMP_NUM_THREADS = 4
SCALE = 0.5
VERBOSE = true
NAME = "{task_id}"
)", "x.toml");
  EXPECT_EQ(job.name, "all.keys-1");
  EXPECT_EQ(job.output, "out/all.h5");
  EXPECT_EQ(job.output_dir, "/scratch/all");
  EXPECT_EQ(job.task.cwd, "runs/{task_id}");
  EXPECT_EQ(job.task.gpus, 4);
  EXPECT_EQ(job.task.cost, "2.5");
  EXPECT_DOUBLE_EQ(job.task.timeout_s, 90);
  EXPECT_EQ(job.task.retries, 3);
  EXPECT_EQ(job.task.output_tail_bytes, 0u);
  EXPECT_EQ(job.task.env, (std::map<std::string, std::string>{
                              {"NAME", "{task_id}"}, {"OMP_NUM_THREADS", "4"}, {"SCALE", "0.5"}, {"VERBOSE", "true"}}));
  const auto subtasks = expand_subtasks(job);
  ASSERT_EQ(subtasks.size(), 1u);
  EXPECT_EQ(subtasks[0].id, "all.keys-1");
  EXPECT_EQ(subtasks[0].name, "all.keys-1");
  EXPECT_TRUE(subtasks[0].params.empty());
  EXPECT_DOUBLE_EQ(subtasks[0].cost, 2.5);
  EXPECT_EQ(subtasks[0].gpus, 4);
}

TEST(ParseJob, CostForms) {
  EXPECT_EQ(parse_job(job_with(R"(["a"])", "cost = 3\n"), "x").task.cost, "3");
  EXPECT_EQ(parse_job(job_with(R"(["a"])", "cost = 0.25\n"), "x").task.cost, "0.25");
  EXPECT_EQ(parse_job(job_with(R"(["a"])", "cost = \"1e3\"\n"), "x").task.cost, "1e3");
  EXPECT_DOUBLE_EQ(expand_subtasks(parse_job(job_with(R"(["a"])", "cost = \"1e3\"\n"), "x"))[0].cost, 1000);
  // A template may combine parameters with text, as long as it renders to a number.
  const JobSpec job = parse_job(job_with(R"(["a"])", "cost = \"{n}.5\"\n[sweep]\nn = [1, 2]\n"), "x");
  const auto subtasks = expand_subtasks(job);
  EXPECT_DOUBLE_EQ(subtasks[0].cost, 1.5);
  EXPECT_DOUBLE_EQ(subtasks[1].cost, 2.5);
}

TEST(ParseJob, TimeoutForms) {
  EXPECT_DOUBLE_EQ(parse_job(job_with(R"(["a"])", "timeout = 1.5\n"), "x").task.timeout_s, 1.5);
  EXPECT_DOUBLE_EQ(parse_job(job_with(R"(["a"])", "timeout = \"1h30m\"\n"), "x").task.timeout_s, 5400);
  EXPECT_DOUBLE_EQ(parse_job(job_with(R"(["a"])", "timeout = \"2:00:00\"\n"), "x").task.timeout_s, 7200);
  EXPECT_DOUBLE_EQ(parse_job(job_with(R"(["a"])", "timeout = \"90\"\n"), "x").task.timeout_s, 90);
}

TEST(ParseJob, KeysInFileOrderNotAlphabetical) {
  const JobSpec job = parse_job(job_with(R"(["a", "{z}", "{a}", "{m}"])", "[sweep]\nz = [1]\na = [2]\nm = [3]\n"), "x");
  ASSERT_EQ(job.sweep.size(), 3u);
  EXPECT_EQ(job.sweep[0].name, "z");
  EXPECT_EQ(job.sweep[1].name, "a");
  EXPECT_EQ(job.sweep[2].name, "m");
  EXPECT_EQ(expand_subtasks(job)[0].id, "z=1,a=2,m=3");
}

TEST(ParseJob, SweepAxesAsSubtables) {
  const JobSpec job = parse_job(job_with(R"(["a", "{seed}", "{lr}"])", R"([sweep.seed]
range = [0, 3]
[sweep]
lr = [0.5]
)"),
                                "x");
  ASSERT_EQ(job.sweep.size(), 2u);
  EXPECT_EQ(job.sweep[0].name, "seed");
  EXPECT_EQ(job.sweep[0].values.size(), 3u);
  EXPECT_EQ(job.sweep[1].name, "lr");
}

TEST(ParseJob, InlineTaskList) {
  const JobSpec job = parse_job(
      "tasks = [{ name = \"a\", params = { n = 1 } }, { params = { n = 2 } }]\n" + job_with(R"(["a", "{n}"])"), "x");
  const auto subtasks = expand_subtasks(job);
  ASSERT_EQ(subtasks.size(), 2u);
  EXPECT_EQ(subtasks[0].id, "a");
  EXPECT_EQ(subtasks[1].id, "n=2");
}

TEST(ParseJob, EmptySweepTableMeansOneSubtask) {
  const JobSpec job = parse_job(job_with(R"(["a"])", "[sweep]\n"), "x");
  EXPECT_TRUE(job.sweep.empty());
  ASSERT_EQ(expand_subtasks(job).size(), 1u);
}

TEST(ParseJob, MixedTypeSweepValues) {
  const JobSpec job = parse_job(job_with(R"(["a", "{v}"])", "[sweep]\nv = [1, 1.0, true, \"x\"]\n"), "x");
  const auto subtasks = expand_subtasks(job);
  ASSERT_EQ(subtasks.size(), 4u);
  EXPECT_EQ(subtasks[0].id, "v=1");
  EXPECT_EQ(subtasks[1].id, "v=1.0");
  EXPECT_EQ(subtasks[2].id, "v=true");
  EXPECT_EQ(subtasks[3].id, "v=x");
  EXPECT_EQ(params_json(subtasks[1]), R"({"v":1.0})");
  EXPECT_EQ(params_json(subtasks[3]), R"({"v":"x"})");
}

TEST(ParseJob, UnicodeAndEscapesInStrings) {
  const JobSpec job = parse_job(job_with(R"(["echo", "caf\u00e9", 'C:\path', "tab\there"])"), "x");
  EXPECT_EQ(job.task.command[1], "caf\xc3\xa9");
  EXPECT_EQ(job.task.command[2], "C:\\path");
  EXPECT_EQ(job.task.command[3], "tab\there");
}

class TempDir : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("fastgpu_job_test_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

using LoadJobFile = TempDir;

TEST_F(LoadJobFile, ReadsTextAndPath) {
  const std::filesystem::path path = dir_ / "job.toml";
  const std::string text = job_with(R"(["true"])");
  std::ofstream(path) << text;
  const JobSpec job = load_job_file(path);
  EXPECT_EQ(job.source_path, path.string());
  EXPECT_EQ(job.source_text, text);
  EXPECT_EQ(job.name, "x");
}

TEST_F(LoadJobFile, ErrorsNameTheFile) {
  const std::filesystem::path path = dir_ / "bad.toml";
  std::ofstream(path) << job_with(R"(["true"])", "gpu = 1\n");
  try {
    load_job_file(path);
    FAIL();
  } catch (const JobFileError& error) {
    EXPECT_EQ(std::string(error.what()), path.string() + ":5:1: unknown key 'gpu' (did you mean 'gpus'?)");
  }
}

TEST_F(LoadJobFile, MissingFile) {
  const std::filesystem::path path = dir_ / "missing.toml";
  try {
    load_job_file(path);
    FAIL();
  } catch (const JobFileError& error) {
    EXPECT_EQ(error.where().file, path.string());
    EXPECT_EQ(error.where().line, 0);
    EXPECT_EQ(std::string(error.what()), path.string() + ": cannot read job file: No such file or directory");
  }
}

TEST_F(LoadJobFile, Directory) {
  try {
    load_job_file(dir_);
    FAIL();
  } catch (const JobFileError& error) {
    EXPECT_EQ(std::string(error.what()), dir_.string() + ": cannot read job file: it is a directory");
  }
}

TEST(LoadJobFileData, FixturesParse) {
  const JobSpec sweep = load_job_file(testing::job_data_dir() / "sweep.toml");
  EXPECT_EQ(expand_subtasks(sweep).size(), 16u);
  const JobSpec tasks = load_job_file(testing::job_data_dir() / "tasks.toml");
  const auto subtasks = expand_subtasks(tasks);
  ASSERT_EQ(subtasks.size(), 2u);
  EXPECT_EQ(subtasks[0].id, "first");
  EXPECT_EQ(subtasks[1].id, "lr=0.01,seed=2");  // params in the order of first appearance
}

}  // namespace
}  // namespace fastgpu
