#include "io/hdf5_types.hpp"

#include <cstddef>
#include <filesystem>
#include <initializer_list>
#include <utility>

namespace fastgpu::io::h5 {

namespace {

// Type construction touches no file; failures here are programming errors, reported like any
// other HDF5 failure.
const std::filesystem::path kNoFile = "(datatype construction)";

Datatype copy_type(hid_t type) { return Datatype(check(H5Tcopy(type), kNoFile, "H5Tcopy")); }

Datatype make_enum(std::initializer_list<std::pair<const char*, std::int8_t>> members) {
  Datatype type(check(H5Tenum_create(H5T_NATIVE_INT8), kNoFile, "H5Tenum_create"));
  for (const auto& [name, value] : members) {
    check_status(H5Tenum_insert(type.get(), name, &value), kNoFile, "H5Tenum_insert");
  }
  return type;
}

/** @brief Builds the memory compound member by member; the file type is its packed copy. */
class CompoundBuilder {
 public:
  explicit CompoundBuilder(std::size_t size)
      : type_(check(H5Tcreate(H5T_COMPOUND, size), kNoFile, "H5Tcreate")) {}
  CompoundBuilder& add(const char* name, std::size_t offset, hid_t member) {
    check_status(H5Tinsert(type_.get(), name, offset, member), kNoFile, "H5Tinsert");
    return *this;
  }
  RowTypes build() {
    Datatype file = copy_type(type_.get());
    check_status(H5Tpack(file.get()), kNoFile, "H5Tpack");
    return RowTypes{std::move(type_), std::move(file)};
  }

 private:
  Datatype type_;
};

}  // namespace

Datatype vlen_string_type() {
  Datatype type = copy_type(H5T_C_S1);
  check_status(H5Tset_size(type.get(), H5T_VARIABLE), kNoFile, "H5Tset_size");
  check_status(H5Tset_cset(type.get(), H5T_CSET_UTF8), kNoFile, "H5Tset_cset");
  check_status(H5Tset_strpad(type.get(), H5T_STR_NULLTERM), kNoFile, "H5Tset_strpad");
  return type;
}

Datatype task_status_type() {
  return make_enum({{"pending", 0}, {"running", 1}, {"done", 2}, {"failed", 3}, {"cancelled", 4}});
}

Datatype attempt_status_type() {
  return make_enum({{"running", 0},
                    {"done", 1},
                    {"failed", 2},
                    {"timed_out", 3},
                    {"spawn_failed", 4},
                    {"lost", 5},
                    {"cancelled", 6},
                    {"superseded", 7},
                    {"interrupted", 8}});
}

Datatype bool_type() { return make_enum({{"FALSE", 0}, {"TRUE", 1}}); }

RowTypes task_row_types() {
  Datatype str = vlen_string_type();
  Datatype status = task_status_type();
  return CompoundBuilder(sizeof(TaskRow))
      .add("id", offsetof(TaskRow, id), str.get())
      .add("name", offsetof(TaskRow, name), str.get())
      .add("params", offsetof(TaskRow, params), str.get())
      .add("cost", offsetof(TaskRow, cost), H5T_NATIVE_DOUBLE)
      .add("gpus", offsetof(TaskRow, gpus), H5T_NATIVE_INT32)
      .add("status", offsetof(TaskRow, status), status.get())
      .add("attempts", offsetof(TaskRow, attempts), H5T_NATIVE_INT32)
      .add("worker", offsetof(TaskRow, worker), H5T_NATIVE_INT32)
      .add("start", offsetof(TaskRow, start), H5T_NATIVE_DOUBLE)
      .add("end", offsetof(TaskRow, end), H5T_NATIVE_DOUBLE)
      .add("exit_code", offsetof(TaskRow, exit_code), H5T_NATIVE_INT32)
      .build();
}

Datatype task_state_memory_type() {
  Datatype status = task_status_type();
  return CompoundBuilder(sizeof(TaskRow))
      .add("cost", offsetof(TaskRow, cost), H5T_NATIVE_DOUBLE)
      .add("gpus", offsetof(TaskRow, gpus), H5T_NATIVE_INT32)
      .add("status", offsetof(TaskRow, status), status.get())
      .add("attempts", offsetof(TaskRow, attempts), H5T_NATIVE_INT32)
      .add("worker", offsetof(TaskRow, worker), H5T_NATIVE_INT32)
      .add("start", offsetof(TaskRow, start), H5T_NATIVE_DOUBLE)
      .add("end", offsetof(TaskRow, end), H5T_NATIVE_DOUBLE)
      .add("exit_code", offsetof(TaskRow, exit_code), H5T_NATIVE_INT32)
      .build()
      .memory;
}

RowTypes attempt_row_types() {
  Datatype str = vlen_string_type();
  Datatype status = attempt_status_type();
  Datatype boolean = bool_type();
  return CompoundBuilder(sizeof(AttemptRow))
      .add("task", offsetof(AttemptRow, task), H5T_NATIVE_INT64)
      .add("attempt", offsetof(AttemptRow, attempt), H5T_NATIVE_INT32)
      .add("worker", offsetof(AttemptRow, worker), H5T_NATIVE_INT32)
      .add("host", offsetof(AttemptRow, host), str.get())
      .add("device", offsetof(AttemptRow, device), str.get())
      .add("start", offsetof(AttemptRow, start), H5T_NATIVE_DOUBLE)
      .add("end", offsetof(AttemptRow, end), H5T_NATIVE_DOUBLE)
      .add("status", offsetof(AttemptRow, status), status.get())
      .add("exit_code", offsetof(AttemptRow, exit_code), H5T_NATIVE_INT32)
      .add("signal", offsetof(AttemptRow, signal), H5T_NATIVE_INT32)
      .add("predicted_s", offsetof(AttemptRow, predicted_s), H5T_NATIVE_DOUBLE)
      .add("migrated", offsetof(AttemptRow, migrated), boolean.get())
      .add("error", offsetof(AttemptRow, error), str.get())
      .build();
}

RowTypes metric_row_types() {
  Datatype str = vlen_string_type();
  return CompoundBuilder(sizeof(MetricRow))
      .add("attempt", offsetof(MetricRow, attempt), H5T_NATIVE_INT64)
      .add("task", offsetof(MetricRow, task), H5T_NATIVE_INT64)
      .add("name", offsetof(MetricRow, name), str.get())
      .add("value", offsetof(MetricRow, value), H5T_NATIVE_DOUBLE)
      .build();
}

RowTypes checkpoint_row_types() {
  Datatype bytes(check(H5Tvlen_create(H5T_NATIVE_UINT8), kNoFile, "H5Tvlen_create"));
  return CompoundBuilder(sizeof(CheckpointRow))
      .add("attempt", offsetof(CheckpointRow, attempt), H5T_NATIVE_INT64)
      .add("task", offsetof(CheckpointRow, task), H5T_NATIVE_INT64)
      .add("state", offsetof(CheckpointRow, state), bytes.get())
      .build();
}

RowTypes array_row_types() {
  Datatype str = vlen_string_type();
  return CompoundBuilder(sizeof(ArrayRow))
      .add("attempt", offsetof(ArrayRow, attempt), H5T_NATIVE_INT64)
      .add("task", offsetof(ArrayRow, task), H5T_NATIVE_INT64)
      .add("name", offsetof(ArrayRow, name), str.get())
      .add("index", offsetof(ArrayRow, index), H5T_NATIVE_INT64)
      .add("value", offsetof(ArrayRow, value), H5T_NATIVE_DOUBLE)
      .build();
}

RowTypes worker_row_types() {
  Datatype str = vlen_string_type();
  return CompoundBuilder(sizeof(WorkerRow))
      .add("rank", offsetof(WorkerRow, rank), H5T_NATIVE_INT32)
      .add("host", offsetof(WorkerRow, host), str.get())
      .add("local_rank", offsetof(WorkerRow, local_rank), H5T_NATIVE_INT32)
      .add("device", offsetof(WorkerRow, device), str.get())
      .add("gpu_name", offsetof(WorkerRow, gpu_name), str.get())
      .add("gpu_uuid", offsetof(WorkerRow, gpu_uuid), str.get())
      .add("pci_bus_id", offsetof(WorkerRow, pci_bus_id), str.get())
      .add("numa_node", offsetof(WorkerRow, numa_node), H5T_NATIVE_INT32)
      .add("cpu_set", offsetof(WorkerRow, cpu_set), str.get())
      .build();
}

RowTypes event_row_types() {
  Datatype str = vlen_string_type();
  return CompoundBuilder(sizeof(EventRow))
      .add("time", offsetof(EventRow, time), H5T_NATIVE_DOUBLE)
      .add("kind", offsetof(EventRow, kind), str.get())
      .add("task", offsetof(EventRow, task), H5T_NATIVE_INT64)
      .add("from", offsetof(EventRow, from), H5T_NATIVE_INT32)
      .add("to", offsetof(EventRow, to), H5T_NATIVE_INT32)
      .add("detail", offsetof(EventRow, detail), str.get())
      .build();
}

RowTypes telemetry_row_types() {
  return CompoundBuilder(sizeof(TelemetryRow))
      .add("time", offsetof(TelemetryRow, time), H5T_NATIVE_DOUBLE)
      .add("worker", offsetof(TelemetryRow, worker), H5T_NATIVE_INT32)
      .add("gpu_util", offsetof(TelemetryRow, gpu_util), H5T_NATIVE_DOUBLE)
      .add("mem_used_bytes", offsetof(TelemetryRow, mem_used_bytes), H5T_NATIVE_DOUBLE)
      .add("power_w", offsetof(TelemetryRow, power_w), H5T_NATIVE_DOUBLE)
      .add("temp_c", offsetof(TelemetryRow, temp_c), H5T_NATIVE_DOUBLE)
      .add("sm_clock_mhz", offsetof(TelemetryRow, sm_clock_mhz), H5T_NATIVE_DOUBLE)
      .add("cpu_util", offsetof(TelemetryRow, cpu_util), H5T_NATIVE_DOUBLE)
      .add("rss_bytes", offsetof(TelemetryRow, rss_bytes), H5T_NATIVE_DOUBLE)
      .build();
}

RowTypes model_class_row_types() {
  Datatype str = vlen_string_type();
  return CompoundBuilder(sizeof(ModelClassRow))
      .add("task_class", offsetof(ModelClassRow, task_class), str.get())
      .add("intercept_s", offsetof(ModelClassRow, intercept_s), H5T_NATIVE_DOUBLE)
      .add("seconds_per_cost", offsetof(ModelClassRow, seconds_per_cost), H5T_NATIVE_DOUBLE)
      .add("samples", offsetof(ModelClassRow, samples), H5T_NATIVE_INT32)
      .build();
}

RowTypes model_worker_row_types() {
  Datatype str = vlen_string_type();
  return CompoundBuilder(sizeof(ModelWorkerRow))
      .add("rank", offsetof(ModelWorkerRow, rank), H5T_NATIVE_INT32)
      .add("host", offsetof(ModelWorkerRow, host), str.get())
      .add("device", offsetof(ModelWorkerRow, device), str.get())
      .add("speed_factor", offsetof(ModelWorkerRow, speed_factor), H5T_NATIVE_DOUBLE)
      .add("sigma_log", offsetof(ModelWorkerRow, sigma_log), H5T_NATIVE_DOUBLE)
      .add("samples", offsetof(ModelWorkerRow, samples), H5T_NATIVE_INT32)
      .build();
}

}  // namespace fastgpu::io::h5
