#include <gtest/gtest.h>
#include <sched.h>

#include <thread>
#include <vector>

#include "kernels/gemm_checksum.hpp"
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

/// The checksum's order as gemm_checksum.hpp words it, written out plainly: per chunk, lanes of
/// strided elements in index order, then pairwise halving; passes until one value is left.
std::vector<double> reference_pass(const std::vector<double>& values) {
  std::vector<double> sums;
  for (std::size_t first = 0; first < values.size(); first += kernels::kSumChunk) {
    std::vector<double> lane(kernels::kSumLanes, 0.0);
    for (std::size_t t = 0; t < kernels::kSumLanes; ++t) {
      for (std::size_t i = first + t; i < first + kernels::kSumChunk && i < values.size(); i += kernels::kSumLanes) {
        lane[t] += values[i];
      }
    }
    for (std::size_t s = kernels::kSumLanes / 2; s > 0; s /= 2) {
      for (std::size_t t = 0; t < s; ++t) lane[t] += lane[t + s];
    }
    sums.push_back(lane[0]);
  }
  return sums;
}
template <class T>
double reference_checksum(const T* values, std::size_t count) {
  std::vector<double> sums(values, values + count);
  if (sums.empty()) return 0.0;
  do sums = reference_pass(sums);
  while (sums.size() > 1);
  return sums[0];
}

/// Values whose sum depends on the order they are added in (a wide range of magnitudes).
template <class T>
std::vector<T> awkward_values(std::size_t count) {
  std::vector<T> values(count);
  for (std::size_t i = 0; i < count; ++i) {
    const double u = kernels::gemm_input(3, GemmMatrix::a, i);
    values[i] = static_cast<T>((u - 0.3) * (i % 7 == 0 ? 1e8 : 1.0));
  }
  return values;
}

TEST(Gemm, ChecksumAddsInTheDocumentedOrder) {
  auto device = device::make_cpu_device();
  for (const std::size_t count : {std::size_t{1}, std::size_t{255}, std::size_t{4095}, std::size_t{4096},
                                  std::size_t{4097}, std::size_t{3 * 4096 + 100}, std::size_t{1'000'003}}) {
    const auto doubles = awkward_values<double>(count);
    EXPECT_EQ(kernels::gemm_checksum(*device, doubles.data(), count), reference_checksum(doubles.data(), count))
        << count;
    const auto floats = awkward_values<float>(count);
    EXPECT_EQ(kernels::gemm_checksum(*device, floats.data(), count), reference_checksum(floats.data(), count))
        << count;
  }
  // More than kSumChunk chunks: three passes.
  const std::size_t count = kernels::kSumChunk * kernels::kSumChunk + 5;
  const std::vector<float> ones(count, 1.0f);
  EXPECT_EQ(kernels::gemm_checksum(*device, ones.data(), count), static_cast<double>(count));
  EXPECT_EQ(kernels::gemm_checksum(*device, ones.data(), 0), 0.0);
}

/// Runs `work` on a thread allowed on one CPU only.
template <class Work>
void on_one_cpu(const Work& work) {
  std::thread thread([&] {
    cpu_set_t set;
    CPU_ZERO(&set);
    ASSERT_EQ(sched_getaffinity(0, sizeof set, &set), 0);
    int first = 0;
    while (!CPU_ISSET(first, &set)) ++first;
    CPU_ZERO(&set);
    CPU_SET(first, &set);
    ASSERT_EQ(sched_setaffinity(0, sizeof set, &set), 0);
    work();
  });
  thread.join();
}

template <class T>
void expect_fill_is_gemm_input(std::size_t count) {
  auto device = device::make_cpu_device();
  DeviceBuffer<T> buffer(*device, count);
  kernels::fill_gemm_input(*device, buffer.data(), count, 42, GemmMatrix::b);
  for (std::size_t i = 0; i < count; ++i) {
    ASSERT_EQ(buffer.data()[i], static_cast<T>(gemm_input(42, GemmMatrix::b, i))) << i << " of " << count;
  }
}

TEST(Gemm, ParallelFillGivesEveryElementItsValue) {
  for (const std::size_t count : {std::size_t{1}, std::size_t{4097}, std::size_t{(1 << 18) + 7}}) {
    expect_fill_is_gemm_input<double>(count);
    expect_fill_is_gemm_input<float>(count);
  }
}

TEST(Gemm, ResultsDoNotDependOnTheThreadCount) {
  const std::size_t count = (1 << 19) + 3;
  auto device = device::make_cpu_device();
  const auto values = awkward_values<double>(count);
  std::vector<double> filled(count), filled_alone(count);
  kernels::fill_gemm_input(*device, filled.data(), count, 9, GemmMatrix::a);
  const double sum = kernels::gemm_checksum(*device, values.data(), count);
  double sum_alone = 0;
  on_one_cpu([&] {
    kernels::fill_gemm_input(*device, filled_alone.data(), count, 9, GemmMatrix::a);
    sum_alone = kernels::gemm_checksum(*device, values.data(), count);
  });
  EXPECT_EQ(filled, filled_alone);
  EXPECT_EQ(sum, sum_alone);
}

TEST(Gemm, ChecksumMetricIsTheChecksumOfC) {
  auto device = device::make_cpu_device();
  const GemmShape shape{65, 70, 33};
  const auto m = static_cast<std::size_t>(shape.m), n = static_cast<std::size_t>(shape.n),
             k = static_cast<std::size_t>(shape.k);
  DeviceBuffer<double> a(*device, m * k), b(*device, k * n), c(*device, m * n);
  kernels::fill_gemm_input(*device, a.data(), m * k, 4, GemmMatrix::a);
  kernels::fill_gemm_input(*device, b.data(), k * n, 4, GemmMatrix::b);
  kernels::multiply(*device, shape, a.data(), b.data(), c.data(), 1);
  const auto metrics = run_gemm({{"n", "70"}, {"m", "65"}, {"k", "33"}, {"seed", "4"}});
  EXPECT_EQ(metrics.at("checksum"), reference_checksum(c.data(), m * n));
  EXPECT_EQ(metrics.at("checksum"), run_gemm({{"n", "70"}, {"m", "65"}, {"k", "33"}, {"seed", "4"}}).at("checksum"));
}

/// The CUDA inputs and checksum against the CPU's, bit for bit (skipped without a GPU).
class GpuGemm : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!have_gpu()) GTEST_SKIP() << "no CUDA GPU";
    gpu_ = device::make_device(device::DeviceBinding{"cuda:0"});
    cpu_ = device::make_cpu_device();
  }
  template <class T>
  std::vector<T> to_host(const DeviceBuffer<T>& buffer) {
    std::vector<T> host(buffer.size());
    gpu_->copy_to_host(host.data(), buffer.data(), buffer.bytes());
    return host;
  }
  template <class T>
  void expect_same_inputs(std::size_t count) {
    DeviceBuffer<T> on_gpu(*gpu_, count), on_cpu(*cpu_, count);
    kernels::fill_gemm_input(*gpu_, on_gpu.data(), count, 5, GemmMatrix::a);
    kernels::fill_gemm_input(*cpu_, on_cpu.data(), count, 5, GemmMatrix::a);
    const std::vector<T> host = to_host(on_gpu);
    for (std::size_t i = 0; i < count; ++i) ASSERT_EQ(host[i], on_cpu.data()[i]) << i;
  }
  template <class T>
  void expect_same_checksum(std::size_t count) {
    const std::vector<T> values = awkward_values<T>(count);
    DeviceBuffer<T> on_gpu(*gpu_, count);
    gpu_->copy_to_device(on_gpu.data(), values.data(), on_gpu.bytes());
    EXPECT_EQ(kernels::gemm_checksum(*gpu_, on_gpu.data(), count), kernels::gemm_checksum(*cpu_, values.data(), count))
        << count;
  }
  std::unique_ptr<Device> gpu_, cpu_;
};

TEST_F(GpuGemm, InputsAreTheCpuInputs) {
  expect_same_inputs<double>(1'000'003);
  expect_same_inputs<float>(1'000'003);
}

TEST_F(GpuGemm, ChecksumAddsInTheCpuOrder) {
  for (const std::size_t count : {std::size_t{1}, std::size_t{4097}, std::size_t{1'000'003},
                                  std::size_t{kernels::kSumChunk * kernels::kSumChunk + 5}}) {
    expect_same_checksum<double>(count);
    expect_same_checksum<float>(count);
  }
}

TEST_F(GpuGemm, ChecksumMetricIsTheChecksumOfC) {
  const GemmShape shape{300, 257, 64};
  const auto m = static_cast<std::size_t>(shape.m), n = static_cast<std::size_t>(shape.n),
             k = static_cast<std::size_t>(shape.k);
  DeviceBuffer<double> a(*gpu_, m * k), b(*gpu_, k * n), c(*gpu_, m * n);
  kernels::fill_gemm_input(*gpu_, a.data(), m * k, 8, GemmMatrix::a);
  kernels::fill_gemm_input(*gpu_, b.data(), k * n, 8, GemmMatrix::b);
  const kernels::GemmRun run = kernels::multiply_and_checksum(*gpu_, shape, a.data(), b.data(), c.data(), 2);
  const std::vector<double> host = to_host(c);
  EXPECT_EQ(run.checksum, kernels::gemm_checksum(*cpu_, host.data(), host.size()));
  EXPECT_GT(run.seconds, 0);
  // Subtask after subtask on one thread (the kept cuBLAS handle), the same bits.
  TestContext first(*gpu_, KernelArgs({{"n", "257"}, {"m", "300"}, {"k", "64"}, {"seed", "8"}, {"repeat", "2"}}));
  run_kernel("gemm", first);
  EXPECT_EQ(first.metrics.at("checksum"), run.checksum);
  auto other_gpu = device::make_device(device::DeviceBinding{"cuda:0"});  // a new stream
  TestContext second(*other_gpu, KernelArgs({{"n", "257"}, {"m", "300"}, {"k", "64"}, {"seed", "8"}, {"repeat", "2"}}));
  run_kernel("gemm", second);
  EXPECT_EQ(second.metrics.at("checksum"), run.checksum);
}

TEST(Gemm, BadArgsFailTheAttempt) {
  EXPECT_THROW(run_gemm({}), KernelError);
  EXPECT_THROW(run_gemm({{"n", "0"}}), KernelError);
  EXPECT_THROW(run_gemm({{"n", "4"}, {"precision", "half"}}), KernelError);
}

}  // namespace
}  // namespace fastgpu::testing
