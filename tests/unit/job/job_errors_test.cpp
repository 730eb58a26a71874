// Every job-file mistake gives "file:line:column: message" at the offending key or value.
#include <gtest/gtest.h>

#include "job_test_util.hpp"

namespace fastgpu {
namespace {

using testing::job_error;
using testing::job_with;

struct ErrorCase {
  const char* label;
  std::string text;
  std::string expected;  ///< the whole what()
};

std::ostream& operator<<(std::ostream& out, const ErrorCase& c) { return out << c.label; }

class JobFileErrors : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(JobFileErrors, NamesThePlaceAndTheProblem) {
  EXPECT_EQ(job_error(GetParam().text), GetParam().expected);
}

const std::string kCmd = R"(["run", "{seed}"])";
const std::string kSeeds = "[sweep]\nseed = [1, 2]\n";

// clang-format off
const ErrorCase kCases[] = {
  // TOML syntax
  {"toml_syntax", "[job]\nname = \"x\n", "jobs/x.toml:2:10: invalid TOML: Error while parsing string: unescaped control characters other than TAB (U+0009) are explicitly prohibited"},
  {"toml_redefined_table", "[job]\nname = \"x\"\n[job]\n", "jobs/x.toml:3:1: invalid TOML: Error while parsing table header: cannot redefine existing table 'job'"},
  // top level
  {"unknown_top_level_table", job_with(kCmd) + "[swep]\nseed = [1]\n", "jobs/x.toml:5:2: unknown key 'swep' (did you mean 'sweep'?)"},
  {"unknown_top_level_far", "[job]\nname = \"x\"\n[task]\ncommand = [\"a\"]\n[resources]\n", "jobs/x.toml:5:2: unknown key 'resources' (known keys here: job, task, sweep, tasks, reduce, input)"},
  {"task_key_at_top_level", "gpus = 2\n" + job_with(kCmd), "jobs/x.toml:1:1: unknown key 'gpus' (it belongs in [task])"},
  {"missing_job", "[task]\ncommand = [\"a\"]\n", "jobs/x.toml:1:1: missing [job] table: every job file needs one, with at least name = \"...\""},
  {"missing_task", "[job]\nname = \"x\"\n", "jobs/x.toml:1:1: missing [task] table: it says what each subtask runs, e.g. command = [\"python3\", \"train.py\"]"},
  {"job_not_table", "job = \"x\"\n[task]\ncommand = [\"a\"]\n", "jobs/x.toml:1:7: 'job' must be a table, not a string"},
  {"sweep_and_tasks", job_with(kCmd, kSeeds + "[[tasks]]\nparams = { seed = 1 }\n"), "jobs/x.toml:7:3: a job has either a [sweep] or a [[tasks]] list, not both"},
  // [job]
  {"job_missing_name", "[job]\noutput = \"a.h5\"\n[task]\ncommand = [\"a\"]\n", "jobs/x.toml:1:1: missing required key 'name' in [job]"},
  {"job_name_type", "[job]\nname = 3\n[task]\ncommand = [\"a\"]\n", "jobs/x.toml:2:8: 'name' must be a string, not an integer"},
  {"job_name_empty", "[job]\nname = \"\"\n[task]\ncommand = [\"a\"]\n", "jobs/x.toml:2:8: 'name' must not be empty"},
  {"job_name_chars", "[job]\nname = \"my job\"\n[task]\ncommand = [\"a\"]\n", "jobs/x.toml:2:8: job name 'my job' may only contain letters, digits, '_', '.' and '-'"},
  {"job_unknown_key", "[job]\nname = \"x\"\nouput = \"a.h5\"\n[task]\ncommand = [\"a\"]\n", "jobs/x.toml:3:1: unknown key 'ouput' (did you mean 'output'?)"},
  {"job_task_key", "[job]\nname = \"x\"\ngpus = 2\n[task]\ncommand = [\"a\"]\n", "jobs/x.toml:3:1: unknown key 'gpus' (it belongs in [task])"},
  {"job_output_empty", "[job]\nname = \"x\"\noutput = \"\"\n[task]\ncommand = [\"a\"]\n", "jobs/x.toml:3:10: 'output' must not be empty (leave it out for x.h5)"},
  {"job_output_dir_type", "[job]\nname = \"x\"\noutput_dir = false\n[task]\ncommand = [\"a\"]\n", "jobs/x.toml:3:14: 'output_dir' must be a string, not a boolean"},
  // [task]
  {"task_unknown_key_gpu", job_with(kCmd, "gpu = 2\n" + kSeeds), "jobs/x.toml:5:1: unknown key 'gpu' (did you mean 'gpus'?)"},
  {"task_unknown_key_case", job_with(kCmd, "Timeout = 5\n" + kSeeds), "jobs/x.toml:5:1: unknown key 'Timeout' (did you mean 'timeout'?)"},
  {"task_job_key", job_with(kCmd, "output = \"a.h5\"\n" + kSeeds), "jobs/x.toml:5:1: unknown key 'output' (it belongs in [job])"},
  {"task_kernel", "[job]\nname = \"x\"\n[task]\nkernel = \"sleeep\"\n", "jobs/x.toml:4:10: unknown kernel 'sleeep' (did you mean 'sleep'?)"},
  {"task_kernel_args", "[job]\nname = \"x\"\n[task]\ncommand = [\"a\"]\n[task.args]\nn = 3\n", "jobs/x.toml:5:7: 'args' is for kernel subtasks (kernel = \"...\"); a command takes its arguments in 'command'"},
  {"task_missing_command", "[job]\nname = \"x\"\n[task]\ngpus = 1\n", "jobs/x.toml:3:1: missing required key 'command' in [task] (the program and its arguments, e.g. command = [\"python3\", \"train.py\", \"--seed\", \"{seed}\"])"},
  {"task_not_table", "task = [1]\n[job]\nname = \"x\"\n", "jobs/x.toml:1:8: 'task' must be a table, not an array"},
  {"task_inside_job", "[job]\nname = \"x\"\ntask = { command = [\"a\"] }\n", "jobs/x.toml:3:1: unknown key 'task' ([task] is a table of its own: start it with a [task] line, not inside another table)"},
  {"command_string", job_with("\"python3 train.py --lr 0.1\""), "jobs/x.toml:4:11: 'command' must be an array of strings (the program and its arguments, never run by a shell), not a string (write command = [\"python3\", \"train.py\", \"--lr\", \"0.1\"])"},
  {"command_empty", job_with("[]"), "jobs/x.toml:4:11: 'command' must not be empty: give the program and its arguments"},
  {"command_item_number", job_with("[\"sleep\", 5]"), "jobs/x.toml:4:21: command[1] must be a string, not an integer (quote it: every argument is text)"},
  {"command_item_table", job_with("[\"sleep\", { a = 1 }]"), "jobs/x.toml:4:21: command[1] must be a string, not a table"},
  {"command_program_empty", job_with("[\"\", \"x\"]"), "jobs/x.toml:4:12: command[0], the program to run, must not be empty"},
  {"env_not_table", job_with(kCmd, "env = \"A=1\"\n" + kSeeds), "jobs/x.toml:5:7: 'env' must be a table, not a string"},
  {"env_bad_name", job_with(kCmd, "env = { \"MY-VAR\" = \"1\" }\n" + kSeeds), "jobs/x.toml:5:9: invalid environment variable name 'MY-VAR': use letters, digits and '_', not starting with a digit"},
  {"env_bad_value", job_with(kCmd, "env = { A = [1] }\n" + kSeeds), "jobs/x.toml:5:13: env 'A' must be a string, number or boolean, not an array"},
  {"cwd_type", job_with(kCmd, "cwd = 1\n" + kSeeds), "jobs/x.toml:5:7: 'cwd' must be a string, not an integer"},
  {"gpus_zero", job_with(kCmd, "gpus = 0\n" + kSeeds), "jobs/x.toml:5:8: 'gpus' must be at least 1, not 0"},
  {"gpus_string", job_with(kCmd, "gpus = \"2\"\n" + kSeeds), "jobs/x.toml:5:8: 'gpus' must be an integer, not a string"},
  {"gpus_float", job_with(kCmd, "gpus = 2.0\n" + kSeeds), "jobs/x.toml:5:8: 'gpus' must be an integer, not a float"},
  {"gpus_huge", job_with(kCmd, "gpus = 4294967296\n" + kSeeds), "jobs/x.toml:5:8: 'gpus' is too large"},
  {"retries_negative", job_with(kCmd, "retries = -1\n" + kSeeds), "jobs/x.toml:5:11: 'retries' must be at least 0, not -1"},
  {"retries_huge", job_with(kCmd, "retries = 1001\n" + kSeeds), "jobs/x.toml:5:11: 'retries' must be at most 1000, not 1001 (more attempts will not rescue a subtask that keeps failing)"},
  {"retries_typo", job_with(kCmd, "retry = 2\n" + kSeeds), "jobs/x.toml:5:1: unknown key 'retry' (did you mean 'retries'?)"},
  {"output_tail_huge", job_with(kCmd, "output_tail = 67108865\n" + kSeeds), "jobs/x.toml:5:15: 'output_tail' must be at most 67108864, not 67108865 (64 MiB per stream is the most kept)"},
  {"timeout_negative_string", job_with(kCmd, "timeout = \"-10m\"\n" + kSeeds), "jobs/x.toml:5:11: duration '-10m' is negative; it must be greater than zero"},
  {"sweep_too_big_before_expanding", job_with(kCmd, "[sweep]\na = { range = [0, 10000000] }\nb = { range = [0, 10000000] }\n"), "jobs/x.toml:7:1: [sweep] expands to more than 10000000 subtasks, the most a job may have (the axes up to 'b' already make 100000000000000)"},
  {"retries_bool", job_with(kCmd, "retries = true\n" + kSeeds), "jobs/x.toml:5:11: 'retries' must be an integer, not a boolean"},
  {"output_tail_negative", job_with(kCmd, "output_tail = -5\n" + kSeeds), "jobs/x.toml:5:15: 'output_tail' must be at least 0, not -5"},
  {"timeout_words", job_with(kCmd, "timeout = \"10 minutes\"\n" + kSeeds), "jobs/x.toml:5:11: cannot parse duration '10 minutes' (examples: 90, 30s, 10m, 1h30m, 2:00:00)"},
  {"timeout_zero", job_with(kCmd, "timeout = 0\n" + kSeeds), "jobs/x.toml:5:11: 'timeout' must be greater than zero (leave it out for no time limit)"},
  {"timeout_zero_string", job_with(kCmd, "timeout = \"0s\"\n" + kSeeds), "jobs/x.toml:5:11: 'timeout' must be greater than zero (leave it out for no time limit)"},
  {"timeout_negative", job_with(kCmd, "timeout = -3.5\n" + kSeeds), "jobs/x.toml:5:11: 'timeout' must be greater than zero (leave it out for no time limit)"},
  {"timeout_inf", job_with(kCmd, "timeout = inf\n" + kSeeds), "jobs/x.toml:5:11: 'timeout' must be a finite duration"},
  {"timeout_bool", job_with(kCmd, "timeout = true\n" + kSeeds), "jobs/x.toml:5:11: 'timeout' must be a duration like \"10m\" or a number of seconds, not a boolean"},
  {"cost_zero", job_with(kCmd, "cost = 0\n" + kSeeds), "jobs/x.toml:5:8: 'cost' must be a positive number, not 0"},
  {"cost_negative_float", job_with(kCmd, "cost = -1.5\n" + kSeeds), "jobs/x.toml:5:8: 'cost' must be a positive number, not -1.5"},
  {"cost_bad_string", job_with(kCmd, "cost = \"big\"\n" + kSeeds), "jobs/x.toml:5:8: 'cost' must be a positive number or a template like \"{epochs}\", not 'big'"},
  {"cost_bool", job_with(kCmd, "cost = true\n" + kSeeds), "jobs/x.toml:5:8: 'cost' must be a number or a string template like \"{epochs}\", not a boolean"},
  {"cost_builtin", job_with(kCmd, "cost = \"{attempt}\"\n" + kSeeds), "jobs/x.toml:5:8: '{attempt}' cannot be used in cost: it is computed before any attempt runs, so only parameters can be used"},
  {"cost_renders_non_number", job_with(kCmd, "cost = \"{size}\"\n[sweep]\nseed = [1]\nsize = [\"big\"]\n"), "jobs/x.toml:5:8: cost for subtask 'seed=1 size=big' is 'big', which is not a positive number"},
  {"cost_renders_zero", job_with(kCmd, "cost = \"{seed}\"\n[sweep]\nseed = [1, 0]\n"), "jobs/x.toml:5:8: cost for subtask 'seed=0' is '0', which is not a positive number"},
  // placeholders
  {"placeholder_unknown", job_with(R"(["run", "--seed", "{sed}"])", "[sweep]\nlr = [0.1]\nseed = [1]\n"), "jobs/x.toml:4:29: unknown placeholder '{sed}' in command (did you mean '{seed}'?); parameters are: lr, seed"},
  {"placeholder_unknown_no_params", job_with(R"(["run", "{seed}"])"), "jobs/x.toml:4:19: unknown placeholder '{seed}' in command; the job has no parameters (built-in placeholders: {task_id}, {attempt}, {output_dir})"},
  {"placeholder_builtin_typo", job_with(R"(["run", "{taskid}"])"), "jobs/x.toml:4:19: unknown placeholder '{taskid}' in command (did you mean '{task_id}'?); the job has no parameters (built-in placeholders: {task_id}, {attempt}, {output_dir})"},
  {"placeholder_in_env", job_with(kCmd, "env = { SEED = \"{seeds}\" }\n" + kSeeds), "jobs/x.toml:5:16: unknown placeholder '{seeds}' in env 'SEED' (did you mean '{seed}'?); parameters are: seed"},
  {"placeholder_in_cwd", job_with(kCmd, "cwd = \"runs/{lr}\"\n" + kSeeds), "jobs/x.toml:5:7: unknown placeholder '{lr}' in cwd; parameters are: seed"},
  {"placeholder_in_cost", job_with(kCmd, "cost = \"{epoch}\"\n[sweep]\nseed = [1]\nepochs = [3]\n"), "jobs/x.toml:5:8: unknown placeholder '{epoch}' in cost (did you mean '{epochs}'?); parameters are: seed, epochs"},
  {"placeholder_unterminated", job_with(R"(["run", "{seed"])", kSeeds), "jobs/x.toml:4:19: unterminated placeholder '{seed' in command; write '{{' for a literal '{'"},
  {"placeholder_single_close", job_with(R"(["run", "a}b"])", kSeeds), "jobs/x.toml:4:19: single '}' in command; write '}}' for a literal '}'"},
  {"placeholder_invalid", job_with(R"(["run", "{\"a\": 1}"])", kSeeds), "jobs/x.toml:4:19: invalid placeholder '{\"a\": 1}' in command: a placeholder is a parameter name in braces, like {seed}; write '{{' and '}}' for literal braces"},
  {"placeholder_empty", job_with(R"(["run", "{}"])", kSeeds), "jobs/x.toml:4:19: empty placeholder '{}' in command: a placeholder is a parameter name in braces, like {seed}; write '{{' and '}}' for literal braces"},
  // [sweep]
  {"sweep_empty_array", job_with(kCmd, "[sweep]\nseed = []\n"), "jobs/x.toml:6:8: sweep 'seed' is empty"},
  {"sweep_empty_range", job_with(kCmd, "[sweep]\nseed = { range = [5, 5] }\n"), "jobs/x.toml:6:18: sweep 'seed' is empty: range [5, 5] has no values (stop is excluded; count down with a negative step)"},
  {"sweep_empty_range_wrong_direction", job_with(kCmd, "[sweep]\nseed = { range = [5, 0] }\n"), "jobs/x.toml:6:18: sweep 'seed' is empty: range [5, 0] has no values (stop is excluded; count down with a negative step)"},
  {"sweep_empty_negative_step", job_with(kCmd, "[sweep]\nseed = { range = [0, 5, -1] }\n"), "jobs/x.toml:6:18: sweep 'seed' is empty: range [0, 5, -1] has no values (stop is excluded; count down with a negative step)"},
  {"sweep_zero_step", job_with(kCmd, "[sweep]\nseed = { range = [0, 5, 0] }\n"), "jobs/x.toml:6:25: range step must not be zero"},
  {"sweep_range_float", job_with(kCmd, "[sweep]\nseed = { range = [0, 1.5] }\n"), "jobs/x.toml:6:22: range stop must be an integer, not a float"},
  {"sweep_range_arity", job_with(kCmd, "[sweep]\nseed = { range = [3] }\n"), "jobs/x.toml:6:18: 'range' must be [start, stop] or [start, stop, step] (stop is excluded)"},
  {"sweep_range_missing", job_with(kCmd, "[sweep.seed]\n"), "jobs/x.toml:5:1: sweep 'seed' needs range = [start, stop] or range = [start, stop, step]"},
  {"sweep_range_typo", job_with(kCmd, "[sweep]\nseed = { rnage = [0, 3] }\n"), "jobs/x.toml:6:10: unknown key 'rnage' (did you mean 'range'?)"},
  {"sweep_range_other_key", job_with(kCmd, "[sweep]\nseed = { values = [0, 3] }\n"), "jobs/x.toml:6:10: unknown key 'values' (a sweep table has only range = [start, stop] or [start, stop, step])"},
  {"sweep_scalar", job_with(kCmd, "[sweep]\nseed = 3\n"), "jobs/x.toml:6:8: sweep 'seed' must be an array of values or { range = [start, stop] }, not an integer (for a single value write seed = [3])"},
  {"sweep_scalar_string", job_with(kCmd, "[sweep]\nseed = \"a\"\n"), "jobs/x.toml:6:8: sweep 'seed' must be an array of values or { range = [start, stop] }, not a string (for a single value write seed = [\"a\"])"},
  {"sweep_nested_array", job_with(kCmd, "[sweep]\nseed = [[1, 2], [3]]\n"), "jobs/x.toml:6:9: sweep 'seed' values must be integers, floats, booleans or strings, not an array"},
  {"sweep_array_of_tables", job_with(kCmd, "[[sweep.seed]]\nv = 1\n"), "jobs/x.toml:5:1: sweep 'seed' values must be integers, floats, booleans or strings, not a table"},
  {"sweep_date", job_with(kCmd, "[sweep]\nseed = [1979-05-27]\n"), "jobs/x.toml:6:9: sweep 'seed' values must be integers, floats, booleans or strings, not a date"},
  {"sweep_nan", job_with(kCmd, "[sweep]\nseed = [1.0, nan]\n"), "jobs/x.toml:6:14: sweep 'seed' values must be finite numbers, not nan"},
  {"sweep_duplicate_value", job_with(kCmd, "[sweep]\nseed = [1, 2, 1]\n"), "jobs/x.toml:6:15: sweep 'seed' lists '1' twice; every value must read differently"},
  {"sweep_duplicate_text", job_with(kCmd, "[sweep]\nseed = [1, \"1\"]\n"), "jobs/x.toml:6:12: sweep 'seed' lists '1' twice; every value must read differently"},
  {"sweep_bad_name", job_with(kCmd, "[sweep]\n\"my-seed\" = [1]\nseed = [1]\n"), "jobs/x.toml:6:1: invalid parameter name 'my-seed': use letters, digits and '_', not starting with a digit"},
  {"sweep_digit_name", job_with(kCmd, "[sweep]\n2x = [1]\nseed = [1]\n"), "jobs/x.toml:6:1: invalid parameter name '2x': use letters, digits and '_', not starting with a digit"},
  {"sweep_builtin_name", job_with(kCmd, "[sweep]\nattempt = [1]\nseed = [1]\n"), "jobs/x.toml:6:1: 'attempt' is a built-in placeholder and cannot be a parameter name"},
  {"sweep_not_table", "sweep = [1]\n" + job_with(kCmd), "jobs/x.toml:1:9: 'sweep' must be a table, not an array"},
  {"sweep_inside_task", job_with(kCmd, "sweep = { seed = [1] }\n"), "jobs/x.toml:5:1: unknown key 'sweep' ([sweep] is a table of its own: start it with a [sweep] line, not inside another table)"},
  {"sweep_too_big", job_with(kCmd, "[sweep]\nseed = { range = [0, 100000] }\nrep = { range = [0, 1000] }\n"), "jobs/x.toml:7:1: [sweep] expands to more than 10000000 subtasks, the most a job may have (the axes up to 'rep' already make 100000000)"},
  {"sweep_range_too_big", job_with(kCmd, "[sweep]\nseed = { range = [-9223372036854775808, 9223372036854775807] }\n"), "jobs/x.toml:6:18: sweep 'seed' has 18446744073709551615 values; a job may have at most 10000000 subtasks"},
  // [[tasks]]
  {"tasks_not_array", job_with(kCmd, "[tasks]\nseed = 1\n"), "jobs/x.toml:5:1: 'tasks' must be a list of tables, written [[tasks]] (or tasks = [{ ... }]), not a table"},
  {"tasks_empty", "tasks = []\n" + job_with(R"(["run"])"), "jobs/x.toml:1:9: 'tasks' is empty: list at least one task, or leave it out"},
  {"tasks_entry_not_table", "tasks = [{ name = \"a\" }, 3]\n" + job_with(R"(["run"])"), "jobs/x.toml:1:26: each entry of 'tasks' must be a table like { name = \"a\", params = { ... } }, not an integer"},
  {"tasks_param_outside_params", job_with(kCmd, "[[tasks]]\nseed = 1\n"), "jobs/x.toml:6:1: unknown key 'seed' (parameters go in params, e.g. params = { lr = 0.1, seed = 1 })"},
  {"tasks_typo", job_with(kCmd, "[[tasks]]\nparam = { seed = 1 }\n"), "jobs/x.toml:6:1: unknown key 'param' (did you mean 'params'?)"},
  {"tasks_task_key", job_with(kCmd, "[[tasks]]\nparams = { seed = 1 }\ntimeout = 2\n"), "jobs/x.toml:7:1: unknown key 'timeout': a [[tasks]] entry has only 'name', 'params' and 'gpus'; 'timeout' belongs in [task], which every task shares"},
  {"tasks_gpus_zero", job_with(kCmd, "[[tasks]]\nparams = { seed = 1 }\ngpus = 0\n"), "jobs/x.toml:7:8: 'gpus' must be at least 1, not 0"},
  {"tasks_name_type", job_with(kCmd, "[[tasks]]\nname = 1\nparams = { seed = 1 }\n"), "jobs/x.toml:6:8: 'name' must be a string, not an integer"},
  {"tasks_name_empty", job_with(kCmd, "[[tasks]]\nname = \"\"\nparams = { seed = 1 }\n"), "jobs/x.toml:6:8: 'name' must not be empty (leave it out to name the task by its parameters)"},
  {"tasks_name_chars", job_with(kCmd, "[[tasks]]\nname = \"a b\"\nparams = { seed = 1 }\n"), "jobs/x.toml:6:8: task name 'a b' may only contain letters, digits and '_', '.', '=', '+', ',', '-'"},
  {"tasks_name_slash", job_with(kCmd, "[[tasks]]\nname = \"a/b\"\nparams = { seed = 1 }\n"), "jobs/x.toml:6:8: task name 'a/b' may only contain letters, digits and '_', '.', '=', '+', ',', '-'"},
  {"tasks_name_dotdot", job_with(kCmd, "[[tasks]]\nname = \"..\"\nparams = { seed = 1 }\n"), "jobs/x.toml:6:8: task name '..' may only contain letters, digits and '_', '.', '=', '+', ',', '-'"},
  {"tasks_duplicate_name", job_with(kCmd, "[[tasks]]\nname = \"a\"\nparams = { seed = 1 }\n[[tasks]]\nname = \"a\"\nparams = { seed = 2 }\n"), "jobs/x.toml:9:8: task name 'a' is already used at line 6; names must be unique"},
  {"tasks_duplicate_derived", job_with(kCmd, "[[tasks]]\nparams = { seed = 1 }\n[[tasks]]\nparams = { seed = 1 }\n"), "jobs/x.toml:7:1: this task has the same id 'seed=1' as the task at line 5; give one of them a different 'name' or different params"},
  {"tasks_duplicate_reordered", job_with(R"(["run", "{a}", "{b}"])", "[[tasks]]\nparams = { a = 1, b = 2 }\n[[tasks]]\nparams = { b = 2, a = 1 }\n"), "jobs/x.toml:7:1: this task has the same id 'a=1,b=2' as the task at line 5; give one of them a different 'name' or different params"},
  {"tasks_duplicate_name_vs_derived", job_with(kCmd, "[[tasks]]\nname = \"seed=1\"\nparams = { seed = 5 }\n[[tasks]]\nparams = { seed = 1 }\n"), "jobs/x.toml:8:1: this task has the same id 'seed=1' as the task at line 5; give one of them a different 'name' or different params"},
  {"tasks_duplicate_no_params", job_with(R"(["run"])", "[[tasks]]\n[[tasks]]\n"), "jobs/x.toml:6:1: this task has the same id 'x' as the task at line 5; give one of them a different 'name' or different params"},
  {"tasks_missing_param", job_with(kCmd, "[[tasks]]\nname = \"a\"\nparams = { seed = 1 }\n[[tasks]]\nname = \"b\"\nparams = { lr = 1 }\n"), "jobs/x.toml:8:1: task 'b' does not set parameter 'seed', which command uses ('{seed}'); add it to its params"},
  {"tasks_missing_param_unnamed", job_with(kCmd, "[[tasks]]\nparams = { seed = 1 }\n[[tasks]]\n"), "jobs/x.toml:7:1: task 2 of [[tasks]] does not set parameter 'seed', which command uses ('{seed}'); add it to its params"},
  {"tasks_unknown_placeholder", job_with(R"(["run", "{sede}"])", "[[tasks]]\nparams = { seed = 1, lr = 2 }\n"), "jobs/x.toml:4:19: unknown placeholder '{sede}' in command (did you mean '{seed}'?); parameters are: seed, lr"},
  {"tasks_params_type", job_with(kCmd, "[[tasks]]\nparams = [1]\n"), "jobs/x.toml:6:10: 'params' must be a table, not an array"},
  {"tasks_param_value_type", job_with(kCmd, "[[tasks]]\nparams = { seed = [1] }\n"), "jobs/x.toml:6:19: parameter 'seed' must be an integer, float, boolean or string, not an array"},
  {"tasks_param_builtin", job_with(kCmd, "[[tasks]]\nparams = { seed = 1, task_id = 2 }\n"), "jobs/x.toml:6:22: 'task_id' is a built-in placeholder and cannot be a parameter name"},
};
// clang-format on

INSTANTIATE_TEST_SUITE_P(Cases, JobFileErrors, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<ErrorCase>& info) { return std::string(info.param.label); });

TEST(JobFileError, KeepsLocationAndMessageApart) {
  try {
    parse_job(job_with(R"(["run"])", "gpu = 2\n"), "jobs/x.toml");
    FAIL() << "no error";
  } catch (const JobFileError& error) {
    EXPECT_EQ(error.where().file, "jobs/x.toml");
    EXPECT_EQ(error.where().line, 5);
    EXPECT_EQ(error.where().column, 1);
    EXPECT_EQ(error.message(), "unknown key 'gpu' (did you mean 'gpus'?)");
    EXPECT_STREQ(error.what(), "jobs/x.toml:5:1: unknown key 'gpu' (did you mean 'gpus'?)");
  }
}

TEST(JobFileError, IsAUsageError) {
  EXPECT_THROW(parse_job("[job]\n", "x.toml"), UsageError);
}

}  // namespace
}  // namespace fastgpu
