#include "io/model_table.hpp"

#include <string>
#include <vector>

#include "fastgpu/error.hpp"
#include "io/hdf5_attributes.hpp"
#include "io/hdf5_table.hpp"
#include "io/hdf5_types.hpp"
#include "io/utf8.hpp"

namespace fastgpu::io::h5 {
namespace {

constexpr const char* kModel = "model";
constexpr const char* kClasses = "classes";
constexpr const char* kWorkers = "workers";
/** @brief A model has a few rows: one small chunk. */
constexpr hsize_t kModelChunkRows = 64;
constexpr int kDeflateLevel = 1;

std::string clean(std::string text) {
  sanitize_utf8(text);
  return text;
}

std::string text(const char* value) { return value != nullptr ? std::string(value) : std::string(); }

/**
 * @brief Writes @p rows as the whole of table @p name under @p group: the existing dataset is
 * resized and overwritten when it has our row type, else (re)created.
 */
template <class Row>
void replace_table(hid_t group, const char* name, const char* description, const RowTypes& types,
                   const std::vector<Row>& rows, const std::filesystem::path& path) {
  Dataset dataset;
  if (has_link(group, name, path)) {
    dataset = open_table(group, name, path);
    Datatype stored(check(H5Dget_type(dataset.get()), path, "H5Dget_type"));
    const htri_t same = H5Tequal(stored.get(), types.file.get());
    if (same < 0) fail(path, "H5Tequal");
    if (same == 0) {  // written by another version: start over
      dataset.reset();
      check_status(H5Ldelete(group, name, H5P_DEFAULT), path, (std::string("H5Ldelete(model/") + name + ")").c_str());
    }
  }
  if (!dataset) {
    dataset = create_table(group, name, types.file.get(), 0, kModelChunkRows, path, kDeflateLevel);
    write_string_attribute(dataset.get(), "description", description, path);
  }
  if (rows.empty()) {
    const hsize_t none = 0;
    check_status(H5Dset_extent(dataset.get(), &none), path, "H5Dset_extent(model)");
  } else {
    append_rows(dataset.get(), name, types.memory.get(), 0, rows.size(), rows.data(), path);
  }
}

template <class Row, class Consume>
void read_model_table(hid_t group, const char* name, const RowTypes& types, const std::filesystem::path& path,
                      Consume&& consume) {
  if (!has_link(group, name, path)) return;
  Dataset dataset = open_table(group, name, path);
  Datatype stored(check(H5Dget_type(dataset.get()), path, "H5Dget_type"));
  if (H5Tget_class(stored.get()) != H5T_COMPOUND) {
    throw IoError("results file '" + path.string() + "': /model/" + name +
                  " does not hold the cost model's rows (not a FastGPU results file?)");
  }
  const hsize_t n = table_rows(dataset.get(), name, path);
  std::vector<Row> rows(n, Row{});
  if (n == 0) return;
  read_rows(dataset.get(), name, types.memory.get(), 0, n, rows.data(), path);
  ReclaimGuard guard(types.memory.get(), n, rows.data());
  for (const Row& row : rows) consume(row);
}

}  // namespace

void write_model_group(hid_t file, const CostModelSnapshot& model, const std::filesystem::path& path) {
  Group group;
  if (has_link(file, kModel, path)) {
    group = Group(check(H5Gopen2(file, kModel, H5P_DEFAULT), path, "H5Gopen2(model)"));
  } else {
    group = Group(check(H5Gcreate2(file, kModel, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), path, "H5Gcreate2(model)"));
    write_string_attribute(group.get(), "description",
                           "the cost model: a subtask of class c and cost x takes about "
                           "speed_factor * (intercept_s + seconds_per_cost * x) seconds on a worker",
                           path);
  }

  // Strings stay alive in these vectors while the rows point into them.
  std::vector<std::string> class_names;
  class_names.reserve(model.classes.size());
  std::vector<ModelClassRow> classes;
  classes.reserve(model.classes.size());
  for (const CostClassParams& c : model.classes) {
    class_names.push_back(clean(c.task_class));
    classes.push_back(ModelClassRow{class_names.back().c_str(), c.intercept_s, c.seconds_per_cost, c.samples});
  }
  std::vector<std::string> worker_text;
  worker_text.reserve(2 * model.workers.size());
  std::vector<ModelWorkerRow> workers;
  workers.reserve(model.workers.size());
  for (const CostWorkerParams& w : model.workers) {
    worker_text.push_back(clean(w.host));
    const char* host = worker_text.back().c_str();
    worker_text.push_back(clean(w.device));
    workers.push_back(ModelWorkerRow{w.rank, host, worker_text.back().c_str(), w.speed_factor, w.sigma_log, w.samples});
  }
  replace_table(group.get(), kClasses,
                "per task class: seconds = intercept_s + seconds_per_cost * cost on a worker of speed factor 1",
                model_class_row_types(), classes, path);
  replace_table(group.get(), kWorkers,
                "per worker rank: how many times longer than the class line it takes (speed_factor), and the "
                "spread of log(actual / predicted) (sigma_log)",
                model_worker_row_types(), workers, path);
}

bool read_model_group(hid_t file, CostModelSnapshot& model, const std::filesystem::path& path) {
  if (!has_link(file, kModel, path)) return false;
  const hid_t object = check(H5Oopen(file, kModel, H5P_DEFAULT), path, "H5Oopen(model)");
  const H5I_type_t kind = H5Iget_type(object);
  (void)H5Oclose(object);
  if (kind != H5I_GROUP) {
    throw IoError("results file '" + path.string() + "': /model is not a group (not a FastGPU results file?)");
  }
  Group group(check(H5Gopen2(file, kModel, H5P_DEFAULT), path, "H5Gopen2(model)"));
  read_model_table<ModelClassRow>(group.get(), kClasses, model_class_row_types(), path, [&](const ModelClassRow& r) {
    model.classes.push_back(CostClassParams{text(r.task_class), r.intercept_s, r.seconds_per_cost, r.samples});
  });
  read_model_table<ModelWorkerRow>(group.get(), kWorkers, model_worker_row_types(), path, [&](const ModelWorkerRow& r) {
    model.workers.push_back(
        CostWorkerParams{r.rank, text(r.host), text(r.device), r.speed_factor, r.sigma_log, r.samples});
  });
  return true;
}

}  // namespace fastgpu::io::h5
