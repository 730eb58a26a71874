// predict() must not allocate: the simulator calls it millions of times per second. Counts every
// operator new in this test executable while predict() runs.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "cost/cost_model.hpp"

namespace {
std::atomic<long> g_allocations{0};
}  // namespace

void* operator new(std::size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace fastgpu::cost {
namespace {

static_assert(noexcept(std::declval<const CostModel&>().predict(1, 0, 1.0)));

TEST(CostModelPredict, DoesNotAllocate) {
  CostModel model;
  const int c = model.class_id("gemm");
  for (int w = 1; w <= 64; ++w) model.add_worker(w, "n", "cuda:0");
  for (int i = 0; i < 640; ++i) model.observe(1 + i % 64, c, 1 + i % 7, 2.0 + (i % 7) * (1 + (i % 64) % 3));

  const long before = g_allocations.load();
  double total = 0;
  for (int i = 0; i < 100000; ++i) total += model.predict(i % 80, i % 3 - 1, i % 11).seconds;
  EXPECT_EQ(g_allocations.load(), before);
  EXPECT_GT(total, 0);
}

TEST(CostModelObserve, DoesNotAllocateOnceWarm) {
  CostModel model;
  const int c = model.class_id("gemm");
  for (int w = 1; w <= 16; ++w) model.add_worker(w, "n", "cuda:0");
  for (int i = 0; i < 640; ++i) model.observe(1 + i % 16, c, 1 + i % 7, 2.0 + (i % 7));
  const long before = g_allocations.load();
  for (int i = 0; i < 640; ++i) model.observe(1 + i % 16, c, 1 + i % 7, 2.0 + (i % 7) * (i % 50 == 0 ? 9 : 1));
  EXPECT_EQ(g_allocations.load(), before);
}

}  // namespace
}  // namespace fastgpu::cost
