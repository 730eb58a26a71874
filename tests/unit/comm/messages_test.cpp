#include "comm/messages.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <thread>

#include "comm/in_process_transport.hpp"
#include "fastgpu/error.hpp"

namespace fastgpu::comm {
namespace {

TaskResult sample_result() {
  TaskResult r;
  r.task = 7;
  r.attempt = 2;
  r.start = 1.25;
  r.end = 3.5;
  r.status = AttemptStatus::timed_out;
  r.exit_code = 143;
  r.signal = 15;
  r.error = "timed out after 2 s";
  r.stdout_tail = std::string("out\0with nul", 12);
  r.stderr_tail = "err\n";
  r.metrics = {{"loss", 0.25}, {"acc", 0.9}};
  return r;
}

TEST(Messages, TelemetrySamplesSurviveARoundTripWithTheirNaNs) {
  TelemetrySample gpu{12.5, 3, 87, 42.0e9, 312.25, 71, 1980, 101.5, 2.5e9};
  TelemetrySample cpu;  // a CPU slot: GPU fields not measured
  cpu.time = 13.5;
  cpu.worker = 4;
  cpu.cpu_util = 99;
  cpu.rss_bytes = 1 << 20;
  const auto back = std::get<WorkerTelemetry>(decode(encode(WorkerTelemetry{{gpu, cpu}})));
  ASSERT_EQ(back.samples.size(), 2u);
  const auto& g = back.samples[0];
  EXPECT_EQ(g.worker, 3);
  EXPECT_DOUBLE_EQ(g.time, 12.5);
  EXPECT_DOUBLE_EQ(g.gpu_util, 87);
  EXPECT_DOUBLE_EQ(g.mem_used_bytes, 42.0e9);
  EXPECT_DOUBLE_EQ(g.power_w, 312.25);
  EXPECT_DOUBLE_EQ(g.temp_c, 71);
  EXPECT_DOUBLE_EQ(g.sm_clock_mhz, 1980);
  EXPECT_DOUBLE_EQ(g.cpu_util, 101.5);
  EXPECT_DOUBLE_EQ(g.rss_bytes, 2.5e9);
  const auto& c = back.samples[1];
  EXPECT_EQ(c.worker, 4);
  EXPECT_TRUE(std::isnan(c.gpu_util) && std::isnan(c.mem_used_bytes) && std::isnan(c.power_w));
  EXPECT_TRUE(std::isnan(c.temp_c) && std::isnan(c.sm_clock_mhz));
  EXPECT_DOUBLE_EQ(c.cpu_util, 99);
  EXPECT_TRUE(std::get<WorkerTelemetry>(decode(encode(WorkerTelemetry{}))).samples.empty());
  // Cut short anywhere, it is refused rather than misread.
  const std::string bytes = encode(WorkerTelemetry{{gpu}});
  for (std::size_t n = 0; n < bytes.size(); ++n) EXPECT_THROW(decode(bytes.substr(0, n)), Error) << n;
}

TEST(Messages, EveryAlternativeSurvivesARoundTrip) {
  TaskLaunch launch{3, 1, {{"prog", "; touch X", "$(id)"}, {{"A", "1"}}, "/tmp"}, 2.5, 4096};
  const std::vector<Message> messages = {
      WorkerHello{{4, "node1", 1, "cuda:1", "H100", "GPU-abc"}},
      AssignTasks{{launch, launch}},
      WorkerReport{{{1, 0, 0.5}}, {sample_result()}},
      Shutdown{},
      WorkerBye{},
  };
  for (const auto& message : messages) {
    const Message back = decode(encode(message));
    ASSERT_EQ(back.index(), message.index());
  }
  const auto assign = std::get<AssignTasks>(decode(encode(messages[1])));
  ASSERT_EQ(assign.tasks.size(), 2u);
  EXPECT_EQ(assign.tasks[1].launch.argv, launch.launch.argv);
  EXPECT_EQ(assign.tasks[1].launch.env, launch.launch.env);
  EXPECT_EQ(assign.tasks[1].launch.cwd, "/tmp");
  EXPECT_DOUBLE_EQ(assign.tasks[1].timeout_s, 2.5);
  EXPECT_EQ(assign.tasks[1].tail_bytes, 4096u);

  const auto report = std::get<WorkerReport>(decode(encode(messages[2])));
  ASSERT_EQ(report.finished.size(), 1u);
  const auto& r = report.finished[0];
  EXPECT_EQ(r.task, 7u);
  EXPECT_EQ(r.status, AttemptStatus::timed_out);
  EXPECT_EQ(r.stdout_tail, sample_result().stdout_tail);
  ASSERT_EQ(r.metrics.size(), 2u);
  EXPECT_EQ(r.metrics[1].name, "acc");
  EXPECT_EQ(std::get<WorkerHello>(decode(encode(messages[0]))).worker.gpu_uuid, "GPU-abc");
}

TEST(Messages, AStateMovingWorkerToWorkerKeepsItsSourceTargetAndSize) {
  TaskLaunch launch;
  launch.task = 9;
  launch.restore_from = 3;
  launch.restore_bytes = 1u << 20;
  const auto back = std::get<AssignTasks>(decode(encode(AssignTasks{{launch}}))).tasks.at(0);
  EXPECT_EQ(back.restore_from, 3);
  EXPECT_EQ(back.restore_bytes, 1u << 20);

  TaskResult moved = sample_result();
  moved.state_sent_to = 5;
  moved.state_bytes = 123;
  const auto result = std::get<WorkerReport>(decode(encode(WorkerReport{{}, {moved}}))).finished.at(0);
  EXPECT_EQ(result.state_sent_to, 5);
  EXPECT_EQ(result.state_bytes, 123u);

  const auto ask = std::get<MigrateAttempt>(decode(encode(MigrateAttempt{{9, 2}, 4})));
  EXPECT_EQ(ask.attempt.attempt, 2);
  EXPECT_EQ(ask.to, 4);
}

TEST(Messages, TruncatedOrForeignBytesAreRejected) {
  const std::string bytes = encode(WorkerReport{{}, {sample_result()}});
  for (std::size_t cut : {0ul, 1ul, 5ul, bytes.size() - 1}) {
    EXPECT_THROW(decode(std::string_view(bytes).substr(0, cut)), Error) << cut;
  }
  EXPECT_THROW(decode(bytes + "x"), Error);
  std::string wrong_version = bytes;
  wrong_version[0] = 99;
  EXPECT_THROW(decode(wrong_version), Error);
  std::string unknown_type = encode(Shutdown{});
  unknown_type[1] = 42;
  EXPECT_THROW(decode(unknown_type), Error);
}

TEST(InProcessTransport, DeliversInOrderAcrossThreadsAndTimesOutWhenEmpty) {
  InProcessHub hub(3);
  EXPECT_FALSE(hub.endpoint(0).receive(std::chrono::milliseconds(1)).has_value());
  std::jthread sender([&] {
    for (std::uint32_t i = 0; i < 100; ++i) hub.endpoint(2).send(0, WorkerReport{{{i, 0, 0}}, {}});
    hub.endpoint(1).send(0, WorkerBye{});
  });
  std::uint32_t expected = 0;
  bool bye = false;
  while (!bye || expected < 100) {
    auto envelope = hub.endpoint(0).receive(std::chrono::seconds(10));
    ASSERT_TRUE(envelope.has_value());
    if (envelope->from == 1) {
      bye = true;
      continue;
    }
    EXPECT_EQ(envelope->from, 2);
    EXPECT_EQ(std::get<WorkerReport>(envelope->message).started.at(0).task, expected++);
  }
  EXPECT_THROW(hub.endpoint(0).send(3, Shutdown{}), Error);
}

}  // namespace
}  // namespace fastgpu::comm
