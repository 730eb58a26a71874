// Collectives over MPI for the CPU path. Each instance owns its own communicator (a dup of the
// caller's, or one made for a subgroup), so its messages never match the transport's.
#include <algorithm>
#include <climits>
#include <cstddef>
#include <memory>
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

class MpiCollectives final : public Collectives {
 public:
  explicit MpiCollectives(MpiComm comm) : comm_(std::move(comm)) {
    FASTGPU_CHECK_MPI(MPI_Comm_rank(comm_.get(), &rank_));
    FASTGPU_CHECK_MPI(MPI_Comm_size(comm_.get(), &size_));
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  const char* backend() const override { return "mpi"; }

  void all_reduce(double* data, std::size_t count, ReduceOp op) override {
    const MPI_Op mpi_op = to_mpi(op);
    in_chunks(count, [&](std::size_t offset, int n) {
      FASTGPU_CHECK_MPI(MPI_Allreduce(MPI_IN_PLACE, data + offset, n, MPI_DOUBLE, mpi_op, comm_.get()));
    });
  }

  void broadcast(void* data, std::size_t bytes, int root) override {
    auto* base = static_cast<std::byte*>(data);
    in_chunks(bytes, [&](std::size_t offset, int n) {
      FASTGPU_CHECK_MPI(MPI_Bcast(base + offset, n, MPI_BYTE, root, comm_.get()));
    });
  }

  void send(const void* data, std::size_t bytes, int peer) override {
    const auto* base = static_cast<const std::byte*>(data);
    in_chunks(bytes, [&](std::size_t offset, int n) {
      FASTGPU_CHECK_MPI(MPI_Send(base + offset, n, MPI_BYTE, peer, kPointToPointTag, comm_.get()));
    });
  }

  void recv(void* data, std::size_t bytes, int peer) override {
    auto* base = static_cast<std::byte*>(data);
    in_chunks(bytes, [&](std::size_t offset, int n) {
      MPI_Status status;
      FASTGPU_CHECK_MPI(MPI_Recv(base + offset, n, MPI_BYTE, peer, kPointToPointTag, comm_.get(), &status));
      int received = 0;
      FASTGPU_CHECK_MPI(MPI_Get_count(&status, MPI_BYTE, &received));
      // A shorter message means the two sides disagree on the size: the stream is out of step.
      if (received != n)
        throw CommError("recv: expected " + std::to_string(n) + " bytes from rank " + std::to_string(peer) +
                        ", got " + std::to_string(received));
    });
  }

  void barrier() override { FASTGPU_CHECK_MPI(MPI_Barrier(comm_.get())); }

  std::unique_ptr<Collectives> subgroup(const std::vector<int>& members, int tag) override {
    position_in_group(members, size_, rank_);
    OwnedGroup all, chosen;
    FASTGPU_CHECK_MPI(MPI_Comm_group(comm_.get(), all.out()));
    FASTGPU_CHECK_MPI(MPI_Group_incl(all.get(), static_cast<int>(members.size()), members.data(), chosen.out()));
    // Collective over the members only (MPI-3), unlike MPI_Comm_create / MPI_Comm_split: the other
    // ranks are busy running their own subtasks.
    MPI_Comm sub = MPI_COMM_NULL;
    FASTGPU_CHECK_MPI(MPI_Comm_create_group(comm_.get(), chosen.get(), tag, &sub));
    return std::make_unique<MpiCollectives>(MpiComm(sub));
  }

 private:
  MpiComm comm_;
  int rank_ = 0;
  int size_ = 0;
};

}  // namespace

std::unique_ptr<Collectives> make_mpi_collectives(MPI_Comm comm) {
  return std::make_unique<MpiCollectives>(MpiComm::dup(comm));
}

}  // namespace fastgpu::comm
