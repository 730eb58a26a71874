#include "comm/in_process_transport.hpp"

#include "fastgpu/error.hpp"

namespace fastgpu::comm {

class InProcessHub::Endpoint final : public Transport {
 public:
  Endpoint(InProcessHub& hub, int rank) : hub_(hub), rank_(rank) {}
  int rank() const override { return rank_; }
  int size() const override { return hub_.size(); }
  void send(int to, const Message& message) override { hub_.deliver(rank_, to, encode(message)); }
  std::optional<Envelope> receive(std::chrono::milliseconds timeout) override { return hub_.take(rank_, timeout); }

 private:
  InProcessHub& hub_;
  int rank_;
};

InProcessHub::InProcessHub(int ranks) {
  for (int rank = 0; rank < ranks; ++rank) {
    mailboxes_.push_back(std::make_unique<Mailbox>());
    endpoints_.push_back(std::make_unique<Endpoint>(*this, rank));
  }
}

InProcessHub::~InProcessHub() = default;

Transport& InProcessHub::endpoint(int rank) { return *endpoints_.at(static_cast<std::size_t>(rank)); }

void InProcessHub::deliver(int from, int to, std::string bytes) {
  if (to < 0 || to >= size()) throw Error("send to rank " + std::to_string(to) + ": no such rank");
  Mailbox& box = *mailboxes_[static_cast<std::size_t>(to)];
  {
    std::lock_guard lock(box.mutex);
    box.queue.emplace_back(from, std::move(bytes));
  }
  box.ready.notify_one();
}

std::optional<Envelope> InProcessHub::take(int rank, std::chrono::milliseconds timeout) {
  Mailbox& box = *mailboxes_[static_cast<std::size_t>(rank)];
  std::unique_lock lock(box.mutex);
  // A worker looks for messages after every step with a zero timeout: answer that from the queue
  // alone, since a timed wait that has already expired still costs a futex call (two, with the
  // unlock after it).
  if (box.queue.empty() && timeout <= std::chrono::milliseconds::zero()) return std::nullopt;
  if (!box.ready.wait_for(lock, timeout, [&] { return !box.queue.empty(); })) return std::nullopt;
  auto [from, bytes] = std::move(box.queue.front());
  box.queue.pop_front();
  lock.unlock();
  return Envelope{from, decode(bytes)};
}

}  // namespace fastgpu::comm
