// Move-only owners of HDF5 identifiers, and the conversion of HDF5 failures into fastgpu::IoError.
#pragma once

#include <hdf5.h>

#include <filesystem>
#include <string>
#include <utility>

namespace fastgpu::io::h5 {

using CloseFn = herr_t (*)(hid_t);

/**
 * @brief Owns one HDF5 identifier and closes it with the function for its kind (H5Fclose,
 * H5Dclose, ...). Move-only: copying would close the identifier twice.
 */
template <CloseFn Close>
class Handle {
 public:
  Handle() = default;
  explicit Handle(hid_t id) : id_(id) {}
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  Handle(Handle&& other) noexcept : id_(std::exchange(other.id_, H5I_INVALID_HID)) {}
  Handle& operator=(Handle&& other) noexcept {
    if (this != &other) {
      reset();
      id_ = std::exchange(other.id_, H5I_INVALID_HID);
    }
    return *this;
  }
  ~Handle() { reset(); }

  hid_t get() const { return id_; }
  explicit operator bool() const { return id_ >= 0; }

  /** @brief Closes now (ignoring failure); the handle is then empty. */
  void reset() noexcept {
    if (id_ >= 0) (void)Close(id_);
    id_ = H5I_INVALID_HID;
  }
  /** @brief Closes now and returns the close function's status (for H5Fclose, which can fail). */
  herr_t close() noexcept {
    herr_t status = id_ >= 0 ? Close(id_) : 0;
    id_ = H5I_INVALID_HID;
    return status;
  }

 private:
  hid_t id_ = H5I_INVALID_HID;
};

using File = Handle<&H5Fclose>;
using Group = Handle<&H5Gclose>;
using Dataset = Handle<&H5Dclose>;
using Dataspace = Handle<&H5Sclose>;
using Datatype = Handle<&H5Tclose>;
using Attribute = Handle<&H5Aclose>;
using PropList = Handle<&H5Pclose>;

/**
 * @brief While alive, HDF5 does not print its error stack to stderr (failures become IoError
 * instead). Restores the previous setting on destruction. Set FASTGPU_HDF5_DEBUG=1 to keep the
 * printing.
 */
class ErrorSilencer {
 public:
  ErrorSilencer();
  ~ErrorSilencer();
  ErrorSilencer(const ErrorSilencer&) = delete;
  ErrorSilencer& operator=(const ErrorSilencer&) = delete;

 private:
  H5E_auto2_t saved_func_ = nullptr;
  void* saved_data_ = nullptr;
  bool restore_ = false;
};

/** @brief The current HDF5 error stack in words (outermost first), then clears it. */
std::string take_error_stack();

/**
 * @brief Throws fastgpu::IoError "results file 'PATH': CALL failed: REASON", the reason taken
 * from the HDF5 error stack (or @p reason when given).
 */
[[noreturn]] void fail(const std::filesystem::path& file, const std::string& call,
                       const std::string& reason = {});

/** @brief Returns @p id, or throws via fail() when it is negative. */
inline hid_t check(hid_t id, const std::filesystem::path& file, const char* call) {
  if (id < 0) fail(file, call);
  return id;
}

/** @brief Throws via fail() when @p status is negative. */
inline void check_status(herr_t status, const std::filesystem::path& file, const char* call) {
  if (status < 0) fail(file, call);
}

}  // namespace fastgpu::io::h5
