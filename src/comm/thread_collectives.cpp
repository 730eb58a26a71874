// Collectives among the worker threads of an in-process run (`fastgpu run --workers N` without
// mpirun). The members of a group share one GroupState; a collective is a generation-counting
// rendezvous in which the last member to arrive checks that every member made the same call and then
// carries the operation out for all of them, while the others wait with their buffers in place.
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "comm/collectives.hpp"
#include "comm/group_members.hpp"
#include "fastgpu/error.hpp"

namespace fastgpu::comm {
namespace {

enum class CollectiveKind { all_reduce, broadcast, barrier };

const char* name_of(CollectiveKind kind) {
  switch (kind) {
    case CollectiveKind::all_reduce: return "all_reduce";
    case CollectiveKind::broadcast: return "broadcast";
    case CollectiveKind::barrier: return "barrier";
  }
  return "?";
}

/// One member's call to a collective, posted for the member that completes it.
struct Posting {
  CollectiveKind kind = CollectiveKind::barrier;
  void* data = nullptr;
  std::size_t count = 0;  // doubles for all_reduce, bytes for broadcast
  ReduceOp op = ReduceOp::sum;
  int root = 0;
};

double combine(ReduceOp op, double a, double b) {
  switch (op) {
    case ReduceOp::sum: return a + b;
    case ReduceOp::min: return std::min(a, b);
    case ReduceOp::max: return std::max(a, b);
  }
  throw CommError("all_reduce: unknown ReduceOp");
}

/// What the members of one group share. Member i is used by one thread only.
class GroupState {
 public:
  explicit GroupState(int size) : size_(size), postings_(static_cast<std::size_t>(size)) {}
  int size() const { return size_; }

  /// Blocks until every member has posted, then returns (or throws CommError, on every member
  /// alike, when the postings disagree).
  void collective(int rank, const Posting& posting) {
    std::unique_lock lock(mutex_);
    postings_[static_cast<std::size_t>(rank)] = posting;
    const std::uint64_t generation = generation_;
    if (++arrived_ < size_) {
      changed_.wait(lock, [&] { return generation_ != generation; });
    } else {
      error_ = disagreement();
      if (error_.empty()) perform();
      arrived_ = 0;
      ++generation_;
      changed_.notify_all();
    }
    // error_ stays valid here: the next collective cannot complete before this member arrives at it.
    if (!error_.empty()) throw CommError(error_);
  }

  /// Buffered: returns at once; the bytes wait in the (from, to) queue for the matching recv.
  void send(int from, int to, const void* data, std::size_t bytes) {
    const auto* begin = static_cast<const std::byte*>(data);
    std::lock_guard lock(mutex_);
    mailboxes_[{from, to}].emplace_back(begin, begin + bytes);
    changed_.notify_all();
  }

  void recv(int from, int to, void* data, std::size_t bytes) {
    std::vector<std::byte> message;
    {
      std::unique_lock lock(mutex_);
      auto& queue = mailboxes_[{from, to}];
      changed_.wait(lock, [&] { return !queue.empty(); });
      message = std::move(queue.front());
      queue.pop_front();
    }
    if (message.size() != bytes)
      throw CommError("recv: expected " + std::to_string(bytes) + " bytes from member " + std::to_string(from) +
                      ", got " + std::to_string(message.size()));
    if (bytes > 0) std::memcpy(data, message.data(), bytes);
  }

  /// Buffered like send, in a mailbox of its own keyed also by `tag`; returns the id by which
  /// withdraw_state finds the bytes while they wait.
  std::uint64_t post_state(int from, int to, int tag, std::string bytes) {
    std::lock_guard lock(mutex_);
    const std::uint64_t id = ++last_state_id_;
    states_[{from, to, tag}].push_back({id, std::move(bytes)});
    changed_.notify_all();
    return id;
  }

  /// Removes posted state `id` if no take_state has had it yet.
  void withdraw_state(int from, int to, int tag, std::uint64_t id) {
    std::lock_guard lock(mutex_);
    const auto it = states_.find({from, to, tag});
    if (it == states_.end()) return;
    std::erase_if(it->second, [&](const QueuedState& queued) { return queued.id == id; });
    if (it->second.empty()) states_.erase(it);
  }

  std::optional<std::string> take_state(int from, int to, int tag, std::size_t bytes,
                                        std::chrono::steady_clock::time_point deadline) {
    std::string state;
    {
      std::unique_lock lock(mutex_);
      const std::tuple key{from, to, tag};
      const auto arrived = [&] {
        const auto it = states_.find(key);
        return it != states_.end() && !it->second.empty();
      };
      if (!changed_.wait_until(lock, deadline, arrived)) return std::nullopt;
      // Looked up again: other mailboxes come and go while this one waits.
      const auto it = states_.find(key);
      state = std::move(it->second.front().bytes);
      it->second.pop_front();
      if (it->second.empty()) states_.erase(it);
    }
    if (state.size() != bytes)
      throw CommError("take_state: expected " + std::to_string(bytes) + " bytes from member " + std::to_string(from) +
                      ", got " + std::to_string(state.size()));
    return state;
  }

  /// The shared state of the subgroup `members` / `tag`: the first member to ask creates it, the
  /// others find it. Once every member has joined it leaves the registry, so the same members and
  /// tag can later make a fresh group; a member that asks again before the others have joined the
  /// previous one gets the next one in line.
  std::shared_ptr<GroupState> join_subgroup(const std::vector<int>& members, int tag, int position) {
    std::lock_guard lock(mutex_);
    const auto key = std::make_pair(members, tag);
    auto& line = forming_[key];
    auto it = std::find_if(line.begin(), line.end(),
                           [&](const Forming& f) { return !f.joined[static_cast<std::size_t>(position)]; });
    if (it == line.end()) {
      line.push_back({std::make_shared<GroupState>(static_cast<int>(members.size())),
                      std::vector<bool>(members.size(), false)});
      it = std::prev(line.end());
    }
    it->joined[static_cast<std::size_t>(position)] = true;
    auto state = it->state;
    if (std::all_of(it->joined.begin(), it->joined.end(), [](bool j) { return j; })) line.erase(it);
    if (line.empty()) forming_.erase(key);
    return state;
  }

 private:
  struct QueuedState {
    std::uint64_t id;
    std::string bytes;
  };
  struct Forming {
    std::shared_ptr<GroupState> state;
    std::vector<bool> joined;  // by position in the member list
  };

  /// Empty when every member made the same call; otherwise what differs.
  std::string disagreement() const {
    const Posting& first = postings_.front();
    for (std::size_t m = 1; m < postings_.size(); ++m) {
      const Posting& other = postings_[m];
      const std::string who = "member 0 and member " + std::to_string(m);
      if (other.kind != first.kind)
        return who + " called different collectives (" + name_of(first.kind) + ", " + name_of(other.kind) + ")";
      if (other.count != first.count)
        return std::string(name_of(first.kind)) + ": " + who + " passed different sizes (" +
               std::to_string(first.count) + ", " + std::to_string(other.count) + ")";
      if (first.kind == CollectiveKind::all_reduce && other.op != first.op)
        return "all_reduce: " + who + " passed different operations";
      if (first.kind == CollectiveKind::broadcast && other.root != first.root)
        return "broadcast: " + who + " named different roots";
    }
    if (first.kind == CollectiveKind::broadcast && (first.root < 0 || first.root >= size_))
      return "broadcast: root " + std::to_string(first.root) + " is not a member";
    return {};
  }

  /// Runs with every member waiting, so every posted buffer is valid and unused.
  void perform() {
    const Posting& first = postings_.front();
    if (first.kind == CollectiveKind::all_reduce) {
      // Combined in member order into a separate buffer: the same result, bit for bit, on every
      // member and on every run.
      const auto* start = static_cast<const double*>(first.data);
      std::vector<double> result(start, start + first.count);
      for (std::size_t m = 1; m < postings_.size(); ++m) {
        const auto* values = static_cast<const double*>(postings_[m].data);
        for (std::size_t i = 0; i < result.size(); ++i) result[i] = combine(first.op, result[i], values[i]);
      }
      for (const Posting& p : postings_) std::copy(result.begin(), result.end(), static_cast<double*>(p.data));
    } else if (first.kind == CollectiveKind::broadcast && first.count > 0) {
      const void* source = postings_[static_cast<std::size_t>(first.root)].data;
      for (const Posting& p : postings_)
        if (p.data != source) std::memcpy(p.data, source, first.count);
    }
  }

  const int size_;
  std::mutex mutex_;
  std::condition_variable changed_;  // a collective completed or a message arrived
  std::vector<Posting> postings_;
  int arrived_ = 0;
  std::uint64_t generation_ = 0;
  std::string error_;  // of the last collective
  std::map<std::pair<int, int>, std::deque<std::vector<std::byte>>> mailboxes_;  // (from, to)
  std::map<std::pair<std::vector<int>, int>, std::deque<Forming>> forming_;       // (members, tag)
  std::map<std::tuple<int, int, int>, std::deque<QueuedState>> states_;          // (from, to, tag)
  std::uint64_t last_state_id_ = 0;
};

/// Posted bytes wait in the shared mailbox, so the post is done at once; cancel takes them back out.
class ThreadPostedState final : public PostedState {
 public:
  ThreadPostedState(std::shared_ptr<GroupState> state, int from, int to, int tag, std::uint64_t id)
      : state_(std::move(state)), from_(from), to_(to), tag_(tag), id_(id) {}
  bool done() override { return true; }
  void cancel() override { state_->withdraw_state(from_, to_, tag_, id_); }

 private:
  std::shared_ptr<GroupState> state_;
  int from_, to_, tag_;
  std::uint64_t id_;
};

class ThreadCollectives final : public Collectives {
 public:
  ThreadCollectives(std::shared_ptr<GroupState> state, int rank) : state_(std::move(state)), rank_(rank) {}

  int rank() const override { return rank_; }
  int size() const override { return state_->size(); }
  const char* backend() const override { return "threads"; }

  void all_reduce(double* data, std::size_t count, ReduceOp op) override {
    state_->collective(rank_, {CollectiveKind::all_reduce, data, count, op, 0});
  }
  void broadcast(void* data, std::size_t bytes, int root) override {
    state_->collective(rank_, {CollectiveKind::broadcast, data, bytes, ReduceOp::sum, root});
  }
  void barrier() override { state_->collective(rank_, {CollectiveKind::barrier}); }

  void send(const void* data, std::size_t bytes, int peer) override {
    state_->send(rank_, checked_peer(peer), data, bytes);
  }
  void recv(void* data, std::size_t bytes, int peer) override {
    state_->recv(checked_peer(peer), rank_, data, bytes);
  }

  std::unique_ptr<PostedState> post_state(std::string bytes, int peer, int tag) override {
    check_state_transfer(peer, tag, size());
    const std::uint64_t id = state_->post_state(rank_, peer, tag, std::move(bytes));
    return std::make_unique<ThreadPostedState>(state_, rank_, peer, tag, id);
  }
  std::optional<std::string> take_state(int peer, int tag, std::size_t bytes,
                                        std::chrono::milliseconds timeout) override {
    check_state_transfer(peer, tag, size());
    return state_->take_state(peer, rank_, tag, bytes, std::chrono::steady_clock::now() + timeout);
  }

  std::unique_ptr<Collectives> subgroup(const std::vector<int>& members, int tag) override {
    const int position = position_in_group(members, size(), rank_);
    return std::make_unique<ThreadCollectives>(state_->join_subgroup(members, tag, position), position);
  }

 private:
  int checked_peer(int peer) const {
    if (peer < 0 || peer >= size()) throw CommError("peer " + std::to_string(peer) + " is not a member");
    return peer;
  }

  std::shared_ptr<GroupState> state_;
  int rank_;
};

}  // namespace

std::vector<std::unique_ptr<Collectives>> make_thread_collectives(int size) {
  if (size < 1) throw CommError("make_thread_collectives: size must be at least 1, not " + std::to_string(size));
  auto state = std::make_shared<GroupState>(size);
  std::vector<std::unique_ptr<Collectives>> members;
  for (int rank = 0; rank < size; ++rank) members.push_back(std::make_unique<ThreadCollectives>(state, rank));
  return members;
}

}  // namespace fastgpu::comm
