#include "io/reductions_group.hpp"

#include <string>

#include "fastgpu/error.hpp"
#include "io/hdf5_attributes.hpp"
#include "io/hdf5_table.hpp"

namespace fastgpu::io::h5 {
namespace {

constexpr const char* kReductions = "reductions";
constexpr const char* kSumSuffix = ".sum";

void replace_vector(hid_t group, const std::string& name, const std::vector<double>& values,
                    const std::filesystem::path& path) {
  if (has_link(group, name.c_str(), path)) {
    check_status(H5Ldelete(group, name.c_str(), H5P_DEFAULT), path, ("H5Ldelete(reductions/" + name + ")").c_str());
  }
  const hsize_t size = values.size();
  Dataspace space(check(H5Screate_simple(1, &size, nullptr), path, "H5Screate_simple"));
  Dataset dataset(check(H5Dcreate2(group, name.c_str(), H5T_IEEE_F64LE, space.get(), H5P_DEFAULT, H5P_DEFAULT,
                                   H5P_DEFAULT),
                        path, ("H5Dcreate2(reductions/" + name + ")").c_str()));
  if (!values.empty()) {
    check_status(H5Dwrite(dataset.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()), path,
                 ("H5Dwrite(reductions/" + name + ")").c_str());
  }
}

std::vector<double> read_vector(hid_t group, const std::string& name, const std::filesystem::path& path) {
  Dataset dataset(check(H5Dopen2(group, name.c_str(), H5P_DEFAULT), path, ("H5Dopen2(reductions/" + name + ")").c_str()));
  Dataspace space(check(H5Dget_space(dataset.get()), path, "H5Dget_space"));
  if (H5Sget_simple_extent_ndims(space.get()) != 1) {
    throw IoError("results file '" + path.string() + "': /reductions/" + name + " is not a 1-D array");
  }
  hsize_t size = 0;
  H5Sget_simple_extent_dims(space.get(), &size, nullptr);
  std::vector<double> values(size);
  if (size > 0) {
    check_status(H5Dread(dataset.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()), path,
                 ("H5Dread(reductions/" + name + ")").c_str());
  }
  return values;
}

}  // namespace

void write_reductions_group(hid_t file, const std::vector<ReductionValue>& reductions,
                            const std::filesystem::path& path) {
  if (reductions.empty()) return;
  Group group;
  if (has_link(file, kReductions, path)) {
    group = Group(check(H5Gopen2(file, kReductions, H5P_DEFAULT), path, "H5Gopen2(reductions)"));
  } else {
    group = Group(check(H5Gcreate2(file, kReductions, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), path,
                        "H5Gcreate2(reductions)"));
    write_string_attribute(group.get(), "description",
                           "job-level reductions ([[reduce]]): what the kernels added, combined across workers", path);
  }
  for (const ReductionValue& r : reductions) {
    replace_vector(group.get(), r.name, r.result(), path);
    Dataset dataset(check(H5Dopen2(group.get(), r.name.c_str(), H5P_DEFAULT), path, "H5Dopen2(reductions)"));
    write_string_attribute(dataset.get(), "op", r.op, path);
    write_double_attribute(dataset.get(), "contributions", static_cast<double>(r.contributions), path);
    if (r.op == "mean") {
      write_double_attribute(dataset.get(), "weight", r.weight, path);
      replace_vector(group.get(), r.name + kSumSuffix, r.values, path);
    }
  }
}

std::vector<ReductionValue> read_reductions_group(hid_t file, const std::filesystem::path& path) {
  std::vector<ReductionValue> out;
  if (!has_link(file, kReductions, path)) return out;
  Group group(check(H5Gopen2(file, kReductions, H5P_DEFAULT), path, "H5Gopen2(reductions)"));
  H5G_info_t info{};
  check_status(H5Gget_info(group.get(), &info), path, "H5Gget_info(reductions)");
  for (hsize_t i = 0; i < info.nlinks; ++i) {
    const ssize_t length =
        H5Lget_name_by_idx(group.get(), ".", H5_INDEX_NAME, H5_ITER_INC, i, nullptr, 0, H5P_DEFAULT);
    if (length < 0) fail(path, "H5Lget_name_by_idx(reductions)");
    std::string name(static_cast<std::size_t>(length), '\0');
    H5Lget_name_by_idx(group.get(), ".", H5_INDEX_NAME, H5_ITER_INC, i, name.data(), name.size() + 1, H5P_DEFAULT);
    if (name.ends_with(kSumSuffix)) continue;
    Dataset dataset(check(H5Dopen2(group.get(), name.c_str(), H5P_DEFAULT), path, "H5Dopen2(reductions)"));
    ReductionValue r;
    r.name = name;
    r.op = read_string_attribute(dataset.get(), "op", path).value_or("sum");
    r.contributions = static_cast<std::int64_t>(read_double_attribute(dataset.get(), "contributions", path).value_or(0));
    if (r.op == "mean") {
      r.weight = read_double_attribute(dataset.get(), "weight", path).value_or(0);
      const std::string sums = name + kSumSuffix;
      r.values = has_link(group.get(), sums.c_str(), path) ? read_vector(group.get(), sums, path)
                                                           : read_vector(group.get(), name, path);
    } else {
      r.values = read_vector(group.get(), name, path);
    }
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace fastgpu::io::h5
