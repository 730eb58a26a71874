// The reductions of worker threads: per-attempt buffers, totals, and the combine at Shutdown over
// the shared-memory collectives (what an in-process run uses; MPI and NCCL share the code path).
#include "worker/worker_reductions.hpp"

#include <gtest/gtest.h>

#include <thread>

#include "device/device_factory.hpp"

namespace fastgpu::worker {
namespace {

const std::vector<ReductionSpec> kSpecs = {{"hist", "sum", 3}, {"low", "min", 1}, {"high", "max", 1},
                                           {"pi", "mean", 1}};

TEST(AttemptReductions, StartsAtTheIdentityAndAddsHostValues) {
  auto device = device::make_cpu_device();
  AttemptReductions attempt(*device, kSpecs);
  ReductionSlot& hist = attempt.slot("hist");
  EXPECT_EQ(hist.size, 3u);
  EXPECT_EQ(hist.data[0], 0);
  EXPECT_EQ(attempt.slot("low").data[0], std::numeric_limits<double>::infinity());
  attempt.add("hist", std::vector<double>{1, 2, 3}, 1);
  attempt.add("hist", std::vector<double>{1, 1, 1}, 1);
  EXPECT_EQ(std::vector<double>(hist.data, hist.data + 3), (std::vector<double>{2, 3, 4}));
  attempt.add("pi", std::vector<double>{3}, 10);  // a mean keeps value x weight and the weight
  EXPECT_EQ(attempt.slot("pi").data[0], 30);
  EXPECT_EQ(attempt.slot("pi").data[1], 10);
}

TEST(AttemptReductions, RefusesAnUndeclaredNameAndAWrongSize) {
  auto device = device::make_cpu_device();
  AttemptReductions attempt(*device, kSpecs);
  EXPECT_THROW(attempt.slot("nope"), KernelError);
  EXPECT_THROW(attempt.add("hist", std::vector<double>{1}, 1), KernelError);
}

TEST(WorkerReductions, CombinesEveryWorkersDoneAttemptsExactly) {
  constexpr int kWorkers = 3;
  auto collectives = comm::make_thread_collectives(kWorkers);
  std::vector<std::vector<ReductionValue>> results(kWorkers);
  std::vector<std::jthread> threads;
  for (int w = 0; w < kWorkers; ++w) {
    threads.emplace_back([&, w] {
      auto device = device::make_cpu_device();
      WorkerReductions totals(*device, kSpecs);
      for (int a = 0; a <= w; ++a) {  // worker w finishes w + 1 attempts
        AttemptReductions attempt(*device, kSpecs);
        attempt.add("hist", std::vector<double>{1, double(w), 0}, 1);
        attempt.add("low", std::vector<double>{double(10 - w)}, 1);
        attempt.add("high", std::vector<double>{double(w * 100 + a)}, 1);
        attempt.add("pi", std::vector<double>{4}, 5);
        totals.add(attempt);
      }
      AttemptReductions untouched(*device, kSpecs);  // an attempt that added nothing counts for nothing
      totals.add(untouched);
      results[w] = totals.combine(*collectives[w]);
    });
  }
  threads.clear();
  for (const auto& r : results) {
    ASSERT_EQ(r.size(), 4u);
    EXPECT_EQ(r[0].values, (std::vector<double>{6, 0 + 1 * 2 + 2 * 3, 0}));  // 1 + 2 + 3 attempts
    EXPECT_EQ(r[0].contributions, 6);
    EXPECT_EQ(r[1].values, (std::vector<double>{8}));
    EXPECT_EQ(r[2].values, (std::vector<double>{202}));
    EXPECT_EQ(r[3].values, (std::vector<double>{120}));
    EXPECT_EQ(r[3].weight, 30);
    EXPECT_EQ(r[3].result(), (std::vector<double>{4}));
  }
}

}  // namespace
}  // namespace fastgpu::worker
