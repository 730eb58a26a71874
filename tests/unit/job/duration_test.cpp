#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "fastgpu/job_spec.hpp"

namespace fastgpu {
namespace {

struct DurationCase {
  const char* text;
  double seconds;
};

class ParseDuration : public ::testing::TestWithParam<DurationCase> {};

TEST_P(ParseDuration, Reads) { EXPECT_DOUBLE_EQ(parse_duration(GetParam().text), GetParam().seconds) << GetParam().text; }

INSTANTIATE_TEST_SUITE_P(Forms, ParseDuration,
                         ::testing::Values(DurationCase{"90", 90}, DurationCase{"1.5", 1.5}, DurationCase{"0", 0},
                                           DurationCase{"30s", 30}, DurationCase{"1.5s", 1.5},
                                           DurationCase{"250ms", 0.25}, DurationCase{"10m", 600},
                                           DurationCase{"2h", 7200}, DurationCase{"1.5h", 5400},
                                           DurationCase{"1d", 86400}, DurationCase{"1h30m", 5400},
                                           DurationCase{"1d2h3m4s", 93784}, DurationCase{"1m500ms", 60.5},
                                           DurationCase{"1h 30m", 5400}, DurationCase{"  45s ", 45},
                                           DurationCase{"5:00", 300}, DurationCase{"90:30", 5430},
                                           DurationCase{"2:00:00", 7200}, DurationCase{"01:02:03", 3723},
                                           DurationCase{"48:00:00", 172800}, DurationCase{"1-00:00:00", 86400},
                                           DurationCase{"1-12", 129600}, DurationCase{"2-01:30", 178200},
                                           DurationCase{"1-02:03:04", 93784}));

class BadDuration : public ::testing::TestWithParam<const char*> {};

TEST_P(BadDuration, Throws) {
  try {
    parse_duration(GetParam());
    FAIL() << "accepted '" << GetParam() << "'";
  } catch (const std::invalid_argument& error) {
    EXPECT_EQ(std::string(error.what()), "cannot parse duration '" + std::string(GetParam()) +
                                             "' (examples: 90, 30s, 10m, 1h30m, 2:00:00)");
  }
}

INSTANTIATE_TEST_SUITE_P(Forms, BadDuration,
                         ::testing::Values("", " ", "10 minutes", "10 m", "ten", "10x", "1h30", "1.s",
                                           ".5s", "1e3", "10min", "h", "1:60", "1:2:60", "1:2:3:4", "1:",
                                           ":30", "1-", "1.5:00", "1-2-3", "inf", "nan", "5s-"));

class NegativeDuration : public ::testing::TestWithParam<const char*> {};

TEST_P(NegativeDuration, SaysSo) {
  try {
    parse_duration(GetParam());
    FAIL() << "accepted '" << GetParam() << "'";
  } catch (const std::invalid_argument& error) {
    EXPECT_EQ(std::string(error.what()),
              "duration '" + std::string(GetParam()) + "' is negative; it must be greater than zero");
  }
}

INSTANTIATE_TEST_SUITE_P(Forms, NegativeDuration, ::testing::Values("-5", "-5s", "-1:00", "-1h30m"));

TEST(ParseDuration, UpperCaseUnitsGetAHint) {
  try {
    parse_duration("1M");
    FAIL();
  } catch (const std::invalid_argument& error) {
    EXPECT_STREQ(error.what(),
                 "cannot parse duration '1M' (examples: 90, 30s, 10m, 1h30m, 2:00:00; units are lower case: ms, s, m, h, d)");
  }
}

TEST(ParseDuration, LongTextIsShortenedInTheMessage) {
  const std::string text = "1" + std::string(400, '0') + "s";
  try {
    parse_duration(text);
    FAIL();
  } catch (const std::invalid_argument& error) {
    EXPECT_EQ(std::string(error.what()), "cannot parse duration '" + text.substr(0, 40) +
                                             "...' (examples: 90, 30s, 10m, 1h30m, 2:00:00)");
  }
}

TEST(ParseDuration, MessageExample) {
  try {
    parse_duration("10 minutes");
    FAIL();
  } catch (const std::invalid_argument& error) {
    EXPECT_STREQ(error.what(), "cannot parse duration '10 minutes' (examples: 90, 30s, 10m, 1h30m, 2:00:00)");
  }
}

}  // namespace
}  // namespace fastgpu
