// --deadline values and the Slurm allocation's end.
#include "app/deadline.hpp"

#include <gtest/gtest.h>

#include <ctime>
#include <map>

#include "fastgpu/error.hpp"

namespace fastgpu::app {
namespace {

constexpr double kNow = 1'764'270'000;  // 2025-11-27T19:00:00Z

struct FakeSlurm {
  std::map<std::string, std::string> env;
  std::optional<std::string> squeue_answer;
  int squeue_calls = 0;
  std::string warning;

  std::optional<Deadline> resolve(const std::string& option = "") {
    warning.clear();
    return resolve_deadline(
        option, kNow,
        [this](const char* name) -> const char* {
          auto it = env.find(name);
          return it == env.end() ? nullptr : it->second.c_str();
        },
        [this](const std::string&) {
          ++squeue_calls;
          return squeue_answer;
        },
        &warning);
  }
};

TEST(ParseDeadline, DurationsCountFromNow) {
  EXPECT_DOUBLE_EQ(parse_deadline("90", kNow), kNow + 90);
  EXPECT_DOUBLE_EQ(parse_deadline("30m", kNow), kNow + 1800);
  EXPECT_DOUBLE_EQ(parse_deadline("1h30m", kNow), kNow + 5400);
  EXPECT_DOUBLE_EQ(parse_deadline("2:00:00", kNow), kNow + 7200);  // Slurm's --time form
}

TEST(ParseDeadline, AbsoluteTimes) {
  EXPECT_DOUBLE_EQ(parse_deadline("2025-11-27T20:00:00Z", kNow), kNow + 3600);
  EXPECT_DOUBLE_EQ(parse_deadline("@1764273600", kNow), kNow + 3600);
  // Local time, as squeue prints it: whatever the zone, mktime agrees with it.
  std::tm tm{};
  tm.tm_year = 2025 - 1900, tm.tm_mon = 10, tm.tm_mday = 27, tm.tm_hour = 20, tm.tm_min = 30, tm.tm_isdst = -1;
  EXPECT_DOUBLE_EQ(parse_deadline("2025-11-27T20:30", kNow), static_cast<double>(std::mktime(&tm)));
}

TEST(ParseDeadline, NonsenseIsAUsageErrorNamingTheForms) {
  for (const char* bad : {"", "soon", "-5m", "2025-13-45T99:99", "@", "@x", "10 parsecs"}) {
    try {
      parse_deadline(bad, kNow);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const UsageError& e) {
      EXPECT_NE(std::string(e.what()).find("1h30m"), std::string::npos) << e.what();
    }
  }
}

TEST(ResolveDeadline, TheOptionWinsAndNoneTurnsSlurmsOff) {
  FakeSlurm slurm;
  slurm.env = {{"SLURM_JOB_ID", "42"}, {"SLURM_JOB_END_TIME", "1764273600"}};
  auto given = slurm.resolve("10m");
  ASSERT_TRUE(given);
  EXPECT_DOUBLE_EQ(given->unix_time, kNow + 600);
  EXPECT_EQ(given->source, "--deadline 10m");
  EXPECT_FALSE(slurm.resolve("none"));
  EXPECT_EQ(slurm.squeue_calls, 0);
}

TEST(ResolveDeadline, SlurmJobEndTimeFirst) {
  FakeSlurm slurm;
  slurm.env = {{"SLURM_JOB_ID", "42"}, {"SLURM_JOB_END_TIME", "1764273600"}};
  auto found = slurm.resolve();
  ASSERT_TRUE(found);
  EXPECT_DOUBLE_EQ(found->unix_time, 1764273600);
  EXPECT_EQ(found->source, "SLURM_JOB_END_TIME");
  EXPECT_EQ(slurm.squeue_calls, 0);
}

TEST(ResolveDeadline, ElseSqueue) {
  FakeSlurm slurm;
  slurm.env = {{"SLURM_JOB_ID", "42"}};
  slurm.squeue_answer = "2025-11-27T20:00:00Z\n";
  auto found = slurm.resolve();
  ASSERT_TRUE(found);
  EXPECT_DOUBLE_EQ(found->unix_time, kNow + 3600);
  EXPECT_EQ(slurm.squeue_calls, 1);
  slurm.squeue_answer = "N/A\n";  // no time limit
  EXPECT_FALSE(slurm.resolve());
  EXPECT_TRUE(slurm.warning.empty());
  slurm.squeue_answer = std::nullopt;  // squeue missing or failing
  EXPECT_FALSE(slurm.resolve());
  EXPECT_NE(slurm.warning.find("squeue"), std::string::npos);
}

TEST(ResolveDeadline, OutsideSlurmThereIsNone) {
  FakeSlurm slurm;
  EXPECT_FALSE(slurm.resolve());
  EXPECT_EQ(slurm.squeue_calls, 0);
  slurm.env = {{"SLURM_JOB_END_TIME", "garbage"}};
  EXPECT_FALSE(slurm.resolve());
  EXPECT_NE(slurm.warning.find("SLURM_JOB_END_TIME"), std::string::npos);
}

TEST(StopTime, LeavesTheGraceAndASecond) {
  EXPECT_DOUBLE_EQ(stop_time(Deadline{kNow + 100, "x"}, 30), kNow + 69);
}

}  // namespace
}  // namespace fastgpu::app
