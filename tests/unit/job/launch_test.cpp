// render_launch: parameters and built-ins substituted literally; nothing is ever given to a shell.
#include <gtest/gtest.h>

#include "job_test_util.hpp"

namespace fastgpu {
namespace {

using testing::job_with;

TEST(DefaultOutputDir, StripsTheHdf5Suffix) {
  EXPECT_EQ(default_output_dir("results/x.h5"), "results/x.outputs");
  EXPECT_EQ(default_output_dir("x.hdf5"), "x.outputs");
  EXPECT_EQ(default_output_dir("x.H5"), "x.outputs");
  EXPECT_EQ(default_output_dir("/abs/run.1.h5"), "/abs/run.1.outputs");
  EXPECT_EQ(default_output_dir("results/x"), "results/x.outputs");
  EXPECT_EQ(default_output_dir("x.h5.bak"), "x.h5.bak.outputs");
}

TEST(RenderLaunch, ParametersAndBuiltins) {
  const JobSpec job = parse_job(job_with(R"(["python3", "train.py", "--lr={lr}", "--seed", "{seed}",
             "--out", "{output_dir}/{task_id}/attempt-{attempt}", "{{not}}"])",
                                         "env = { SEED = \"{seed}\", THREADS = 4, ID = \"{task_id}\" }\n"
                                         "cwd = \"runs/{lr}\"\n"
                                         "[sweep]\nlr = [0.1, 0.01]\nseed = { range = [0, 3] }\n"),
                                "jobs/x.toml");
  const auto subtasks = expand_subtasks(job);
  ASSERT_EQ(subtasks.size(), 6u);
  const LaunchSpec launch = render_launch(job, subtasks[4], 2);
  EXPECT_EQ(launch.argv, (std::vector<std::string>{"python3", "train.py", "--lr=0.01", "--seed", "1", "--out",
                                                   "x.outputs/lr=0.01,seed=1/attempt-2", "{not}"}));
  EXPECT_EQ(launch.env, (std::vector<std::pair<std::string, std::string>>{
                            {"ID", "lr=0.01,seed=1"}, {"SEED", "1"}, {"THREADS", "4"}}));
  EXPECT_EQ(launch.cwd, "runs/0.01");
  EXPECT_EQ(render_launch(job, subtasks[0], 0).argv[6], "x.outputs/lr=0.1,seed=0/attempt-0");
}

TEST(RenderLaunch, OutputDirFromTheJob) {
  JobSpec job = parse_job(job_with(R"(["run", "{output_dir}"])"), "x.toml");
  const Subtask subtask = expand_subtasks(job).at(0);
  EXPECT_EQ(render_launch(job, subtask, 0).argv[1], "x.outputs");
  job.output = "results/big.hdf5";
  EXPECT_EQ(render_launch(job, subtask, 0).argv[1], "results/big.outputs");
  job.output_dir = "/scratch/me/run";
  EXPECT_EQ(render_launch(job, subtask, 0).argv[1], "/scratch/me/run");
  EXPECT_EQ(render_launch(job, subtask, 0).cwd, "");
  EXPECT_TRUE(render_launch(job, subtask, 0).env.empty());
}

TEST(RenderLaunch, OutputDirSetInTheFile) {
  const JobSpec job =
      parse_job("[job]\nname = \"x\"\noutput_dir = \"out/{{raw}}\"\n[task]\ncommand = [\"run\", \"{output_dir}\"]\n",
                "x.toml");
  // output_dir is a path, not a template: its braces reach the command unchanged.
  EXPECT_EQ(render_launch(job, expand_subtasks(job).at(0), 0).argv[1], "out/{{raw}}");
}

TEST(RenderLaunch, InjectionStaysInsideItsArgument) {
  const JobSpec job = parse_job(job_with(R"(["python3", "run.py", "--name", "{name}", "--tag={name}"])",
                                         "env = { NAME = \"{name}\" }\ncwd = \"{name}\"\n[[tasks]]\nname = \"evil\"\n"
                                         "params = { name = \"; touch X && $(id) `id` | cat > /tmp/y {name} '\\\"\" }\n"),
                                "x.toml");
  const std::string evil = "; touch X && $(id) `id` | cat > /tmp/y {name} '\"";
  const auto subtasks = expand_subtasks(job);
  ASSERT_EQ(subtasks.size(), 1u);
  const LaunchSpec launch = render_launch(job, subtasks[0], 0);
  ASSERT_EQ(launch.argv.size(), 5u);  // no splitting on spaces or ';'
  EXPECT_EQ(launch.argv[3], evil);
  EXPECT_EQ(launch.argv[4], "--tag=" + evil);
  EXPECT_EQ(launch.env, (std::vector<std::pair<std::string, std::string>>{{"NAME", evil}}));
  EXPECT_EQ(launch.cwd, evil);
}

TEST(RenderLaunch, SweepValuesWithShellSyntax) {
  const JobSpec job = parse_job(job_with(R"(["echo", "{v}"])", "[sweep]\nv = [\"$(id)\", \"a;b\", \"*\"]\n"), "x.toml");
  const auto subtasks = expand_subtasks(job);
  ASSERT_EQ(subtasks.size(), 3u);
  EXPECT_EQ(render_launch(job, subtasks[0], 0).argv, (std::vector<std::string>{"echo", "$(id)"}));
  EXPECT_EQ(render_launch(job, subtasks[1], 0).argv, (std::vector<std::string>{"echo", "a;b"}));
  EXPECT_EQ(render_launch(job, subtasks[2], 0).argv, (std::vector<std::string>{"echo", "*"}));
}

TEST(RenderLaunch, MissingParameterInAHandBuiltJob) {
  JobSpec job;
  job.name = "built";
  job.source_path = "built.toml";
  job.task.command = {"echo", "{missing}"};
  Subtask subtask;
  subtask.id = "s1";
  try {
    render_launch(job, subtask, 0);
    FAIL();
  } catch (const JobFileError& error) {
    EXPECT_STREQ(error.what(), "built.toml: no value for placeholder '{missing}' in command for subtask 's1'");
  }
}

}  // namespace
}  // namespace fastgpu
