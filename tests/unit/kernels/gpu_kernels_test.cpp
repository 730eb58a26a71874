// The built-in kernels on a CUDA GPU against the CPU, to the tolerances in
// src/kernels/builtin_kernels.hpp. Skipped where no GPU is found.
#include <gtest/gtest.h>

#include <cmath>

#include "test_context.hpp"

namespace fastgpu::testing {
namespace {

using Args = std::vector<std::pair<std::string, std::string>>;

class GpuKernels : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!have_gpu()) GTEST_SKIP() << "no CUDA GPU";
    gpu_ = device::make_device(device::DeviceBinding{"cuda:0"});
    cpu_ = device::make_cpu_device();
  }
  /// The kernel's metrics and outputs on the CPU and on the GPU.
  std::pair<TestContext, TestContext> run_both(std::string_view kernel, const Args& args, std::int64_t task = 0) {
    std::pair<TestContext, TestContext> runs{TestContext(*cpu_, KernelArgs(args), task),
                                             TestContext(*gpu_, KernelArgs(args), task)};
    run_kernel(kernel, runs.first);
    run_kernel(kernel, runs.second);
    return runs;
  }
  std::unique_ptr<Device> gpu_, cpu_;
};

TEST_F(GpuKernels, MonteCarloPiHitsAreIdentical) {
  for (const char* samples : {"1", "1000", "3000001"}) {
    auto [cpu, gpu] = run_both("montecarlo", {{"samples", samples}, {"seed", "12"}}, 77);
    EXPECT_EQ(cpu.metrics.at("hits"), gpu.metrics.at("hits")) << samples;
    EXPECT_EQ(cpu.metrics.at("pi"), gpu.metrics.at("pi"));
  }
}

TEST_F(GpuKernels, MonteCarloOptionAgrees) {
  auto [cpu, gpu] = run_both("montecarlo", {{"samples", "1000000"}, {"mode", "option"}, {"seed", "1"}});
  EXPECT_NEAR(gpu.metrics.at("price"), cpu.metrics.at("price"), 1e-9 * cpu.metrics.at("price"));
  EXPECT_NEAR(gpu.metrics.at("stderr"), cpu.metrics.at("stderr"), 1e-9 * cpu.metrics.at("stderr"));
}

TEST_F(GpuKernels, MonteCarloMeanReductionOnTheDevice) {
  TestContext context(*gpu_, KernelArgs({{"samples", "5000"}, {"reduce", "pi"}}), 3);
  context.declare_reduction("pi", "mean");
  run_kernel("montecarlo", context);
  EXPECT_EQ(context.reduction_result("pi").at(0), context.metrics.at("pi"));
}

TEST_F(GpuKernels, GemmChecksumsAgree) {
  for (const Args& shape : {Args{{"n", "64"}}, Args{{"n", "200"}, {"m", "33"}, {"k", "517"}}}) {
    Args dbl = shape, flt = shape;
    flt.emplace_back("precision", "float");
    auto [cpu, gpu] = run_both("gemm", dbl);
    EXPECT_NEAR(gpu.metrics.at("checksum"), cpu.metrics.at("checksum"), 1e-10 * cpu.metrics.at("checksum"));
    auto [cpu_f, gpu_f] = run_both("gemm", flt);
    EXPECT_NEAR(gpu_f.metrics.at("checksum"), cpu_f.metrics.at("checksum"), 1e-4 * cpu_f.metrics.at("checksum"));
    EXPECT_GT(gpu.metrics.at("gflops"), 0);
  }
}

TEST_F(GpuKernels, DpTrainAgrees) {
  for (const Args& args : {Args{{"samples", "1000"}, {"steps", "40"}}, Args{{"batch", "100"}, {"steps", "40"}}}) {
    auto [cpu, gpu] = run_both("dp_train", args);
    const std::vector<double>& w_cpu = cpu.outputs.at("weights");
    const std::vector<double>& w_gpu = gpu.outputs.at("weights");
    ASSERT_EQ(w_cpu.size(), w_gpu.size());
    for (std::size_t j = 0; j < w_cpu.size(); ++j) EXPECT_NEAR(w_gpu[j], w_cpu[j], 1e-9) << j;
    EXPECT_NEAR(gpu.metrics.at("loss_final"), cpu.metrics.at("loss_final"), 1e-9);
  }
}

TEST_F(GpuKernels, DpTrainRestoresBitForBit) {
  const Args args{{"samples", "900"}, {"steps", "20"}, {"batch", "50"}};
  TestContext whole(*gpu_, KernelArgs(args));
  run_kernel("dp_train", whole);
  TestContext first(*gpu_, KernelArgs(args));
  first.stop_after(7);
  const std::vector<std::byte> state = run_kernel("dp_train", first)->checkpoint(first);
  TestContext second(*gpu_, KernelArgs(args));
  auto resumed = kernels::make_builtin_kernel("dp_train");
  resumed->restore(second, state);
  resumed->run(second);
  EXPECT_EQ(second.outputs.at("weights"), whole.outputs.at("weights"));
}

}  // namespace
}  // namespace fastgpu::testing
