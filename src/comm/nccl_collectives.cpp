// Collectives over NCCL between the GPUs of a multi-GPU subtask, one GPU per member. MPI only
// bootstraps: it carries the NCCL unique ids, on a private duplicate of the caller's communicator
// that a group shares with the subgroups made from it.
#include "fastgpu/config.hpp"

#include "comm/collectives.hpp"
#include "fastgpu/error.hpp"

#if FASTGPU_HAVE_NCCL

#include <cuda_runtime.h>
#include <nccl.h>

#include <cstddef>
#include <memory>
#include <numeric>
#include <string>
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
  ~NcclComm() { ncclCommDestroy(comm_); }
  NcclComm(const NcclComm&) = delete;
  NcclComm& operator=(const NcclComm&) = delete;
  ncclComm_t get() const { return comm_; }

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
  NcclCollectives(std::shared_ptr<const MpiComm> bootstrap, std::vector<int> bootstrap_ranks, int rank,
                  int device, cudaStream_t stream, const ncclUniqueId& id)
      : bootstrap_(std::move(bootstrap)),
        bootstrap_ranks_(std::move(bootstrap_ranks)),
        rank_(rank),
        device_(device),
        stream_(stream),
        comm_(device, size(), id, rank) {}

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

  std::shared_ptr<const MpiComm> bootstrap_;
  std::vector<int> bootstrap_ranks_;
  int rank_;
  int device_;
  cudaStream_t stream_;
  NcclComm comm_;
  DeviceScalar scratch_;  // after comm_: allocated on the device that comm_ selected
};

}  // namespace

std::unique_ptr<Collectives> make_nccl_collectives(MPI_Comm comm, int cuda_device, void* stream) {
  auto bootstrap = std::make_shared<const MpiComm>(MpiComm::dup(comm));
  int rank = 0, size = 0;
  FASTGPU_CHECK_MPI(MPI_Comm_rank(bootstrap->get(), &rank));
  FASTGPU_CHECK_MPI(MPI_Comm_size(bootstrap->get(), &size));
  ncclUniqueId id;
  if (rank == 0) FASTGPU_CHECK_NCCL(ncclGetUniqueId(&id));
  FASTGPU_CHECK_MPI(MPI_Bcast(&id, sizeof id, MPI_BYTE, 0, bootstrap->get()));
  std::vector<int> ranks(static_cast<std::size_t>(size));
  std::iota(ranks.begin(), ranks.end(), 0);
  return std::make_unique<NcclCollectives>(std::move(bootstrap), std::move(ranks), rank, cuda_device,
                                           static_cast<cudaStream_t>(stream), id);
}

}  // namespace fastgpu::comm

#else  // !FASTGPU_HAVE_NCCL

namespace fastgpu::comm {

std::unique_ptr<Collectives> make_nccl_collectives(MPI_Comm, int, void*) {
  throw CommError("make_nccl_collectives: this build has no NCCL");
}

}  // namespace fastgpu::comm

#endif
