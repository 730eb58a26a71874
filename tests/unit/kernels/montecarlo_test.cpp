#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

#include "test_context.hpp"

namespace fastgpu::testing {
namespace {

using Args = std::vector<std::pair<std::string, std::string>>;

std::map<std::string, double> run_montecarlo(Args args, std::int64_t task_id = 0) {
  auto device = device::make_cpu_device();
  TestContext context(*device, KernelArgs(std::move(args)), task_id);
  run_kernel("montecarlo", context);
  return context.metrics;
}

TEST(MonteCarlo, PiWithinFourStandardErrors) {
  const double n = 1'000'000;
  const auto metrics = run_montecarlo({{"samples", "1000000"}, {"seed", "7"}});
  const double p = std::numbers::pi / 4;
  EXPECT_NEAR(metrics.at("pi"), std::numbers::pi, 4 * 4 * std::sqrt(p * (1 - p) / n));
  EXPECT_EQ(metrics.at("samples"), n);
  EXPECT_EQ(metrics.at("pi"), 4 * metrics.at("hits") / n);
}

TEST(MonteCarlo, ReproducibleForASeedAndTask) {
  const Args args{{"samples", "20000"}, {"seed", "3"}};
  EXPECT_EQ(run_montecarlo(args, 5).at("hits"), run_montecarlo(args, 5).at("hits"));
  EXPECT_NE(run_montecarlo(args, 5).at("hits"), run_montecarlo(args, 6).at("hits"));
  EXPECT_NE(run_montecarlo(args, 5).at("hits"), run_montecarlo({{"samples", "20000"}, {"seed", "4"}}, 5).at("hits"));
}

double black_scholes_call(double spot, double strike, double rate, double volatility, double maturity) {
  const double d1 = (std::log(spot / strike) + (rate + volatility * volatility / 2) * maturity) /
                    (volatility * std::sqrt(maturity));
  const double d2 = d1 - volatility * std::sqrt(maturity);
  const auto normal_cdf = [](double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); };
  return spot * normal_cdf(d1) - strike * std::exp(-rate * maturity) * normal_cdf(d2);
}

TEST(MonteCarlo, OptionPriceMatchesBlackScholes) {
  const auto metrics = run_montecarlo({{"samples", "400000"}, {"mode", "option"}, {"spot", "105"}, {"strike", "100"},
                                       {"rate", "0.03"}, {"volatility", "0.25"}, {"maturity", "0.5"}});
  const double exact = black_scholes_call(105, 100, 0.03, 0.25, 0.5);
  EXPECT_GT(metrics.at("stderr"), 0);
  EXPECT_LT(metrics.at("stderr"), 0.05);
  EXPECT_NEAR(metrics.at("price"), exact, 4 * metrics.at("stderr"));
  // The defaults: S = K = 100, r = 0.05, sigma = 0.2, T = 1.
  const auto defaults = run_montecarlo({{"samples", "400000"}, {"mode", "option"}});
  EXPECT_NEAR(defaults.at("price"), black_scholes_call(100, 100, 0.05, 0.2, 1), 4 * defaults.at("stderr"));
}

TEST(MonteCarlo, MeanReductionIsExactAcrossSubtasks) {
  auto device = device::make_cpu_device();
  double hits = 0, samples = 0;
  TestContext first(*device, KernelArgs({{"samples", "3000"}, {"reduce", "pi"}}), 1);
  first.declare_reduction("pi", "mean");
  run_kernel("montecarlo", first);
  // A second subtask adding into the same buffer, as a worker's attempts do.
  TestContext second(*device, KernelArgs({{"samples", "7001"}, {"reduce", "pi"}}), 2);
  second.declare_reduction("pi", "mean");
  second.reduction("pi").data = first.reduction("pi").data;
  run_kernel("montecarlo", second);
  hits = first.metrics.at("hits") + second.metrics.at("hits");
  samples = 3000 + 7001;
  EXPECT_EQ(first.reduction_result("pi").at(0), 4 * hits / samples);
}

TEST(MonteCarlo, BadArgsFailTheAttempt) {
  EXPECT_THROW(run_montecarlo({}), KernelError);
  EXPECT_THROW(run_montecarlo({{"samples", "0"}}), KernelError);
  EXPECT_THROW(run_montecarlo({{"samples", "10"}, {"mode", "asian"}}), KernelError);
  EXPECT_THROW(run_montecarlo({{"samples", "10"}, {"reduce", "undeclared"}}), KernelError);
}

}  // namespace
}  // namespace fastgpu::testing
