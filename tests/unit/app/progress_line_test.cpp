// The progress line shown while a run goes: its text (a pure function of a snapshot), the
// interval setting, the rate window, and when the reporter prints. No clocks: times are given.
#include "app/progress_line.hpp"

#include <gtest/gtest.h>

#include <regex>
#include <sstream>

namespace fastgpu::app {
namespace {

ProgressSnapshot sample() {
  ProgressSnapshot s;
  s.elapsed_s = 35;
  s.total = 1000;
  s.done = 120;
  s.failed = 2;
  s.running = 8;
  s.workers = 8;
  s.busy_workers = 7;
  s.rate_per_s = 3.4;
  s.eta_s = 252;
  s.eta_from_model = true;
  return s;
}

TEST(ProgressLine, ShowsCountsRateEtaGpusAndElapsed) {
  EXPECT_EQ(format_progress_line(sample()),
            "progress: 120/1000 done (12%), 2 failed, 8 running | 3.40 subtasks/s | ETA 4m12s (model) | "
            "GPUs busy 7/8 | elapsed 35s");
}

TEST(ProgressLine, SaysWhereTheEtaCameFromOrThatItIsNotKnownYet) {
  auto s = sample();
  s.eta_from_model = false;
  EXPECT_NE(format_progress_line(s).find("| ETA 4m12s (rate) |"), std::string::npos);
  s.eta_s.reset();
  s.rate_per_s = 0;
  EXPECT_NE(format_progress_line(s).find("| 0 subtasks/s | ETA ? |"), std::string::npos);
}

TEST(ProgressLine, PercentIsFlooredSoUnfinishedNeverReadsAsAHundred) {
  auto s = sample();
  s.done = 999;
  EXPECT_NE(format_progress_line(s).find("999/1000 done (99%)"), std::string::npos);
  s.done = 5;
  EXPECT_NE(format_progress_line(s).find("5/1000 done (0.5%)"), std::string::npos);
  s.total = 0;
  s.done = 0;
  EXPECT_NE(format_progress_line(s).find("progress: 0/0 done, "), std::string::npos);
}

TEST(ProgressLine, IsCutToTheTerminalWidth) {
  EXPECT_EQ(format_progress_line(sample(), 20), "progress: 120/1000 d");
  EXPECT_EQ(format_progress_line(sample(), 0), format_progress_line(sample()));
}

TEST(ProgressLine, ParsesWithTheRegexScriptsUse) {
  // The format docs/inspect.md promises for log files.
  const std::regex line(
      R"(progress: (\d+)/(\d+) done( \([0-9.]+%\))?, (\d+) failed, (\d+) running \| ([0-9.e+-]+) subtasks/s \| )"
      R"(ETA (\S+)( \((model|rate)\))? \| GPUs busy (\d+)/(\d+) \| elapsed (\S+))");
  std::smatch m;
  const std::string text = format_progress_line(sample());
  ASSERT_TRUE(std::regex_match(text, m, line)) << text;
  EXPECT_EQ(m[1], "120");
  EXPECT_EQ(m[7], "4m12s");
  EXPECT_EQ(m[10], "7");
}

TEST(ShortDuration, PicksTwoUnits) {
  EXPECT_EQ(format_short_duration(0.42), "0.4s");
  EXPECT_EQ(format_short_duration(9.99), "9.9s");
  EXPECT_EQ(format_short_duration(12.4), "12s");
  EXPECT_EQ(format_short_duration(252), "4m12s");
  EXPECT_EQ(format_short_duration(3780), "1h03m");
  EXPECT_EQ(format_short_duration(2 * 86400 + 5 * 3600 + 59), "2d05h");
  EXPECT_EQ(format_short_duration(-3), "0.0s");
  EXPECT_EQ(format_short_duration(std::numeric_limits<double>::infinity()), "?");
}

TEST(Rate, HasAboutThreeSignificantDigits) {
  EXPECT_EQ(format_rate(1234.4), "1234");
  EXPECT_EQ(format_rate(12.34), "12.3");
  EXPECT_EQ(format_rate(3.4), "3.40");
  EXPECT_EQ(format_rate(0.0123), "0.012");
  EXPECT_EQ(format_rate(0), "0");
}

TEST(ProgressInterval, OptionBeatsEnvironmentBeatsDefault) {
  EXPECT_EQ(progress_interval(2.5, "7"), 2.5);
  EXPECT_EQ(progress_interval(std::nullopt, "7"), 7);
  EXPECT_EQ(progress_interval(std::nullopt, "0.25"), 0.25);
  EXPECT_EQ(progress_interval(std::nullopt, nullptr), 10);
  EXPECT_EQ(progress_interval(std::nullopt, ""), 10);
}

TEST(ProgressInterval, ABadEnvironmentValueWarnsAndUsesTheDefault) {
  for (const char* bad : {"soon", "-1", "0", "5s", "nan"}) {
    std::string warning;
    EXPECT_EQ(progress_interval(std::nullopt, bad, &warning), 10) << bad;
    EXPECT_NE(warning.find("FASTGPU_PROGRESS_INTERVAL"), std::string::npos) << bad;
  }
}

TEST(RateWindow, CountsFinishedPerSecondOverTheRecentWindow) {
  RateWindow rate(10);
  EXPECT_EQ(rate.rate(), 0);
  rate.add(0, 0);
  EXPECT_EQ(rate.rate(), 0);
  rate.add(2, 10);
  EXPECT_DOUBLE_EQ(rate.rate(), 5);
  // Slower later: the window forgets the fast start.
  for (int t = 3; t <= 30; ++t) rate.add(t, 10 + static_cast<std::size_t>(t - 2));
  EXPECT_NEAR(rate.rate(), 1, 0.05);
}

TEST(ProgressReporter, PlainLinesComeEveryIntervalAndTheFirstWaitsOne) {
  std::ostringstream out;
  ProgressReporter reporter(out, /*live=*/false, 10);
  auto s = sample();
  for (double t : {0.0, 1.0, 9.9}) {
    s.elapsed_s = t;
    reporter.update(s);
  }
  EXPECT_EQ(out.str(), "");
  for (double t : {10.0, 10.1, 15.0, 19.9, 20.05, 29.0}) {
    s.elapsed_s = t;
    reporter.update(s);
  }
  EXPECT_EQ(reporter.lines_printed(), 2u);
  s.elapsed_s = 31;
  reporter.finish(s);
  const std::string text = out.str();
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 3);
  EXPECT_EQ(text.find('\r'), std::string::npos);
  EXPECT_EQ(text.find('\033'), std::string::npos);
}

TEST(ProgressReporter, AShortRunInALogPrintsNothing) {
  std::ostringstream out;
  ProgressReporter reporter(out, false, 10);
  auto s = sample();
  s.elapsed_s = 3;
  reporter.update(s);
  reporter.finish(s);
  EXPECT_EQ(out.str(), "");
}

TEST(ProgressReporter, ALiveLineIsRewrittenInPlaceAndEndedWithANewline) {
  std::ostringstream out;
  ProgressReporter reporter(out, /*live=*/true, 10, 0.5);
  auto s = sample();
  for (double t : {0.0, 0.2, 0.6, 1.2}) {
    s.elapsed_s = t;
    reporter.update(s);
  }
  EXPECT_EQ(reporter.lines_printed(), 3u);
  std::string text = out.str();
  EXPECT_EQ(text.find('\n'), std::string::npos);
  EXPECT_EQ(text.rfind("\r\033[K", 0), 0u);
  reporter.finish(s);
  text = out.str();
  EXPECT_EQ(text.back(), '\n');
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1);
  reporter.finish(s);  // once only
  EXPECT_EQ(out.str(), text);
}

}  // namespace
}  // namespace fastgpu::app
