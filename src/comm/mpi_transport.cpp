#include "comm/mpi_transport.hpp"

#include <algorithm>
#include <thread>

#include "fastgpu/error.hpp"

namespace fastgpu::comm {
namespace {
constexpr int kTag = 0x46;  // 'F'
// Probe back-off: short first (a reply often follows within microseconds), capped so an idle
// rank wakes ~1000 times a second at most.
constexpr auto kFirstBackoff = std::chrono::microseconds(20);
constexpr auto kMaxBackoff = std::chrono::microseconds(1000);
}  // namespace

void check_mpi(int code, const char* call) {
  if (code == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, text, &length);
  throw Error(std::string(call) + " failed: " + std::string(text, static_cast<std::size_t>(length)));
}

MpiTransport::MpiTransport(MPI_Comm comm) : comm_(comm) {
  check_mpi(MPI_Comm_rank(comm_, &rank_), "MPI_Comm_rank");
  check_mpi(MPI_Comm_size(comm_, &size_), "MPI_Comm_size");
}

MpiTransport::~MpiTransport() {
  for (auto& send : pending_) MPI_Wait(&send.request, MPI_STATUS_IGNORE);
}

void MpiTransport::send(int to, const Message& message) {
  complete_sends();
  auto& pending = pending_.emplace_back();
  pending.bytes = encode(message);
  check_mpi(MPI_Isend(pending.bytes.data(), static_cast<int>(pending.bytes.size()), MPI_BYTE, to, kTag, comm_,
                      &pending.request),
            "MPI_Isend");
}

void MpiTransport::complete_sends() {
  for (auto it = pending_.begin(); it != pending_.end();) {
    int done = 0;
    check_mpi(MPI_Test(&it->request, &done, MPI_STATUS_IGNORE), "MPI_Test");
    it = done ? pending_.erase(it) : std::next(it);
  }
}

std::optional<Envelope> MpiTransport::receive(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto backoff = std::chrono::duration_cast<std::chrono::nanoseconds>(kFirstBackoff);
  for (;;) {
    complete_sends();
    int found = 0;
    MPI_Message handle;
    MPI_Status status;
    check_mpi(MPI_Improbe(MPI_ANY_SOURCE, kTag, comm_, &found, &handle, &status), "MPI_Improbe");
    if (found) {
      int count = 0;
      check_mpi(MPI_Get_count(&status, MPI_BYTE, &count), "MPI_Get_count");
      std::string bytes(static_cast<std::size_t>(count), '\0');
      check_mpi(MPI_Mrecv(bytes.data(), count, MPI_BYTE, &handle, MPI_STATUS_IGNORE), "MPI_Mrecv");
      return Envelope{status.MPI_SOURCE, decode(bytes)};
    }
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::min<std::chrono::nanoseconds>(backoff, deadline - now));
    backoff = std::min<std::chrono::nanoseconds>(backoff * 2, kMaxBackoff);
  }
}

}  // namespace fastgpu::comm
