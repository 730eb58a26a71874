// Collectives over NCCL between the GPUs of a multi-GPU subtask, one GPU per member. MPI only
// bootstraps: it carries the NCCL unique ids, on a private duplicate of the caller's communicator
// that a group shares with the subgroups made from it.
#include "fastgpu/config.hpp"

#include "comm/collectives.hpp"
#include "fastgpu/error.hpp"

#if FASTGPU_HAVE_NCCL

#include <cuda_runtime.h>
#include <nccl.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <numeric>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "comm/group_members.hpp"
#include "comm/mpi_check.hpp"
#include "comm/mpi_comm.hpp"

namespace fastgpu::comm {
namespace {

[[noreturn]] void throw_nccl_error(ncclResult_t code, const char* call, const char* file, int line) {
  throw CommError(std::string(call) + " failed at " + file + ":" + std::to_string(line) + ": " +
                  ncclGetErrorString(code));
}

// A CUDA failure inside a collective is reported as the collective failing (CommError), not as a
// device error: the caller sees which communication step broke.
[[noreturn]] void throw_cuda_error(cudaError_t code, const char* call, const char* file, int line) {
  throw CommError(std::string(call) + " failed at " + file + ":" + std::to_string(line) + ": " +
                  cudaGetErrorString(code));
}

#define FASTGPU_CHECK_NCCL(call)                                               \
  do {                                                                         \
    const ncclResult_t fastgpu_nccl_code_ = (call);                            \
    if (fastgpu_nccl_code_ != ncclSuccess)                                     \
      throw_nccl_error(fastgpu_nccl_code_, #call, __FILE__, __LINE__);         \
  } while (false)

#define FASTGPU_CHECK_CUDA_COMM(call)                                          \
  do {                                                                         \
    const cudaError_t fastgpu_cuda_code_ = (call);                             \
    if (fastgpu_cuda_code_ != cudaSuccess)                                     \
      throw_cuda_error(fastgpu_cuda_code_, #call, __FILE__, __LINE__);         \
  } while (false)

/// Owns an ncclComm_t, made by ncclCommInitRank (collective over its members) on `device`.
class NcclComm {
 public:
  NcclComm(int device, int size, const ncclUniqueId& id, int rank) {
    FASTGPU_CHECK_CUDA_COMM(cudaSetDevice(device));
    FASTGPU_CHECK_NCCL(ncclCommInitRank(&comm_, size, id, rank));
  }
  ~NcclComm() {
    if (comm_ != nullptr) ncclCommDestroy(comm_);
  }
  NcclComm(const NcclComm&) = delete;
  NcclComm& operator=(const NcclComm&) = delete;
  ncclComm_t get() const { return comm_; }
  /// Gives up the operations still queued (ncclCommDestroy would wait for them) and frees the
  /// communicator; get() is null afterwards.
  void abort() {
    if (comm_ != nullptr) ncclCommAbort(comm_);
    comm_ = nullptr;
  }

 private:
  ncclComm_t comm_ = nullptr;
};

/// Owns one double of device memory: barrier() reduces it, since NCCL has no barrier of its own.
class DeviceScalar {
 public:
  DeviceScalar() { FASTGPU_CHECK_CUDA_COMM(cudaMalloc(&data_, sizeof(double))); }
  ~DeviceScalar() { cudaFree(data_); }
  DeviceScalar(const DeviceScalar&) = delete;
  DeviceScalar& operator=(const DeviceScalar&) = delete;
  double* get() const { return data_; }

 private:
  double* data_ = nullptr;
};

/// Owns a CUDA stream that does not wait for the legacy default stream.
class OwnedStream {
 public:
  OwnedStream() { FASTGPU_CHECK_CUDA_COMM(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking)); }
  ~OwnedStream() { cudaStreamDestroy(stream_); }  // returns at once; queued work still completes
  OwnedStream(const OwnedStream&) = delete;
  OwnedStream& operator=(const OwnedStream&) = delete;
  cudaStream_t get() const { return stream_; }

 private:
  cudaStream_t stream_ = nullptr;
};

/// Owns a CUDA event (no timing): a point in a stream that the host polls.
class OwnedEvent {
 public:
  OwnedEvent() { FASTGPU_CHECK_CUDA_COMM(cudaEventCreateWithFlags(&event_, cudaEventDisableTiming)); }
  ~OwnedEvent() { cudaEventDestroy(event_); }
  OwnedEvent(const OwnedEvent&) = delete;
  OwnedEvent& operator=(const OwnedEvent&) = delete;
  cudaEvent_t get() const { return event_; }
  void record(cudaStream_t stream) { FASTGPU_CHECK_CUDA_COMM(cudaEventRecord(event_, stream)); }
  /// True once the work queued before record() has completed.
  bool reached() const {
    const cudaError_t code = cudaEventQuery(event_);
    if (code == cudaErrorNotReady) return false;
    FASTGPU_CHECK_CUDA_COMM(code);
    return true;
  }

 private:
  cudaEvent_t event_ = nullptr;
};

/// Device memory from the stream-ordered allocator: taken in the order of `alloc`, given back in
/// the order of `release` (after the work queued there when it is destroyed). Neither waits for
/// the device, as cudaMalloc and cudaFree may: they would wait for a state send no one has taken.
class StreamOrderedBuffer {
 public:
  StreamOrderedBuffer(std::size_t bytes, cudaStream_t alloc, cudaStream_t release) : release_(release) {
    if (bytes > 0) FASTGPU_CHECK_CUDA_COMM(cudaMallocAsync(&data_, bytes, alloc));
  }
  ~StreamOrderedBuffer() {
    if (data_ != nullptr) cudaFreeAsync(data_, release_);
  }
  StreamOrderedBuffer(const StreamOrderedBuffer&) = delete;
  StreamOrderedBuffer& operator=(const StreamOrderedBuffer&) = delete;
  std::byte* get() const { return static_cast<std::byte*>(data_); }

 private:
  void* data_ = nullptr;
  cudaStream_t release_;
};

// post_state / take_state. NCCL has no tags and no cancel: a ncclSend waits in its stream until
// the peer's ncclRecv matches it, transfers between a pair match in the order they were queued
// (so the `tag` of Collectives::post_state does not choose the match here; it travels along and
// is checked), and the only way to give up a queued send is to abort its communicator. Hence a
// communicator and streams of their own: a pending send holds up neither the compute stream nor
// the collectives' communicator, and aborting it leaves the collectives working.
// Each state travels as a header (its size and tag) and then its bytes, so that the receiver can
// tell a different size or tag (NCCL would match a ncclRecv of another size all the same) and still
// receive the bytes, keeping the pair in step.
constexpr std::chrono::milliseconds kStatePoll(1);
using StateHeader = std::array<std::uint64_t, 2>;  // bytes, tag

/// The state transfers' communicator and streams, shared by the collectives that made them and
/// their posted states (which may outlive them).
class TransferChannel {
 public:
  TransferChannel(int device, int size, const ncclUniqueId& id, int rank) : device_(device), comm_(device, size, id, rank) {}
  /// Before the communicator goes: aborted when a send is still queued, since ncclCommDestroy
  /// would wait for a receiver that will never come.
  ~TransferChannel() {
    if (cudaSetDevice(device_) == cudaSuccess && cudaStreamQuery(transfer_.get()) == cudaErrorNotReady) comm_.abort();
  }
  TransferChannel(const TransferChannel&) = delete;
  TransferChannel& operator=(const TransferChannel&) = delete;

  void select() const { FASTGPU_CHECK_CUDA_COMM(cudaSetDevice(device_)); }
  bool aborted() const { return !aborted_after_.empty(); }
  void throw_if_aborted() const {
    if (aborted()) throw CommError("the state-transfer communicator was aborted after " + aborted_after_);
  }
  /// The communicator; throws CommError once it was aborted.
  ncclComm_t comm() const {
    throw_if_aborted();
    return comm_.get();
  }
  /// The NCCL operations, in order, and the frees that follow them.
  cudaStream_t transfer() const { return transfer_.get(); }
  /// Host-to-device copies: never behind a pending send, so posting never waits for one.
  cudaStream_t staging() const { return staging_.get(); }

  /// Gives up every queued transfer: state transfers throw CommError from now on. The aborted
  /// kernels end, so the streams drain.
  void abort(const std::string& why) {
    if (aborted()) return;
    comm_.abort();
    aborted_after_ = why;
  }

 private:
  int device_;
  NcclComm comm_;
  OwnedStream transfer_;
  OwnedStream staging_;
  std::string aborted_after_;  // empty while usable
};

/// One post_state: the header and bytes go to device memory on the staging stream, then ncclSend
/// queues them on the transfer stream; the device buffer is given back behind the sends.
class NcclPostedState final : public PostedState {
 public:
  NcclPostedState(std::shared_ptr<TransferChannel> channel, std::string bytes, int peer, int tag)
      : channel_(std::move(channel)), header_{bytes.size(), static_cast<std::uint64_t>(tag)}, bytes_(std::move(bytes)) {
    const cudaStream_t staging = channel_->staging(), transfer = channel_->transfer();
    const ncclComm_t comm = channel_->comm();
    StreamOrderedBuffer buffer(sizeof header_ + bytes_.size(), staging, transfer);
    FASTGPU_CHECK_CUDA_COMM(cudaMemcpyAsync(buffer.get(), header_.data(), sizeof header_, cudaMemcpyHostToDevice, staging));
    if (!bytes_.empty())
      FASTGPU_CHECK_CUDA_COMM(cudaMemcpyAsync(buffer.get() + sizeof header_, bytes_.data(), bytes_.size(),
                                              cudaMemcpyHostToDevice, staging));
    copied_.record(staging);
    FASTGPU_CHECK_CUDA_COMM(cudaStreamWaitEvent(transfer, copied_.get(), 0));
    FASTGPU_CHECK_NCCL(ncclSend(buffer.get(), sizeof header_, ncclChar, peer, comm, transfer));
    if (!bytes_.empty())
      FASTGPU_CHECK_NCCL(ncclSend(buffer.get() + sizeof header_, bytes_.size(), ncclChar, peer, comm, transfer));
    sent_.record(transfer);
  }
  ~NcclPostedState() override {
    try {
      channel_->select();
      cancel();
      // The host bytes may go once the copies have read them (these never wait for a peer).
      cudaEventSynchronize(copied_.get());
    } catch (...) {  // a destructor must not throw
    }
  }
  NcclPostedState(const NcclPostedState&) = delete;
  NcclPostedState& operator=(const NcclPostedState&) = delete;

  bool done() override {
    if (finished_) return true;
    channel_->select();
    if (!sent_.reached()) return false;
    finished_ = true;
    std::string().swap(bytes_);
    return true;
  }

  void cancel() override {
    if (done()) return;
    channel_->abort("a posted state was cancelled before its peer took it");
  }

 private:
  std::shared_ptr<TransferChannel> channel_;
  StateHeader header_;
  std::string bytes_;
  OwnedEvent copied_;  // on the staging stream
  OwnedEvent sent_;    // on the transfer stream
  bool finished_ = false;
};

ncclRedOp_t to_nccl(ReduceOp op) {
  switch (op) {
    case ReduceOp::sum: return ncclSum;
    case ReduceOp::min: return ncclMin;
    case ReduceOp::max: return ncclMax;
  }
  throw CommError("all_reduce: unknown ReduceOp");
}

class NcclCollectives final : public Collectives {
 public:
  /// Member `rank` of a group of `bootstrap_ranks.size()` (NCCL rank i is rank bootstrap_ranks[i]
  /// of `bootstrap`); every member passes the same `id`.
  /// `transfer_id`, on the top-level group only, makes the state transfers' communicator.
  NcclCollectives(std::shared_ptr<const MpiComm> bootstrap, std::vector<int> bootstrap_ranks, int rank,
                  int device, cudaStream_t stream, const ncclUniqueId& id, const ncclUniqueId* transfer_id = nullptr)
      : bootstrap_(std::move(bootstrap)),
        bootstrap_ranks_(std::move(bootstrap_ranks)),
        rank_(rank),
        device_(device),
        stream_(stream),
        comm_(device, size(), id, rank) {
    if (transfer_id != nullptr) transfer_ = std::make_shared<TransferChannel>(device, size(), *transfer_id, rank);
  }
  /// Posted states may outlive these collectives; sends of theirs still queued are given up now,
  /// before comm_ goes, since a device-wide wait in its destruction would wait for them too.
  ~NcclCollectives() override {
    if (transfer_ && cudaSetDevice(device_) == cudaSuccess && cudaStreamQuery(transfer_->transfer()) == cudaErrorNotReady)
      transfer_->abort("the collectives that made it were destroyed");
  }
  NcclCollectives(const NcclCollectives&) = delete;
  NcclCollectives& operator=(const NcclCollectives&) = delete;

  int rank() const override { return rank_; }
  int size() const override { return static_cast<int>(bootstrap_ranks_.size()); }
  const char* backend() const override { return "nccl"; }

  void all_reduce(double* data, std::size_t count, ReduceOp op) override {
    FASTGPU_CHECK_NCCL(ncclAllReduce(data, data, count, ncclDouble, to_nccl(op), comm_.get(), stream_));
    synchronize();
  }

  void broadcast(void* data, std::size_t bytes, int root) override {
    FASTGPU_CHECK_NCCL(ncclBroadcast(data, data, bytes, ncclChar, root, comm_.get(), stream_));
    synchronize();
  }

  void send(const void* data, std::size_t bytes, int peer) override {
    FASTGPU_CHECK_NCCL(ncclSend(data, bytes, ncclChar, peer, comm_.get(), stream_));
    synchronize();
  }

  void recv(void* data, std::size_t bytes, int peer) override {
    FASTGPU_CHECK_NCCL(ncclRecv(data, bytes, ncclChar, peer, comm_.get(), stream_));
    synchronize();
  }

  void barrier() override { all_reduce(scratch_.get(), 1, ReduceOp::sum); }

  // `tag` does not choose the match on NCCL (see above): it is sent along and checked.
  std::unique_ptr<PostedState> post_state(std::string bytes, int peer, int tag) override {
    TransferChannel& channel = checked_transfer(peer, tag);
    channel.select();
    return std::make_unique<NcclPostedState>(transfer_, std::move(bytes), peer, tag);
  }

  std::optional<std::string> take_state(int peer, int tag, std::size_t bytes,
                                        std::chrono::milliseconds timeout) override {
    TransferChannel& channel = checked_transfer(peer, tag);
    channel.select();
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    StateHeader header{};
    if (!receive(channel, &header, sizeof header, peer, deadline)) return std::nullopt;
    std::string data(header[0], '\0');
    if (!receive(channel, data.data(), data.size(), peer, deadline)) return std::nullopt;
    // Received in full either way, so the next state between the pair is not stuck behind it.
    if (header[0] != bytes || header[1] != static_cast<std::uint64_t>(tag))
      throw CommError("take_state: expected " + std::to_string(bytes) + " bytes under tag " + std::to_string(tag) +
                      " from rank " + std::to_string(peer) + ", got " + std::to_string(header[0]) + " under tag " +
                      std::to_string(header[1]) + " (NCCL matches the states between a pair in order, whatever the tag)");
    return data;
  }

  std::unique_ptr<Collectives> subgroup(const std::vector<int>& members, int tag) override {
    const int position = position_in_group(members, size(), rank_);
    std::vector<int> sub_ranks;
    for (int member : members) sub_ranks.push_back(bootstrap_ranks_[static_cast<std::size_t>(member)]);
    // The first member makes the id and hands it to the others point to point: unlike a broadcast,
    // this involves the members only, while the other workers run their own subtasks.
    ncclUniqueId id;
    if (position == 0) {
      FASTGPU_CHECK_NCCL(ncclGetUniqueId(&id));
      for (std::size_t i = 1; i < sub_ranks.size(); ++i)
        FASTGPU_CHECK_MPI(MPI_Send(&id, sizeof id, MPI_BYTE, sub_ranks[i], tag, bootstrap_->get()));
    } else {
      FASTGPU_CHECK_MPI(MPI_Recv(&id, sizeof id, MPI_BYTE, sub_ranks[0], tag, bootstrap_->get(), MPI_STATUS_IGNORE));
    }
    return std::make_unique<NcclCollectives>(bootstrap_, std::move(sub_ranks), position, device_, stream_, id);
  }

 private:
  // Operations return only when complete, as Communicator promises.
  void synchronize() { FASTGPU_CHECK_CUDA_COMM(cudaStreamSynchronize(stream_)); }

  TransferChannel& checked_transfer(int peer, int tag) const {
    if (!transfer_) throw CommError("state transfer: only on the workers' top-level collectives, not on a subgroup");
    check_state_transfer(peer, tag, size());
    transfer_->throw_if_aborted();
    return *transfer_;
  }

  /// Receives `bytes` bytes from `peer` into host memory `data`; false (and the transfer
  /// communicator aborted, the only way to withdraw a ncclRecv) when they did not come by `deadline`.
  bool receive(TransferChannel& channel, void* data, std::size_t bytes, int peer,
               std::chrono::steady_clock::time_point deadline) {
    if (bytes == 0) return true;  // the sender sends no empty message either
    const cudaStream_t transfer = channel.transfer();
    StreamOrderedBuffer buffer(bytes, transfer, transfer);
    FASTGPU_CHECK_NCCL(ncclRecv(buffer.get(), bytes, ncclChar, peer, channel.comm(), transfer));
    OwnedEvent received;
    received.record(transfer);
    while (!received.reached()) {
      if (std::chrono::steady_clock::now() >= deadline) {
        channel.abort("a take_state from rank " + std::to_string(peer) + " timed out");
        return false;
      }
      std::this_thread::sleep_for(kStatePoll);
    }
    // Nothing is queued behind the receive, so this copy waits for nothing else.
    FASTGPU_CHECK_CUDA_COMM(cudaMemcpyAsync(data, buffer.get(), bytes, cudaMemcpyDeviceToHost, transfer));
    FASTGPU_CHECK_CUDA_COMM(cudaStreamSynchronize(transfer));
    return true;
  }

  std::shared_ptr<const MpiComm> bootstrap_;
  std::vector<int> bootstrap_ranks_;
  int rank_;
  int device_;
  cudaStream_t stream_;
  NcclComm comm_;
  DeviceScalar scratch_;  // after comm_: allocated on the device that comm_ selected
  std::shared_ptr<TransferChannel> transfer_;  // top level only
};

}  // namespace

std::unique_ptr<Collectives> make_nccl_collectives(MPI_Comm comm, int cuda_device, void* stream) {
  auto bootstrap = std::make_shared<const MpiComm>(MpiComm::dup(comm));
  int rank = 0, size = 0;
  FASTGPU_CHECK_MPI(MPI_Comm_rank(bootstrap->get(), &rank));
  FASTGPU_CHECK_MPI(MPI_Comm_size(bootstrap->get(), &size));
  // One id for the collectives' communicator, one for the state transfers'.
  std::array<ncclUniqueId, 2> ids;
  if (rank == 0)
    for (ncclUniqueId& id : ids) FASTGPU_CHECK_NCCL(ncclGetUniqueId(&id));
  FASTGPU_CHECK_MPI(MPI_Bcast(ids.data(), sizeof ids, MPI_BYTE, 0, bootstrap->get()));
  std::vector<int> ranks(static_cast<std::size_t>(size));
  std::iota(ranks.begin(), ranks.end(), 0);
  return std::make_unique<NcclCollectives>(std::move(bootstrap), std::move(ranks), rank, cuda_device,
                                           static_cast<cudaStream_t>(stream), ids[0], &ids[1]);
}

}  // namespace fastgpu::comm

#else  // !FASTGPU_HAVE_NCCL

namespace fastgpu::comm {

std::unique_ptr<Collectives> make_nccl_collectives(MPI_Comm, int, void*) {
  throw CommError("make_nccl_collectives: this build has no NCCL");
}

}  // namespace fastgpu::comm

#endif
