/** @file Collective communication among the GPUs of a multi-GPU subtask, as kernel tasks see it. */
#pragma once

#include <cstddef>

namespace fastgpu {

/** @brief How all_reduce combines values. */
enum class ReduceOp { sum, min, max };

/**
 * @brief A group of workers that communicate: NCCL between GPUs, MPI (or shared memory between
 * threads) on the CPU path. Buffers are device memory of the calling worker's Device (host memory
 * on the CPU). Every member must make the same calls in the same order. Errors throw
 * fastgpu::CommError.
 */
class Communicator {
 public:
  virtual ~Communicator() = default;
  /** @brief This member's rank, 0 .. size()-1. */
  virtual int rank() const = 0;
  virtual int size() const = 0;
  /** @brief Combines `count` doubles in place across the members; every member gets the result. */
  virtual void all_reduce(double* data, std::size_t count, ReduceOp op) = 0;
  /** @brief `bytes` bytes from member `root` to every member. */
  virtual void broadcast(void* data, std::size_t bytes, int root) = 0;
  /** @brief Point to point, matched in order between the two members. */
  virtual void send(const void* data, std::size_t bytes, int peer) = 0;
  virtual void recv(void* data, std::size_t bytes, int peer) = 0;
  /** @brief Returns when every member has called it. */
  virtual void barrier() = 0;
};

}  // namespace fastgpu
