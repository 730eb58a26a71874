// The in-memory row layouts of the results file's tables and their HDF5 datatypes, shared by the
// writer and the reader. Strings are variable-length UTF-8; statuses are HDF5 enums.
#pragma once

#include <cstdint>

#include "fastgpu/results.hpp"
#include "io/hdf5_handle.hpp"

namespace fastgpu::io::h5 {

// Vlen string members are `const char*`: the writer points them at std::string data, the reader
// gets malloc'ed strings from HDF5 that reclaim() frees.

struct TaskRow {
  const char* id;
  const char* name;
  const char* params;
  double cost;
  std::int32_t gpus;
  std::int8_t status;  // task_status
  std::int32_t attempts;
  std::int32_t worker;
  double start;
  double end;
  std::int32_t exit_code;
};

struct AttemptRow {
  std::int64_t task;
  std::int32_t attempt;
  std::int32_t worker;
  const char* host;
  const char* device;
  double start;
  double end;
  std::int8_t status;  // attempt_status
  std::int32_t exit_code;
  std::int32_t signal;
  double predicted_s;
  std::int8_t migrated;  // bool enum FALSE=0 TRUE=1
  const char* error;
};

struct MetricRow {
  std::int64_t attempt;
  std::int64_t task;
  const char* name;
  double value;
};

/** @brief A checkpointable kernel's state when its attempt stopped early. */
struct CheckpointRow {
  std::int64_t attempt;
  std::int64_t task;
  hvl_t state;  ///< bytes (H5T_NATIVE_UINT8)
};

/** @brief One value of an attempt's output array: long format, one row per element. */
struct ArrayRow {
  std::int64_t attempt;
  std::int64_t task;
  const char* name;
  std::int64_t index;
  double value;
};

struct WorkerRow {
  std::int32_t rank;
  const char* host;
  std::int32_t local_rank;
  const char* device;
  const char* gpu_name;
  const char* gpu_uuid;
  // Added later: a file from before them lacks these members, and reading it leaves them as the
  // row was initialised (results_reader.cpp reads into WorkerRow{}): hence the initializers.
  const char* pci_bus_id = nullptr;
  std::int32_t numa_node = -1;
  const char* cpu_set = nullptr;
};

struct EventRow {
  double time;
  const char* kind;
  std::int64_t task;
  std::int32_t from;
  std::int32_t to;
  const char* detail;
};

/** @brief A /telemetry row: the sample itself (numbers only, so it needs no conversion). */
using TelemetryRow = TelemetrySample;

/** @brief A row of /model/classes: CostClassParams. */
struct ModelClassRow {
  const char* task_class;
  double intercept_s;
  double seconds_per_cost;
  std::int32_t samples;
};

/** @brief A row of /model/workers: CostWorkerParams. */
struct ModelWorkerRow {
  std::int32_t rank;
  const char* host;
  const char* device;
  double speed_factor;
  double sigma_log;
  std::int32_t samples;
};

/** @brief Variable-length, UTF-8, NUL-terminated string. */
Datatype vlen_string_type();

/** @brief Enum `task_status` (base int8): pending=0 running=1 done=2 failed=3 cancelled=4. */
Datatype task_status_type();
/** @brief Enum `attempt_status` (base int8): running=0 ... cancelled=6 (see results.hpp). */
Datatype attempt_status_type();
/** @brief Enum FALSE=0 TRUE=1 (base int8): the layout h5py and PyTables read as a bool. */
Datatype bool_type();

/**
 * @brief A table's two compound types: `memory` matches the Row struct (with its padding),
 * `file` is the same members packed, as stored on disk.
 */
struct RowTypes {
  Datatype memory;
  Datatype file;
};

RowTypes task_row_types();
/**
 * @brief A TaskRow memory type without the string members (id, name, params): writing with it
 * changes a task's state and leaves its stored strings as they are (no new heap objects).
 */
Datatype task_state_memory_type();
RowTypes attempt_row_types();
RowTypes metric_row_types();
RowTypes array_row_types();
RowTypes checkpoint_row_types();
RowTypes worker_row_types();
RowTypes event_row_types();
RowTypes telemetry_row_types();
RowTypes model_class_row_types();
RowTypes model_worker_row_types();

}  // namespace fastgpu::io::h5
