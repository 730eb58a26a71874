#include <gtest/gtest.h>

#include <cmath>
#include <thread>

#include "test_context.hpp"

namespace fastgpu::testing {
namespace {

using Args = std::vector<std::pair<std::string, std::string>>;

struct TrainRun {
  std::map<std::string, double> metrics;
  std::map<std::string, std::vector<double>> outputs;
  std::vector<std::byte> state;
};

TrainRun train(const Args& args, Communicator* communicator = nullptr) {
  auto device = device::make_cpu_device();
  TestContext context(*device, KernelArgs(args), 0, communicator);
  auto kernel = run_kernel("dp_train", context);
  return {context.metrics, context.outputs, kernel->checkpoint(context)};
}

TEST(DpTrain, LossDecreases) {
  const TrainRun run = train({{"samples", "2048"}, {"steps", "60"}, {"seed", "4"}});
  const std::vector<double>& loss = run.outputs.at("loss");
  ASSERT_EQ(loss.size(), 60u);
  EXPECT_NEAR(loss.front(), std::log(2.0), 1e-12);  // zero weights: p = 1/2 everywhere
  EXPECT_LT(run.metrics.at("loss_final"), 0.75 * run.metrics.at("loss_first"));
  EXPECT_EQ(run.metrics.at("loss_final"), loss.back());
  for (std::size_t s = 1; s < loss.size(); ++s) EXPECT_LT(loss[s], loss[s - 1]) << s;  // full batch, small lr
}

TEST(DpTrain, MiniBatchesAlsoLearn) {
  const TrainRun run = train({{"samples", "2048"}, {"steps", "80"}, {"batch", "128"}, {"features", "8"}});
  EXPECT_LT(run.metrics.at("loss_final"), 0.8 * run.metrics.at("loss_first"));
}

/// Runs `args` on `size` members over threads; returns each member's run.
std::vector<TrainRun> train_together(int size, const Args& args) {
  ThreadGroup group(size);
  std::vector<TrainRun> runs(static_cast<std::size_t>(size));
  std::vector<std::jthread> members;
  for (int rank = 0; rank < size; ++rank) {
    members.emplace_back([&, rank] { runs[rank] = train(args, &group.member(rank)); });
  }
  members.clear();  // joins
  return runs;
}

TEST(DpTrain, TwoMembersTrainOnTheCombinedData) {
  const std::vector<TrainRun> pair = train_together(2, {{"samples", "512"}, {"steps", "30"}, {"seed", "9"}});
  // Both members hold the same model; only rank 0 reports.
  EXPECT_EQ(pair[0].state, pair[1].state);
  EXPECT_TRUE(pair[1].outputs.empty());
  // Member r holds global rows r*512..: together the rows of a 1-member run with 1024 rows. Only
  // the order of the additions differs.
  const TrainRun single = train({{"samples", "1024"}, {"steps", "30"}, {"seed", "9"}});
  const std::vector<double>& together = pair[0].outputs.at("weights");
  const std::vector<double>& alone = single.outputs.at("weights");
  ASSERT_EQ(together.size(), alone.size());
  for (std::size_t j = 0; j < alone.size(); ++j) EXPECT_NEAR(together[j], alone[j], 1e-12) << j;
  EXPECT_NEAR(pair[0].metrics.at("loss_final"), single.metrics.at("loss_final"), 1e-12);
}

TEST(DpTrain, StopAndRestoreGivesTheSameWeights) {
  for (const Args& args : {Args{{"samples", "700"}, {"steps", "25"}, {"seed", "2"}},
                           Args{{"samples", "700"}, {"steps", "25"}, {"seed", "2"}, {"batch", "64"}}}) {
    const TrainRun whole = train(args);
    auto device = device::make_cpu_device();
    TestContext first(*device, KernelArgs(args));
    first.stop_after(10);  // steps 0..9 run; the 11th poll stops it
    auto stopped = run_kernel("dp_train", first);
    EXPECT_TRUE(first.metrics.empty());
    const std::vector<std::byte> state = stopped->checkpoint(first);

    TestContext second(*device, KernelArgs(args));
    auto resumed = kernels::make_builtin_kernel("dp_train");
    ASSERT_TRUE(resumed->checkpointable());
    resumed->restore(second, state);
    resumed->run(second);
    EXPECT_EQ(second.outputs.at("weights"), whole.outputs.at("weights"));  // bit for bit
    EXPECT_EQ(second.outputs.at("loss"), whole.outputs.at("loss"));
    EXPECT_EQ(resumed->checkpoint(second), whole.state);
  }
}

TEST(DpTrain, RestoreRejectsAForeignState) {
  auto device = device::make_cpu_device();
  TestContext context(*device, KernelArgs(Args{{"features", "4"}}));
  auto kernel = kernels::make_builtin_kernel("dp_train");
  const std::vector<std::byte> garbage(5);
  EXPECT_THROW(kernel->restore(context, garbage), KernelError);
  const std::vector<std::byte> other = train({{"features", "3"}, {"steps", "2"}, {"samples", "10"}}).state;
  kernel->restore(context, other);
  EXPECT_THROW(kernel->run(context), KernelError);
}

}  // namespace
}  // namespace fastgpu::testing
