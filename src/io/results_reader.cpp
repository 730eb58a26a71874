#include "io/results_reader.hpp"

#include <algorithm>
#include <system_error>
#include <vector>

#include "fastgpu/error.hpp"
#include "io/hdf5_attributes.hpp"
#include "io/hdf5_handle.hpp"
#include "io/hdf5_table.hpp"
#include "io/hdf5_types.hpp"
#include "io/results_layout.hpp"

namespace fastgpu::io {

namespace {

using namespace h5;

/** @brief Rows read per H5Dread: bounds the temporary memory for big tables. */
constexpr hsize_t kReadBlock = 8192;

std::string text(const char* s) { return s != nullptr ? std::string(s) : std::string(); }

/** @brief Frees the strings HDF5 allocated for a block of rows, however the block is left. */
class ReclaimGuard {
 public:
  ReclaimGuard(hid_t type, hsize_t n, void* rows) : type_(type), n_(n), rows_(rows) {}
  ~ReclaimGuard() { reclaim(type_, n_, rows_); }
  ReclaimGuard(const ReclaimGuard&) = delete;
  ReclaimGuard& operator=(const ReclaimGuard&) = delete;

 private:
  hid_t type_;
  hsize_t n_;
  void* rows_;
};

/**
 * @brief Calls consume(row, index) for every row of dataset @p name under @p loc, read in blocks
 * as @p memory_type. A missing dataset has no rows.
 */
template <class Row, class Consume>
void read_table(hid_t loc, const char* name, hid_t memory_type, const std::filesystem::path& path,
                Consume&& consume) {
  if (!has_link(loc, name, path)) return;
  Dataset dataset = open_table(loc, name, path);
  const hsize_t rows = table_rows(dataset.get(), name, path);
  std::vector<Row> block;
  for (hsize_t first = 0; first < rows; first += kReadBlock) {
    const hsize_t n = std::min(kReadBlock, rows - first);
    block.assign(n, Row{});
    read_rows(dataset.get(), name, memory_type, first, n, block.data(), path);
    ReclaimGuard guard(memory_type, n, block.data());
    for (hsize_t i = 0; i < n; ++i) consume(block[i], static_cast<std::size_t>(first + i));
  }
}

JobInfo read_job(hid_t file, const std::filesystem::path& path) {
  if (!has_link(file, kJob, path)) {
    throw IoError("results file '" + path.string() + "': not a FastGPU results file (it has no /job group)");
  }
  Group job(check(H5Gopen2(file, kJob, H5P_DEFAULT), path, "H5Gopen2(job)"));
  const hid_t g = job.get();
  JobInfo info;
  const auto str = [&](const char* name, std::string& out) {
    if (auto value = read_string_attribute(g, name, path)) out = std::move(*value);
  };
  str("name", info.name);
  str("spec", info.spec);
  str("source_path", info.source_path);
  str("output_dir", info.output_dir);
  str("fastgpu_version", info.fastgpu_version);
  str("started", info.started);
  str("finished", info.finished);
  str("status", info.status);
  str("transport", info.transport);
  if (auto value = read_double_attribute(g, "started_unix", path)) info.started_unix = *value;
  return info;
}

void read_tails(hid_t outputs, const char* name, std::vector<AttemptRecord>& attempts, bool is_stdout,
                const std::filesystem::path& path) {
  Datatype type = vlen_string_type();
  read_table<const char*>(outputs, name, type.get(), path, [&](const char* tail, std::size_t i) {
    if (i >= attempts.size()) return;  // a run killed mid-flush: no /attempts row yet
    (is_stdout ? attempts[i].stdout_tail : attempts[i].stderr_tail) = text(tail);
  });
}

}  // namespace

Results read_results(const std::filesystem::path& path) {
  ErrorSilencer silencer;
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (!std::filesystem::exists(status)) {
    throw IoError("results file '" + path.string() + "': cannot read it: no such file");
  }
  if (std::filesystem::is_directory(status)) {
    throw IoError("results file '" + path.string() + "': cannot read it: it is a directory");
  }
  const htri_t is_hdf5 = H5Fis_hdf5(path.c_str());
  if (is_hdf5 == 0) throw IoError("results file '" + path.string() + "': not an HDF5 file");
  if (is_hdf5 < 0) fail(path, "H5Fis_hdf5");

  PropList fapl = file_access_properties(path);
  File file(check(H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl.get()), path, "H5Fopen"));
  const hid_t f = file.get();

  Results results;
  results.job = read_job(f, path);

  {
    RowTypes types = task_row_types();
    read_table<TaskRow>(f, kTasks, types.memory.get(), path, [&](const TaskRow& r, std::size_t) {
      TaskRecord t;
      t.id = text(r.id);
      t.name = text(r.name);
      t.params = text(r.params);
      t.cost = r.cost;
      t.gpus = r.gpus;
      t.status = static_cast<TaskStatus>(r.status);
      t.attempts = r.attempts;
      t.worker = r.worker;
      t.start = r.start;
      t.end = r.end;
      t.exit_code = r.exit_code;
      results.tasks.push_back(std::move(t));
    });
  }
  {
    RowTypes types = attempt_row_types();
    read_table<AttemptRow>(f, kAttempts, types.memory.get(), path, [&](const AttemptRow& r, std::size_t) {
      AttemptRecord a;
      a.task = r.task;
      a.attempt = r.attempt;
      a.worker = r.worker;
      a.host = text(r.host);
      a.device = text(r.device);
      a.start = r.start;
      a.end = r.end;
      a.status = static_cast<AttemptStatus>(r.status);
      a.exit_code = r.exit_code;
      a.signal = r.signal;
      a.predicted_s = r.predicted_s;
      a.migrated = r.migrated != 0;
      a.error = text(r.error);
      results.attempts.push_back(std::move(a));
    });
  }
  if (has_link(f, kOutputs, path)) {
    Group outputs(check(H5Gopen2(f, kOutputs, H5P_DEFAULT), path, "H5Gopen2(outputs)"));
    read_tails(outputs.get(), "stdout", results.attempts, true, path);
    read_tails(outputs.get(), "stderr", results.attempts, false, path);
    RowTypes types = metric_row_types();
    read_table<
        MetricRow>(outputs.get(), "metrics", types.memory.get(), path, [&](const MetricRow& r, std::size_t) {
      if (r.attempt < 0 || static_cast<std::size_t>(r.attempt) >= results.attempts.size()) {
        return;
      }
      results.attempts[static_cast<std::size_t>(r.attempt)].metrics.push_back(Metric{text(r.name), r.value});
    });
  }
  {
    RowTypes types = worker_row_types();
    read_table<WorkerRow>(f, kWorkers, types.memory.get(), path, [&](const WorkerRow& r, std::size_t) {
      results.workers.push_back(WorkerRecord{r.rank, text(r.host), r.local_rank, text(r.device),
                                             text(r.gpu_name), text(r.gpu_uuid)});
    });
  }
  {
    RowTypes types = event_row_types();
    read_table<EventRow>(f, kEvents, types.memory.get(), path, [&](const EventRow& r, std::size_t) {
      results.events.push_back(EventRecord{r.time, text(r.kind), r.task, r.from, r.to, text(r.detail)});
    });
  }
  if (file.close() < 0) fail(path, "H5Fclose");
  return results;
}

}  // namespace fastgpu::io
