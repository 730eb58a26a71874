// Collectives among worker ranks (fastgpu::Communicator plus making sub-groups), with three
// backends: NCCL between GPUs, MPI on the CPU path, and shared memory between the worker threads
// of an in-process run. The backend matches the workers' devices: NCCL when they are CUDA GPUs.
#pragma once

#include <memory>
#include <vector>

#include <mpi.h>

#include "fastgpu/communicator.hpp"

namespace fastgpu::comm {

class Collectives : public fastgpu::Communicator {
 public:
  /// A communicator of `members` (ranks in this one, in their new rank order), made by those
  /// members only (the others need not take part): every member calls it with the same list and
  /// `tag`; distinct concurrent groups use distinct tags. Used for the workers of a multi-GPU subtask.
  virtual std::unique_ptr<Collectives> subgroup(const std::vector<int>& members, int tag) = 0;
  /// "mpi", "nccl" or "threads", for logs and /workers.
  virtual const char* backend() const = 0;
};

/// MPI on `comm` (duplicated: the collectives never mix with the transport's messages).
/// Buffers are host memory.
std::unique_ptr<Collectives> make_mpi_collectives(MPI_Comm comm);

/// NCCL over the members of `comm`, one GPU each (`cuda_device`), the unique id broadcast over
/// `comm`; operations are queued on `stream` (a cudaStream_t) and complete before they return.
/// Buffers are device memory. Throws CommError in a build without NCCL.
std::unique_ptr<Collectives> make_nccl_collectives(MPI_Comm comm, int cuda_device, void* stream);

/// `size` communicators over shared memory, one per worker thread of an in-process run (member i
/// is used by thread i only). Buffers are host memory.
std::vector<std::unique_ptr<Collectives>> make_thread_collectives(int size);

}  // namespace fastgpu::comm
