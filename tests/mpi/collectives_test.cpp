// The MPI Collectives backend over real ranks, and the NCCL one where this machine has GPUs.
#include <gtest/gtest.h>
#include <mpi.h>

#include <chrono>
#include <cstddef>
#include <memory>
#include <numeric>
#include <optional>
#include <string>
#include <thread>
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

// post_state / take_state between rank 0 and the last rank. The sender polls done() as a worker's
// loop does: it answers the receiver's request for the bytes.
using std::chrono_literals::operator""ms;
constexpr std::chrono::milliseconds kArrival(30000);

std::string pattern(std::size_t bytes, int seed) {
  std::string text(bytes, '\0');
  for (std::size_t i = 0; i < bytes; ++i) text[i] = static_cast<char>(i * 31 + static_cast<std::size_t>(seed));
  return text;
}

void finish(PostedState& posted) {
  while (!posted.done()) std::this_thread::yield();
}

class MpiStateTransferTest : public MpiCollectivesTest {
 protected:
  /// Rank 0 posts `state` to the last rank, which takes it; the other ranks only meet at the end.
  void transfer(const std::string& state, int tag) {
    if (rank_ == 0) {
      auto posted = world_->post_state(state, last_, tag);
      finish(*posted);
    } else if (rank_ == last_) {
      const auto got = world_->take_state(0, tag, state.size(), kArrival);
      ASSERT_TRUE(got.has_value());
      EXPECT_TRUE(*got == state) << "a state of " << state.size() << " bytes arrived changed";
    }
    world_->barrier();
  }

  const int last_ = size_ - 1;
};

TEST_F(MpiStateTransferTest, ThreeMegabytesReachTheLastRank) { transfer(pattern(3u << 20, 7), 12); }

TEST_F(MpiStateTransferTest, PostingDoesNotWaitForTheReceiver) {
  // The receiver takes only after the barrier, so a post that waited for it would deadlock here.
  const std::string state = pattern(3u << 20, 3);
  std::unique_ptr<PostedState> posted;
  if (rank_ == 0) posted = world_->post_state(state, last_, 0);
  world_->barrier();
  if (rank_ == last_) EXPECT_EQ(world_->take_state(0, 0, state.size(), kArrival), state);
  if (posted) finish(*posted);
  world_->barrier();
}

TEST_F(MpiStateTransferTest, StatesWithTheSamePairAndTagMatchInOrder) {
  if (rank_ == 0) {
    auto first = world_->post_state("first", last_, 5);
    auto second = world_->post_state("second!", last_, 5);
    finish(*first);
    finish(*second);
  } else if (rank_ == last_) {
    EXPECT_EQ(world_->take_state(0, 5, 5, kArrival), "first");
    EXPECT_EQ(world_->take_state(0, 5, 7, kArrival), "second!");
  }
  world_->barrier();
}

TEST_F(MpiStateTransferTest, TwoRanksTakeEachOthersStatesWithoutPollingDone) {
  // Each waits in take_state, which answers the other's request for its own posted state.
  if (rank_ != 0 && rank_ != last_) return world_->barrier();
  const int peer = rank_ == 0 ? last_ : 0;
  const std::string mine = pattern(1u << 20, rank_), theirs = pattern(1u << 20, peer);
  auto posted = world_->post_state(mine, peer, 8);
  EXPECT_EQ(world_->take_state(peer, 8, theirs.size(), kArrival), theirs);
  finish(*posted);
  world_->barrier();
}

TEST_F(MpiStateTransferTest, TakeTimesOutWhenNothingWasPosted) {
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(world_->take_state((rank_ + 1) % size_, Collectives::kStateTags - 1, 16, 50ms), std::nullopt);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 50ms);
  world_->barrier();
}

TEST_F(MpiStateTransferTest, CancelledPostIsWithdrawnAndTheTagStillWorks) {
  if (rank_ == 0) {
    auto stale = world_->post_state(pattern(1u << 20, 1), last_, 9);  // never taken
    stale->cancel();
    EXPECT_TRUE(stale->done());
  }
  world_->barrier();
  transfer("fresh", 9);
}

TEST_F(MpiStateTransferTest, ATimedOutTakeIsAnsweredByTheNextPost) {
  // The request of a take that gave up stays with the sender: its next state with that tag goes
  // out at once and waits for the next take.
  if (rank_ == last_) EXPECT_EQ(world_->take_state(0, 6, 4, 1ms), std::nullopt);
  world_->barrier();
  transfer("late", 6);
}

TEST_F(MpiStateTransferTest, CancelGivesUpAStateAskedForButNeverTaken) {
  // A megabyte is too large to be buffered at the receiver, so the send stays pending, and Open
  // MPI cannot cancel it: cancel() must return all the same.
  if (rank_ == last_) EXPECT_EQ(world_->take_state(0, 4, 1u << 20, 1ms), std::nullopt);
  world_->barrier();
  if (rank_ == 0) {
    auto posted = world_->post_state(pattern(1u << 20, 4), last_, 4);
    posted->cancel();
    EXPECT_TRUE(posted->done());
  }
  world_->barrier();
}

TEST_F(MpiStateTransferTest, ZeroBytesArriveToo) { transfer("", 1); }

TEST_F(MpiStateTransferTest, ADifferentSizeThrowsAndThePairStaysInStep) {
  if (rank_ == 0) {
    auto wrong = world_->post_state("12345", last_, 2);
    finish(*wrong);
    auto right = world_->post_state("right", last_, 2);
    finish(*right);
  } else if (rank_ == last_) {
    try {
      world_->take_state(0, 2, 8, kArrival);
      ADD_FAILURE() << "no error";
    } catch (const CommError& e) {
      EXPECT_NE(std::string(e.what()).find("expected 8 bytes from rank 0, got 5"), std::string::npos) << e.what();
    }
    EXPECT_EQ(world_->take_state(0, 2, 5, kArrival), "right");
  }
  world_->barrier();
}

TEST_F(MpiStateTransferTest, BadTagsAndPeersThrow) {
  EXPECT_THROW(world_->post_state("x", last_, -1), CommError);
  EXPECT_THROW(world_->post_state("x", last_, Collectives::kStateTags), CommError);
  EXPECT_THROW(world_->post_state("x", size_, 0), CommError);
  EXPECT_THROW(world_->take_state(0, Collectives::kStateTags, 1, 1ms), CommError);
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
  // A state, rank 0 to the last rank, over the transfer communicator (a worker never sends to itself).
  const std::string state(1000, 'n');
  if (size < 2) {
    // nothing to send
  } else if (rank == 0) {
    auto posted = nccl->post_state(state, size - 1, 3);
    while (!posted->done()) std::this_thread::yield();
  } else if (rank == size - 1) {
    EXPECT_EQ(nccl->take_state(0, 3, state.size(), std::chrono::seconds(30)), state);
  }
  nccl->barrier();
#else
  EXPECT_THROW(make_nccl_collectives(MPI_COMM_WORLD, 0, nullptr), CommError);
#endif
}

}  // namespace
}  // namespace fastgpu::comm
