// The results journal: a writer that dies at any moment leaves a journal from which the results
// file is rebuilt, whole, by the next reader.
#include "io/journal.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

#include "fastgpu/error.hpp"
#include "io/results_reader.hpp"
#include "io/results_writer.hpp"
#include "io_test_util.hpp"

namespace fastgpu::io {
namespace {

using test::sample_attempt;
using test::sample_job;
using test::sample_tasks;

class JournalTest : public test::ScratchDir {
 protected:
  std::filesystem::path file() const { return dir() / "out.h5"; }

  /// Runs @p body in a child process that then dies without closing anything, like kill -9.
  template <typename Body>
  void in_killed_process(Body body) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      try {
        body();
      } catch (...) {
        ::_exit(1);
      }
      ::_exit(0);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }

  /// A run of 6 subtasks that recorded 4 attempts and died before flushing HDF5 again.
  void write_and_die(bool commit) {
    in_killed_process([&] {
      auto writer = ResultsWriter::create(file(), sample_job(), sample_tasks(6), false);
      writer->add_worker(WorkerRecord{1, "node0", 0, "cuda:0", "H100", "GPU-1"});
      for (std::int64_t task = 0; task < 4; ++task) {
        TaskRecord done = sample_tasks(6)[task];
        done.status = TaskStatus::done;
        done.attempts = 1;
        writer->update_task(task, done);
        writer->add_attempt(sample_attempt(task, 1));
        writer->add_event({0.5 * task, "assign", task, -1, 1, ""});
      }
      if (commit) writer->commit();
      writer.release();  // never destroyed: the process just ends
    });
  }
};

TEST_F(JournalTest, KilledWriterLeavesJournalAndReaderRebuildsEverything) {
  write_and_die(/*commit=*/true);
  ASSERT_TRUE(std::filesystem::exists(journal_path(file())));
  EXPECT_EQ(journal_state(file()), JournalState::abandoned);
  // HDF5 on disk has only what create() flushed: no attempt yet.
  const Results results = read_results(file());
  EXPECT_FALSE(std::filesystem::exists(journal_path(file())));
  EXPECT_EQ(results.job.status, "killed");
  ASSERT_EQ(results.tasks.size(), 6u);
  for (int task = 0; task < 4; ++task) EXPECT_EQ(results.tasks[task].status, TaskStatus::done);
  EXPECT_EQ(results.tasks[4].status, TaskStatus::pending);
  ASSERT_EQ(results.attempts.size(), 4u);
  EXPECT_EQ(results.attempts[2].stdout_tail, "out 2\n");
  EXPECT_EQ(results.attempts[2].metrics.size(), 2u);
  ASSERT_EQ(results.workers.size(), 1u);
  EXPECT_EQ(results.workers[0].gpu_uuid, "GPU-1");
  ASSERT_EQ(results.events.size(), 5u);
  EXPECT_EQ(results.events.back().kind, "recovered");
}

TEST_F(JournalTest, UncommittedRecordsAreLostButTheFileIsConsistent) {
  write_and_die(/*commit=*/false);
  const Results results = read_results(file());
  EXPECT_EQ(results.job.status, "killed");
  EXPECT_TRUE(results.attempts.empty());
  for (const auto& task : results.tasks) EXPECT_EQ(task.status, TaskStatus::pending);
}

TEST_F(JournalTest, DamagedHdf5IsRebuiltFromTheJournal) {
  write_and_die(/*commit=*/true);
  // A kill in the middle of an HDF5 flush: the file's bytes are garbage past some point.
  std::filesystem::resize_file(file(), std::filesystem::file_size(file()) / 3);
  const Results results = read_results(file());
  EXPECT_EQ(results.attempts.size(), 4u);
}

TEST_F(JournalTest, MissingHdf5IsRebuiltFromTheJournal) {
  write_and_die(/*commit=*/true);
  std::filesystem::remove(file());
  EXPECT_EQ(read_results(file()).attempts.size(), 4u);
}

TEST_F(JournalTest, TornLastRecordIsDropped) {
  write_and_die(/*commit=*/true);
  {
    std::ofstream out(journal_path(file()), std::ios::binary | std::ios::app);
    const std::uint32_t header[2] = {1000, 0};  // promises 1000 bytes, has 3
    out.write(reinterpret_cast<const char*>(header), sizeof header);
    out << "abc";
  }
  const auto recovery = recover_results(file());
  ASSERT_TRUE(recovery);
  EXPECT_TRUE(recovery->torn_tail);
  EXPECT_FALSE(recovery->finished);
  EXPECT_EQ(read_results(file()).attempts.size(), 4u);
}

TEST_F(JournalTest, RecordWithBadChecksumEndsTheReplay) {
  write_and_die(/*commit=*/true);
  const auto journal = journal_path(file());
  const auto size = std::filesystem::file_size(journal);
  {
    std::fstream io(journal, std::ios::binary | std::ios::in | std::ios::out);
    io.seekp(static_cast<std::streamoff>(size - 2));
    io.put('\x7f');  // flips a byte of the last record (an event)
  }
  const auto recovery = recover_results(file());
  ASSERT_TRUE(recovery);
  EXPECT_TRUE(recovery->torn_tail);
  EXPECT_EQ(read_results(file()).attempts.size(), 4u);
}

TEST_F(JournalTest, LiveWriterIsNotRecoveredAndASecondWriterIsRefused) {
  auto writer = ResultsWriter::create(file(), sample_job(), sample_tasks(2), false);
  writer->add_attempt(sample_attempt(0, 1));
  writer->commit();
  EXPECT_EQ(journal_state(file()), JournalState::live);
  EXPECT_FALSE(recover_results(file()));
  EXPECT_EQ(read_results(file()).job.status, "running");  // as of the last flush, untouched
  EXPECT_THROW(ResultsWriter::create(file(), sample_job(), sample_tasks(2), true), UsageError);
  writer->finish("done", "2024-05-01T12:01:00Z");
  EXPECT_EQ(journal_state(file()), JournalState::none);
  EXPECT_EQ(read_results(file()).attempts.size(), 1u);
}

TEST_F(JournalTest, CleanCloseRemovesTheJournal) {
  {
    auto writer = ResultsWriter::create(file(), sample_job(), sample_tasks(2), false);
    writer->add_attempt(sample_attempt(0, 1));
  }
  EXPECT_FALSE(std::filesystem::exists(journal_path(file())));
  EXPECT_EQ(read_results(file()).attempts.size(), 1u);
}

TEST_F(JournalTest, FinishedRunWhoseJournalRemovalWasMissedKeepsItsStatusAndModel) {
  in_killed_process([&] {
    JournalWriter journal(journal_path(file()));
    journal.begin(sample_job(), sample_tasks(1));
    journal.attempt(sample_attempt(0, 1));
    journal.model(CostModelSnapshot{{{"command", 0.5, 2.0, 3}}, {{1, "node0", "cuda:0", 1.5, 0.1, 3}}});
    journal.finish("done", "2024-05-01T12:01:00Z");
    journal.commit();
  });
  const auto recovery = recover_results(file());
  ASSERT_TRUE(recovery);
  EXPECT_TRUE(recovery->finished);
  const Results results = read_results(file());
  EXPECT_EQ(results.job.status, "done");
  EXPECT_EQ(results.job.finished, "2024-05-01T12:01:00Z");
  const auto model = read_model(file());
  ASSERT_TRUE(model);
  ASSERT_EQ(model->workers.size(), 1u);
  EXPECT_DOUBLE_EQ(model->workers[0].speed_factor, 1.5);
}

TEST_F(JournalTest, ForeignJournalIsAClearError) {
  write_and_die(/*commit=*/true);
  std::ofstream(journal_path(file()), std::ios::binary | std::ios::trunc) << "not a journal at all\n";
  try {
    (void)read_results(file());
    FAIL() << "expected an IoError";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("not a FastGPU journal"), std::string::npos) << e.what();
  }
}

TEST_F(JournalTest, RenameMovesTheJournalWithTheFile) {
  auto writer = ResultsWriter::create(dir() / "tmp.h5", sample_job(), sample_tasks(1), false);
  writer->rename(file());
  EXPECT_FALSE(std::filesystem::exists(journal_path(dir() / "tmp.h5")));
  EXPECT_EQ(journal_state(file()), JournalState::live);
  writer->finish("done", "");
  EXPECT_FALSE(std::filesystem::exists(journal_path(file())));
  EXPECT_TRUE(std::filesystem::exists(file()));
}

}  // namespace
}  // namespace fastgpu::io
