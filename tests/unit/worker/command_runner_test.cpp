#include "worker/command_runner.hpp"

#include <gtest/gtest.h>

#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace fastgpu::worker {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

LaunchSpec launch(std::vector<std::string> argv) {
  LaunchSpec spec;
  spec.argv = std::move(argv);
  return spec;
}

CommandResult run(std::vector<std::string> argv, CommandOptions options = {}) {
  return run_command(launch(std::move(argv)), options);
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

/// Waits (without sleeping blindly) until the process `pid` is gone or a zombie; false on timeout.
bool process_ends_within(pid_t pid, int timeout_ms) {
  const long fd = ::syscall(SYS_pidfd_open, pid, 0);
  if (fd < 0) return errno == ESRCH;  // already gone
  struct pollfd pfd = {static_cast<int>(fd), POLLIN, 0};
  const int ready = ::poll(&pfd, 1, timeout_ms);
  ::close(static_cast<int>(fd));
  return ready == 1;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

/// Polls the command until `path` exists (the command signals it is ready); false on timeout.
bool wait_for_file(RunningCommand& command, const fs::path& path) {
  const auto deadline = Clock::now() + 10s;
  while (!fs::exists(path)) {
    if (Clock::now() > deadline || command.poll(10ms)) return false;
  }
  return true;
}

class CommandRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "fastgpu-worker-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = fs::canonical(pattern);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  fs::path dir_;
};

TEST_F(CommandRunnerTest, ExitZeroIsDone) {
  const auto r = run({"true"});
  EXPECT_EQ(r.status, AttemptStatus::done);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.signal, 0);
  EXPECT_EQ(r.error, "");
  EXPECT_GE(r.duration_s, 0);
  EXPECT_LT(r.duration_s, 10);
}

TEST_F(CommandRunnerTest, NonZeroExitIsFailed) {
  const auto r = run({"sh", "-c", "echo out; echo err >&2; exit 3"});
  EXPECT_EQ(r.status, AttemptStatus::failed);
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.signal, 0);
  EXPECT_EQ(r.error, "exit code 3");
  EXPECT_EQ(r.stdout_tail, "out\n");
  EXPECT_EQ(r.stderr_tail, "err\n");
}

TEST_F(CommandRunnerTest, DeathBySignal) {
  const auto r = run({"sh", "-c", "kill -9 $$"});
  EXPECT_EQ(r.status, AttemptStatus::failed);
  EXPECT_EQ(r.signal, 9);
  EXPECT_EQ(r.exit_code, 137);
  EXPECT_EQ(r.error, "killed by signal 9 (SIGKILL)");
}

TEST_F(CommandRunnerTest, TimeoutSendsTerm) {
  CommandOptions options;
  options.timeout_s = 0.3;
  const auto start = Clock::now();
  const auto r = run({"sleep", "30"}, options);
  EXPECT_EQ(r.status, AttemptStatus::timed_out);
  EXPECT_EQ(r.error, "timed out after 0.3 s");
  EXPECT_EQ(r.signal, SIGTERM);
  EXPECT_EQ(r.exit_code, 128 + SIGTERM);
  EXPECT_GE(r.duration_s, 0.3);
  EXPECT_LT(seconds_since(start), 10);
}

TEST_F(CommandRunnerTest, TimeoutKillsAfterGraceWhenTermIsIgnored) {
  CommandOptions options;
  options.timeout_s = 0.3;
  options.kill_grace_s = 0.2;
  const auto start = Clock::now();
  const auto r = run({"sh", "-c", "trap '' TERM; sleep 30"}, options);
  EXPECT_EQ(r.status, AttemptStatus::timed_out);
  EXPECT_EQ(r.error, "timed out after 0.3 s");
  EXPECT_EQ(r.signal, SIGKILL);
  EXPECT_EQ(r.exit_code, 128 + SIGKILL);
  EXPECT_GE(r.duration_s, 0.5);
  EXPECT_LT(seconds_since(start), 10);
}

TEST_F(CommandRunnerTest, TimeoutMessageFormatsWholeNumbers) {
  CommandOptions options;
  options.timeout_s = 0.25;
  EXPECT_EQ(run({"sleep", "30"}, options).error, "timed out after 0.25 s");
  // A command that ends in time is not affected by its timeout.
  options.timeout_s = 600;
  EXPECT_EQ(run({"true"}, options).status, AttemptStatus::done);
}

TEST_F(CommandRunnerTest, TerminateIsCancelledAndKillsAfterGrace) {
  CommandOptions options;
  options.kill_grace_s = 0.2;
  const fs::path ready = dir_ / "ready";
  auto command = RunningCommand::start(
      launch({"sh", "-c", "trap '' TERM; : > \"$0\"; sleep 30", ready.string()}), options);
  ASSERT_TRUE(wait_for_file(command, ready));
  const auto start = Clock::now();
  command.terminate();
  while (!command.poll(1s)) {
  }
  const auto& r = command.result();
  EXPECT_EQ(r.status, AttemptStatus::cancelled);
  EXPECT_EQ(r.error, "terminated by the worker");
  EXPECT_EQ(r.signal, SIGKILL);
  EXPECT_GE(seconds_since(start), 0.2);
  EXPECT_LT(seconds_since(start), 10);
}

TEST_F(CommandRunnerTest, TerminateStopsAPlainCommandWithTerm) {
  auto command = RunningCommand::start(launch({"sleep", "30"}), {});
  command.terminate();
  command.terminate();  // twice is harmless
  while (!command.poll(1s)) {
  }
  EXPECT_EQ(command.result().status, AttemptStatus::cancelled);
  EXPECT_EQ(command.result().signal, SIGTERM);
  command.terminate();  // after the end too
}

TEST_F(CommandRunnerTest, PollBlocksForTheWaitWhenNothingHappens) {
  auto command = RunningCommand::start(launch({"sleep", "30"}), {});
  EXPECT_FALSE(command.poll(0ms));
  const auto start = Clock::now();
  EXPECT_FALSE(command.poll(200ms));
  EXPECT_GE(seconds_since(start), 0.19);
  EXPECT_FALSE(command.finished());
  command.terminate();
  while (!command.poll(1s)) {
  }
}

TEST_F(CommandRunnerTest, OwnProcessGroup) {
  auto command = RunningCommand::start(launch({"sleep", "30"}), {});
  ASSERT_GT(command.pid(), 0);
  EXPECT_EQ(::getpgid(command.pid()), command.pid());
  EXPECT_NE(::getpgid(command.pid()), ::getpgrp());
}

TEST_F(CommandRunnerTest, ResetsBlockedAndIgnoredSignals) {
  sigset_t term, old_mask;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  ASSERT_EQ(::pthread_sigmask(SIG_BLOCK, &term, &old_mask), 0);
  struct sigaction ignore {}, old_pipe {};
  ignore.sa_handler = SIG_IGN;
  ASSERT_EQ(::sigaction(SIGPIPE, &ignore, &old_pipe), 0);

  CommandOptions options;
  options.timeout_s = 0.2;
  const auto timed = run({"sleep", "30"}, options);
  // With SIGPIPE ignored, `yes` would complain "Broken pipe" instead of dying quietly.
  const auto piped = run({"sh", "-c", "yes | head -c 10 >/dev/null"});

  ::sigaction(SIGPIPE, &old_pipe, nullptr);
  ::pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  EXPECT_EQ(timed.signal, SIGTERM);
  EXPECT_EQ(piped.status, AttemptStatus::done);
  EXPECT_EQ(piped.stderr_tail, "");
}

TEST_F(CommandRunnerTest, StdinIsDevNull) {
  CommandOptions options;
  options.timeout_s = 10;
  const auto r = run({"cat"}, options);
  EXPECT_EQ(r.status, AttemptStatus::done);
  EXPECT_EQ(r.stdout_tail, "");
}

TEST_F(CommandRunnerTest, ParsesMetricLines) {
  const auto r = run({"printf", "%s\\n", "epoch 1", "FASTGPU_METRIC loss=0.5", "  FASTGPU_METRIC acc=0.75  ",
                      "FASTGPU_METRIC broken", "FASTGPU_METRIC x=abc", "say FASTGPU_METRIC no=1",
                      "FASTGPU_METRIC val/loss=1e-3"});
  ASSERT_EQ(r.status, AttemptStatus::done);
  ASSERT_EQ(r.metrics.size(), 3u);
  EXPECT_EQ(r.metrics[0].name, "loss");
  EXPECT_DOUBLE_EQ(r.metrics[0].value, 0.5);
  EXPECT_EQ(r.metrics[1].name, "acc");
  EXPECT_DOUBLE_EQ(r.metrics[1].value, 0.75);
  EXPECT_EQ(r.metrics[2].name, "val/loss");
  EXPECT_DOUBLE_EQ(r.metrics[2].value, 1e-3);
}

TEST_F(CommandRunnerTest, MetricsOnStderrAreNotParsed) {
  const auto r = run({"sh", "-c", "echo 'FASTGPU_METRIC a=1' >&2"});
  EXPECT_TRUE(r.metrics.empty());
}

TEST_F(CommandRunnerTest, LargeOutputDoesNotDeadlockAndTailsKeepTheLastBytes) {
  CommandOptions options;
  options.tail_bytes = 64;
  options.timeout_s = 60;
  const auto r = run({"sh", "-c",
                      "head -c 1048576 /dev/zero >&2; echo 'FASTGPU_METRIC first=1';"
                      "head -c 1048576 /dev/zero | tr '\\0' x; echo;"
                      "echo 'FASTGPU_METRIC last=2'; printf 'stderr-end' >&2"},
                     options);
  ASSERT_EQ(r.status, AttemptStatus::done) << r.error;
  ASSERT_EQ(r.stdout_tail.size(), 64u);
  EXPECT_EQ(r.stdout_tail, std::string(64 - 23, 'x') + "\nFASTGPU_METRIC last=2\n");
  ASSERT_EQ(r.stderr_tail.size(), 64u);
  EXPECT_EQ(r.stderr_tail, std::string(54, '\0') + "stderr-end");
  ASSERT_EQ(r.metrics.size(), 2u);  // parsed over the whole stream, not only the tail
  EXPECT_EQ(r.metrics[0].name, "first");
  EXPECT_EQ(r.metrics[1].name, "last");
}

TEST_F(CommandRunnerTest, HugeLineWithoutNewlineIsSkipped) {
  CommandOptions options;
  options.tail_bytes = 16;
  const auto r = run({"sh", "-c",
                      "printf 'FASTGPU_METRIC huge=1'; head -c 2000000 /dev/zero | tr '\\0' 7; echo;"
                      "echo 'FASTGPU_METRIC after=3'"},
                     options);
  ASSERT_EQ(r.status, AttemptStatus::done);
  ASSERT_EQ(r.metrics.size(), 1u);
  EXPECT_EQ(r.metrics[0].name, "after");
  EXPECT_EQ(r.stdout_tail, "_METRIC after=3\n");
}

TEST_F(CommandRunnerTest, ZeroTailKeepsNoOutputButStillParsesMetrics) {
  CommandOptions options;
  options.tail_bytes = 0;
  const auto r = run({"echo", "FASTGPU_METRIC m=5"}, options);
  EXPECT_EQ(r.stdout_tail, "");
  ASSERT_EQ(r.metrics.size(), 1u);
  EXPECT_DOUBLE_EQ(r.metrics[0].value, 5);
}

TEST_F(CommandRunnerTest, EnvironmentLayers) {
  ASSERT_EQ(::setenv("FASTGPU_T_A", "worker", 1), 0);
  ASSERT_EQ(::setenv("FASTGPU_T_B", "worker", 1), 0);
  ASSERT_EQ(::setenv("FASTGPU_T_C", "worker", 1), 0);
  CommandOptions options;
  options.extra_env = {{"FASTGPU_T_B", "extra"}, {"FASTGPU_T_C", "extra"}, {"FASTGPU_T_E", "one"},
                       {"FASTGPU_T_E", "two"}};
  LaunchSpec spec = launch({"env"});
  spec.env = {{"FASTGPU_T_C", "launch"}, {"FASTGPU_T_D", "launch with spaces; $(id)"}};
  const auto r = run_command(spec, options);
  ::unsetenv("FASTGPU_T_A");
  ::unsetenv("FASTGPU_T_B");
  ::unsetenv("FASTGPU_T_C");
  ASSERT_EQ(r.status, AttemptStatus::done);

  std::vector<std::string> ours;
  std::istringstream lines(r.stdout_tail);
  bool has_path = false;
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with("FASTGPU_T_")) ours.push_back(line);
    if (line.starts_with("PATH=")) has_path = true;
  }
  std::sort(ours.begin(), ours.end());
  EXPECT_EQ(ours, (std::vector<std::string>{"FASTGPU_T_A=worker", "FASTGPU_T_B=extra", "FASTGPU_T_C=launch",
                                            "FASTGPU_T_D=launch with spaces; $(id)", "FASTGPU_T_E=two"}));
  EXPECT_TRUE(has_path);
}

TEST_F(CommandRunnerTest, RunsInTheGivenDirectory) {
  LaunchSpec spec = launch({"pwd", "-P"});
  spec.cwd = dir_.string();
  const auto r = run_command(spec, {});
  EXPECT_EQ(r.status, AttemptStatus::done);
  EXPECT_EQ(r.stdout_tail, dir_.string() + "\n");
}

TEST_F(CommandRunnerTest, RelativeProgramPathIsResolvedInTheTaskDirectory) {
  const fs::path script = dir_ / "hello.sh";
  std::ofstream(script) << "#!/bin/sh\necho hello from script\n";
  fs::permissions(script, fs::perms::owner_all);
  LaunchSpec spec = launch({"./hello.sh"});
  spec.cwd = dir_.string();
  const auto r = run_command(spec, {});
  EXPECT_EQ(r.status, AttemptStatus::done) << r.error;
  EXPECT_EQ(r.stdout_tail, "hello from script\n");
}

TEST_F(CommandRunnerTest, MissingDirectoryIsSpawnFailed) {
  LaunchSpec spec = launch({"true"});
  spec.cwd = (dir_ / "missing").string();
  auto command = RunningCommand::start(spec, {});
  EXPECT_TRUE(command.finished());
  EXPECT_EQ(command.pid(), -1);
  const auto& r = command.result();
  EXPECT_EQ(r.status, AttemptStatus::spawn_failed);
  EXPECT_NE(r.error.find(spec.cwd), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("No such file or directory"), std::string::npos) << r.error;
  EXPECT_EQ(r.exit_code, 127);
}

TEST_F(CommandRunnerTest, NotFound) {
  auto command = RunningCommand::start(launch({"fastgpu-no-such-program"}), {});
  EXPECT_TRUE(command.finished());
  EXPECT_TRUE(command.poll(1s));
  EXPECT_EQ(command.pid(), -1);
  const auto& r = command.result();
  EXPECT_EQ(r.status, AttemptStatus::spawn_failed);
  EXPECT_EQ(r.exit_code, 127);
  EXPECT_EQ(r.error, "cannot run 'fastgpu-no-such-program': No such file or directory");

  const auto by_path = run({(dir_ / "nosuch").string()});
  EXPECT_EQ(by_path.status, AttemptStatus::spawn_failed);
  EXPECT_EQ(by_path.exit_code, 127);
}

TEST_F(CommandRunnerTest, PermissionDenied) {
  const fs::path script = dir_ / "not-executable.sh";
  std::ofstream(script) << "#!/bin/sh\necho hi\n";
  fs::permissions(script, fs::perms::owner_read | fs::perms::owner_write);
  const auto r = run({script.string()});
  EXPECT_EQ(r.status, AttemptStatus::spawn_failed);
  EXPECT_EQ(r.exit_code, 126);
  EXPECT_EQ(r.error, "cannot run '" + script.string() + "': Permission denied");
}

TEST_F(CommandRunnerTest, EmptyCommandIsSpawnFailed) {
  const auto r = run({});
  EXPECT_EQ(r.status, AttemptStatus::spawn_failed);
  EXPECT_EQ(r.exit_code, 126);
}

TEST_F(CommandRunnerTest, ArgumentsReachTheProgramLiterally) {
  LaunchSpec spec = launch({"printf", "[%s]\\n", "; touch X", "$(touch Y)", "`touch Z`", "a b", "*", "&& id", ""});
  spec.cwd = dir_.string();
  const auto r = run_command(spec, {});
  EXPECT_EQ(r.status, AttemptStatus::done);
  EXPECT_EQ(r.stdout_tail, "[; touch X]\n[$(touch Y)]\n[`touch Z`]\n[a b]\n[*]\n[&& id]\n[]\n");
  EXPECT_TRUE(fs::is_empty(dir_));
}

TEST_F(CommandRunnerTest, BackgroundChildIsKilledWhenTheMainProcessExits) {
  const auto start = Clock::now();
  const auto r = run({"sh", "-c", "sleep 100 & echo $!; echo hi"});
  EXPECT_LT(seconds_since(start), 10);
  ASSERT_EQ(r.status, AttemptStatus::done);
  const auto newline = r.stdout_tail.find('\n');
  ASSERT_NE(newline, std::string::npos);
  EXPECT_EQ(r.stdout_tail.substr(newline + 1), "hi\n");
  const pid_t sleeper = std::stoi(r.stdout_tail.substr(0, newline));
  EXPECT_TRUE(process_ends_within(sleeper, 5000));
}

TEST_F(CommandRunnerTest, ExitIsNoticedAtOnceWhileABackgroundChildHoldsThePipes) {
  auto command = RunningCommand::start(launch({"sh", "-c", "sleep 100 & echo hi"}), {});
  const auto start = Clock::now();
  while (!command.poll(30s)) {
  }
  EXPECT_LT(seconds_since(start), 10);  // the exit wakes poll(), not the end of its wait
  EXPECT_EQ(command.result().stdout_tail, "hi\n");
}

TEST_F(CommandRunnerTest, MoveLeavesTheSourceEmpty) {
  auto a = RunningCommand::start(launch({"sleep", "30"}), {});
  const int pid = a.pid();
  ASSERT_GT(pid, 0);
  RunningCommand b(std::move(a));
  EXPECT_EQ(a.pid(), -1);  // NOLINT(bugprone-use-after-move): checking the moved-from state
  EXPECT_TRUE(a.finished());
  EXPECT_TRUE(a.poll(0ms));
  a.terminate();
  EXPECT_EQ(b.pid(), pid);
  EXPECT_FALSE(b.finished());

  auto c = RunningCommand::start(launch({"sleep", "30"}), {});
  const int c_pid = c.pid();
  c = std::move(b);  // c's own command is killed and reaped
  EXPECT_EQ(c.pid(), pid);
  EXPECT_EQ(b.pid(), -1);  // NOLINT(bugprone-use-after-move)
  int status = 0;
  EXPECT_EQ(::waitpid(c_pid, &status, WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD);

  c.terminate();
  while (!c.poll(1s)) {
  }
  EXPECT_EQ(c.result().status, AttemptStatus::cancelled);
}

TEST_F(CommandRunnerTest, DestructorKillsAndReapsTheGroup) {
  const fs::path pid_file = dir_ / "pid";
  pid_t pid = -1;
  {
    auto command = RunningCommand::start(
        launch({"sh", "-c", "sleep 100 & echo $! > \"$0.tmp\"; mv \"$0.tmp\" \"$0\"; wait", pid_file.string()}),
        {});
    pid = command.pid();
    ASSERT_TRUE(wait_for_file(command, pid_file));
  }
  int status = 0;
  EXPECT_EQ(::waitpid(pid, &status, WNOHANG), -1);  // reaped: no zombie left behind
  EXPECT_EQ(errno, ECHILD);
  const pid_t sleeper = std::stoi(read_file(pid_file));
  EXPECT_TRUE(process_ends_within(sleeper, 5000));
}

TEST_F(CommandRunnerTest, ManyShortCommandsInARow) {
  for (int i = 0; i < 200; ++i) {
    const auto r = run({"/bin/true"});
    ASSERT_EQ(r.status, AttemptStatus::done) << r.error;
  }
}

}  // namespace
}  // namespace fastgpu::worker
