// Collectives among worker ranks (fastgpu::Communicator plus making sub-groups), with three
// backends: NCCL between GPUs, MPI on the CPU path, and shared memory between the worker threads
// of an in-process run. The backend matches the workers' devices: NCCL when they are CUDA GPUs.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <mpi.h>

#include "fastgpu/communicator.hpp"

namespace fastgpu::comm {

/// A send started by Collectives::post_state: the bytes stay owned here until it completes.
class PostedState {
 public:
  virtual ~PostedState() = default;
  /// Drives the send on; true once the bytes are delivered (or safely buffered) and may be freed.
  virtual bool done() = 0;
  /// Gives up a send no receiver will take (at Shutdown); harmless after done().
  virtual void cancel() = 0;
};

class Collectives : public fastgpu::Communicator {
 public:
  /// post_state / take_state tags are 0 .. kStateTags-1: few enough that the MPI backend's two
  /// tags per state (bytes and request) stay within the 32767 every MPI allows.
  static constexpr int kStateTags = 16000;
  /// The state of a migrating kernel subtask, worker to worker, without a rendezvous: the sender
  /// posts it when the kernel checkpoints and goes on at once (it never waits for the receiver);
  /// the receiver takes it when it starts the continuation. `tag` (below kStateTags) tells apart
  /// transfers between the same pair; transfers with the same pair and tag match in order.
  /// Buffers are host memory (NCCL stages them through device memory, so the bytes travel GPU to
  /// GPU). Only on the workers' top-level collectives, not on subgroups.
  virtual std::unique_ptr<PostedState> post_state(std::string bytes, int peer, int tag) = 0;
  /// Waits at most `timeout` for the `bytes` bytes `peer` posted under `tag`; nullopt when they did
  /// not come in time (the receive is then withdrawn). Throws CommError when a different size came.
  virtual std::optional<std::string> take_state(int peer, int tag, std::size_t bytes,
                                                std::chrono::milliseconds timeout) = 0;
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
