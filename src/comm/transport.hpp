// How the scheduler and the workers talk: point-to-point messages between ranks (0 = scheduler).
// Implementations: MpiTransport (one process per rank) and InProcessHub (threads in one process).
#pragma once

#include <chrono>
#include <optional>

#include "comm/messages.hpp"

namespace fastgpu::comm {

/// The only thing the scheduler needs: a way to send. Tests record what is sent.
class MessageSink {
 public:
  virtual ~MessageSink() = default;
  virtual void send(int to, const Message& message) = 0;
};

struct Envelope {
  int from = -1;
  Message message;
};

/// One rank's endpoint.
class Transport : public MessageSink {
 public:
  virtual int rank() const = 0;
  virtual int size() const = 0;
  /// Waits at most `timeout` for the next message to this rank, without spinning a core.
  virtual std::optional<Envelope> receive(std::chrono::milliseconds timeout) = 0;
};

}  // namespace fastgpu::comm
