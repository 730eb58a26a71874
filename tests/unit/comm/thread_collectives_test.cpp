// The shared-memory Collectives backend: one thread per member, as in an in-process run.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <exception>
#include <functional>
#include <numeric>
#include <string>
#include <thread>
#include <vector>

#include "comm/collectives.hpp"
#include "fastgpu/error.hpp"

namespace fastgpu::comm {
namespace {

/// Runs `body(member)` on one thread per member and waits for all; rethrows the first exception.
void run_members(int size, const std::function<void(Collectives&)>& body) {
  auto members = make_thread_collectives(size);
  std::vector<std::exception_ptr> errors(static_cast<std::size_t>(size));
  std::vector<std::thread> threads;
  for (int r = 0; r < size; ++r) {
    threads.emplace_back([&, r] {
      try {
        body(*members[static_cast<std::size_t>(r)]);
      } catch (...) {
        errors[static_cast<std::size_t>(r)] = std::current_exception();
      }
    });
  }
  for (auto& t : threads) t.join();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
}

class ThreadCollectivesTest : public ::testing::TestWithParam<int> {};

TEST_P(ThreadCollectivesTest, KnowsItsRankSizeAndBackend) {
  std::vector<int> seen(static_cast<std::size_t>(GetParam()), -1);
  run_members(GetParam(), [&](Collectives& c) {
    EXPECT_EQ(c.size(), GetParam());
    EXPECT_STREQ(c.backend(), "threads");
    seen[static_cast<std::size_t>(c.rank())] = c.rank();
  });
  for (int r = 0; r < GetParam(); ++r) EXPECT_EQ(seen[static_cast<std::size_t>(r)], r);
}

TEST_P(ThreadCollectivesTest, AllReduceSumMinMaxAreExact) {
  const int n = GetParam();
  run_members(n, [&](Collectives& c) {
    const double r = c.rank();
    std::vector<double> sum{r, 2 * r + 1, -r}, min = sum, max = sum;
    c.all_reduce(sum.data(), sum.size(), ReduceOp::sum);
    c.all_reduce(min.data(), min.size(), ReduceOp::min);
    c.all_reduce(max.data(), max.size(), ReduceOp::max);
    const double s = n * (n - 1) / 2.0;  // 0 + 1 + ... + n-1
    EXPECT_EQ(sum, (std::vector<double>{s, 2 * s + n, -s}));
    EXPECT_EQ(min, (std::vector<double>{0, 1, -(n - 1.0)}));
    EXPECT_EQ(max, (std::vector<double>{n - 1.0, 2 * (n - 1.0) + 1, 0}));
  });
}

TEST_P(ThreadCollectivesTest, AllReduceCombinesInMemberOrderSoEveryMemberGetsTheSameBits) {
  const int n = GetParam();
  const auto value = [](int rank) { return 0.1 * (rank + 1) + 1e-17 * rank; };  // rounding depends on order
  double expected = value(0);
  for (int r = 1; r < n; ++r) expected += value(r);
  std::vector<double> got(static_cast<std::size_t>(n));
  run_members(n, [&](Collectives& c) {
    double x = value(c.rank());
    c.all_reduce(&x, 1, ReduceOp::sum);
    got[static_cast<std::size_t>(c.rank())] = x;
  });
  for (double x : got) EXPECT_EQ(std::memcmp(&x, &expected, sizeof x), 0) << x << " vs " << expected;
}

TEST_P(ThreadCollectivesTest, BroadcastFromEveryRoot) {
  run_members(GetParam(), [](Collectives& c) {
    for (int root = 0; root < c.size(); ++root) {
      std::string text = c.rank() == root ? "from root " + std::to_string(root) : std::string(11, '?');
      c.broadcast(text.data(), text.size(), root);
      EXPECT_EQ(text, "from root " + std::to_string(root));
    }
  });
}

TEST_P(ThreadCollectivesTest, SendRecvAroundARing) {
  run_members(GetParam(), [](Collectives& c) {
    const int next = (c.rank() + 1) % c.size(), previous = (c.rank() + c.size() - 1) % c.size();
    std::vector<int> out{c.rank(), c.rank() * 100}, in(2, -1);
    c.send(out.data(), out.size() * sizeof(int), next);
    c.recv(in.data(), in.size() * sizeof(int), previous);
    EXPECT_EQ(in, (std::vector<int>{previous, previous * 100}));
  });
}

TEST_P(ThreadCollectivesTest, MessagesBetweenTwoMembersArriveInOrder) {
  run_members(GetParam(), [](Collectives& c) {
    if (c.rank() == 0) {
      for (int i = 0; i < 50; ++i) c.send(&i, sizeof i, 1);
    } else if (c.rank() == 1) {
      for (int i = 0; i < 50; ++i) {
        int got = -1;
        c.recv(&got, sizeof got, 0);
        EXPECT_EQ(got, i);
      }
    }
  });
}

TEST_P(ThreadCollectivesTest, BarrierWaitsForEveryMember) {
  std::atomic<int> arrived{0};
  run_members(GetParam(), [&](Collectives& c) {
    if (c.rank() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the late one
    ++arrived;
    c.barrier();
    EXPECT_EQ(arrived.load(), c.size());
  });
}

TEST_P(ThreadCollectivesTest, SubgroupMeetsWithoutTheOtherMembers) {
  const int n = GetParam();
  // The last member and member 0, in that order, form a group; the rest (if any) form another.
  // Neither waits for the other: a non-member never calls the first group's subgroup().
  const std::vector<int> pair{n - 1, 0};
  std::vector<int> rest(static_cast<std::size_t>(n - 2));
  std::iota(rest.begin(), rest.end(), 1);
  run_members(n, [&](Collectives& c) {
    const bool in_pair = c.rank() == 0 || c.rank() == n - 1;
    if (in_pair) {
      auto sub = c.subgroup(pair, 7);
      EXPECT_EQ(sub->size(), 2);
      EXPECT_EQ(sub->rank(), c.rank() == n - 1 ? 0 : 1);  // ranks follow the member list
      double x = c.rank();
      sub->all_reduce(&x, 1, ReduceOp::sum);
      EXPECT_EQ(x, n - 1.0);
      sub->barrier();
    } else {
      auto sub = c.subgroup(rest, 8);
      EXPECT_EQ(sub->size(), n - 2);
      int token = sub->rank() == 0 ? 42 : 0;
      sub->broadcast(&token, sizeof token, 0);
      EXPECT_EQ(token, 42);
    }
    c.barrier();  // the parent group still works afterwards
  });
}

TEST_P(ThreadCollectivesTest, ThousandRoundsOfEverythingDoNotDeadlock) {
  run_members(GetParam(), [](Collectives& c) {
    const int next = (c.rank() + 1) % c.size(), previous = (c.rank() + c.size() - 1) % c.size();
    for (int i = 0; i < 1000; ++i) {
      double x = 1;
      c.all_reduce(&x, 1, ReduceOp::sum);
      ASSERT_EQ(x, c.size());
      int value = c.rank() == i % c.size() ? i : -1;
      c.broadcast(&value, sizeof value, i % c.size());
      ASSERT_EQ(value, i);
      c.send(&i, sizeof i, next);
      int got = -1;
      c.recv(&got, sizeof got, previous);
      ASSERT_EQ(got, i);
      c.barrier();
    }
  });
}

TEST_P(ThreadCollectivesTest, TheSameMembersAndTagMakeAFreshGroupEachTime) {
  run_members(GetParam(), [](Collectives& c) {
    std::vector<int> everyone(static_cast<std::size_t>(c.size()));
    std::iota(everyone.begin(), everyone.end(), 0);
    for (int i = 0; i < 100; ++i) {
      auto sub = c.subgroup(everyone, 1);
      double x = i;
      sub->all_reduce(&x, 1, ReduceOp::max);
      ASSERT_EQ(x, i);
    }
  });
}

INSTANTIATE_TEST_SUITE_P(Members, ThreadCollectivesTest, ::testing::Range(2, 6),
                         [](const auto& info) { return std::to_string(info.param) + "members"; });

TEST(ThreadCollectives, MismatchedSizesThrowOnEveryMemberAndTheGroupStaysUsable) {
  std::atomic<int> thrown{0};
  run_members(3, [&](Collectives& c) {
    std::vector<double> data(static_cast<std::size_t>(c.rank() + 1), 1.0);
    try {
      c.all_reduce(data.data(), data.size(), ReduceOp::sum);
    } catch (const CommError& e) {
      EXPECT_NE(std::string(e.what()).find("different sizes"), std::string::npos) << e.what();
      ++thrown;
    }
    std::vector<char> bytes(static_cast<std::size_t>(c.rank() == 0 ? 4 : 8));
    EXPECT_THROW(c.broadcast(bytes.data(), bytes.size(), 0), CommError);
    double x = 1;
    c.all_reduce(&x, 1, ReduceOp::sum);
    EXPECT_EQ(x, 3);
  });
  EXPECT_EQ(thrown.load(), 3);
}

TEST(ThreadCollectives, DisagreeingRootsOrCollectivesThrow) {
  run_members(2, [](Collectives& c) {
    int v = 0;
    EXPECT_THROW(c.broadcast(&v, sizeof v, c.rank()), CommError);
    EXPECT_THROW(c.broadcast(&v, sizeof v, 5), CommError);
    if (c.rank() == 0) {
      EXPECT_THROW(c.barrier(), CommError);
    } else {
      double x = 0;
      EXPECT_THROW(c.all_reduce(&x, 1, ReduceOp::sum), CommError);
    }
  });
}

TEST(ThreadCollectives, BadPeersMembersAndSizesThrow) {
  EXPECT_THROW(make_thread_collectives(0), CommError);
  auto members = make_thread_collectives(2);
  int v = 0;
  EXPECT_THROW(members[0]->send(&v, sizeof v, 2), CommError);
  EXPECT_THROW(members[0]->recv(&v, sizeof v, -1), CommError);
  EXPECT_THROW(members[0]->subgroup({1}, 0), CommError);     // the caller is not a member
  EXPECT_THROW(members[0]->subgroup({0, 0}, 0), CommError);  // listed twice
  EXPECT_THROW(members[0]->subgroup({0, 2}, 0), CommError);  // no such rank
  members[1]->send(&v, sizeof v, 0);
  long wide = 0;
  EXPECT_THROW(members[0]->recv(&wide, sizeof wide, 1), CommError);  // sizes disagree
}

TEST(ThreadCollectives, AGroupOfOneWorksAlone) {
  auto members = make_thread_collectives(1);
  double x = 2.5;
  members[0]->all_reduce(&x, 1, ReduceOp::min);
  members[0]->barrier();
  EXPECT_EQ(x, 2.5);
  EXPECT_EQ(members[0]->subgroup({0}, 3)->size(), 1);
}

// post_state / take_state: posting is buffered, so one thread can play both members.
using std::chrono_literals::operator""ms;

TEST(ThreadCollectivesState, PostedStateIsTakenWithTheSameBytes) {
  auto members = make_thread_collectives(2);
  const std::string state("checkpoint\0zero", 15);
  auto posted = members[0]->post_state(state, 1, 5);
  EXPECT_TRUE(posted->done());  // buffered at once
  EXPECT_EQ(members[1]->take_state(0, 5, state.size(), 1000ms), state);
  posted->cancel();  // harmless after it was taken
}

TEST(ThreadCollectivesState, TakeWaitsForAPostFromAnotherThread) {
  std::atomic<bool> taking{false};
  run_members(2, [&](Collectives& c) {
    if (c.rank() == 1) {
      taking = true;
      EXPECT_EQ(c.take_state(0, 3, 4, std::chrono::minutes(1)), "late");
    } else {
      while (!taking) std::this_thread::yield();  // most likely waiting in take_state by now
      c.post_state("late", 1, 3);
    }
  });
}

TEST(ThreadCollectivesState, StatesWithTheSamePairAndTagMatchInOrder) {
  auto members = make_thread_collectives(2);
  auto first = members[1]->post_state("first", 0, 7);
  auto second = members[1]->post_state("second!", 0, 7);
  EXPECT_EQ(members[0]->take_state(1, 7, 5, 1000ms), "first");
  EXPECT_EQ(members[0]->take_state(1, 7, 7, 1000ms), "second!");
}

TEST(ThreadCollectivesState, TagsAndPairsAreIndependent) {
  auto members = make_thread_collectives(3);
  auto one = members[0]->post_state("one", 1, 1);
  auto two = members[0]->post_state("two", 1, 2);
  auto other = members[2]->post_state("two from 2", 1, 2);
  EXPECT_EQ(members[1]->take_state(0, 2, 3, 1000ms), "two");
  EXPECT_EQ(members[1]->take_state(2, 2, 10, 1000ms), "two from 2");
  EXPECT_EQ(members[1]->take_state(0, 1, 3, 1000ms), "one");
  EXPECT_EQ(members[2]->take_state(0, 1, 3, 10ms), std::nullopt);  // sent to member 1, not 2
}

TEST(ThreadCollectivesState, TakeTimesOutWhenNothingWasPosted) {
  auto members = make_thread_collectives(2);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(members[0]->take_state(1, 0, 8, 30ms), std::nullopt);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 30ms);
}

TEST(ThreadCollectivesState, ADifferentSizeThrows) {
  auto members = make_thread_collectives(2);
  auto posted = members[0]->post_state("12345", 1, 0);
  try {
    members[1]->take_state(0, 0, 8, 1000ms);
    ADD_FAILURE() << "no error";
  } catch (const CommError& e) {
    EXPECT_NE(std::string(e.what()).find("expected 8 bytes from member 0, got 5"), std::string::npos) << e.what();
  }
}

TEST(ThreadCollectivesState, CancelWithdrawsAStateNotYetTaken) {
  auto members = make_thread_collectives(2);
  auto cancelled = members[0]->post_state("stale", 1, 4);
  auto kept = members[0]->post_state("kept", 1, 9);
  cancelled->cancel();
  EXPECT_EQ(members[1]->take_state(0, 4, 5, 10ms), std::nullopt);
  EXPECT_EQ(members[1]->take_state(0, 9, 4, 1000ms), "kept");
  auto fresh = members[0]->post_state("fresh!", 1, 4);  // the tag still works
  EXPECT_EQ(members[1]->take_state(0, 4, 6, 1000ms), "fresh!");
}

TEST(ThreadCollectivesState, ZeroBytesArriveToo) {
  auto members = make_thread_collectives(2);
  auto posted = members[1]->post_state("", 0, Collectives::kStateTags - 1);
  EXPECT_EQ(members[0]->take_state(1, Collectives::kStateTags - 1, 0, 1000ms), "");
}

TEST(ThreadCollectivesState, BadTagsAndPeersThrow) {
  auto members = make_thread_collectives(2);
  EXPECT_THROW(members[0]->post_state("x", 1, -1), CommError);
  EXPECT_THROW(members[0]->post_state("x", 1, Collectives::kStateTags), CommError);
  EXPECT_THROW(members[0]->post_state("x", 2, 0), CommError);
  EXPECT_THROW(members[0]->take_state(1, Collectives::kStateTags, 1, 1ms), CommError);
  EXPECT_THROW(members[0]->take_state(-1, 0, 1, 1ms), CommError);
}

}  // namespace
}  // namespace fastgpu::comm
