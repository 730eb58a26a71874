// The HDF5 results file writer (layout: docs/results-file.md).
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "fastgpu/cost_model.hpp"
#include "fastgpu/results.hpp"

namespace fastgpu::io {

/** @brief Whether a writer keeps a journal beside its file (on, except when replaying one). */
enum class Journaling { on, off };

/**
 * @brief Records a job into an HDF5 results file. Rows are buffered in memory and written by
 * flush(), each table in one extend + write; after flush() the file on disk is complete and can
 * be read (h5dump, h5py, read_results) while the writer keeps it open. Strings are stored as
 * UTF-8: invalid bytes and NULs become U+FFFD. Calls must come from one thread.
 */
class ResultsWriter final : public ResultsSink {
 public:
  /**
   * @brief Creates the file (and missing parent directories) with /tasks holding @p tasks, and
   * flushes it. If the file exists and !overwrite: throws fastgpu::UsageError and leaves it
   * untouched. Other failures throw fastgpu::IoError.
   *
   * With Journaling::on every change is also appended to "<path>.journal" (src/io/journal.hpp)
   * before it reaches the HDF5 file, and the journal is deleted when the file is closed cleanly:
   * a journal left behind means the writer died, and readers rebuild the file from it.
   */
  static std::unique_ptr<ResultsWriter> create(const std::filesystem::path& path, const JobInfo& job,
                                               const std::vector<TaskRecord>& tasks, bool overwrite,
                                               Journaling journaling = Journaling::on);

  ResultsWriter(const ResultsWriter&) = delete;
  ResultsWriter& operator=(const ResultsWriter&) = delete;
  /** @brief Flushes and closes the file if finish() was not called; never throws. */
  ~ResultsWriter() override;

  void add_worker(const WorkerRecord& worker) override;
  /** @brief Buffers a new value for /tasks row @p index (std::out_of_range past the end). */
  void update_task(std::size_t index, const TaskRecord& task) override;
  /** @brief Buffers an /attempts row, its /outputs/stdout and /outputs/stderr tails and metrics. */
  void add_attempt(const AttemptRecord& attempt) override;
  void add_event(const EventRecord& event) override;
  /** @brief Buffers /telemetry rows (journaled as one record). */
  void add_telemetry(const std::vector<TelemetrySample>& samples) override;

  /** @brief Writes the journal's buffered records (cheap: one write(2)); a kill loses none. */
  void commit();
  /** @brief Syncs the journal, writes everything buffered, then flushes HDF5's caches to disk. */
  void flush();
  /** @brief Flushes, then moves the file and its journal to @p to (same filesystem). */
  void rename(const std::filesystem::path& to);
  /** @brief Writes /reductions (the job's combined [[reduce]] values), replacing earlier ones. */
  void write_reductions(const std::vector<ReductionValue>& reductions);
  /** @brief Replaces /model with the cost model's parameters (reusable by --history). */
  void write_model(const CostModelSnapshot& model);
  /** @brief Sets the /job `status` and `finished` attributes, flushes and closes the file. */
  void finish(const std::string& status, const std::string& finished_iso);

  const std::filesystem::path& path() const;
  /** @brief Rows written or buffered so far. */
  std::size_t task_count() const;
  std::size_t attempt_count() const;

  /**
   * @brief Buffered data past this many bytes (roughly) triggers a flush from add_*, so memory
   * stays bounded even if the caller flushes rarely. Default 64 MiB.
   */
  void set_auto_flush_bytes(std::size_t bytes);

 private:
  struct Impl;
  explicit ResultsWriter(std::unique_ptr<Impl> impl);
  void after_add();
  std::unique_ptr<Impl> impl_;
};

}  // namespace fastgpu::io
