#include "io/results_reader.hpp"

#include "io/model_table.hpp"
#include "io/reductions_group.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string_view>
#include <system_error>
#include <vector>

#include "fastgpu/error.hpp"
#include "io/hdf5_attributes.hpp"
#include "io/hdf5_handle.hpp"
#include "io/hdf5_table.hpp"
#include "io/hdf5_types.hpp"
#include "io/journal.hpp"
#include "io/results_layout.hpp"

namespace fastgpu::io {

namespace {

using namespace h5;

/** @brief Rows read per H5Dread: bounds the temporary memory for big tables. */
constexpr hsize_t kReadBlock = 8192;

std::string text(const char* s) { return s != nullptr ? std::string(s) : std::string(); }

std::string class_phrase(H5T_class_t type_class) {
  switch (type_class) {
    case H5T_INTEGER: return "integers";
    case H5T_FLOAT: return "floating-point numbers";
    case H5T_STRING: return "strings";
    case H5T_BITFIELD: return "bit fields";
    case H5T_OPAQUE: return "opaque bytes";
    case H5T_REFERENCE: return "references";
    case H5T_ENUM: return "enum values";
    case H5T_VLEN: return "variable-length sequences";
    case H5T_ARRAY: return "arrays";
    default: return "values of another kind";
  }
}

/**
 * @brief A table whose rows are records in memory must hold records (an HDF5 compound) in the
 * file too: a dataset of numbers with one of our names is a foreign file, said so in words rather
 * than as HDF5's "no appropriate function for conversion path".
 */
void check_row_kind(hid_t dataset, const std::string& shown, hid_t memory_type, const std::filesystem::path& path) {
  if (H5Tget_class(memory_type) != H5T_COMPOUND) return;
  Datatype type(check(H5Dget_type(dataset), path, "H5Dget_type"));
  const H5T_class_t type_class = H5Tget_class(type.get());
  if (type_class != H5T_COMPOUND) {
    throw IoError("results file '" + path.string() + "': not a FastGPU results file (" + shown + " holds " +
                  class_phrase(type_class) + ", not FastGPU's rows)");
  }
}

/**
 * @brief Calls consume(row, index) for every row of dataset @p name under @p loc, read in blocks
 * as @p memory_type. A missing dataset has no rows.
 */
template <class Row, class Consume>
void read_table(hid_t loc, const char* name, hid_t memory_type, const std::filesystem::path& path,
                Consume&& consume, const std::string& group = "") {
  if (!has_link(loc, name, path)) return;
  Dataset dataset = open_table(loc, name, path);
  check_row_kind(dataset.get(), group + "/" + name, memory_type, path);
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
  const hid_t object = check(H5Oopen(file, kJob, H5P_DEFAULT), path, "H5Oopen(job)");
  const H5I_type_t kind = H5Iget_type(object);
  H5Oclose(object);
  if (kind != H5I_GROUP) {
    throw IoError("results file '" + path.string() + "': not a FastGPU results file (its /job is not a group)");
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
  read_table<const char*>(
      outputs, name, type.get(), path,
      [&](const char* tail, std::size_t i) {
        if (i >= attempts.size()) return;  // a run killed mid-flush: no /attempts row yet
        (is_stdout ? attempts[i].stdout_tail : attempts[i].stderr_tail) = text(tail);
      },
      "/outputs");
}

/**
 * @brief Rows that contradict each other (a foreign or damaged file that still has our tables'
 * names) are refused here, so every reader can index /tasks by an attempt's task.
 */
void check_consistency(const Results& results, const std::filesystem::path& path) {
  const auto damaged = [&](const std::string& what) {
    throw IoError("results file '" + path.string() + "': " + what +
                  " (the file is damaged, or was not written by FastGPU)");
  };
  for (std::size_t i = 0; i < results.tasks.size(); ++i) {
    if (std::string_view(to_string(results.tasks[i].status)) == "unknown") {
      damaged("/tasks row " + std::to_string(i) + " has an unknown status " +
              std::to_string(static_cast<int>(results.tasks[i].status)));
    }
  }
  for (std::size_t i = 0; i < results.attempts.size(); ++i) {
    const AttemptRecord& attempt = results.attempts[i];
    if (attempt.task < 0 || static_cast<std::uint64_t>(attempt.task) >= results.tasks.size()) {
      damaged("attempt " + std::to_string(i) + " is of subtask row " + std::to_string(attempt.task) + ", but /tasks has " +
              std::to_string(results.tasks.size()) + " rows");
    }
    if (std::string_view(to_string(attempt.status)) == "unknown") {
      damaged("attempt " + std::to_string(i) + " has an unknown status " + std::to_string(static_cast<int>(attempt.status)));
    }
  }
}

/// H5Fopen failed: says why, in words where HDF5's are cryptic ("truncated file: eof = ...").
[[noreturn]] void refuse_unopenable(const std::filesystem::path& path) {
  const std::string reason = take_error_stack();
  const std::string marker = "stored_eof = ";
  const std::size_t stored = reason.find(marker);
  if (reason.find("truncated file") != std::string::npos && stored != std::string::npos) {
    const std::size_t digits = stored + marker.size();
    const std::string expected = reason.substr(digits, reason.find_first_not_of("0123456789", digits) - digits);
    std::error_code ec;
    const auto size = std::filesystem::file_size(path, ec);
    throw IoError("results file '" + path.string() + "': the file is truncated: it has " +
                  (ec ? std::string("fewer") : std::to_string(size)) + " bytes where its HDF5 header says " + expected +
                  " (cut short while being copied or written?)");
  }
  fail(path, "H5Fopen", reason);
}

// A killed run's file is first rebuilt from the journal it left behind (src/io/journal.hpp).
void recover_if_killed(const std::filesystem::path& path) {
  const auto recovery = recover_results(path);
  if (!recovery) return;
  std::fprintf(stderr, "fastgpu: note: '%s' was rebuilt from its journal (%zu records%s): %s\n", path.c_str(),
               recovery->records, recovery->torn_tail ? ", the last one cut short and dropped" : "",
               recovery->finished ? "the run had finished" : "the run that wrote it was killed");
}

// Opens a results file for reading, with a clear error for a missing, non-HDF5 or unreadable one.
File open_results_file(const std::filesystem::path& path) {
  recover_if_killed(path);
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
  File file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl.get()));
  if (!file) refuse_unopenable(path);
  return file;
}

}  // namespace

std::optional<CostModelSnapshot> read_model(const std::filesystem::path& path) {
  ErrorSilencer silencer;
  File file = open_results_file(path);
  (void)read_job(file.get(), path);  // an HDF5 file that is not ours is an error, not "no model"
  CostModelSnapshot model;
  if (!h5::read_model_group(file.get(), model, path)) return std::nullopt;
  return model;
}

Results read_results(const std::filesystem::path& path) {
  ErrorSilencer silencer;
  File file = open_results_file(path);
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
    }, "/outputs");
    RowTypes array_types = array_row_types();  // absent in files from before kernel outputs: no rows
    read_table<ArrayRow>(outputs.get(), "arrays", array_types.memory.get(), path, [&](const ArrayRow& r, std::size_t) {
      if (r.attempt < 0 || static_cast<std::size_t>(r.attempt) >= results.attempts.size()) return;
      auto& arrays = results.attempts[static_cast<std::size_t>(r.attempt)].arrays;
      if (arrays.empty() || arrays.back().name != text(r.name) || r.index == 0) arrays.push_back({text(r.name), {}});
      arrays.back().values.push_back(r.value);
    }, "/outputs");
    RowTypes checkpoint_types = checkpoint_row_types();  // absent in files from before checkpoints: no rows
    read_table<CheckpointRow>(outputs.get(), "checkpoints", checkpoint_types.memory.get(), path,
                              [&](const CheckpointRow& r, std::size_t) {
      if (r.attempt < 0 || static_cast<std::size_t>(r.attempt) >= results.attempts.size()) return;
      results.attempts[static_cast<std::size_t>(r.attempt)].checkpoint.assign(static_cast<const char*>(r.state.p),
                                                                              r.state.len);
    }, "/outputs");
  }
  {
    // Files from before pci_bus_id, numa_node and cpu_set lack them: HDF5 leaves those members
    // as WorkerRow's initializers set them ("", -1, "").
    RowTypes types = worker_row_types();
    read_table<WorkerRow>(f, kWorkers, types.memory.get(), path, [&](const WorkerRow& r, std::size_t) {
      results.workers.push_back(WorkerRecord{r.rank, text(r.host), r.local_rank, text(r.device),
                                             text(r.gpu_name), text(r.gpu_uuid), text(r.pci_bus_id),
                                             r.numa_node, text(r.cpu_set)});
    });
  }
  {
    RowTypes types = event_row_types();
    read_table<EventRow>(f, kEvents, types.memory.get(), path, [&](const EventRow& r, std::size_t) {
      results.events.push_back(EventRecord{r.time, text(r.kind), r.task, r.from, r.to, text(r.detail)});
    });
  }
  {
    RowTypes types = telemetry_row_types();  // absent in files from before telemetry: no rows
    read_table<TelemetryRow>(f, kTelemetry, types.memory.get(), path,
                             [&](const TelemetryRow& r, std::size_t) { results.telemetry.push_back(r); });
  }
  results.reductions = h5::read_reductions_group(f, path);
  if (file.close() < 0) fail(path, "H5Fclose");
  check_consistency(results, path);
  return results;
}

}  // namespace fastgpu::io
