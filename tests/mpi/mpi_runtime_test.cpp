// The runtime over real MPI ranks: the transport, and the scheduler on rank 0 driving workers that
// run real commands on every other rank.
#include <gtest/gtest.h>
#include <mpi.h>

#include <algorithm>
#include <set>

#include "comm/mpi_transport.hpp"
#include "scheduler/scheduler.hpp"
#include "support/recording.hpp"
#include "worker/worker_loop.hpp"

namespace fastgpu {
namespace {

int world_rank() {
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  return rank;
}

int world_size() {
  int size = 0;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  return size;
}

TEST(MpiTransport, EveryWorkerReachesRankZeroAndBack) {
  comm::MpiTransport transport(MPI_COMM_WORLD);
  const int rank = world_rank(), size = world_size();
  if (rank == 0) {
    std::set<int> heard;
    while (static_cast<int>(heard.size()) < size - 1) {
      auto envelope = transport.receive(std::chrono::seconds(30));
      ASSERT_TRUE(envelope.has_value()) << "a worker never said hello";
      const auto& hello = std::get<comm::WorkerHello>(envelope->message);
      EXPECT_EQ(hello.worker.rank, envelope->from);
      heard.insert(envelope->from);
      transport.send(envelope->from, comm::AssignTasks{{comm::TaskLaunch{static_cast<std::uint32_t>(envelope->from)}}});
    }
  } else {
    transport.send(0, comm::WorkerHello{{rank, "h", rank - 1, "cpu", "", ""}});
    auto envelope = transport.receive(std::chrono::seconds(30));
    ASSERT_TRUE(envelope.has_value());
    EXPECT_EQ(envelope->from, 0);
    EXPECT_EQ(std::get<comm::AssignTasks>(envelope->message).tasks.at(0).task, static_cast<std::uint32_t>(rank));
  }
  MPI_Barrier(MPI_COMM_WORLD);
  EXPECT_FALSE(transport.receive(std::chrono::milliseconds(5)).has_value());
  // No rank starts the next test (a worker's hello) while rank 0 still checks for strays here.
  MPI_Barrier(MPI_COMM_WORLD);
}

TEST(MpiRuntime, SchedulerRunsEverySubtaskOnTheWorkerRanksAndRetriesFailures) {
  comm::MpiTransport transport(MPI_COMM_WORLD);
  const int rank = world_rank(), size = world_size();
  const double start = worker::seconds_since(0);
  if (rank != 0) {
    worker::WorkerConfig config;
    config.self = {rank, "h", rank - 1, "cpu", "", ""};
    config.env = {{"FASTGPU_WORKER", std::to_string(rank)}};
    worker::run_worker(transport, config);
    return;
  }
  JobSpec job;
  job.name = "mpi";
  job.output = "mpi.h5";
  job.output_dir = "/tmp";
  job.task.command = {"sh", "-c", "echo $FASTGPU_WORKER; exit $0", "{code}"};
  std::vector<Subtask> subtasks;
  for (int i = 0; i < 20; ++i) {
    Subtask s;
    s.id = "i=" + std::to_string(i);
    s.params = {{"code", std::int64_t{i == 7 ? 5 : 0}}};
    s.retries = 1;
    subtasks.push_back(s);
  }
  testing::MemoryResults results;
  scheduler::SchedulerConfig config;
  config.policy = scheduler::Policy::greedy;  // this test is about the runtime: no speculative copies
  config.expected_workers = size - 1;
  scheduler::Scheduler scheduler(job, subtasks, config, transport, results);
  int byes = 0;
  bool shut_down = false;
  while (byes < size - 1) {
    auto envelope = transport.receive(std::chrono::seconds(30));
    ASSERT_TRUE(envelope.has_value()) << "no message for 30 s";
    const double now = worker::seconds_since(0) - start;
    if (auto* hello = std::get_if<comm::WorkerHello>(&envelope->message)) scheduler.on_worker_joined(hello->worker, now);
    if (auto* report = std::get_if<comm::WorkerReport>(&envelope->message)) scheduler.on_report(envelope->from, *report, now);
    if (std::holds_alternative<comm::WorkerBye>(envelope->message)) ++byes;
    if (scheduler.finished() && !shut_down) {
      for (int r = 1; r < size; ++r) transport.send(r, comm::Shutdown{});
      shut_down = true;
    }
  }
  EXPECT_EQ(scheduler.counts().done, 19u);
  EXPECT_EQ(scheduler.counts().failed, 1u);
  EXPECT_EQ(results.tasks.at(7).attempts, 2);
  EXPECT_EQ(results.tasks.at(7).exit_code, 5);
  EXPECT_EQ(results.attempts.size(), 21u);
  for (const auto& attempt : results.attempts) {
    // Each attempt ran where the scheduler says it did: the command printed its worker rank.
    EXPECT_EQ(attempt.stdout_tail, std::to_string(attempt.worker) + "\n");
    EXPECT_GE(attempt.worker, 1);
    EXPECT_LT(attempt.worker, size);
  }
  if (size > 2) {  // the retry of task 7 ran on a different worker than its first attempt
    std::vector<int> workers;
    for (const auto& attempt : results.attempts) {
      if (attempt.task == 7) workers.push_back(attempt.worker);
    }
    ASSERT_EQ(workers.size(), 2u);
    EXPECT_NE(workers[0], workers[1]);
  }
}

}  // namespace
}  // namespace fastgpu
