// The results journal: a write-ahead log beside the HDF5 results file (OUT.h5.journal) from which
// the file is rebuilt after a crash. Design and reasons: docs/results-file.md, "Crash safety".
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "fastgpu/cost_model.hpp"
#include "fastgpu/results.hpp"

namespace fastgpu::io {

/** @brief Where the journal of results file @p results lives: "<results>.journal". */
std::filesystem::path journal_path(const std::filesystem::path& results);

/**
 * @brief Appends every change made to a results file, in order, to its journal. Records are
 * buffered and written by commit() (one write(2)); sync() also makes them durable (fdatasync).
 * The journal is locked (flock) while a writer holds it, so a reader can tell a live run from a
 * dead one: the kernel drops the lock when the process dies, however it dies.
 */
class JournalWriter {
 public:
  /**
   * @brief Creates (truncating) the journal at @p path and locks it. Throws fastgpu::UsageError
   * if another process holds it (a live run writing the same results file), IoError otherwise.
   */
  explicit JournalWriter(std::filesystem::path path);
  JournalWriter(const JournalWriter&) = delete;
  JournalWriter& operator=(const JournalWriter&) = delete;
  /** @brief Closes (and unlocks) without removing: the journal stays for recovery. */
  ~JournalWriter();

  void begin(const JobInfo& job, const std::vector<TaskRecord>& tasks);
  void worker(const WorkerRecord& worker);
  void task(std::size_t index, const TaskRecord& task);
  void attempt(const AttemptRecord& attempt);
  void event(const EventRecord& event);
  void telemetry(const std::vector<TelemetrySample>& samples);
  void model(const CostModelSnapshot& model);
  void finish(const std::string& status, const std::string& finished_iso);

  /** @brief Writes the buffered records to the file (the kernel has them: a kill loses none). */
  void commit();
  /** @brief commit(), then fdatasync: the records survive a crash of the node too. */
  void sync();
  /** @brief Moves the journal (with its results file, on the same filesystem). */
  void rename(const std::filesystem::path& to);
  /** @brief Deletes the journal: its results file is complete on disk. */
  void remove();

  const std::filesystem::path& path() const { return path_; }

 private:
  void append(std::string payload);
  std::filesystem::path path_;
  int fd_ = -1;
  std::string buffer_;
};

/** @brief Whether a results file has a journal, and whether a live writer holds it. */
enum class JournalState { none, live, abandoned };
JournalState journal_state(const std::filesystem::path& results);

/** @brief What recover_results did. */
struct Recovery {
  std::size_t records = 0;  ///< journal records replayed
  bool torn_tail = false;   ///< the last record was cut short by the crash (dropped)
  bool finished = false;    ///< the run had finished (only its journal's removal was missed)
};

/**
 * @brief If @p results has an abandoned journal (its writer died), rebuilds the results file from
 * it under a temporary name, renames it over @p results and deletes the journal; a run that had
 * not finished gets /job status "killed". Returns nullopt when there is nothing to recover (no
 * journal, or a live run holds it). Throws fastgpu::IoError if the journal is not a FastGPU
 * journal or cannot be read, or the file cannot be written.
 */
std::optional<Recovery> recover_results(const std::filesystem::path& results);

}  // namespace fastgpu::io
