#include "io/results_writer.hpp"

#include "io/reductions_group.hpp"

#include "io/model_table.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <stdexcept>
#include <system_error>
#include <utility>

#include "fastgpu/error.hpp"
#include "io/hdf5_attributes.hpp"
#include "io/hdf5_handle.hpp"
#include "io/hdf5_table.hpp"
#include "io/hdf5_types.hpp"
#include "io/journal.hpp"
#include "io/results_layout.hpp"
#include "io/utf8.hpp"

namespace fastgpu::io {

namespace {

using namespace h5;

JobInfo clean(JobInfo job) {
  for (std::string* text : {&job.name, &job.spec, &job.source_path, &job.output_dir, &job.fastgpu_version,
                            &job.started, &job.finished, &job.status, &job.transport}) {
    sanitize_utf8(*text);
  }
  return job;
}

TaskRecord clean(TaskRecord task) {
  sanitize_utf8(task.id);
  sanitize_utf8(task.name);
  sanitize_utf8(task.params);
  return task;
}

AttemptRecord clean(AttemptRecord attempt) {
  for (std::string* text :
       {&attempt.host, &attempt.device, &attempt.error, &attempt.stdout_tail, &attempt.stderr_tail}) {
    sanitize_utf8(*text);
  }
  for (Metric& metric : attempt.metrics) sanitize_utf8(metric.name);
  return attempt;
}

WorkerRecord clean(WorkerRecord worker) {
  for (std::string* text :
       {&worker.host, &worker.device, &worker.gpu_name, &worker.gpu_uuid, &worker.pci_bus_id, &worker.cpu_set}) {
    sanitize_utf8(*text);
  }
  return worker;
}

EventRecord clean(EventRecord event) {
  sanitize_utf8(event.kind);
  sanitize_utf8(event.detail);
  return event;
}

TaskRow to_row(const TaskRecord& t) {
  return TaskRow{
      t.id.c_str(), t.name.c_str(), t.params.c_str(), t.cost, t.gpus,     static_cast<std::int8_t>(t.status),
      t.attempts,   t.worker,       t.start,          t.end,  t.exit_code};
}

AttemptRow to_row(const AttemptRecord& a) {
  return AttemptRow{a.task,           a.attempt, a.worker,      a.host.c_str(),
                    a.device.c_str(), a.start,   a.end,         static_cast<std::int8_t>(a.status),
                    a.exit_code,      a.signal,  a.predicted_s, static_cast<std::int8_t>(a.migrated ? 1 : 0),
                    a.error.c_str()};
}

WorkerRow to_row(const WorkerRecord& w) {
  return WorkerRow{w.rank,           w.host.c_str(),     w.local_rank,          w.device.c_str(),
                   w.gpu_name.c_str(), w.gpu_uuid.c_str(), w.pci_bus_id.c_str(), w.numa_node,
                   w.cpu_set.c_str()};
}

EventRow to_row(const EventRecord& e) {
  return EventRow{e.time, e.kind.c_str(), e.task, e.from, e.to, e.detail.c_str()};
}

std::uint64_t text_hash(const TaskRecord& t) {
  std::string text;
  text.reserve(t.id.size() + t.name.size() + t.params.size() + 2);
  text.append(t.id).append(1, '\0').append(t.name).append(1, '\0').append(t.params);
  return std::hash<std::string>{}(text);
}

std::size_t footprint(const TaskRecord& t) {
  return sizeof(TaskRecord) + t.id.size() + t.name.size() + t.params.size();
}
std::size_t footprint(const AttemptRecord& a) {
  std::size_t bytes = sizeof(AttemptRecord) + a.host.size() + a.device.size() + a.error.size() +
                      a.stdout_tail.size() + a.stderr_tail.size();
  for (const Metric& m : a.metrics) bytes += sizeof(Metric) + m.name.size();
  for (const OutputArray& o : a.arrays) bytes += sizeof(OutputArray) + o.name.size() + o.values.size() * sizeof(double);
  bytes += a.checkpoint.size();
  return bytes;
}
std::size_t footprint(const WorkerRecord& w) {
  return sizeof(WorkerRecord) + w.host.size() + w.device.size() + w.gpu_name.size() + w.gpu_uuid.size() +
         w.pci_bus_id.size() + w.cpu_set.size();
}
std::size_t footprint(const EventRecord& e) { return sizeof(EventRecord) + e.kind.size() + e.detail.size(); }

/** @brief Telemetry rows arrive every second from every worker: bigger chunks, fewer of them. */
constexpr hsize_t kTelemetryChunkRows = 4096;

/** @brief A table: its dataset, memory row type and rows on disk. */
struct Table {
  const char* name = "";
  Dataset dataset;
  Datatype memory_type;
  hsize_t rows = 0;
};

/** @brief A few rows per worker rank; 64 keeps a small job's file small. */
constexpr hsize_t kWorkerChunkRows = 64;

/** @brief Cheap compression of the tables: unfilled chunk tails and repetitive fields shrink. */
constexpr int kDeflateLevel = 1;

Table make_table(hid_t file, const char* name, RowTypes types, hsize_t rows, hsize_t chunk_rows,
                 const char* description, const std::filesystem::path& path) {
  Table table;
  table.name = name;
  table.dataset = create_table(file, name, types.file.get(), rows, chunk_rows, path, kDeflateLevel);
  table.memory_type = std::move(types.memory);
  table.rows = rows;
  write_string_attribute(table.dataset.get(), "description", description, path);
  return table;
}

void commit_type(hid_t file, const char* name, Datatype type, const std::filesystem::path& path) {
  check_status(H5Tcommit2(file, name, type.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), path,
               (std::string("H5Tcommit2(") + name + ")").c_str());
}

}  // namespace

struct ResultsWriter::Impl {
  std::filesystem::path path;
  std::unique_ptr<JournalWriter> journal;  // null with Journaling::off
  // Declared first, destroyed last: every object below belongs to the file.
  File file;
  Group job;
  Table tasks;
  Table attempts;
  Table stdout_tails;
  Table stderr_tails;
  Table metrics;
  Table arrays;
  Table checkpoints;
  Table workers;
  Table events;
  Table telemetry;

  std::map<std::size_t, TaskRecord> dirty_tasks;  // ordered: ascending rows, last update wins
  // Hash of each /tasks row's strings as stored: rows whose strings did not change are rewritten
  // without them, so the file does not collect a dead copy of id/name/params per update.
  std::vector<std::uint64_t> task_text;
  Datatype task_state_type;
  std::vector<AttemptRecord> pending_attempts;
  std::vector<WorkerRecord> pending_workers;
  std::vector<EventRecord> pending_events;
  std::vector<TelemetrySample> pending_telemetry;
  std::size_t buffered_bytes = 0;
  std::size_t auto_flush_bytes = std::size_t{64} << 20;
  bool closed = false;

  void require_open() const {
    if (closed) throw IoError("results file '" + path.string() + "' is already closed");
  }

  void write_pending();
  void close();
};

void ResultsWriter::Impl::write_pending() {
  if (!pending_workers.empty()) {
    std::vector<WorkerRow> rows;
    rows.reserve(pending_workers.size());
    for (const WorkerRecord& w : pending_workers) rows.push_back(to_row(w));
    append_rows(workers.dataset.get(), workers.name, workers.memory_type.get(), workers.rows, rows.size(),
                rows.data(), path);
    workers.rows += rows.size();
    pending_workers.clear();
  }

  if (!pending_attempts.empty()) {
    const hsize_t n = pending_attempts.size();
    std::vector<AttemptRow> rows;
    std::vector<const char*> out;
    std::vector<const char*> err;
    std::vector<MetricRow> metric_rows;
    std::vector<ArrayRow> array_rows;
    std::vector<CheckpointRow> checkpoint_rows;
    rows.reserve(n);
    out.reserve(n);
    err.reserve(n);
    for (std::size_t i = 0; i < pending_attempts.size(); ++i) {
      const AttemptRecord& a = pending_attempts[i];
      rows.push_back(to_row(a));
      out.push_back(a.stdout_tail.c_str());
      err.push_back(a.stderr_tail.c_str());
      const auto row = static_cast<std::int64_t>(attempts.rows + i);
      for (const Metric& m : a.metrics)
        metric_rows.push_back(MetricRow{row, a.task, m.name.c_str(), m.value});
      if (!a.checkpoint.empty()) {
        checkpoint_rows.push_back(
            CheckpointRow{row, a.task, hvl_t{a.checkpoint.size(), const_cast<char*>(a.checkpoint.data())}});
      }
      for (const OutputArray& o : a.arrays) {
        for (std::size_t k = 0; k < o.values.size(); ++k) {
          array_rows.push_back(ArrayRow{row, a.task, o.name.c_str(), static_cast<std::int64_t>(k), o.values[k]});
        }
      }
    }
    // Written in this order, a reader of a file cut short by a crash finds attempts whose tails
    // or metrics are missing, never the reverse. A retry after a failure rewrites the same rows.
    append_rows(attempts.dataset.get(), attempts.name, attempts.memory_type.get(), attempts.rows, n,
                rows.data(), path);
    append_rows(stdout_tails.dataset.get(), stdout_tails.name, stdout_tails.memory_type.get(),
                stdout_tails.rows, n, out.data(), path);
    append_rows(stderr_tails.dataset.get(), stderr_tails.name, stderr_tails.memory_type.get(),
                stderr_tails.rows, n, err.data(), path);
    append_rows(metrics.dataset.get(), metrics.name, metrics.memory_type.get(), metrics.rows,
                metric_rows.size(), metric_rows.data(), path);
    append_rows(arrays.dataset.get(), arrays.name, arrays.memory_type.get(), arrays.rows, array_rows.size(),
                array_rows.data(), path);
    append_rows(checkpoints.dataset.get(), checkpoints.name, checkpoints.memory_type.get(), checkpoints.rows,
                checkpoint_rows.size(), checkpoint_rows.data(), path);
    attempts.rows += n;
    arrays.rows += array_rows.size();
    checkpoints.rows += checkpoint_rows.size();
    stdout_tails.rows += n;
    stderr_tails.rows += n;
    metrics.rows += metric_rows.size();
    pending_attempts.clear();
  }

  if (!pending_events.empty()) {
    std::vector<EventRow> rows;
    rows.reserve(pending_events.size());
    for (const EventRecord& e : pending_events) rows.push_back(to_row(e));
    append_rows(events.dataset.get(), events.name, events.memory_type.get(), events.rows, rows.size(),
                rows.data(), path);
    events.rows += rows.size();
    pending_events.clear();
  }

  if (!pending_telemetry.empty()) {
    append_rows(telemetry.dataset.get(), telemetry.name, telemetry.memory_type.get(), telemetry.rows,
                pending_telemetry.size(), pending_telemetry.data(), path);
    telemetry.rows += pending_telemetry.size();
    pending_telemetry.clear();
  }

  if (!dirty_tasks.empty()) {
    std::vector<hsize_t> full_indices;
    std::vector<TaskRow> full_rows;
    std::vector<std::uint64_t> full_text;
    std::vector<hsize_t> state_indices;
    std::vector<TaskRow> state_rows;
    for (const auto& [index, task] : dirty_tasks) {
      const std::uint64_t text = text_hash(task);
      if (text == task_text[index]) {
        state_indices.push_back(index);
        state_rows.push_back(to_row(task));
      } else {
        full_indices.push_back(index);
        full_rows.push_back(to_row(task));
        full_text.push_back(text);
      }
    }
    write_rows_at(tasks.dataset.get(), tasks.name, tasks.memory_type.get(), full_indices, full_rows.data(),
                  path);
    for (std::size_t i = 0; i < full_indices.size(); ++i) task_text[full_indices[i]] = full_text[i];
    write_rows_at(tasks.dataset.get(), tasks.name, task_state_type.get(), state_indices, state_rows.data(),
                  path);
    dirty_tasks.clear();
  }
  buffered_bytes = 0;
}

void ResultsWriter::Impl::close() {
  for (Table* table : {&tasks, &attempts, &stdout_tails, &stderr_tails, &metrics, &arrays, &checkpoints, &workers, &events, &telemetry}) {
    table->dataset.reset();
  }
  job.reset();
  closed = true;
  if (file.close() < 0) fail(path, "H5Fclose");
}

std::unique_ptr<ResultsWriter> ResultsWriter::create(const std::filesystem::path& path,
                                                     const JobInfo& job_info,
                                                     const std::vector<TaskRecord>& task_records,
                                                     bool overwrite, Journaling journaling) {
  ErrorSilencer silencer;
  std::error_code ec;
  if (std::filesystem::exists(path, ec) && !overwrite) {
    throw UsageError("results file '" + path.string() + "' already exists; pass --force to overwrite it");
  }
  if (path.has_parent_path()) {
    std::filesystem::create_directories(path.parent_path(), ec);
    if (ec) {
      throw IoError("results file '" + path.string() + "': cannot create directory '" +
                    path.parent_path().string() + "': " + ec.message());
    }
  }

  auto impl = std::make_unique<Impl>();
  impl->path = path;
  if (journaling == Journaling::on) {
    // The journal comes first: a kill at any later moment leaves something to rebuild from.
    impl->journal = std::make_unique<JournalWriter>(journal_path(path));
    impl->journal->begin(clean(job_info), task_records);
    impl->journal->sync();
  }
  PropList fapl = file_access_properties(path);
  impl->file =
      File(H5Fcreate(path.c_str(), overwrite ? H5F_ACC_TRUNC : H5F_ACC_EXCL, H5P_DEFAULT, fapl.get()));
  if (!impl->file) {
    if (impl->journal) impl->journal->remove();
    if (!overwrite && std::filesystem::exists(path, ec)) {  // created by someone else meanwhile
      (void)take_error_stack();
      throw UsageError("results file '" + path.string() + "' already exists; pass --force to overwrite it");
    }
    fail(path, "H5Fcreate");
  }

  try {
    const hid_t file = impl->file.get();
    write_string_attribute(file, "format", kFormatName, path);
    write_int_attribute(file, "format_version", kFormatVersion, path);
    commit_type(file, "task_status", task_status_type(), path);
    commit_type(file, "attempt_status", attempt_status_type(), path);

    impl->job =
        Group(check(H5Gcreate2(file, "job", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), path, "H5Gcreate2(job)"));
    const JobInfo job = clean(job_info);
    const hid_t g = impl->job.get();
    write_string_attribute(g, "name", job.name, path);
    write_string_attribute(g, "spec", job.spec, path);
    write_string_attribute(g, "source_path", job.source_path, path);
    write_string_attribute(g, "output_dir", job.output_dir, path);
    write_string_attribute(g, "fastgpu_version", job.fastgpu_version, path);
    write_string_attribute(g, "started", job.started, path);
    write_double_attribute(g, "started_unix", job.started_unix, path);
    write_string_attribute(g, "finished", job.finished, path);
    write_string_attribute(g, "status", job.status, path);
    write_string_attribute(g, "transport", job.transport, path);

    // /tasks never grows: one chunk for a small job, no half-empty chunk for a big one.
    const hsize_t task_chunk = std::clamp<hsize_t>(task_records.size(), 1, kChunkRows);
    impl->tasks = make_table(file, kTasks, task_row_types(), task_records.size(), task_chunk,
                             "one row per subtask; times in seconds since /job started_unix", path);
    impl->attempts = make_table(file, kAttempts, attempt_row_types(), 0, kChunkRows,
                                "one row per attempt, in the order they ended", path);
    RowTypes tail_types{vlen_string_type(), vlen_string_type()};
    impl->stdout_tails = make_table(file, kStdout, std::move(tail_types), 0, kChunkRows,
                                    "row i: the last bytes of the stdout of /attempts row i", path);
    RowTypes tail_types2{vlen_string_type(), vlen_string_type()};
    impl->stderr_tails = make_table(file, kStderr, std::move(tail_types2), 0, kChunkRows,
                                    "row i: the last bytes of the stderr of /attempts row i", path);
    impl->metrics = make_table(file, kMetrics, metric_row_types(), 0, kChunkRows,
                               "FASTGPU_METRIC lines; attempt = row in /attempts", path);
    impl->arrays = make_table(file, kArrays, array_row_types(), 0, kChunkRows,
                              "kernel output arrays, one row per element; attempt = row in /attempts", path);
    impl->checkpoints = make_table(file, kCheckpoints, checkpoint_row_types(), 0, kChunkRows,
                                   "state of a checkpointable kernel stopped early; attempt = row in /attempts", path);
    impl->workers =
        make_table(file, kWorkers, worker_row_types(), 0, kWorkerChunkRows, "one row per worker rank", path);
    impl->events = make_table(file, kEvents, event_row_types(), 0, kChunkRows,
                              "scheduler decisions; time in seconds since /job started_unix", path);
    impl->telemetry = make_table(file, kTelemetry, telemetry_row_types(), 0, kTelemetryChunkRows,
                                 "device samples of each worker (--telemetry-interval); time in seconds since "
                                 "/job started_unix; NaN = not measured",
                                 path);

    impl->task_state_type = task_state_memory_type();
    impl->task_text.reserve(task_records.size());
    if (!task_records.empty()) {
      std::vector<TaskRecord> cleaned;
      std::vector<TaskRow> rows;
      cleaned.reserve(task_records.size());
      rows.reserve(task_records.size());
      for (const TaskRecord& t : task_records) cleaned.push_back(clean(t));
      for (const TaskRecord& t : cleaned) {
        rows.push_back(to_row(t));
        impl->task_text.push_back(text_hash(t));
      }
      std::vector<hsize_t> all(rows.size());
      for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
      write_rows_at(impl->tasks.dataset.get(), kTasks, impl->tasks.memory_type.get(), all, rows.data(), path);
    }
    check_status(H5Fflush(file, H5F_SCOPE_GLOBAL), path, "H5Fflush");
  } catch (...) {
    // Do not leave a half-made file behind.
    impl->closed = true;
    if (impl->journal) impl->journal->remove();
    impl.reset();
    std::filesystem::remove(path, ec);
    throw;
  }
  return std::unique_ptr<ResultsWriter>(new ResultsWriter(std::move(impl)));
}

ResultsWriter::ResultsWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

ResultsWriter::~ResultsWriter() {
  if (!impl_ || impl_->closed) return;
  try {
    flush();
    ErrorSilencer silencer;
    impl_->close();
    if (impl_->journal) impl_->journal->remove();  // the file on disk is complete
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fastgpu: warning: closing the results file: %s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "fastgpu: warning: closing results file '%s' failed\n", impl_->path.c_str());
  }
}

void ResultsWriter::add_worker(const WorkerRecord& worker) {
  impl_->require_open();
  if (impl_->journal) impl_->journal->worker(worker);
  impl_->pending_workers.push_back(clean(worker));
  impl_->buffered_bytes += footprint(worker);
  after_add();
}

void ResultsWriter::update_task(std::size_t index, const TaskRecord& task) {
  impl_->require_open();
  if (index >= impl_->tasks.rows) {
    throw std::out_of_range("results file '" + impl_->path.string() + "': update_task(" +
                            std::to_string(index) + "): there are only " + std::to_string(impl_->tasks.rows) +
                            " tasks");
  }
  if (impl_->journal) impl_->journal->task(index, task);
  impl_->dirty_tasks.insert_or_assign(index, clean(task));
  impl_->buffered_bytes += footprint(task);
  after_add();
}

void ResultsWriter::add_attempt(const AttemptRecord& attempt) {
  impl_->require_open();
  if (impl_->journal) impl_->journal->attempt(attempt);
  impl_->pending_attempts.push_back(clean(attempt));
  impl_->buffered_bytes += footprint(attempt);
  after_add();
}

void ResultsWriter::add_event(const EventRecord& event) {
  impl_->require_open();
  if (impl_->journal) impl_->journal->event(event);
  impl_->pending_events.push_back(clean(event));
  impl_->buffered_bytes += footprint(event);
  after_add();
}

void ResultsWriter::add_telemetry(const std::vector<TelemetrySample>& samples) {
  impl_->require_open();
  if (samples.empty()) return;
  if (impl_->journal) impl_->journal->telemetry(samples);  // one record per batch, not per row
  impl_->pending_telemetry.insert(impl_->pending_telemetry.end(), samples.begin(), samples.end());
  impl_->buffered_bytes += samples.size() * sizeof(TelemetrySample);
  after_add();
}

void ResultsWriter::after_add() {
  if (impl_->buffered_bytes >= impl_->auto_flush_bytes) flush();
}

void ResultsWriter::commit() {
  impl_->require_open();
  if (impl_->journal) impl_->journal->commit();
}

void ResultsWriter::flush() {
  impl_->require_open();
  ErrorSilencer silencer;
  if (impl_->journal) impl_->journal->sync();  // write-ahead: the journal has it before HDF5 does
  impl_->write_pending();
  check_status(H5Fflush(impl_->file.get(), H5F_SCOPE_GLOBAL), impl_->path, "H5Fflush");
}

void ResultsWriter::write_model(const CostModelSnapshot& model) {
  impl_->require_open();
  ErrorSilencer silencer;
  if (impl_->journal) {
    impl_->journal->model(model);
    impl_->journal->sync();
  }
  h5::write_model_group(impl_->file.get(), model, impl_->path);
}

void ResultsWriter::write_reductions(const std::vector<ReductionValue>& reductions) {
  impl_->require_open();
  ErrorSilencer silencer;
  h5::write_reductions_group(impl_->file.get(), reductions, impl_->path);
}

void ResultsWriter::finish(const std::string& status, const std::string& finished_iso) {
  impl_->require_open();
  ErrorSilencer silencer;
  std::string clean_status = status;
  std::string clean_finished = finished_iso;
  sanitize_utf8(clean_status);
  sanitize_utf8(clean_finished);
  if (impl_->journal) impl_->journal->finish(clean_status, clean_finished);
  write_string_attribute(impl_->job.get(), "status", clean_status, impl_->path);
  write_string_attribute(impl_->job.get(), "finished", clean_finished, impl_->path);
  flush();
  impl_->close();
  if (impl_->journal) impl_->journal->remove();  // the file is complete: nothing to recover
}

void ResultsWriter::rename(const std::filesystem::path& to) {
  flush();
  // The journal moves first: should a crash come between the two renames, `to` has the journal
  // that rebuilds all of this writer's records.
  if (impl_->journal) impl_->journal->rename(journal_path(to));
  std::error_code ec;
  std::filesystem::rename(impl_->path, to, ec);
  if (ec) throw IoError("results file '" + impl_->path.string() + "': cannot rename it to '" + to.string() + "': " + ec.message());
  impl_->path = to;
}

const std::filesystem::path& ResultsWriter::path() const { return impl_->path; }

std::size_t ResultsWriter::task_count() const { return impl_->tasks.rows; }

std::size_t ResultsWriter::attempt_count() const {
  return impl_->attempts.rows + impl_->pending_attempts.size();
}

void ResultsWriter::set_auto_flush_bytes(std::size_t bytes) { impl_->auto_flush_bytes = bytes; }

}  // namespace fastgpu::io
