// Ranks as MPI processes. Sends are non-blocking (the buffer is kept until MPI is done with it);
// receives probe with a short back-off sleep instead of MPI's spinning blocking receive, so a
// scheduler that shares a node with its workers does not burn a core while it waits.
#pragma once

#include <mpi.h>

#include <list>
#include <string>

#include "comm/transport.hpp"

namespace fastgpu::comm {

class MpiTransport final : public Transport {
 public:
  /// Uses `comm` (not owned; typically MPI_COMM_WORLD) and a tag reserved for FastGPU.
  explicit MpiTransport(MPI_Comm comm);
  ~MpiTransport() override;
  MpiTransport(const MpiTransport&) = delete;
  MpiTransport& operator=(const MpiTransport&) = delete;

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  void send(int to, const Message& message) override;
  std::optional<Envelope> receive(std::chrono::milliseconds timeout) override;

 private:
  struct PendingSend {
    std::string bytes;
    MPI_Request request = MPI_REQUEST_NULL;
  };
  void complete_sends();

  MPI_Comm comm_;
  int rank_ = 0;
  int size_ = 0;
  std::list<PendingSend> pending_;  // std::list: buffers must not move while MPI owns them
};

/// Throws fastgpu::Error with MPI's message when `code` is not MPI_SUCCESS.
void check_mpi(int code, const char* call);

}  // namespace fastgpu::comm
