// Collectives over MPI for the CPU path. Each instance owns its own communicator (a dup of the
// caller's, or one made for a subgroup), so its messages never match the transport's.
#include <algorithm>
#include <chrono>
#include <climits>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "comm/collectives.hpp"
#include "comm/group_members.hpp"
#include "comm/mpi_check.hpp"
#include "comm/mpi_comm.hpp"

namespace fastgpu::comm {
namespace {

// MPI counts are int; larger buffers go in pieces of at most this many elements.
constexpr std::size_t kMaxChunk = static_cast<std::size_t>(INT_MAX);
// The communicator is private to this instance, so one tag serves every send/recv.
constexpr int kPointToPointTag = 0;
// post_state / take_state with tag t (below Collectives::kStateTags): the bytes travel under kStateTagBase + t,
// the receiver's request for them under kRequestTagBase + t.
constexpr int kStateTagBase = kPointToPointTag + 1;
constexpr int kRequestTagBase = kStateTagBase + Collectives::kStateTags;
// How often a take_state that waits, or a cancel() that gives a receiver its chance, looks again.
constexpr std::chrono::milliseconds kStatePoll(1);
// How long cancel() lets a receiver that already asked for the bytes take them.
constexpr std::chrono::milliseconds kCancelGrace(1000);

/// Owns an MPI_Group for the few lines it is needed.
class OwnedGroup {
 public:
  OwnedGroup() = default;
  ~OwnedGroup() {
    if (group_ != MPI_GROUP_NULL) MPI_Group_free(&group_);
  }
  OwnedGroup(const OwnedGroup&) = delete;
  OwnedGroup& operator=(const OwnedGroup&) = delete;
  MPI_Group* out() { return &group_; }
  MPI_Group get() const { return group_; }

 private:
  MPI_Group group_ = MPI_GROUP_NULL;
};

MPI_Op to_mpi(ReduceOp op) {
  switch (op) {
    case ReduceOp::sum: return MPI_SUM;
    case ReduceOp::min: return MPI_MIN;
    case ReduceOp::max: return MPI_MAX;
  }
  throw CommError("all_reduce: unknown ReduceOp");
}

/// Calls `each(offset, count)` over [0, total) in pieces MPI's int counts can hold.
template <typename Each>
void in_chunks(std::size_t total, Each each) {
  for (std::size_t offset = 0; offset < total; offset += kMaxChunk)
    each(offset, static_cast<int>(std::min(kMaxChunk, total - offset)));
}

/// in_chunks, except that an empty buffer is one empty message: a state of zero bytes arrives too.
template <typename Each>
void in_messages(std::size_t total, Each each) {
  if (total == 0)
    each(std::size_t{0}, 0);
  else
    in_chunks(total, each);
}

bool mpi_finalized() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  return finalized != 0;
}

// A state transfer goes receiver first: take_state sends a request (an empty message), and the
// sender sends the bytes only once that came. Sending them at once (MPI_Isend at post_state) would
// leave nothing to withdraw them by when no one takes them: Open MPI does not cancel sends
// (MPI_Cancel leaves them pending; MPI-4 deprecates cancelling sends), so a small state would still
// be delivered, and taken later in place of the next state with the same pair and tag, and a large
// one would keep MPI_Wait waiting forever. A posted receive of the request can be cancelled. The
// sender never blocks: the receive is posted, and done() (or a take_state of the same collectives)
// answers the request when it has come.

/// The sender's side of one post_state; shared between its PostedState and the collectives that
/// made it, which drive it on while they wait in take_state (two workers moving subtasks to each
/// other would otherwise wait for each other's answers). Used by one thread.
class StateSend {
 public:
  StateSend(std::shared_ptr<const MpiComm> comm, std::string bytes, int peer, int tag)
      : comm_(std::move(comm)), bytes_(std::move(bytes)), peer_(peer), tag_(tag) {
    FASTGPU_CHECK_MPI(MPI_Irecv(nullptr, 0, MPI_BYTE, peer_, kRequestTagBase + tag_, comm_->get(), &request_));
  }
  ~StateSend() {
    if (finished_ || mpi_finalized()) return;
    try {
      cancel();
    } catch (...) {  // a destructor must not throw; the requests are then left to MPI
    }
  }
  StateSend(const StateSend&) = delete;
  StateSend& operator=(const StateSend&) = delete;

  /// True once the bytes are sent (or withdrawn): they are freed then.
  bool progress() {
    if (finished_) return true;
    if (request_ != MPI_REQUEST_NULL) {
      int asked = 0;
      FASTGPU_CHECK_MPI(MPI_Test(&request_, &asked, MPI_STATUS_IGNORE));
      if (!asked) return false;
      start_sending();
    }
    int sent = 0;
    FASTGPU_CHECK_MPI(MPI_Testall(static_cast<int>(sends_.size()), sends_.data(), &sent, MPI_STATUSES_IGNORE));
    if (sent) finish();
    return finished_;
  }

  void cancel() {
    if (finished_) return;
    if (request_ != MPI_REQUEST_NULL) {
      FASTGPU_CHECK_MPI(MPI_Cancel(&request_));
      MPI_Status status;
      FASTGPU_CHECK_MPI(MPI_Wait(&request_, &status));
      int cancelled = 0;
      FASTGPU_CHECK_MPI(MPI_Test_cancelled(&status, &cancelled));
      if (cancelled) {
        finish();
        return;
      }
      start_sending();  // the request came meanwhile: the receiver is waiting for the bytes
    }
    // A receiver that asked takes the bytes within moments, unless it stopped waiting; then MPI
    // may cancel the sends. Where it does not (Open MPI), they are abandoned rather than waited
    // for forever.
    if (sent_within(kCancelGrace)) return;
    for (MPI_Request& send : sends_)
      if (send != MPI_REQUEST_NULL) FASTGPU_CHECK_MPI(MPI_Cancel(&send));
    if (!sent_within(kStatePoll * 10)) abandon();
  }

 private:
  void start_sending() {
    in_messages(bytes_.size(), [&](std::size_t offset, int n) {
      MPI_Request& send = sends_.emplace_back(MPI_REQUEST_NULL);
      FASTGPU_CHECK_MPI(MPI_Isend(bytes_.data() + offset, n, MPI_BYTE, peer_, kStateTagBase + tag_, comm_->get(), &send));
    });
  }

  bool sent_within(std::chrono::milliseconds grace) {
    const auto deadline = std::chrono::steady_clock::now() + grace;
    while (!progress()) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      std::this_thread::sleep_for(kStatePoll);
    }
    return true;
  }

  /// Lets the pending sends go: MPI frees their requests when they complete, if ever, and until
  /// then may read the bytes, which therefore stay allocated until the process exits.
  void abandon() {
    for (MPI_Request& send : sends_)
      if (send != MPI_REQUEST_NULL) FASTGPU_CHECK_MPI(MPI_Request_free(&send));
    static std::mutex mutex;
    static std::vector<std::string> abandoned;
    {
      std::lock_guard lock(mutex);
      abandoned.push_back(std::move(bytes_));
    }
    finish();
  }

  void finish() {
    std::string().swap(bytes_);
    sends_.clear();
    finished_ = true;
  }

  std::shared_ptr<const MpiComm> comm_;  // shared: a PostedState may outlive its collectives
  std::string bytes_;
  int peer_;
  int tag_;
  MPI_Request request_ = MPI_REQUEST_NULL;  // the receive of the receiver's request
  std::vector<MPI_Request> sends_;          // of the bytes, once asked for
  bool finished_ = false;
};

class MpiPostedState final : public PostedState {
 public:
  explicit MpiPostedState(std::shared_ptr<StateSend> send) : send_(std::move(send)) {}
  bool done() override { return send_->progress(); }
  void cancel() override { send_->cancel(); }

 private:
  std::shared_ptr<StateSend> send_;
};

class MpiCollectives final : public Collectives {
 public:
  explicit MpiCollectives(MpiComm comm) : comm_(std::make_shared<const MpiComm>(std::move(comm))) {
    FASTGPU_CHECK_MPI(MPI_Comm_rank(comm_->get(), &rank_));
    FASTGPU_CHECK_MPI(MPI_Comm_size(comm_->get(), &size_));
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  const char* backend() const override { return "mpi"; }

  void all_reduce(double* data, std::size_t count, ReduceOp op) override {
    const MPI_Op mpi_op = to_mpi(op);
    in_chunks(count, [&](std::size_t offset, int n) {
      FASTGPU_CHECK_MPI(MPI_Allreduce(MPI_IN_PLACE, data + offset, n, MPI_DOUBLE, mpi_op, comm_->get()));
    });
  }

  void broadcast(void* data, std::size_t bytes, int root) override {
    auto* base = static_cast<std::byte*>(data);
    in_chunks(bytes, [&](std::size_t offset, int n) {
      FASTGPU_CHECK_MPI(MPI_Bcast(base + offset, n, MPI_BYTE, root, comm_->get()));
    });
  }

  void send(const void* data, std::size_t bytes, int peer) override {
    const auto* base = static_cast<const std::byte*>(data);
    in_chunks(bytes, [&](std::size_t offset, int n) {
      FASTGPU_CHECK_MPI(MPI_Send(base + offset, n, MPI_BYTE, peer, kPointToPointTag, comm_->get()));
    });
  }

  void recv(void* data, std::size_t bytes, int peer) override {
    auto* base = static_cast<std::byte*>(data);
    in_chunks(bytes, [&](std::size_t offset, int n) {
      MPI_Status status;
      FASTGPU_CHECK_MPI(MPI_Recv(base + offset, n, MPI_BYTE, peer, kPointToPointTag, comm_->get(), &status));
      int received = 0;
      FASTGPU_CHECK_MPI(MPI_Get_count(&status, MPI_BYTE, &received));
      // A shorter message means the two sides disagree on the size: the stream is out of step.
      if (received != n)
        throw CommError("recv: expected " + std::to_string(n) + " bytes from rank " + std::to_string(peer) +
                        ", got " + std::to_string(received));
    });
  }

  void barrier() override { FASTGPU_CHECK_MPI(MPI_Barrier(comm_->get())); }

  std::unique_ptr<PostedState> post_state(std::string bytes, int peer, int tag) override {
    check_state_transfer(peer, tag, size_);
    auto send = std::make_shared<StateSend>(comm_, std::move(bytes), peer, tag);
    std::erase_if(sends_, [](const std::weak_ptr<StateSend>& s) { return s.expired(); });
    sends_.push_back(send);
    return std::make_unique<MpiPostedState>(std::move(send));
  }

  std::optional<std::string> take_state(int peer, int tag, std::size_t bytes,
                                        std::chrono::milliseconds timeout) override {
    check_state_transfer(peer, tag, size_);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    // The request: empty, so it needs no buffer kept alive, and freed at once, since one the
    // sender never answers (it never posted, or cancelled) stays pending.
    MPI_Request request = MPI_REQUEST_NULL;
    FASTGPU_CHECK_MPI(MPI_Isend(nullptr, 0, MPI_BYTE, peer, kRequestTagBase + tag, comm_->get(), &request));
    FASTGPU_CHECK_MPI(MPI_Request_free(&request));
    // Probed rather than received, so a timeout leaves nothing posted to withdraw. If the bytes
    // come after all, they wait for the next take_state with this pair and tag.
    for (;;) {
      int arrived = 0;
      MPI_Message message = MPI_MESSAGE_NULL;
      MPI_Status status;
      FASTGPU_CHECK_MPI(MPI_Improbe(peer, kStateTagBase + tag, comm_->get(), &arrived, &message, &status));
      if (arrived) return receive_state(message, status, peer, tag, bytes);
      progress_sends();
      if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
      std::this_thread::sleep_for(kStatePoll);
    }
  }

  std::unique_ptr<Collectives> subgroup(const std::vector<int>& members, int tag) override {
    position_in_group(members, size_, rank_);
    OwnedGroup all, chosen;
    FASTGPU_CHECK_MPI(MPI_Comm_group(comm_->get(), all.out()));
    FASTGPU_CHECK_MPI(MPI_Group_incl(all.get(), static_cast<int>(members.size()), members.data(), chosen.out()));
    // Collective over the members only (MPI-3), unlike MPI_Comm_create / MPI_Comm_split: the other
    // ranks are busy running their own subtasks.
    MPI_Comm sub = MPI_COMM_NULL;
    FASTGPU_CHECK_MPI(MPI_Comm_create_group(comm_->get(), chosen.get(), tag, &sub));
    return std::make_unique<MpiCollectives>(MpiComm(sub));
  }

 private:
  /// The state whose first message `probed` matched; further messages (past INT_MAX bytes) follow
  /// under the same tag. A size other than `bytes` is received all the same, so the next state
  /// with this pair and tag is not stuck behind it, and then reported.
  std::string receive_state(MPI_Message probed, MPI_Status status, int peer, int tag, std::size_t bytes) {
    std::string data(bytes, '\0');
    bool first = true;
    in_messages(bytes, [&](std::size_t offset, int n) {
      MPI_Message message = probed;
      if (!first) FASTGPU_CHECK_MPI(MPI_Mprobe(peer, kStateTagBase + tag, comm_->get(), &message, &status));
      first = false;
      int received = 0;
      FASTGPU_CHECK_MPI(MPI_Get_count(&status, MPI_BYTE, &received));
      if (received != n) {
        std::string discarded(static_cast<std::size_t>(received), '\0');
        FASTGPU_CHECK_MPI(MPI_Mrecv(discarded.data(), received, MPI_BYTE, &message, MPI_STATUS_IGNORE));
        throw CommError("take_state: expected " + std::to_string(n) + " bytes from rank " + std::to_string(peer) +
                        ", got " + std::to_string(received));
      }
      FASTGPU_CHECK_MPI(MPI_Mrecv(data.data() + offset, n, MPI_BYTE, &message, MPI_STATUS_IGNORE));
    });
    return data;
  }

  /// Answers the requests for this instance's posted states that came in the meantime.
  void progress_sends() {
    for (const auto& weak : sends_)
      if (auto send = weak.lock()) send->progress();
  }

  std::shared_ptr<const MpiComm> comm_;  // shared with the posted states
  int rank_ = 0;
  int size_ = 0;
  std::vector<std::weak_ptr<StateSend>> sends_;  // this instance's post_state calls
};

}  // namespace

std::unique_ptr<Collectives> make_mpi_collectives(MPI_Comm comm) {
  return std::make_unique<MpiCollectives>(MpiComm::dup(comm));
}

}  // namespace fastgpu::comm
