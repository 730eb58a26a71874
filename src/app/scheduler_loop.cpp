#include "app/scheduler_loop.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "worker/worker_loop.hpp"

namespace fastgpu::app {
namespace {
constexpr double kFlushInterval_s = 1.0;

std::chrono::milliseconds until(double now, double at) {
  return std::chrono::milliseconds(static_cast<long>(std::ceil(std::max(at - now, 0.0) * 1000)));
}
}  // namespace

void drive_scheduler(comm::Transport& transport, scheduler::Scheduler& scheduler, io::ResultsWriter& writer,
                     double job_start_unix) {
  double now = worker::seconds_since(job_start_unix);
  double next_flush = now + kFlushInterval_s;
  int byes = 0;
  auto handle = [&](const comm::Envelope& envelope) {
    if (const auto* hello = std::get_if<comm::WorkerHello>(&envelope.message)) {
      scheduler.on_worker_joined(hello->worker, now);
    } else if (const auto* report = std::get_if<comm::WorkerReport>(&envelope.message)) {
      scheduler.on_report(envelope.from, *report, now);
    } else if (const auto* ack = std::get_if<comm::RetractAck>(&envelope.message)) {
      scheduler.on_retract_ack(envelope.from, *ack, now);
    } else if (std::holds_alternative<comm::WorkerBye>(envelope.message)) {
      ++byes;
    }
  };
  auto step = [&] {
    auto envelope = transport.receive(until(now, std::min(next_flush, scheduler.next_wakeup())));
    now = worker::seconds_since(job_start_unix);
    if (envelope) handle(*envelope);
    scheduler.on_tick(now);
    if (now >= next_flush) {
      writer.flush();
      next_flush = now + kFlushInterval_s;
    }
  };

  while (!scheduler.finished()) step();
  // Every worker rank, joined or not yet, is told to stop; a late hello is answered by this too.
  const int workers = transport.size() - 1;
  for (int rank = 1; rank <= workers; ++rank) transport.send(rank, comm::Shutdown{});
  while (byes < workers) step();
  writer.flush();
}

}  // namespace fastgpu::app
