#include "app/scheduler_loop.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

#include "worker/worker_loop.hpp"

namespace fastgpu::app {
namespace {
constexpr double kFlushInterval_s = 1.0;
// The longest rank 0 waits in one receive, so a stop signal is acted on promptly.
constexpr double kMaxWait_s = 0.1;

std::chrono::milliseconds until(double now, double at) {
  return std::chrono::milliseconds(static_cast<long>(std::ceil(std::max(at - now, 0.0) * 1000)));
}
}  // namespace

DriveOutcome drive_scheduler(comm::Transport& transport, scheduler::Scheduler& scheduler, io::ResultsWriter& writer,
                             double job_start_unix, const std::function<int()>& stop_requests,
                             const std::function<void(double now)>& on_step, std::optional<double> stop_at,
                             std::vector<ReductionValue>* reductions) {
  const double deadline = stop_at.value_or(std::numeric_limits<double>::infinity());
  auto requests = [&] { return stop_requests ? stop_requests() : 0; };
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
    } else if (const auto* retired = std::get_if<comm::WorkerRetired>(&envelope.message)) {
      scheduler.on_worker_retired(envelope.from, *retired, now);
    } else if (const auto* telemetry = std::get_if<comm::WorkerTelemetry>(&envelope.message)) {
      writer.add_telemetry(telemetry->samples);  // the scheduler has no use for them
    } else if (auto* combined = std::get_if<comm::ReductionResult>(&envelope.message)) {
      if (reductions) reductions->insert(reductions->end(), combined->values.begin(), combined->values.end());
    } else if (std::holds_alternative<comm::WorkerBye>(envelope.message)) {
      ++byes;
    }
  };
  auto step = [&] {
    auto envelope =
        transport.receive(until(now, std::min({next_flush, scheduler.next_wakeup(), now + kMaxWait_s, deadline})));
    now = worker::seconds_since(job_start_unix);
    if (envelope) handle(*envelope);
    scheduler.on_tick(now);
    if (now >= next_flush) {
      writer.flush();
      next_flush = now + kFlushInterval_s;
    } else {
      writer.commit();  // every completed batch reaches the journal at once; HDF5 once a second
    }
    if (on_step) on_step(now);
  };

  while (!scheduler.finished() && requests() == 0 && now < deadline && !scheduler.out_of_time()) step();
  const bool at_deadline = !scheduler.finished() && requests() == 0;
  if (!scheduler.finished()) {
    scheduler.stop(now, !at_deadline  ? "stop signal"
                        : now < deadline ? "deadline: nothing left is predicted to finish before it"
                                         : "deadline");
  }
  // Every worker rank, joined or not yet, is told to stop; a late hello is answered by this too.
  const int workers = transport.size() - 1;
  const comm::Shutdown shutdown{scheduler.retired_workers()};
  for (int rank = 1; rank <= workers; ++rank) transport.send(rank, shutdown);
  while (byes < workers) {
    if (requests() >= 2) {  // a second signal: do not wait for the workers' grace periods
      scheduler.abandon_running(now);
      writer.flush();
      return DriveOutcome::abandoned;
    }
    step();
  }
  writer.flush();
  if (!scheduler.stopping()) return DriveOutcome::finished;
  return at_deadline ? DriveOutcome::deadline : DriveOutcome::stopped;
}

}  // namespace fastgpu::app
