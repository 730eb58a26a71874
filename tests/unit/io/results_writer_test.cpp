// ResultsWriter: creation rules, buffering and flushing, updates, many appends, closing.
#include "io/results_writer.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "fastgpu/error.hpp"
#include "io/results_reader.hpp"
#include "io_test_util.hpp"

namespace fastgpu::io {
namespace {

class Writer : public test::ScratchDir {};

std::string file_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

TEST_F(Writer, RefusesAnExistingFileAndLeavesItUntouched) {
  const auto path = dir() / "results.h5";
  { std::ofstream(path) << "precious"; }
  try {
    ResultsWriter::create(path, test::sample_job(), test::sample_tasks(2), false);
    FAIL() << "expected UsageError";
  } catch (const UsageError& e) {
    EXPECT_EQ(std::string(e.what()),
              "results file '" + path.string() + "' already exists; pass --force to overwrite it");
  }
  EXPECT_EQ(file_text(path), "precious");
}

TEST_F(Writer, OverwritesWhenAsked) {
  const auto path = dir() / "results.h5";
  { std::ofstream(path) << "old"; }
  ResultsWriter::create(path, test::sample_job(), test::sample_tasks(2), true)->finish("done", "t");
  EXPECT_EQ(read_results(path).tasks.size(), 2u);

  // A second run over a previous results file replaces it entirely.
  ResultsWriter::create(path, test::sample_job(), test::sample_tasks(7), true)->finish("done", "t");
  const Results got = read_results(path);
  EXPECT_EQ(got.tasks.size(), 7u);
  EXPECT_TRUE(got.attempts.empty());
}

TEST_F(Writer, CreatesParentDirectories) {
  const auto path = dir() / "a" / "b" / "c" / "results.h5";
  ResultsWriter::create(path, test::sample_job(), test::sample_tasks(1), false)->finish("done", "t");
  EXPECT_TRUE(std::filesystem::is_regular_file(path));
  EXPECT_EQ(read_results(path).tasks.size(), 1u);
}

TEST_F(Writer, ParentThatIsAFileIsAnIoError) {
  { std::ofstream(dir() / "plain") << "x"; }
  const auto path = dir() / "plain" / "results.h5";
  try {
    ResultsWriter::create(path, test::sample_job(), {}, false);
    FAIL() << "expected IoError";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find(path.string()), std::string::npos) << e.what();
  }
}

TEST_F(Writer, DirectoryInTheWayIsAnIoErrorNamingThePath) {
  const auto path = dir() / "results.h5";
  std::filesystem::create_directory(path);
  try {
    ResultsWriter::create(path, test::sample_job(), {}, true);
    FAIL() << "expected IoError";
  } catch (const IoError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("'" + path.string() + "'"), std::string::npos) << what;
    EXPECT_NE(what.find("H5Fcreate failed: unable to create file: Is a directory"), std::string::npos)
        << what;
  }
  EXPECT_TRUE(std::filesystem::is_directory(path));
}

TEST_F(Writer, FlushMakesTheFileCompleteOnDiskWhileOpen) {
  const auto path = dir() / "results.h5";
  const auto copy = dir() / "copy.h5";
  auto writer = ResultsWriter::create(path, test::sample_job(), test::sample_tasks(4), false);
  writer->add_worker({0, "node0", 0, "cuda:0", "GPU", "GPU-0"});
  writer->add_attempt(test::sample_attempt(1, 0));
  writer->add_event({0.5, "assign", 1, -1, 0, ""});
  TaskRecord t = test::sample_tasks(4)[1];
  t.status = TaskStatus::running;
  t.start = 0.5;
  writer->update_task(1, t);
  writer->flush();

  // What a process killed now would leave: copy the bytes on disk while the writer is open.
  std::filesystem::copy_file(path, copy);
  const Results got = read_results(copy);
  EXPECT_EQ(got.job.status, "running");
  ASSERT_EQ(got.tasks.size(), 4u);
  EXPECT_EQ(got.tasks[1].status, TaskStatus::running);
  EXPECT_EQ(got.tasks[1].start, 0.5);
  EXPECT_EQ(got.tasks[0].status, TaskStatus::pending);
  ASSERT_EQ(got.attempts.size(), 1u);
  EXPECT_EQ(got.attempts[0].stdout_tail, "out 1\n");
  EXPECT_EQ(got.attempts[0].metrics.size(), 2u);
  EXPECT_EQ(got.workers.size(), 1u);
  EXPECT_EQ(got.events.size(), 1u);

  // And the file itself can be read in place while the writer still has it open.
  EXPECT_EQ(read_results(path).attempts.size(), 1u);
}

TEST_F(Writer, UpdateTaskAfterFlushOverwritesTheRow) {
  const auto path = dir() / "results.h5";
  auto tasks = test::sample_tasks(10);
  auto writer = ResultsWriter::create(path, test::sample_job(), tasks, false);

  tasks[3].status = TaskStatus::running;
  tasks[3].start = 1;
  writer->update_task(3, tasks[3]);
  writer->flush();

  tasks[3].status = TaskStatus::done;
  tasks[3].end = 4;
  tasks[3].exit_code = 0;
  tasks[3].attempts = 1;
  writer->update_task(3, tasks[3]);
  // Scattered rows in one flush: runs {0}, {5,6,7}, {9}; row 6 updated twice, the last wins.
  for (std::size_t i : {9u, 5u, 6u, 0u, 7u, 6u}) {
    tasks[i].status = TaskStatus::failed;
    tasks[i].exit_code = static_cast<std::int32_t>(i);
    writer->update_task(i, tasks[i]);
  }
  tasks[6].status = TaskStatus::cancelled;
  writer->update_task(6, tasks[6]);
  // Changed strings are rewritten too (rows 7 and 8; 7 is also in a state-only run above).
  tasks[7].name = "renamed ✓";
  tasks[7].params = "";
  writer->update_task(7, tasks[7]);
  tasks[8].id = "t8-new";
  writer->update_task(8, tasks[8]);
  writer->finish("failed", "t");

  const Results got = read_results(path);
  ASSERT_EQ(got.tasks.size(), 10u);
  for (std::size_t i = 0; i < 10; ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(got.tasks[i].id, tasks[i].id);
    EXPECT_EQ(got.tasks[i].name, tasks[i].name);
    EXPECT_EQ(got.tasks[i].params, tasks[i].params);
    EXPECT_EQ(got.tasks[i].status, tasks[i].status);
    EXPECT_EQ(got.tasks[i].exit_code, tasks[i].exit_code);
  }
  EXPECT_EQ(got.tasks[3].status, TaskStatus::done);
  EXPECT_EQ(got.tasks[3].end, 4);
  EXPECT_EQ(got.tasks[6].status, TaskStatus::cancelled);
}

TEST_F(Writer, ManyScatteredUpdatesInOneFlush) {
  // More runs than the hyperslab union takes: the point-selection path.
  const auto path = dir() / "results.h5";
  auto tasks = test::sample_tasks(3000);
  auto writer = ResultsWriter::create(path, test::sample_job(), tasks, false);
  for (std::size_t i = 0; i < tasks.size(); i += 2) {
    tasks[i].status = TaskStatus::done;
    tasks[i].attempts = static_cast<std::int32_t>(i);
    writer->update_task(i, tasks[i]);
  }
  writer->finish("done", "t");
  const Results got = read_results(path);
  ASSERT_EQ(got.tasks.size(), tasks.size());
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    ASSERT_EQ(got.tasks[i].status, tasks[i].status) << i;
    ASSERT_EQ(got.tasks[i].attempts, tasks[i].attempts) << i;
    ASSERT_EQ(got.tasks[i].id, tasks[i].id) << i;
  }
}

TEST_F(Writer, UpdateTaskPastTheEndThrows) {
  auto writer = ResultsWriter::create(dir() / "r.h5", test::sample_job(), test::sample_tasks(2), false);
  EXPECT_THROW(writer->update_task(2, TaskRecord{}), std::out_of_range);
}

TEST_F(Writer, TenThousandAttemptsOverSeveralFlushes) {
  const auto path = dir() / "results.h5";
  constexpr std::int64_t kTasks = 2500;
  constexpr int kAttempts = 10000;
  auto writer = ResultsWriter::create(path, test::sample_job(), test::sample_tasks(kTasks), false);
  for (int i = 0; i < kAttempts; ++i) {
    AttemptRecord a = test::sample_attempt(i % kTasks, i / kTasks);
    a.stdout_tail = "attempt " + std::to_string(i);
    a.metrics = {{"i", static_cast<double>(i)}};
    writer->add_attempt(a);
    writer->add_event({static_cast<double>(i), "assign", i % kTasks, -1, i % 7, ""});
    if (i % 3000 == 2999) writer->flush();  // three flushes mid-way, chunk boundaries crossed
  }
  EXPECT_EQ(writer->attempt_count(), static_cast<std::size_t>(kAttempts));
  writer->finish("done", "t");

  const Results got = read_results(path);
  ASSERT_EQ(got.attempts.size(), static_cast<std::size_t>(kAttempts));
  ASSERT_EQ(got.events.size(), static_cast<std::size_t>(kAttempts));
  for (int i = 0; i < kAttempts; ++i) {
    const AttemptRecord& a = got.attempts[static_cast<std::size_t>(i)];
    ASSERT_EQ(a.task, i % kTasks);
    ASSERT_EQ(a.attempt, i / kTasks);
    ASSERT_EQ(a.stdout_tail, "attempt " + std::to_string(i));
    ASSERT_EQ(a.metrics.size(), 1u);
    ASSERT_EQ(a.metrics[0].value, static_cast<double>(i));
    ASSERT_EQ(got.events[static_cast<std::size_t>(i)].time, static_cast<double>(i));
  }
}

TEST_F(Writer, AutoFlushKeepsTheBufferBounded) {
  const auto path = dir() / "results.h5";
  const auto copy = dir() / "copy.h5";
  auto writer = ResultsWriter::create(path, test::sample_job(), test::sample_tasks(1), false);
  writer->set_auto_flush_bytes(64 * 1024);
  AttemptRecord a = test::sample_attempt(0, 0);
  a.stdout_tail = std::string(10000, 'o');
  for (int i = 0; i < 20; ++i) writer->add_attempt(a);  // ~200 KB: flushed on the way, no flush()
  std::filesystem::copy_file(path, copy);
  const auto on_disk = read_results(copy).attempts.size();
  EXPECT_GE(on_disk, 12u);
  EXPECT_LT(on_disk, 20u);
}

TEST_F(Writer, DestructorFlushesAndLeavesStatusRunning) {
  const auto path = dir() / "results.h5";
  {
    auto writer = ResultsWriter::create(path, test::sample_job(), test::sample_tasks(2), false);
    writer->add_attempt(test::sample_attempt(0, 0));
    writer->add_event({1, "retry", 0, 0, 1, "exit code 3"});
  }
  const Results got = read_results(path);
  EXPECT_EQ(got.job.status, "running");
  EXPECT_EQ(got.attempts.size(), 1u);
  EXPECT_EQ(got.events.size(), 1u);
}

TEST_F(Writer, FinishSetsStatusAndFinishedAndClosesTheWriter) {
  const auto path = dir() / "results.h5";
  auto writer = ResultsWriter::create(path, test::sample_job(), test::sample_tasks(1), false);
  writer->flush();
  EXPECT_EQ(read_results(path).job.status, "running");
  writer->finish("failed", "2024-05-01T13:00:00Z");
  const Results got = read_results(path);
  EXPECT_EQ(got.job.status, "failed");
  EXPECT_EQ(got.job.finished, "2024-05-01T13:00:00Z");
  EXPECT_THROW(writer->add_event({}), IoError);
  EXPECT_THROW(writer->flush(), IoError);
  EXPECT_THROW(writer->finish("done", "t"), IoError);
}

TEST_F(Writer, WriterCanBeRemovedAfterFinishAndTheFileReopened) {
  const auto path = dir() / "results.h5";
  ResultsWriter::create(path, test::sample_job(), test::sample_tasks(1), false)->finish("done", "t");
  // The file is closed: a fresh writer may truncate it.
  ResultsWriter::create(path, test::sample_job(), test::sample_tasks(3), true)->finish("done", "t");
  EXPECT_EQ(read_results(path).tasks.size(), 3u);
}

}  // namespace
}  // namespace fastgpu::io
