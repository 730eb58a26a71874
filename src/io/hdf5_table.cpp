#include "io/hdf5_table.hpp"

#include <algorithm>
#include <string>

namespace fastgpu::io::h5 {

namespace {

std::string call(const char* api, const char* name) { return std::string(api) + "(" + name + ")"; }

Dataspace memory_space(hsize_t n, const std::filesystem::path& file) {
  return Dataspace(check(H5Screate_simple(1, &n, nullptr), file, "H5Screate_simple"));
}

// Up to this many runs the selection is a union of hyperslabs; beyond, a point list (building
// long hyperslab unions is quadratic in some HDF5 versions).
constexpr std::size_t kMaxHyperslabRuns = 64;

}  // namespace

Dataset create_table(hid_t loc, const char* name, hid_t file_type, hsize_t rows, hsize_t chunk_rows,
                     const std::filesystem::path& file, int deflate) {
  const hsize_t max_rows = H5S_UNLIMITED;
  Dataspace space(check(H5Screate_simple(1, &rows, &max_rows), file, "H5Screate_simple"));
  PropList dcpl(check(H5Pcreate(H5P_DATASET_CREATE), file, "H5Pcreate"));
  const hsize_t chunk = std::max<hsize_t>(chunk_rows, 1);
  check_status(H5Pset_chunk(dcpl.get(), 1, &chunk), file, "H5Pset_chunk");
  if (deflate > 0) {
    check_status(H5Pset_deflate(dcpl.get(), static_cast<unsigned>(deflate)), file, "H5Pset_deflate");
  }
  PropList lcpl(check(H5Pcreate(H5P_LINK_CREATE), file, "H5Pcreate"));
  check_status(H5Pset_create_intermediate_group(lcpl.get(), 1), file, "H5Pset_create_intermediate_group");
  return Dataset(check(H5Dcreate2(loc, name, file_type, space.get(), lcpl.get(), dcpl.get(), H5P_DEFAULT),
                       file, call("H5Dcreate2", name).c_str()));
}

Dataset open_table(hid_t loc, const char* name, const std::filesystem::path& file) {
  return Dataset(check(H5Dopen2(loc, name, H5P_DEFAULT), file, call("H5Dopen2", name).c_str()));
}

bool has_link(hid_t loc, const char* name, const std::filesystem::path& file) {
  htri_t exists = H5Lexists(loc, name, H5P_DEFAULT);
  if (exists < 0) fail(file, call("H5Lexists", name));
  return exists > 0;
}

hsize_t table_rows(hid_t dset, const char* name, const std::filesystem::path& file) {
  Dataspace space(check(H5Dget_space(dset), file, call("H5Dget_space", name).c_str()));
  int rank = H5Sget_simple_extent_ndims(space.get());
  if (rank < 0) fail(file, call("H5Sget_simple_extent_ndims", name));
  if (rank != 1) {
    fail(file, "reading " + std::string(name), "expected a 1-D dataset, found rank " + std::to_string(rank));
  }
  hsize_t rows = 0;
  if (H5Sget_simple_extent_dims(space.get(), &rows, nullptr) < 0) {
    fail(file, call("H5Sget_simple_extent_dims", name));
  }
  return rows;
}

void append_rows(hid_t dset, const char* name, hid_t mem_type, hsize_t old_rows, hsize_t n, const void* rows,
                 const std::filesystem::path& file) {
  if (n == 0) return;
  const hsize_t new_rows = old_rows + n;
  check_status(H5Dset_extent(dset, &new_rows), file, call("H5Dset_extent", name).c_str());
  Dataspace file_space(check(H5Dget_space(dset), file, call("H5Dget_space", name).c_str()));
  check_status(H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, &old_rows, nullptr, &n, nullptr), file,
               "H5Sselect_hyperslab");
  Dataspace mem_space = memory_space(n, file);
  check_status(H5Dwrite(dset, mem_type, mem_space.get(), file_space.get(), H5P_DEFAULT, rows), file,
               call("H5Dwrite", name).c_str());
}

void write_rows_at(hid_t dset, const char* name, hid_t mem_type, const std::vector<hsize_t>& indices,
                   const void* rows, const std::filesystem::path& file) {
  if (indices.empty()) return;
  Dataspace file_space(check(H5Dget_space(dset), file, call("H5Dget_space", name).c_str()));

  // Contiguous runs [start, start + count).
  std::vector<std::pair<hsize_t, hsize_t>> runs;
  for (hsize_t index : indices) {
    if (!runs.empty() && runs.back().first + runs.back().second == index) {
      ++runs.back().second;
    } else {
      runs.emplace_back(index, 1);
    }
  }
  if (runs.size() <= kMaxHyperslabRuns) {
    H5S_seloper_t op = H5S_SELECT_SET;
    for (const auto& [start, count] : runs) {
      check_status(H5Sselect_hyperslab(file_space.get(), op, &start, nullptr, &count, nullptr), file,
                   "H5Sselect_hyperslab");
      op = H5S_SELECT_OR;
    }
  } else {
    check_status(H5Sselect_elements(file_space.get(), H5S_SELECT_SET, indices.size(), indices.data()), file,
                 "H5Sselect_elements");
  }
  Dataspace mem_space = memory_space(indices.size(), file);
  check_status(H5Dwrite(dset, mem_type, mem_space.get(), file_space.get(), H5P_DEFAULT, rows), file,
               call("H5Dwrite", name).c_str());
}

void read_rows(hid_t dset, const char* name, hid_t mem_type, hsize_t first, hsize_t n, void* rows,
               const std::filesystem::path& file) {
  if (n == 0) return;
  Dataspace file_space(check(H5Dget_space(dset), file, call("H5Dget_space", name).c_str()));
  check_status(H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, &first, nullptr, &n, nullptr), file,
               "H5Sselect_hyperslab");
  Dataspace mem_space = memory_space(n, file);
  check_status(H5Dread(dset, mem_type, mem_space.get(), file_space.get(), H5P_DEFAULT, rows), file,
               call("H5Dread", name).c_str());
}

void reclaim(hid_t mem_type, hsize_t n, void* rows) noexcept {
  if (n == 0) return;
  hid_t space = H5Screate_simple(1, &n, nullptr);
  if (space < 0) return;
#if H5_VERSION_GE(1, 12, 0)
  (void)H5Treclaim(mem_type, space, H5P_DEFAULT, rows);
#else
  (void)H5Dvlen_reclaim(mem_type, space, H5P_DEFAULT, rows);
#endif
  (void)H5Sclose(space);
}

}  // namespace fastgpu::io::h5
