// expand_subtasks: product order, ranges, ids, names, costs.
#include <gtest/gtest.h>

#include <set>

#include "job/subtask_id.hpp"
#include "job_test_util.hpp"

namespace fastgpu {
namespace {

using testing::job_with;

std::vector<Subtask> expand(const std::string& sweep_or_tasks, const std::string& command = R"(["run"])") {
  return expand_subtasks(parse_job(job_with(command, sweep_or_tasks), "x.toml"));
}

std::vector<std::string> ids(const std::vector<Subtask>& subtasks) {
  std::vector<std::string> out;
  for (const Subtask& s : subtasks) out.push_back(s.id);
  return out;
}

std::vector<std::int64_t> range_of(const std::string& range) {
  const JobSpec job = parse_job(job_with(R"(["run"])", "[sweep]\nn = { range = " + range + " }\n"), "x.toml");
  std::vector<std::int64_t> out;
  for (const ParamValue& v : job.sweep.at(0).values) out.push_back(std::get<std::int64_t>(v));
  return out;
}

TEST(Expand, LastAxisVariesFastest) {
  const auto subtasks = expand("[sweep]\na = [1, 2]\nb = [\"x\", \"y\", \"z\"]\nc = [true, false]\n");
  EXPECT_EQ(ids(subtasks), (std::vector<std::string>{
                               "a=1,b=x,c=true", "a=1,b=x,c=false", "a=1,b=y,c=true", "a=1,b=y,c=false",
                               "a=1,b=z,c=true", "a=1,b=z,c=false", "a=2,b=x,c=true", "a=2,b=x,c=false",
                               "a=2,b=y,c=true", "a=2,b=y,c=false", "a=2,b=z,c=true", "a=2,b=z,c=false"}));
  ASSERT_EQ(subtasks[3].params.size(), 3u);
  EXPECT_EQ(subtasks[3].params[0].name, "a");
  EXPECT_EQ(subtasks[3].params[0].value, ParamValue{std::int64_t{1}});
  EXPECT_EQ(subtasks[3].params[1].name, "b");
  EXPECT_EQ(subtasks[3].params[1].value, ParamValue{std::string("y")});
  EXPECT_EQ(subtasks[3].params[2].name, "c");
  EXPECT_EQ(subtasks[3].params[2].value, ParamValue{false});
  EXPECT_EQ(subtasks[3].name, "a=1 b=y c=false");
}

TEST(Expand, ProductSize) {
  EXPECT_EQ(expand("[sweep]\na = { range = [0, 10] }\nb = { range = [0, 7] }\nc = [1, 2, 3]\n").size(), 210u);
  EXPECT_EQ(expand("[sweep]\na = [5]\n").size(), 1u);
}

TEST(Expand, Ranges) {
  EXPECT_EQ(range_of("[0, 8]"), (std::vector<std::int64_t>{0, 1, 2, 3, 4, 5, 6, 7}));
  EXPECT_EQ(range_of("[3, 4]"), (std::vector<std::int64_t>{3}));
  EXPECT_EQ(range_of("[-2, 2]"), (std::vector<std::int64_t>{-2, -1, 0, 1}));
  EXPECT_EQ(range_of("[0, 10, 3]"), (std::vector<std::int64_t>{0, 3, 6, 9}));
  EXPECT_EQ(range_of("[0, 9, 3]"), (std::vector<std::int64_t>{0, 3, 6}));
  EXPECT_EQ(range_of("[0, 1, 100]"), (std::vector<std::int64_t>{0}));
  EXPECT_EQ(range_of("[10, 0, -1]"), (std::vector<std::int64_t>{10, 9, 8, 7, 6, 5, 4, 3, 2, 1}));
  EXPECT_EQ(range_of("[10, 0, -4]"), (std::vector<std::int64_t>{10, 6, 2}));
  EXPECT_EQ(range_of("[-1, -7, -3]"), (std::vector<std::int64_t>{-1, -4}));
  EXPECT_EQ(range_of("[9223372036854775805, 9223372036854775807]"),
            (std::vector<std::int64_t>{9223372036854775805, 9223372036854775806}));
  EXPECT_EQ(range_of("[-9223372036854775808, -9223372036854775807]"),
            (std::vector<std::int64_t>{INT64_MIN}));
  EXPECT_EQ(range_of("[9223372036854775807, 9223372036854775806, -9223372036854775808]"),
            (std::vector<std::int64_t>{INT64_MAX}));
}

TEST(Expand, RangeIds) {
  EXPECT_EQ(ids(expand("[sweep]\nseed = { range = [2, -4, -3] }\n")),
            (std::vector<std::string>{"seed=2", "seed=-1"}));
}

TEST(Expand, IdsAreStableAndUnique) {
  const std::string text = job_with(R"(["run", "{lr}", "{seed}", "{model}"])",
                                    "[sweep]\nlr = [0.1, 0.01, 1e-5, 1.0]\nseed = { range = [0, 50] }\n"
                                    "model = [\"resnet50\", \"vit-b/16\", \"\"]\n");
  const auto first = expand_subtasks(parse_job(text, "a.toml"));
  const auto second = expand_subtasks(parse_job(text, "elsewhere/b.toml"));
  ASSERT_EQ(first.size(), 600u);
  EXPECT_EQ(ids(first), ids(second));
  const std::vector<std::string> all = ids(first);
  EXPECT_EQ(std::set<std::string>(all.begin(), all.end()).size(), all.size());
  EXPECT_EQ(first[0].id, "lr=0.1,seed=0,model=resnet50");
  EXPECT_EQ(first[0].name, "lr=0.1 seed=0 model=resnet50");
  EXPECT_EQ(first[9].id, "lr=0.1,seed=3,model=resnet50");
  EXPECT_EQ(first[150].id, "lr=0.01,seed=0,model=resnet50");
  EXPECT_EQ(first[300].id, "lr=1e-05,seed=0,model=resnet50");
  EXPECT_EQ(first[450].id, "lr=1.0,seed=0,model=resnet50");
  // '/' and the empty string are not readable: those ids hash.
  EXPECT_EQ(first[1].id.size(), 17u);
  EXPECT_EQ(first[1].id[0], 'p');
  EXPECT_EQ(first[1].name, "lr=0.1 seed=0 model=vit-b/16");
  EXPECT_EQ(first[2].name, "lr=0.1 seed=0 model=");
}

TEST(Expand, HashFallbackForUnreadableValues) {
  const auto subtasks = expand("[sweep]\npath = [\"a b\"]\n", R"(["run", "{path}"])");
  ASSERT_EQ(subtasks.size(), 1u);
  // "p" + FNV-1a 64 of {"path":"a b"}, in lower-case hex.
  EXPECT_EQ(subtasks[0].id, "pd4938bfce56950dd");
  EXPECT_EQ(subtasks[0].name, "path=a b");
  EXPECT_EQ(params_json(subtasks[0]), R"({"path":"a b"})");
}

TEST(Expand, HashFallbackForLongIds) {
  const std::string name(70, 'x');
  const auto subtasks = expand("[sweep]\nname = [\"" + name + "\"]\nseed = [1]\n");
  ASSERT_EQ(subtasks.size(), 1u);
  EXPECT_EQ(subtasks[0].id, "pcf79b2a7dab9b51a");  // "name=xxx...,seed=1" is 82 characters
  // 80 characters exactly still reads.
  const std::string shorter(68, 'x');
  EXPECT_EQ(expand("[sweep]\nname = [\"" + shorter + "\"]\nseed = [1]\n")[0].id, "name=" + shorter + ",seed=1");
}

TEST(Expand, Fnv1a) {
  EXPECT_EQ(job::fnv1a64(""), 0xcbf29ce484222325ULL);
  EXPECT_EQ(job::fnv1a64("a"), 0xaf63dc4c8601ec8cULL);
  EXPECT_EQ(job::derive_id({{"model", std::string("resnet/50")}, {"seed", std::int64_t{1}}}, "job"),
            "p1e10b78bc8cca693");
  EXPECT_EQ(job::derive_id({}, "job"), "job");
  EXPECT_EQ(job::derive_name({}, "job"), "job");
}

TEST(Expand, TaskNames) {
  EXPECT_TRUE(job::is_valid_task_name("a.b-c_d=1,e+2"));
  EXPECT_FALSE(job::is_valid_task_name(""));
  EXPECT_FALSE(job::is_valid_task_name("a b"));
  EXPECT_FALSE(job::is_valid_task_name("a/b"));
  EXPECT_FALSE(job::is_valid_task_name("."));
  EXPECT_FALSE(job::is_valid_task_name(".."));
  EXPECT_TRUE(job::is_valid_task_name("..."));
}

TEST(Expand, ExplicitTasks) {
  const auto subtasks = expand(R"([[tasks]]
name = "baseline"
params = { lr = 0.1, seed = 1 }

[[tasks]]
params = { lr = 0.5, seed = 2, note = "extra" }

[[tasks]]
params = { seed = 3, lr = 0.25 }
)",
                               R"(["run", "{lr}", "{seed}"])");
  ASSERT_EQ(subtasks.size(), 3u);
  EXPECT_EQ(subtasks[0].id, "baseline");
  EXPECT_EQ(subtasks[0].name, "baseline");
  EXPECT_EQ(params_json(subtasks[0]), R"({"lr":0.1,"seed":1})");
  EXPECT_EQ(subtasks[1].id, "lr=0.5,seed=2,note=extra");
  EXPECT_EQ(subtasks[1].name, "lr=0.5 seed=2 note=extra");
  // Parameters follow the order they first appear in, whatever order a task writes them.
  EXPECT_EQ(subtasks[2].id, "lr=0.25,seed=3");
  EXPECT_EQ(params_json(subtasks[2]), R"({"lr":0.25,"seed":3})");
}

TEST(Expand, AnExplicitTaskMayAskForItsOwnGpus) {
  const auto subtasks = expand("gpus = 2\n[[tasks]]\nname = \"wide\"\ngpus = 4\n[[tasks]]\nname = \"as_task\"\n"
                               "[[tasks]]\nname = \"one\"\ngpus = 1\n");
  ASSERT_EQ(subtasks.size(), 3u);
  EXPECT_EQ(subtasks[0].gpus, 4);
  EXPECT_EQ(subtasks[1].gpus, 2) << "[task] gpus where the entry says nothing";
  EXPECT_EQ(subtasks[2].gpus, 1);
}

TEST(Expand, ExplicitTaskWithoutParamsUsesJobName) {
  const auto subtasks = expand("[[tasks]]\n[[tasks]]\nname = \"b\"\n");
  ASSERT_EQ(subtasks.size(), 2u);
  EXPECT_EQ(subtasks[0].id, "x");
  EXPECT_EQ(subtasks[0].name, "x");
  EXPECT_EQ(subtasks[1].id, "b");
}

TEST(Expand, NoSweepNoTasksIsOneSubtask) {
  const auto subtasks = expand("gpus = 2\nretries = 1\ntimeout = \"1m\"\ncost = 7\n");
  ASSERT_EQ(subtasks.size(), 1u);
  EXPECT_EQ(subtasks[0].id, "x");
  EXPECT_EQ(subtasks[0].name, "x");
  EXPECT_TRUE(subtasks[0].params.empty());
  EXPECT_EQ(params_json(subtasks[0]), "{}");
  EXPECT_DOUBLE_EQ(subtasks[0].cost, 7);
  EXPECT_EQ(subtasks[0].gpus, 2);
  EXPECT_EQ(subtasks[0].retries, 1);
  EXPECT_DOUBLE_EQ(subtasks[0].timeout_s, 60);
}

TEST(Expand, CostPerSubtask) {
  const auto subtasks = expand("cost = \"{epochs}\"\n[sweep]\nepochs = [1, 2.5, \"4\"]\n");
  ASSERT_EQ(subtasks.size(), 3u);
  EXPECT_DOUBLE_EQ(subtasks[0].cost, 1);
  EXPECT_DOUBLE_EQ(subtasks[1].cost, 2.5);
  EXPECT_DOUBLE_EQ(subtasks[2].cost, 4);
}

TEST(Expand, CostErrorsNameTheSubtask) {
  const std::string text = job_with(R"(["run"])", "cost = \"{n}\"\n[[tasks]]\nname = \"ok\"\nparams = { n = 2 }\n"
                                                  "[[tasks]]\nname = \"bad\"\nparams = { n = -1 }\n");
  EXPECT_EQ(testing::job_error(text), "jobs/x.toml:5:8: cost for subtask 'bad' is '-1', which is not a positive number");
}

TEST(Expand, HandBuiltJobs) {
  // A JobSpec built in code (as other areas' tests do) expands the same way.
  JobSpec job;
  job.name = "built";
  job.task.command = {"echo", "{a}"};
  job.sweep = {{"a", {std::int64_t{1}, std::int64_t{2}}, {}}};
  EXPECT_EQ(ids(expand_subtasks(job)), (std::vector<std::string>{"a=1", "a=2"}));
  job.sweep[0].values.clear();
  EXPECT_THROW(expand_subtasks(job), JobFileError);
  job.sweep.clear();
  job.task.cost = "abc";
  EXPECT_THROW(expand_subtasks(job), JobFileError);
}

}  // namespace
}  // namespace fastgpu
