// End-to-end: `fastgpu run` shows progress on stderr while it goes (plain lines when stderr is
// not a terminal, as in a Slurm output file), threads and mpiexec alike; --quiet silences it.
#include <regex>
#include <sstream>

#include "e2e/cli_harness.hpp"

namespace fastgpu::e2e {
namespace {

// 16 subtasks of 0.15 s on 2 workers: about 1.2 s.
constexpr const char* kSleepJob = R"(
[job]
name = "progress"
[task]
kernel = "sleep"
args = { seconds = "0.15" }
[sweep]
i = { range = [0, 16] }
)";

struct ProgressLine {
  std::size_t done = 0, total = 0, failed = 0, running = 0, busy = 0, workers = 0;
  std::string eta;
};

// The progress lines of `text` (docs/inspect.md gives the format); fails the test on a line that
// starts like one but does not parse.
std::vector<ProgressLine> progress_lines(const std::string& text) {
  static const std::regex format(
      R"(progress: (\d+)/(\d+) done( \([0-9.]+%\))?, (\d+) failed, (\d+) running \| ([0-9.e+-]+) subtasks/s \| )"
      R"(ETA (\S+)( \((model|rate)\))? \| GPUs busy (\d+)/(\d+) \| elapsed (\S+))");
  std::vector<ProgressLine> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("progress:", 0) != 0) continue;
    std::smatch m;
    EXPECT_TRUE(std::regex_match(line, m, format)) << line;
    if (m.empty()) continue;
    lines.push_back({std::stoul(m[1]), std::stoul(m[2]), std::stoul(m[4]), std::stoul(m[5]), std::stoul(m[10]),
                     std::stoul(m[11]), m[7]});
  }
  return lines;
}

class ProgressTest : public CliTest {};

TEST_F(ProgressTest, PlainLinesGoToStderrEveryIntervalAndTheLastOneShowsTheEnd) {
  auto run = fastgpu({"run", write("job.toml", kSleepJob), "--workers", "2", "-o", "out.h5", "--progress-interval",
                      "0.2"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.err.find('\r'), std::string::npos) << "not a terminal: no live line";
  EXPECT_EQ(run.out.find("progress:"), std::string::npos) << "progress goes to stderr";
  const auto lines = progress_lines(run.err);
  ASSERT_GE(lines.size(), 3u) << run.err;
  std::size_t previous = 0;
  for (const auto& line : lines) {
    EXPECT_EQ(line.total, 16u);
    EXPECT_GE(line.done, previous);
    EXPECT_LE(line.busy, line.workers);
    EXPECT_EQ(line.workers, 2u);
    previous = line.done;
  }
  EXPECT_EQ(lines.back().done, 16u);
  EXPECT_EQ(lines.back().running, 0u);
  EXPECT_EQ(lines.back().eta, "0.0s");
  // Every line is complete before the summary on stdout is written (the final one too).
  EXPECT_EQ(run.err.back(), '\n');
}

TEST_F(ProgressTest, TheEnvironmentSetsTheIntervalAndAShortRunInALogPrintsNone) {
  const auto job = write("job.toml", kSleepJob);
  auto run = exec({"/usr/bin/env", "FASTGPU_PROGRESS_INTERVAL=0.25", FASTGPU_BINARY, "run", job, "--workers", "2",
                   "-o", "env.h5"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_GE(progress_lines(run.err).size(), 2u) << run.err;

  // The default is 10 s: a run of about a second writes no progress line at all.
  run = fastgpu({"run", job, "--workers", "2", "-o", "default.h5"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.err.find("progress:"), std::string::npos) << run.err;

  run = exec({"/usr/bin/env", "FASTGPU_PROGRESS_INTERVAL=soon", FASTGPU_BINARY, "run", job, "--workers", "2", "-o",
              "bad.h5"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.err.find("FASTGPU_PROGRESS_INTERVAL='soon' is not a positive number"), std::string::npos) << run.err;
}

TEST_F(ProgressTest, OnATerminalOneLineIsRewrittenInPlaceAndEndedBeforeTheSummary) {
  // util-linux `script` gives the run a pseudo-terminal, so isatty(stderr) holds.
  if (exec({"sh", "-c", "command -v script"}).exit_code != 0) GTEST_SKIP() << "no `script` to make a terminal";
  const auto job = write("job.toml", kSleepJob);
  auto run = exec({"script", "-qec", std::string(FASTGPU_BINARY) + " run " + job + " --workers 2 -o tty.h5",
                   "/dev/null"});
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  const std::string& text = run.out;  // the terminal's output: stdout and stderr together
  EXPECT_NE(text.find("\r\033[Kprogress: "), std::string::npos) << text;
  // The final state, then a line end, then the summary: no summary glued to a progress line.
  const auto last = text.rfind("\r\033[Kprogress: 16/16 done (100%), 0 failed, 0 running");
  ASSERT_NE(last, std::string::npos) << text;
  const auto summary = text.find("fastgpu: finished in", last);
  ASSERT_NE(summary, std::string::npos) << text;
  const std::string between = text.substr(last, summary - last);
  EXPECT_EQ(between.find("\n"), between.size() - 1) << "exactly one line end after the last progress line";
}

TEST_F(ProgressTest, QuietWritesNoProgress) {
  auto run = fastgpu({"run", write("job.toml", kSleepJob), "--workers", "2", "-o", "out.h5", "--progress-interval",
                      "0.1", "--quiet"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.err, "");
  EXPECT_EQ(run.out, "");
}

TEST_F(ProgressTest, ABadIntervalIsAUsageError) {
  auto run = fastgpu({"run", write("job.toml", kSleepJob), "--progress-interval", "0", "-o", "out.h5"});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("--progress-interval must be a positive number"), std::string::npos) << run.err;
}

TEST_F(ProgressTest, UnderMpiexecRankZeroAloneReports) {
  auto run = mpi_fastgpu(3, {"run", write("job.toml", kSleepJob), "-o", "out.h5", "--progress-interval", "0.2"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const auto lines = progress_lines(run.err);
  ASSERT_GE(lines.size(), 2u) << run.err;
  EXPECT_EQ(lines.back().done, 16u);
  EXPECT_EQ(lines.back().workers, 2u);
  // One line per interval from one rank: at most about elapsed / 0.2 + the final line.
  EXPECT_LT(lines.size(), 40u);
}

}  // namespace
}  // namespace fastgpu::e2e
