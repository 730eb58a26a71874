// The worker loop over an in-process transport: attempts that are over as soon as they start (noop
// kernels) are reported in batches, and every start and result still reaches rank 0; one that runs
// is reported started before it runs.
#include "worker/worker_loop.hpp"

#include <gtest/gtest.h>

#include <set>
#include <thread>
#include <vector>

#include "comm/in_process_transport.hpp"

namespace fastgpu::worker {
namespace {

comm::TaskLaunch launch_of(std::uint32_t task, const std::string& kernel) {
  comm::TaskLaunch launch;
  launch.task = task;
  launch.launch.kernel = kernel;
  if (kernel == "sleep") launch.launch.args = {{"seconds", "0.05"}};
  return launch;
}

/// Rank 0's side: assigns `launches` in one message, gathers the reports until every attempt has
/// a result, then shuts the worker down.
std::vector<comm::WorkerReport> run_and_gather(const std::vector<comm::TaskLaunch>& launches, double hold_s) {
  comm::InProcessHub hub(2);
  WorkerConfig config;
  config.self.rank = 1;
  config.report_hold_s = hold_s;
  std::thread worker([&] { run_worker(hub.endpoint(1), config); });
  comm::Transport& rank0 = hub.endpoint(0);
  const auto hello = rank0.receive(std::chrono::milliseconds(10000));
  EXPECT_TRUE(hello && std::holds_alternative<comm::WorkerHello>(hello->message));
  rank0.send(1, comm::AssignTasks{launches});
  std::vector<comm::WorkerReport> reports;
  std::size_t finished = 0;
  while (finished < launches.size()) {
    const auto envelope = rank0.receive(std::chrono::milliseconds(10000));
    if (!envelope) break;
    if (const auto* report = std::get_if<comm::WorkerReport>(&envelope->message)) {
      reports.push_back(*report);
      finished += report->finished.size();
    }
  }
  rank0.send(1, comm::Shutdown{});
  while (const auto envelope = rank0.receive(std::chrono::milliseconds(10000))) {
    if (std::holds_alternative<comm::WorkerBye>(envelope->message)) break;
  }
  worker.join();
  return reports;
}

TEST(WorkerReports, NoopAttemptsAreReportedInBatchesAndNoneIsLost) {
  std::vector<comm::TaskLaunch> launches;
  for (std::uint32_t task = 0; task < 64; ++task) launches.push_back(launch_of(task, "noop"));
  // Held as long as it takes: the batches follow from the counts alone.
  const auto reports = run_and_gather(launches, 60.0);
  std::set<std::uint32_t> started, done;
  for (const auto& report : reports) {
    for (const auto& s : report.started) started.insert(s.task);
    for (const auto& r : report.finished) {
      EXPECT_EQ(r.status, AttemptStatus::done);
      EXPECT_TRUE(done.insert(r.task).second) << "task " << r.task << " reported twice";
    }
  }
  EXPECT_EQ(started.size(), 64u);
  EXPECT_EQ(done.size(), 64u);
  // 16 at a time, then sooner as the local queue runs down (16, 16, 16, 8, 4, 2, 1, 1).
  EXPECT_LE(reports.size(), 8u) << "64 results in batches of up to 16";
  EXPECT_GT(reports.size(), 1u) << "a batch goes once it holds 16, not at the end";
}

TEST(WorkerReports, AnAttemptThatRunsIsReportedStartedBeforeItEnds) {
  // Held as long as it takes, yet the sleep's start goes before the worker waits on it.
  const auto reports = run_and_gather({launch_of(0, "sleep"), launch_of(1, "noop")}, 60.0);
  ASSERT_GE(reports.size(), 2u);
  ASSERT_EQ(reports.front().started.size(), 1u);
  EXPECT_EQ(reports.front().started[0].task, 0u);
  EXPECT_TRUE(reports.front().finished.empty());
}

}  // namespace
}  // namespace fastgpu::worker
