#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

#include "fastgpu/job_spec.hpp"
#include "job/param_value.hpp"

namespace fastgpu {
namespace {

TEST(ParamToString, Integers) {
  EXPECT_EQ(param_to_string(std::int64_t{3}), "3");
  EXPECT_EQ(param_to_string(std::int64_t{-42}), "-42");
  EXPECT_EQ(param_to_string(std::numeric_limits<std::int64_t>::min()), "-9223372036854775808");
}

TEST(ParamToString, DoublesAreShortestAndLookLikeFloats) {
  EXPECT_EQ(param_to_string(0.1), "0.1");
  EXPECT_EQ(param_to_string(0.01), "0.01");
  EXPECT_EQ(param_to_string(1.0), "1.0");
  EXPECT_EQ(param_to_string(100.0), "100.0");
  EXPECT_EQ(param_to_string(-2.0), "-2.0");
  EXPECT_EQ(param_to_string(-0.0), "-0.0");
  EXPECT_EQ(param_to_string(2.5), "2.5");
  EXPECT_EQ(param_to_string(1e-5), "1e-05");
  EXPECT_EQ(param_to_string(3e20), "3e+20");
  EXPECT_EQ(param_to_string(0.1 + 0.2), "0.30000000000000004");
}

TEST(ParamToString, BoolsAndStrings) {
  EXPECT_EQ(param_to_string(true), "true");
  EXPECT_EQ(param_to_string(false), "false");
  EXPECT_EQ(param_to_string(std::string("resnet50")), "resnet50");
  EXPECT_EQ(param_to_string(std::string("")), "");
  EXPECT_EQ(param_to_string(std::string("a b \"c\"")), "a b \"c\"");
}

TEST(ParamsJson, KeepsOrderAndTypes) {
  Subtask subtask;
  subtask.params = {{"seed", std::int64_t{3}}, {"lr", 0.1}, {"model", std::string("resnet")}, {"amp", true},
                    {"scale", 1.0}};
  EXPECT_EQ(params_json(subtask), R"({"seed":3,"lr":0.1,"model":"resnet","amp":true,"scale":1.0})");
}

TEST(ParamsJson, EscapesStrings) {
  Subtask subtask;
  subtask.params = {{"s", std::string("a\"b\\c\nd\u00e9")}};
  EXPECT_EQ(params_json(subtask), "{\"s\":\"a\\\"b\\\\c\\nd\u00e9\"}");
}

TEST(ParamsJson, Empty) {
  EXPECT_EQ(params_json(Subtask{}), "{}");
  EXPECT_EQ(job::params_json(std::vector<Param>{}), "{}");
}

}  // namespace
}  // namespace fastgpu
