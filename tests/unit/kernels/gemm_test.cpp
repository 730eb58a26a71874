#include <gtest/gtest.h>

#include <vector>

#include "kernels/gemm_multiply.hpp"
#include "test_context.hpp"

namespace fastgpu::testing {
namespace {

using kernels::GemmMatrix;
using kernels::GemmShape;
using kernels::gemm_input;

/// C = A * B by the textbook triple loop, column-major, in double.
std::vector<double> naive_product(GemmShape s, std::uint64_t seed) {
  std::vector<double> c(static_cast<std::size_t>(s.m) * s.n, 0.0);
  for (int col = 0; col < s.n; ++col) {
    for (int row = 0; row < s.m; ++row) {
      double sum = 0;
      for (int i = 0; i < s.k; ++i) {
        sum += gemm_input(seed, GemmMatrix::a, static_cast<std::uint64_t>(i) * s.m + row) *
               gemm_input(seed, GemmMatrix::b, static_cast<std::uint64_t>(col) * s.k + i);
      }
      c[static_cast<std::size_t>(col) * s.m + row] = sum;
    }
  }
  return c;
}

template <class T>
void expect_product(GemmShape shape, double tolerance) {
  auto device = device::make_cpu_device();
  const auto m = static_cast<std::size_t>(shape.m), n = static_cast<std::size_t>(shape.n),
             k = static_cast<std::size_t>(shape.k);
  DeviceBuffer<T> a(*device, m * k), b(*device, k * n), c(*device, m * n);
  kernels::fill_gemm_input(*device, a.data(), m * k, 11, GemmMatrix::a);
  kernels::fill_gemm_input(*device, b.data(), k * n, 11, GemmMatrix::b);
  kernels::multiply(*device, shape, a.data(), b.data(), c.data(), 2);
  const std::vector<double> expected = naive_product(shape, 11);
  for (std::size_t i = 0; i < expected.size(); ++i) {
    ASSERT_NEAR(c.data()[i], expected[i], tolerance * shape.k)
        << shape.m << "x" << shape.n << "x" << shape.k << " at " << i;
  }
}

TEST(Gemm, MatchesTheNaiveLoop) {
  for (int n = 7; n <= 33; n += 13) {
    expect_product<double>({n, n, n}, 1e-15);
    expect_product<float>({n, n, n}, 1e-6);
  }
  expect_product<double>({7, 33, 20}, 1e-15);  // non-square: m x k times k x n
  expect_product<float>({31, 9, 17}, 1e-6);
  expect_product<double>({1, 1, 1}, 1e-15);
}

std::map<std::string, double> run_gemm(std::vector<std::pair<std::string, std::string>> args) {
  auto device = device::make_cpu_device();
  TestContext context(*device, KernelArgs(std::move(args)));
  run_kernel("gemm", context);
  return context.metrics;
}

TEST(Gemm, ChecksumIsTheSumOfTheProduct) {
  double expected = 0;
  for (const double value : naive_product({19, 12, 23}, 5)) expected += value;
  const auto metrics = run_gemm({{"n", "12"}, {"m", "19"}, {"k", "23"}, {"seed", "5"}, {"repeat", "3"}});
  EXPECT_NEAR(metrics.at("checksum"), expected, 1e-12 * expected);
  EXPECT_GT(metrics.at("gflops"), 0);
  EXPECT_GE(metrics.at("seconds"), 0);
  const auto single = run_gemm({{"n", "12"}, {"m", "19"}, {"k", "23"}, {"seed", "5"}, {"precision", "float"}});
  EXPECT_NEAR(single.at("checksum"), expected, 1e-5 * expected);
}

TEST(Gemm, BadArgsFailTheAttempt) {
  EXPECT_THROW(run_gemm({}), KernelError);
  EXPECT_THROW(run_gemm({{"n", "0"}}), KernelError);
  EXPECT_THROW(run_gemm({{"n", "4"}, {"precision", "half"}}), KernelError);
}

}  // namespace
}  // namespace fastgpu::testing
