#include "worker/output_capture.hpp"

#include <gtest/gtest.h>

#include <string>

namespace fastgpu::worker {
namespace {

TEST(TailBuffer, KeepsEverythingBelowCapacity) {
  TailBuffer tail(10);
  tail.append("abc");
  tail.append("def");
  EXPECT_EQ(tail.take(), "abcdef");
}

TEST(TailBuffer, KeepsTheLastBytes) {
  TailBuffer tail(5);
  std::string all;
  for (int i = 0; i < 1000; ++i) {
    const std::string piece = std::to_string(i) + ",";
    tail.append(piece);
    all += piece;
  }
  EXPECT_EQ(tail.total_bytes(), all.size());
  EXPECT_EQ(tail.take(), all.substr(all.size() - 5));
}

TEST(TailBuffer, ChunkLargerThanCapacity) {
  TailBuffer tail(4);
  tail.append("xy");
  tail.append("0123456789");
  EXPECT_EQ(tail.take(), "6789");
}

TEST(TailBuffer, ZeroCapacityKeepsNothing) {
  TailBuffer tail(0);
  tail.append("hello");
  EXPECT_EQ(tail.total_bytes(), 5u);
  EXPECT_EQ(tail.take(), "");
}

TEST(ParseMetricLine, Accepts) {
  auto m = parse_metric_line("FASTGPU_METRIC loss=0.25");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->name, "loss");
  EXPECT_DOUBLE_EQ(m->value, 0.25);

  m = parse_metric_line("  \tFASTGPU_METRIC   val/acc:top-1_x.y=-1.5e3  \r");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->name, "val/acc:top-1_x.y");
  EXPECT_DOUBLE_EQ(m->value, -1500);

  m = parse_metric_line("FASTGPU_METRIC n=+7");
  ASSERT_TRUE(m);
  EXPECT_DOUBLE_EQ(m->value, 7);

  m = parse_metric_line("FASTGPU_METRIC\tsteps=42");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->name, "steps");
}

TEST(ParseMetricLine, RejectsMalformed) {
  for (const char* line : {"", "hello", "FASTGPU_METRIC", "FASTGPU_METRIC ", "FASTGPU_METRICloss=1",
                           "FASTGPU_METRIC loss", "FASTGPU_METRIC =1", "FASTGPU_METRIC loss=",
                           "FASTGPU_METRIC loss=abc", "FASTGPU_METRIC loss=1.5x", "FASTGPU_METRIC loss = 1",
                           "FASTGPU_METRIC lo ss=1", "FASTGPU_METRIC lo$s=1", "FASTGPU_METRIC loss=1 2",
                           "xFASTGPU_METRIC loss=1", "fastgpu_metric loss=1", "FASTGPU_METRIC loss=+-1",
                           "FASTGPU_METRIC loss=0x10"}) {
    EXPECT_FALSE(parse_metric_line(line)) << "'" << line << "'";
  }
}

TEST(MetricLineParser, SplitsLinesAcrossFeeds) {
  const std::string text =
      "epoch 1\nFASTGPU_METRIC a=1\nnoise FASTGPU_METRIC b=2\n  FASTGPU_METRIC c=3  \r\nFASTGPU_METRIC bad=x\n"
      "FASTGPU_METRIC d=4";
  for (std::size_t step : {1u, 2u, 3u, 7u, 1000u}) {
    MetricLineParser parser;
    for (std::size_t i = 0; i < text.size(); i += step) parser.feed(std::string_view(text).substr(i, step));
    parser.finish();
    const auto& metrics = parser.metrics();
    ASSERT_EQ(metrics.size(), 3u) << "step " << step;
    EXPECT_EQ(metrics[0].name, "a");
    EXPECT_EQ(metrics[1].name, "c");
    EXPECT_DOUBLE_EQ(metrics[1].value, 3);
    EXPECT_EQ(metrics[2].name, "d");  // the last line needs no newline
  }
}

TEST(MetricLineParser, SkipsOverlongLinesWithoutStoringThem) {
  MetricLineParser parser(64);
  parser.feed("FASTGPU_METRIC x=1" + std::string(100, '0'));  // too long, no newline yet
  parser.feed(std::string(1 << 20, '0'));
  parser.feed("\nFASTGPU_METRIC y=2\n");
  parser.feed("FASTGPU_METRIC z=" + std::string(100, '1') + "\n");  // too long in one piece
  parser.finish();
  ASSERT_EQ(parser.metrics().size(), 1u);
  EXPECT_EQ(parser.metrics()[0].name, "y");
}

}  // namespace
}  // namespace fastgpu::worker
