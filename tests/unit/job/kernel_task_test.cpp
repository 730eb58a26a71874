// Kernel subtasks in job files: [task] kernel = "sleep" with [task.args], checked against the
// kernel registry when the file is read (literal args) or expanded (args with placeholders).
#include <gtest/gtest.h>

#include <set>

#include "job/kernel_catalog.hpp"
#include "job_test_util.hpp"

namespace fastgpu {
namespace {

using testing::job_error;

/// A [job] and a [task] running `kernel`, then `rest` (more [task] keys, [task.args], [sweep]...).
std::string kernel_job(std::string_view kernel, std::string_view rest = {}) {
  return "[job]\nname = \"x\"\n[task]\nkernel = " + std::string(kernel) + "\n" + std::string(rest);
}

using Args = std::vector<std::pair<std::string, std::string>>;

TEST(KernelTask, LiteralArgs) {
  const JobSpec job = parse_job(kernel_job("\"sleep\"", "[task.args]\nseconds = 0.5\n"), "jobs/x.toml");
  EXPECT_EQ(job.task.kernel, "sleep");
  EXPECT_TRUE(job.task.command.empty());
  EXPECT_EQ(job.task.args, (std::map<std::string, std::string>{{"seconds", "0.5"}}));
  EXPECT_EQ(job.task.args_where.at("seconds").line, 6);
  EXPECT_EQ(job.task.args_where.at("seconds").column, 11);

  const auto subtasks = expand_subtasks(job);
  ASSERT_EQ(subtasks.size(), 1u);
  const LaunchSpec launch = render_launch(job, subtasks[0], 0);
  EXPECT_EQ(launch.kernel, "sleep");
  EXPECT_TRUE(launch.argv.empty());
  EXPECT_EQ(launch.args, (Args{{"seconds", "0.5"}}));
}

TEST(KernelTask, ArgValuesOfEveryType) {
  // Integers, floats and strings are numbers once rendered; inline and [task.args] forms alike.
  for (const char* value : {"2", "0", "1.5", "\"0.25\"", "1e-3", "\" 3 \""}) {
    const JobSpec job = parse_job(kernel_job("\"spin\"", "args = { seconds = " + std::string(value) + " }\n"), "x.toml");
    EXPECT_NO_THROW(expand_subtasks(job)) << value;
  }
  const JobSpec job = parse_job(kernel_job("\"spin\"", "args = { seconds = 2 }\n"), "x.toml");
  EXPECT_EQ(render_launch(job, expand_subtasks(job).at(0), 0).args, (Args{{"seconds", "2"}}));
}

TEST(KernelTask, NoopTakesNoArgs) {
  const JobSpec job = parse_job(kernel_job("\"noop\"", "[sweep]\ni = { range = [0, 3] }\n"), "x.toml");
  const auto subtasks = expand_subtasks(job);
  ASSERT_EQ(subtasks.size(), 3u);
  const LaunchSpec launch = render_launch(job, subtasks[2], 1);
  EXPECT_EQ(launch.kernel, "noop");
  EXPECT_TRUE(launch.args.empty());
  EXPECT_TRUE(launch.argv.empty());
  // An empty [task.args] is fine too.
  EXPECT_EQ(job_error(kernel_job("\"noop\"", "[task.args]\n")), "no error");
}

TEST(KernelTask, PlaceholdersRenderPerSubtaskAndAttempt) {
  const JobSpec job = parse_job(kernel_job("\"sleep\"", "cost = \"{s}\"\n[task.args]\nseconds = \"{s}\"\n"
                                                        "[sweep]\ns = [0.1, 2, \"3.5\"]\n"),
                                "x.toml");
  const auto subtasks = expand_subtasks(job);
  ASSERT_EQ(subtasks.size(), 3u);
  EXPECT_EQ(render_launch(job, subtasks[0], 0).args, (Args{{"seconds", "0.1"}}));
  EXPECT_EQ(render_launch(job, subtasks[1], 0).args, (Args{{"seconds", "2"}}));
  EXPECT_EQ(render_launch(job, subtasks[2], 3).args, (Args{{"seconds", "3.5"}}));
  EXPECT_EQ(subtasks[1].cost, 2);

  const JobSpec attempts = parse_job(kernel_job("\"sleep\"", "args = { seconds = \"{attempt}\" }\n"), "x.toml");
  EXPECT_EQ(render_launch(attempts, expand_subtasks(attempts).at(0), 4).args, (Args{{"seconds", "4"}}));
}

TEST(KernelTask, WithAnExplicitTaskList) {
  const JobSpec job = parse_job(kernel_job("\"spin\"", "args = { seconds = \"{t}\" }\n"
                                                       "[[tasks]]\nname = \"short\"\nparams = { t = 0.01 }\n"
                                                       "[[tasks]]\nname = \"long\"\nparams = { t = 5 }\n"),
                                "x.toml");
  const auto subtasks = expand_subtasks(job);
  ASSERT_EQ(subtasks.size(), 2u);
  EXPECT_EQ(render_launch(job, subtasks[1], 0).args, (Args{{"seconds", "5"}}));
}

TEST(KernelTask, EnvAndCwdAreAllowed) {
  const JobSpec job =
      parse_job(kernel_job("\"sleep\"", "env = { A = \"{s}\" }\ncwd = \"w/{s}\"\nargs = { seconds = \"{s}\" }\n"
                                        "[sweep]\ns = [1]\n"),
                "x.toml");
  const LaunchSpec launch = render_launch(job, expand_subtasks(job).at(0), 0);
  EXPECT_EQ(launch.kernel, "sleep");
  EXPECT_EQ(launch.env, (Args{{"A", "1"}}));
  EXPECT_EQ(launch.cwd, "w/1");
}

TEST(KernelTask, NoProgramToCheck) {
  const JobSpec job = parse_job(kernel_job("\"noop\""), "jobs/x.toml");
  EXPECT_NO_THROW(check_program(job, "/nonexistent", "/nonexistent"));
}

struct ErrorCase {
  const char* label;
  std::string text;
  std::string expected;  ///< the whole what()
};

std::ostream& operator<<(std::ostream& out, const ErrorCase& c) { return out << c.label; }

class KernelTaskErrors : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(KernelTaskErrors, NameThePlaceAndTheProblem) { EXPECT_EQ(job_error(GetParam().text), GetParam().expected); }

const std::string kSleepArgs = "[task.args]\nseconds = 1\n";

// clang-format off
const ErrorCase kCases[] = {
  // the kernel's name
  {"kernel_typo", kernel_job("\"sleeep\"", kSleepArgs), "jobs/x.toml:4:10: unknown kernel 'sleeep' (did you mean 'sleep'?)"},
  {"kernel_case", kernel_job("\"Spin\"", kSleepArgs), "jobs/x.toml:4:10: unknown kernel 'Spin' (did you mean 'spin'?)"},
  {"kernel_unknown_far", kernel_job("\"quantum_annealer\""), "jobs/x.toml:4:10: unknown kernel 'quantum_annealer' (known kernels: noop, sleep, spin, gemm, montecarlo, dp_train)"},
  {"kernel_empty", kernel_job("\"\""), "jobs/x.toml:4:10: 'kernel' must not be empty (known kernels: noop, sleep, spin, gemm, montecarlo, dp_train)"},
  {"kernel_not_string", kernel_job("3"), "jobs/x.toml:4:10: 'kernel' must be a string, not an integer"},
  {"kernel_array", kernel_job("[\"sleep\"]"), "jobs/x.toml:4:10: 'kernel' must be a string, not an array"},
  // command or kernel, exactly one
  {"kernel_and_command", kernel_job("\"noop\"", "command = [\"true\"]\n"), "jobs/x.toml:5:1: a [task] has either 'command' (a program to run) or 'kernel' (a built-in kernel), not both"},
  {"command_then_kernel", "[job]\nname = \"x\"\n[task]\ncommand = [\"true\"]\ngpus = 1\nkernel = \"noop\"\n", "jobs/x.toml:6:1: a [task] has either 'command' (a program to run) or 'kernel' (a built-in kernel), not both"},
  {"args_with_command", "[job]\nname = \"x\"\n[task]\ncommand = [\"true\"]\n[task.args]\nn = 3\n", "jobs/x.toml:5:7: 'args' is for kernel subtasks (kernel = \"...\"); a command takes its arguments in 'command'"},
  {"args_alone", "[job]\nname = \"x\"\n[task]\nargs = { seconds = 1 }\n", "jobs/x.toml:3:1: missing required key 'command' in [task] (the program and its arguments, e.g. command = [\"python3\", \"train.py\", \"--seed\", \"{seed}\"])"},
  {"kernel_in_job", "[job]\nname = \"x\"\nkernel = \"noop\"\n[task]\nkernel = \"noop\"\n", "jobs/x.toml:3:1: unknown key 'kernel' (it belongs in [task])"},
  {"args_in_tasks_entry", kernel_job("\"noop\"", "[[tasks]]\nname = \"a\"\nargs = { seconds = 1 }\n"), "jobs/x.toml:7:1: unknown key 'args': a [[tasks]] entry has only 'name', 'params' and 'gpus'; 'args' belongs in [task], which every task shares"},
  {"args_not_table", kernel_job("\"sleep\"", "args = 1\n"), "jobs/x.toml:5:8: 'args' must be a table, not an integer"},
  // which args
  {"arg_typo", kernel_job("\"sleep\"", "[task.args]\nsecond = 1\n"), "jobs/x.toml:6:1: unknown arg 'second' for kernel 'sleep' (did you mean 'seconds'?)"},
  {"arg_unknown", kernel_job("\"spin\"", "[task.args]\nseconds = 1\nthreads = 4\n"), "jobs/x.toml:7:1: unknown arg 'threads' for kernel 'spin' (its args are: seconds)"},
  {"arg_for_noop", kernel_job("\"noop\"", "args = { seconds = 1 }\n"), "jobs/x.toml:5:10: unknown arg 'seconds' for kernel 'noop' (it takes no args: leave [task.args] out)"},
  {"arg_missing_no_table", kernel_job("\"sleep\""), "jobs/x.toml:4:10: kernel 'sleep' needs arg 'seconds' (how long it waits, in seconds): add it to [task.args], e.g. seconds = 1"},
  {"arg_missing_in_table", kernel_job("\"spin\"", "[task.args]\n"), "jobs/x.toml:5:7: kernel 'spin' needs arg 'seconds' (how long it keeps the core busy, in seconds): add it to [task.args], e.g. seconds = 1"},
  {"arg_missing_inline", kernel_job("\"spin\"", "gpus = 1\nargs = {}\n"), "jobs/x.toml:6:1: kernel 'spin' needs arg 'seconds' (how long it keeps the core busy, in seconds): add it to [task.args], e.g. seconds = 1"},
  // literal values, checked when the file is read
  {"arg_negative", kernel_job("\"sleep\"", "[task.args]\nseconds = -1\n"), "jobs/x.toml:6:11: kernel 'sleep' arg 'seconds' must be a number >= 0 (how long it waits, in seconds), not '-1'"},
  {"arg_negative_float", kernel_job("\"sleep\"", "[task.args]\nseconds = -0.5\n"), "jobs/x.toml:6:11: kernel 'sleep' arg 'seconds' must be a number >= 0 (how long it waits, in seconds), not '-0.5'"},
  {"arg_word", kernel_job("\"sleep\"", "[task.args]\nseconds = \"ten\"\n"), "jobs/x.toml:6:11: kernel 'sleep' arg 'seconds' must be a number >= 0 (how long it waits, in seconds), not 'ten'"},
  {"arg_duration_text", kernel_job("\"spin\"", "[task.args]\nseconds = \"10s\"\n"), "jobs/x.toml:6:11: kernel 'spin' arg 'seconds' must be a number >= 0 (how long it keeps the core busy, in seconds), not '10s'"},
  {"arg_bool", kernel_job("\"sleep\"", "[task.args]\nseconds = true\n"), "jobs/x.toml:6:11: kernel 'sleep' arg 'seconds' must be a number >= 0 (how long it waits, in seconds), not 'true'"},
  {"arg_escaped_braces", kernel_job("\"sleep\"", "[task.args]\nseconds = \"{{1}}\"\n"), "jobs/x.toml:6:11: kernel 'sleep' arg 'seconds' must be a number >= 0 (how long it waits, in seconds), not '{1}'"},
  {"arg_array", kernel_job("\"sleep\"", "[task.args]\nseconds = [1]\n"), "jobs/x.toml:6:11: args 'seconds' must be a string, number or boolean, not an array"},
  {"arg_nan", kernel_job("\"sleep\"", "[task.args]\nseconds = nan\n"), "jobs/x.toml:6:11: args 'seconds' must be a finite number"},
  {"arg_inf", kernel_job("\"sleep\"", "[task.args]\nseconds = inf\n"), "jobs/x.toml:6:11: args 'seconds' must be a finite number"},
  // placeholders: names checked when read, values when expanded
  {"placeholder_unknown", kernel_job("\"sleep\"", "[task.args]\nseconds = \"{sec}\"\n[sweep]\nsecs = [1]\n"), "jobs/x.toml:6:11: unknown placeholder '{sec}' in args 'seconds' (did you mean '{secs}'?); parameters are: secs"},
  {"placeholder_unterminated", kernel_job("\"sleep\"", "[task.args]\nseconds = \"{s\"\n[sweep]\ns = [1]\n"), "jobs/x.toml:6:11: unterminated placeholder '{s' in args 'seconds'; write '{{' for a literal '{'"},
  {"placeholder_renders_word", kernel_job("\"sleep\"", "[task.args]\nseconds = \"{s}\"\n[sweep]\ns = [1, \"x\"]\n"), "jobs/x.toml:6:11: kernel 'sleep' arg 'seconds' is 'x' for subtask 's=x', which is not a number >= 0 (how long it waits, in seconds)"},
  {"placeholder_renders_negative", kernel_job("\"spin\"", "args = { seconds = \"{s}\" }\n[sweep]\ns = { range = [2, -2, -1] }\n"), "jobs/x.toml:5:20: kernel 'spin' arg 'seconds' is '-1' for subtask 's=-1', which is not a number >= 0 (how long it keeps the core busy, in seconds)"},
  {"placeholder_renders_with_unit", kernel_job("\"sleep\"", "[task.args]\nseconds = \"{s}s\"\n[sweep]\ns = [1]\n"), "jobs/x.toml:6:11: kernel 'sleep' arg 'seconds' is '1s' for subtask 's=1', which is not a number >= 0 (how long it waits, in seconds)"},
  {"placeholder_task_list_missing", kernel_job("\"sleep\"", "[task.args]\nseconds = \"{t}\"\n[[tasks]]\nname = \"a\"\nparams = { t = 1 }\n[[tasks]]\nname = \"b\"\nparams = { u = 1 }\n"), "jobs/x.toml:10:1: task 'b' does not set parameter 't', which args 'seconds' uses ('{t}'); add it to its params"},
  {"placeholder_task_list_bad", kernel_job("\"sleep\"", "[task.args]\nseconds = \"{t}\"\n[[tasks]]\nname = \"a\"\nparams = { t = 1 }\n[[tasks]]\nname = \"b\"\nparams = { t = \"soon\" }\n"), "jobs/x.toml:6:11: kernel 'sleep' arg 'seconds' is 'soon' for subtask 'b', which is not a number >= 0 (how long it waits, in seconds)"},
};
// clang-format on

INSTANTIATE_TEST_SUITE_P(Cases, KernelTaskErrors, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<ErrorCase>& info) { return std::string(info.param.label); });

TEST(KernelCatalog, OneRegistryOfNamesAndArgs) {
  EXPECT_EQ(job::kernel_name_list(), "noop, sleep, spin, gemm, montecarlo, dp_train");
  std::set<std::string> names;
  for (const job::KernelSpec& kernel : job::known_kernels()) {
    EXPECT_TRUE(names.insert(kernel.name).second) << kernel.name << " is registered twice";
    EXPECT_EQ(job::find_kernel(kernel.name), &kernel);
    EXPECT_FALSE(kernel.help.empty()) << kernel.name;
    for (const job::KernelArgSpec& arg : kernel.args) {
      EXPECT_EQ(kernel.find_arg(arg.name), &arg);
      EXPECT_FALSE(arg.help.empty()) << kernel.name << " " << arg.name;
      // The example shown in "needs arg" messages is itself accepted.
      EXPECT_FALSE(job::kernel_arg_problem(arg, arg.example)) << kernel.name << " " << arg.name;
    }
  }
  EXPECT_EQ(job::find_kernel("gemm-typo"), nullptr);
  EXPECT_TRUE(job::find_kernel("noop")->args.empty());
  EXPECT_TRUE(job::find_kernel("sleep")->find_arg("seconds")->required);
}

TEST(KernelCatalog, ArgValues) {
  job::KernelArgSpec seconds{"seconds", job::KernelArgType::number, true, 0, "how long", "1"};
  for (const char* ok : {"0", "1", "0.5", "+2", " 3 ", "1e-3", "1E2", "10000000000"}) {
    EXPECT_FALSE(job::kernel_arg_problem(seconds, ok)) << ok;
  }
  for (const char* bad : {"", " ", "-1", "-0.001", "abc", "1s", "nan", "inf", "0x10", "1,5", "true"}) {
    EXPECT_EQ(job::kernel_arg_problem(seconds, bad), "a number >= 0") << bad;
  }
  EXPECT_EQ(job::kernel_arg_number(" +2.5 "), 2.5);

  job::KernelArgSpec count{"n", job::KernelArgType::integer, false, 1, "how many", "1"};
  EXPECT_FALSE(job::kernel_arg_problem(count, "3"));
  EXPECT_EQ(job::kernel_arg_problem(count, "0"), "an integer >= 1");
  EXPECT_EQ(job::kernel_arg_problem(count, "1.5"), "an integer >= 1");
  job::KernelArgSpec any{"x", job::KernelArgType::number, false};
  EXPECT_FALSE(job::kernel_arg_problem(any, "-7.5"));
  EXPECT_EQ(job::kernel_arg_problem(any, "x"), "a number");
  job::KernelArgSpec flag{"check", job::KernelArgType::boolean};
  EXPECT_FALSE(job::kernel_arg_problem(flag, "true"));
  EXPECT_EQ(job::kernel_arg_problem(flag, "yes"), "true or false");
  job::KernelArgSpec text{"label", job::KernelArgType::string};
  EXPECT_FALSE(job::kernel_arg_problem(text, ""));
}

}  // namespace
}  // namespace fastgpu
