// Everything written comes back from read_results, field by field.
#include <gtest/gtest.h>

#include <limits>
#include <string>

#include "io/results_reader.hpp"
#include "io/results_writer.hpp"
#include "io_test_util.hpp"

namespace fastgpu::io {
namespace {

using test::same;

class RoundTrip : public test::ScratchDir {};

void expect_task(const TaskRecord& want, const TaskRecord& got) {
  EXPECT_EQ(want.id, got.id);
  EXPECT_EQ(want.name, got.name);
  EXPECT_EQ(want.params, got.params);
  EXPECT_TRUE(same(want.cost, got.cost)) << want.cost << " vs " << got.cost;
  EXPECT_EQ(want.gpus, got.gpus);
  EXPECT_EQ(want.status, got.status);
  EXPECT_EQ(want.attempts, got.attempts);
  EXPECT_EQ(want.worker, got.worker);
  EXPECT_TRUE(same(want.start, got.start)) << want.start << " vs " << got.start;
  EXPECT_TRUE(same(want.end, got.end)) << want.end << " vs " << got.end;
  EXPECT_EQ(want.exit_code, got.exit_code);
}

void expect_attempt(const AttemptRecord& want, const AttemptRecord& got) {
  EXPECT_EQ(want.task, got.task);
  EXPECT_EQ(want.attempt, got.attempt);
  EXPECT_EQ(want.worker, got.worker);
  EXPECT_EQ(want.host, got.host);
  EXPECT_EQ(want.device, got.device);
  EXPECT_TRUE(same(want.start, got.start));
  EXPECT_TRUE(same(want.end, got.end));
  EXPECT_EQ(want.status, got.status);
  EXPECT_EQ(want.exit_code, got.exit_code);
  EXPECT_EQ(want.signal, got.signal);
  EXPECT_TRUE(same(want.predicted_s, got.predicted_s));
  EXPECT_EQ(want.migrated, got.migrated);
  EXPECT_EQ(want.error, got.error);
  EXPECT_EQ(want.stdout_tail, got.stdout_tail);
  EXPECT_EQ(want.stderr_tail, got.stderr_tail);
  ASSERT_EQ(want.metrics.size(), got.metrics.size());
  for (std::size_t i = 0; i < want.metrics.size(); ++i) {
    EXPECT_EQ(want.metrics[i].name, got.metrics[i].name);
    EXPECT_TRUE(same(want.metrics[i].value, got.metrics[i].value));
  }
}

TEST_F(RoundTrip, EveryFieldComesBack) {
  const auto path = dir() / "results.h5";
  JobInfo job = test::sample_job();
  for (int i = 0; i < 5000; ++i)
    job.spec += "# a long job file, line " + std::to_string(i) + "\n";  // > 64 KiB
  std::vector<TaskRecord> tasks = test::sample_tasks(3);
  tasks[2].id = "";  // empty strings survive
  tasks[2].params = "{}";

  // Every attempt status and every odd value.
  std::vector<AttemptRecord> attempts;
  for (int s = 0; s <= 6; ++s) {
    AttemptRecord a = test::sample_attempt(s % 3, s);
    a.status = static_cast<AttemptStatus>(s);
    attempts.push_back(a);
  }
  attempts[0].start = kNoTime;
  attempts[0].end = kNoTime;
  attempts[0].predicted_s = kNoTime;
  attempts[0].metrics.clear();
  attempts[1].exit_code = 137;
  attempts[1].signal = 9;
  attempts[1].error = "killed by signal 9 (Killed)";
  attempts[2].host = "ノード-1";
  attempts[2].stdout_tail = "résumé ✓ 😀\nlast line";
  attempts[3].stdout_tail = std::string(1 << 20, 'x') + "end";  // a 1 MiB tail
  attempts[3].stderr_tail = std::string(200000, 'e');
  attempts[4].metrics = {
      {"", -0.0}, {"inf", std::numeric_limits<double>::infinity()}, {"nan", kNoTime}, {"μs", 1e-300}};
  attempts[5].migrated = true;
  attempts[6].exit_code = -1;

  WorkerRecord w0{0, "node0", 0, "cuda:0", "NVIDIA H100 80GB HBM3", "GPU-1234-abcd"};
  WorkerRecord w1{1, "node1", 1, "cpu", "", ""};
  EventRecord e0{0.0, "assign", 0, -1, 0, ""};
  EventRecord e1{1.5, "migrate", 2, 0, 1, "faster worker: 2.1× predicted"};
  EventRecord e2{kNoTime, "", -1, -1, -1, "no time"};

  {
    auto writer = ResultsWriter::create(path, job, tasks, false);
    writer->add_worker(w0);
    writer->add_worker(w1);
    for (const auto& a : attempts) writer->add_attempt(a);
    writer->add_event(e0);
    writer->add_event(e1);
    writer->add_event(e2);
    // Every task status, and unset/NaN times.
    for (std::size_t i = 0; i < tasks.size(); ++i) {
      tasks[i].status = static_cast<TaskStatus>(i + 2);
      tasks[i].attempts = static_cast<std::int32_t>(i + 1);
      tasks[i].worker = static_cast<std::int32_t>(i);
      tasks[i].start = i == 0 ? kNoTime : 1.0 * static_cast<double>(i);
      tasks[i].end = i == 0 ? kNoTime : 2.5 * static_cast<double>(i);
      tasks[i].exit_code = static_cast<std::int32_t>(i) - 1;
      writer->update_task(i, tasks[i]);
    }
    job.status = "done";
    job.finished = "2024-05-01T12:34:56Z";
    writer->finish(job.status, job.finished);
  }

  const Results got = read_results(path);
  EXPECT_EQ(got.job.name, job.name);
  EXPECT_EQ(got.job.spec, job.spec);
  EXPECT_EQ(got.job.source_path, job.source_path);
  EXPECT_EQ(got.job.output_dir, job.output_dir);
  EXPECT_EQ(got.job.fastgpu_version, job.fastgpu_version);
  EXPECT_EQ(got.job.started, job.started);
  EXPECT_EQ(got.job.started_unix, job.started_unix);
  EXPECT_EQ(got.job.finished, job.finished);
  EXPECT_EQ(got.job.status, "done");
  EXPECT_EQ(got.job.transport, job.transport);

  ASSERT_EQ(got.tasks.size(), tasks.size());
  for (std::size_t i = 0; i < tasks.size(); ++i) expect_task(tasks[i], got.tasks[i]);
  ASSERT_EQ(got.attempts.size(), attempts.size());
  for (std::size_t i = 0; i < attempts.size(); ++i) {
    SCOPED_TRACE("attempt " + std::to_string(i));
    expect_attempt(attempts[i], got.attempts[i]);
  }
  ASSERT_EQ(got.workers.size(), 2u);
  for (const auto& [want, have] : {std::pair{w0, got.workers[0]}, std::pair{w1, got.workers[1]}}) {
    EXPECT_EQ(want.rank, have.rank);
    EXPECT_EQ(want.host, have.host);
    EXPECT_EQ(want.local_rank, have.local_rank);
    EXPECT_EQ(want.device, have.device);
    EXPECT_EQ(want.gpu_name, have.gpu_name);
    EXPECT_EQ(want.gpu_uuid, have.gpu_uuid);
  }
  ASSERT_EQ(got.events.size(), 3u);
  const EventRecord* want_events[] = {&e0, &e1, &e2};
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_TRUE(same(want_events[i]->time, got.events[i].time));
    EXPECT_EQ(want_events[i]->kind, got.events[i].kind);
    EXPECT_EQ(want_events[i]->task, got.events[i].task);
    EXPECT_EQ(want_events[i]->from, got.events[i].from);
    EXPECT_EQ(want_events[i]->to, got.events[i].to);
    EXPECT_EQ(want_events[i]->detail, got.events[i].detail);
  }
}

TEST_F(RoundTrip, NoTasksNoRows) {
  const auto path = dir() / "empty.h5";
  ResultsWriter::create(path, test::sample_job(), {}, false)->finish("failed", "2024-05-01T12:00:01Z");
  const Results got = read_results(path);
  EXPECT_TRUE(got.tasks.empty());
  EXPECT_TRUE(got.attempts.empty());
  EXPECT_TRUE(got.workers.empty());
  EXPECT_TRUE(got.events.empty());
  EXPECT_EQ(got.job.status, "failed");
}

TEST_F(RoundTrip, InitialTasksArePending) {
  const auto path = dir() / "results.h5";
  const auto tasks = test::sample_tasks(5);
  ResultsWriter::create(path, test::sample_job(), tasks, false);  // destroyed at once
  const Results got = read_results(path);
  ASSERT_EQ(got.tasks.size(), 5u);
  for (std::size_t i = 0; i < 5; ++i) {
    expect_task(tasks[i], got.tasks[i]);
    EXPECT_EQ(got.tasks[i].status, TaskStatus::pending);
    EXPECT_TRUE(std::isnan(got.tasks[i].start));
  }
  EXPECT_EQ(got.job.status, "running");  // never finished
  EXPECT_EQ(got.job.finished, "");
}

TEST_F(RoundTrip, InvalidUtf8AndNulBecomeReplacementCharacters) {
  const auto path = dir() / "results.h5";
  AttemptRecord a = test::sample_attempt(0, 0);
  a.stdout_tail = std::string("\x9f\x98\x80 tail cut mid-character") + '\0' + "after nul";
  a.stderr_tail =
      "bad \xff"
      " byte";
  {
    auto writer = ResultsWriter::create(path, test::sample_job(), test::sample_tasks(1), false);
    writer->add_attempt(a);
  }
  const Results got = read_results(path);
  ASSERT_EQ(got.attempts.size(), 1u);
  EXPECT_EQ(got.attempts[0].stdout_tail,
            "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD tail cut mid-character\xEF\xBF\xBD"
            "after nul");
  EXPECT_EQ(got.attempts[0].stderr_tail, "bad \xEF\xBF\xBD byte");
}

}  // namespace
}  // namespace fastgpu::io
