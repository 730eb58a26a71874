// Ranks as threads of one process (`fastgpu run --workers N` without mpirun). Messages still go
// through encode/decode, so this path exercises the same wire format as MPI.
#pragma once

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <vector>

#include "comm/transport.hpp"

namespace fastgpu::comm {

class InProcessHub {
 public:
  explicit InProcessHub(int ranks);
  ~InProcessHub();
  /// The endpoint of `rank`; valid as long as the hub lives. Each endpoint is used by one thread.
  Transport& endpoint(int rank);
  int size() const { return static_cast<int>(mailboxes_.size()); }

 private:
  struct Mailbox {
    std::mutex mutex;
    std::condition_variable ready;
    std::deque<std::pair<int, std::string>> queue;  // (from, encoded message)
  };
  class Endpoint;

  void deliver(int from, int to, std::string bytes);
  std::optional<Envelope> take(int rank, std::chrono::milliseconds timeout);

  std::vector<std::unique_ptr<Mailbox>> mailboxes_;
  std::vector<std::unique_ptr<Endpoint>> endpoints_;
};

}  // namespace fastgpu::comm
