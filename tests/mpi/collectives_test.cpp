// The MPI Collectives backend over real ranks, and the NCCL one where this machine has GPUs.
#include <gtest/gtest.h>
#include <mpi.h>

#include <cstddef>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "comm/collectives.hpp"
#include "fastgpu/config.hpp"
#include "fastgpu/error.hpp"

#if FASTGPU_HAVE_NCCL
#include <cuda_runtime.h>
#endif

namespace fastgpu::comm {
namespace {

class MpiCollectivesTest : public ::testing::Test {
 protected:
  std::unique_ptr<Collectives> world_ = make_mpi_collectives(MPI_COMM_WORLD);
  const int rank_ = world_->rank();
  const int size_ = world_->size();
};

TEST_F(MpiCollectivesTest, MirrorsTheWorldCommunicator) {
  int rank = -1, size = -1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  EXPECT_EQ(rank_, rank);
  EXPECT_EQ(size_, size);
  EXPECT_STREQ(world_->backend(), "mpi");
}

TEST_F(MpiCollectivesTest, AllReduceSumMinMaxAreExact) {
  const double r = rank_, n = size_;
  std::vector<double> sum{r, 2 * r + 1, -r}, min = sum, max = sum;
  world_->all_reduce(sum.data(), sum.size(), ReduceOp::sum);
  world_->all_reduce(min.data(), min.size(), ReduceOp::min);
  world_->all_reduce(max.data(), max.size(), ReduceOp::max);
  const double s = n * (n - 1) / 2;
  EXPECT_EQ(sum, (std::vector<double>{s, 2 * s + n, -s}));
  EXPECT_EQ(min, (std::vector<double>{0, 1, -(n - 1)}));
  EXPECT_EQ(max, (std::vector<double>{n - 1, 2 * (n - 1) + 1, 0}));
}

TEST_F(MpiCollectivesTest, BroadcastsThreeMegabytesFromTheLastRank) {
  const int root = size_ - 1;
  std::vector<unsigned char> buffer(3u << 20, 0);
  if (rank_ == root)
    for (std::size_t i = 0; i < buffer.size(); ++i) buffer[i] = static_cast<unsigned char>(i * 31 + 7);
  world_->broadcast(buffer.data(), buffer.size(), root);
  std::size_t wrong = 0;
  for (std::size_t i = 0; i < buffer.size(); ++i) wrong += buffer[i] != static_cast<unsigned char>(i * 31 + 7);
  EXPECT_EQ(wrong, 0u);
}

TEST_F(MpiCollectivesTest, SendRecvAroundARing) {
  const int next = (rank_ + 1) % size_, previous = (rank_ + size_ - 1) % size_;
  // 1 MiB: past the eager limit, so the blocking sends must be ordered (even ranks send first).
  std::vector<int> out(1 << 18, rank_), in(1 << 18, -1);
  const std::size_t bytes = out.size() * sizeof(int);
  if (rank_ % 2 == 0) {
    world_->send(out.data(), bytes, next);
    world_->recv(in.data(), bytes, previous);
  } else {
    world_->recv(in.data(), bytes, previous);
    world_->send(out.data(), bytes, next);
  }
  EXPECT_EQ(in, std::vector<int>(in.size(), previous));
}

TEST_F(MpiCollectivesTest, SubgroupOfTheOddRanksIsMadeWithoutTheEvenOnes) {
  // Listed from the highest odd rank down: subgroup ranks follow the list, not the world order.
  std::vector<int> odd;
  for (int r = size_ - 1; r >= 1; --r)
    if (r % 2 == 1) odd.push_back(r);
  if (rank_ % 2 == 1) {
    auto sub = world_->subgroup(odd, 11);
    EXPECT_EQ(sub->size(), static_cast<int>(odd.size()));
    EXPECT_EQ(odd[static_cast<std::size_t>(sub->rank())], rank_);
    EXPECT_STREQ(sub->backend(), "mpi");
    double x = rank_;
    sub->all_reduce(&x, 1, ReduceOp::sum);
    EXPECT_EQ(x, std::accumulate(odd.begin(), odd.end(), 0.0));
    sub->barrier();
  }
  // The even ranks call nothing until here, so the subgroup above cannot have waited for them.
  world_->barrier();
}

TEST_F(MpiCollectivesTest, DisjointSubgroupsFormConcurrently) {
  std::vector<int> mine;
  for (int r = rank_ % 2; r < size_; r += 2) mine.push_back(r);
  auto sub = world_->subgroup(mine, 20 + rank_ % 2);
  int token = sub->rank() == 0 ? 100 + rank_ % 2 : 0;
  sub->broadcast(&token, sizeof token, 0);
  EXPECT_EQ(token, 100 + rank_ % 2);
}

TEST_F(MpiCollectivesTest, BarrierAndRepeatedCallsStayInStep) {
  for (int i = 0; i < 200; ++i) {
    double x = 1;
    world_->all_reduce(&x, 1, ReduceOp::sum);
    ASSERT_EQ(x, size_);
    world_->barrier();
  }
}

TEST_F(MpiCollectivesTest, MistakesThrowCommErrorInsteadOfAborting) {
  EXPECT_THROW(world_->subgroup({(rank_ + 1) % size_}, 1), CommError);  // the caller is not a member
  int v = 0;
  try {
    world_->broadcast(&v, sizeof v, size_);  // no such root: MPI's own argument check fails
    ADD_FAILURE() << "no error";
  } catch (const CommError& e) {
    EXPECT_NE(std::string(e.what()).find("MPI_Bcast"), std::string::npos) << e.what();
  }
}

TEST(NcclCollectives, RunWhereEveryRankHasAGpu) {
#if FASTGPU_HAVE_NCCL
  int gpus = 0;
  if (cudaGetDeviceCount(&gpus) != cudaSuccess) gpus = 0;
  int size = 0, rank = 0;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  int fewest = gpus;  // every rank must agree, or some would wait in make_nccl_collectives forever
  MPI_Allreduce(&gpus, &fewest, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  if (fewest < size) GTEST_SKIP() << "NCCL needs one GPU per rank; this node has " << gpus;
  auto nccl = make_nccl_collectives(MPI_COMM_WORLD, rank % gpus, nullptr);
  EXPECT_STREQ(nccl->backend(), "nccl");
  double* device = nullptr;
  ASSERT_EQ(cudaMalloc(&device, sizeof(double)), cudaSuccess);
  const double mine = rank + 1;
  cudaMemcpy(device, &mine, sizeof mine, cudaMemcpyHostToDevice);
  nccl->all_reduce(device, 1, ReduceOp::sum);
  double total = 0;
  cudaMemcpy(&total, device, sizeof total, cudaMemcpyDeviceToHost);
  cudaFree(device);
  EXPECT_EQ(total, size * (size + 1) / 2.0);
  nccl->barrier();
#else
  EXPECT_THROW(make_nccl_collectives(MPI_COMM_WORLD, 0, nullptr), CommError);
#endif
}

}  // namespace
}  // namespace fastgpu::comm
