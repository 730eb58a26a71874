// [job.gpu_hour_prices]: parsed in file order beside [job] gpu_hour_price, and which listed model a
// GPU name is (job/gpu_prices.hpp). The refusals are in tests/data/bad-jobs/*gpu-hour-prices*.
#include <gtest/gtest.h>

#include "job/gpu_prices.hpp"
#include "job_test_util.hpp"

namespace fastgpu {
namespace {

TEST(GpuPrices, ParsedInFileOrderBesideTheDefault) {
  const JobSpec job = parse_job(R"([job]
name = "priced"
gpu_hour_price = 2
[job.gpu_hour_prices]
"H100" = 4.5
"A100 80GB" = 3
"A100" = 2.9
[task]
command = ["true"]
)",
                                "jobs/x.toml");
  EXPECT_EQ(job.gpu_hour_price, 2.0);
  ASSERT_EQ(job.gpu_hour_prices.size(), 3u);
  EXPECT_EQ(job.gpu_hour_prices[0].model, "H100");
  EXPECT_EQ(job.gpu_hour_prices[0].price, 4.5);
  EXPECT_EQ(job.gpu_hour_prices[1].model, "A100 80GB");
  EXPECT_EQ(job.gpu_hour_prices[1].price, 3.0);  // an integer is a price too
  EXPECT_EQ(job.gpu_hour_prices[2].model, "A100");
}

TEST(GpuPrices, InlineTableWithoutADefault) {
  const JobSpec job = parse_job(
      "[job]\nname = \"x\"\ngpu_hour_prices = { L40S = 1.1, \"RTX 4090\" = 0 }\n[task]\ncommand = [\"true\"]\n",
      "jobs/x.toml");
  EXPECT_FALSE(job.gpu_hour_price);
  ASSERT_EQ(job.gpu_hour_prices.size(), 2u);
  EXPECT_EQ(job.gpu_hour_prices[0].model, "L40S");
  EXPECT_EQ(job.gpu_hour_prices[1].price, 0.0);  // free GPUs are allowed
}

TEST(GpuPrices, NoTableMeansNoModelPrices) {
  EXPECT_TRUE(parse_job(testing::job_with("[\"true\"]"), "jobs/x.toml").gpu_hour_prices.empty());
}

TEST(GpuPrices, ModelIsFoundInTheGpuNameIgnoringCase) {
  const std::vector<GpuModelPrice> prices = {{"h100", 4.5}, {"A100", 2.9}};
  ASSERT_NE(job::find_model_price(prices, "NVIDIA H100 80GB HBM3"), nullptr);
  EXPECT_EQ(job::find_model_price(prices, "NVIDIA H100 80GB HBM3")->price, 4.5);
  EXPECT_EQ(job::find_model_price(prices, "NVIDIA A100-SXM4-40GB")->model, "A100");
  EXPECT_EQ(job::find_model_price(prices, "Tesla V100-SXM2-32GB"), nullptr);
  EXPECT_EQ(job::find_model_price(prices, ""), nullptr);  // a CPU slot
}

TEST(GpuPrices, TheLongestListedNameWins) {
  const std::vector<GpuModelPrice> prices = {{"A100", 2.9}, {"A100 80GB", 3.4}, {"H100", 4.5}};
  EXPECT_EQ(job::find_model_price(prices, "NVIDIA A100 80GB PCIe")->model, "A100 80GB");
  EXPECT_EQ(job::find_model_price(prices, "NVIDIA A100-PCIE-40GB")->model, "A100");
  // Equally long: the first listed.
  const std::vector<GpuModelPrice> tie = {{"H100", 4.5}, {"80GB", 1}};
  EXPECT_EQ(job::find_model_price(tie, "NVIDIA H100 80GB HBM3")->model, "H100");
}

TEST(GpuPrices, ErrorsNameTheKeyOrValue) {
  EXPECT_EQ(testing::job_error(
                "[job]\nname = \"x\"\n[job.gpu_hour_prices]\n\"H100\" = -1\n[task]\ncommand = [\"true\"]\n"),
            "jobs/x.toml:4:10: the price of GPU model 'H100' must be a finite number, zero or more");
  EXPECT_EQ(testing::job_error("[job]\nname = \"x\"\ngpu_hour_prices = 3\n[task]\ncommand = [\"true\"]\n"),
            "jobs/x.toml:3:19: 'gpu_hour_prices' must be a table of GPU model = price, e.g. [job.gpu_hour_prices] "
            "\"H100\" = 4.5, not an integer");
}

}  // namespace
}  // namespace fastgpu
