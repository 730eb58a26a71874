// One-dimensional HDF5 datasets used as tables: create, append, overwrite rows, read in blocks.
#pragma once

#include <cstddef>
#include <filesystem>
#include <vector>

#include "io/hdf5_handle.hpp"

namespace fastgpu::io::h5 {

/** @brief Default rows per chunk: ~100 KiB for the widest rows, good for appending thousands. */
inline constexpr hsize_t kChunkRows = 1024;

/**
 * @brief Creates a chunked, extendible (unlimited) 1-D dataset of @p rows rows, in chunks of
 * @p chunk_rows rows. @p deflate > 0 adds the deflate (gzip) filter at that level.
 */
Dataset create_table(hid_t loc, const char* name, hid_t file_type, hsize_t rows, hsize_t chunk_rows,
                     const std::filesystem::path& file, int deflate = 0);

/** @brief Opens an existing dataset. */
Dataset open_table(hid_t loc, const char* name, const std::filesystem::path& file);

/** @brief Whether @p loc has a link called @p name (a single path component). */
bool has_link(hid_t loc, const char* name, const std::filesystem::path& file);

/** @brief The number of rows of a 1-D dataset (a scalar or >1-D one is an error). */
hsize_t table_rows(hid_t dset, const char* name, const std::filesystem::path& file);

/** @brief Extends the table from @p old_rows to old_rows + n and writes @p n rows there at once. */
void append_rows(hid_t dset, const char* name, hid_t mem_type, hsize_t old_rows, hsize_t n, const void* rows,
                 const std::filesystem::path& file);

/**
 * @brief Overwrites the rows at @p indices (ascending, no duplicates) with @p rows (one per
 * index, same order) in one write: contiguous runs become hyperslabs.
 */
void write_rows_at(hid_t dset, const char* name, hid_t mem_type, const std::vector<hsize_t>& indices,
                   const void* rows, const std::filesystem::path& file);

/** @brief Reads rows [first, first + n) into @p rows, converting to @p mem_type. */
void read_rows(hid_t dset, const char* name, hid_t mem_type, hsize_t first, hsize_t n, void* rows,
               const std::filesystem::path& file);

/** @brief Frees the variable-length data HDF5 allocated while reading @p n rows of @p mem_type. */
void reclaim(hid_t mem_type, hsize_t n, void* rows) noexcept;

/** @brief Frees the strings HDF5 allocated for rows read, however the reading is left. */
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

}  // namespace fastgpu::io::h5
