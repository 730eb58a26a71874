#include "io/hdf5_handle.hpp"

#include <cstdlib>
#include <string_view>
#include <vector>

#include "fastgpu/error.hpp"

namespace fastgpu::io::h5 {

ErrorSilencer::ErrorSilencer() {
  const char* debug = std::getenv("FASTGPU_HDF5_DEBUG");
  if (debug != nullptr && *debug != '\0' && std::string_view(debug) != "0") return;
  if (H5Eget_auto2(H5E_DEFAULT, &saved_func_, &saved_data_) < 0) return;
  restore_ = H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr) >= 0;
}

ErrorSilencer::~ErrorSilencer() {
  if (restore_) (void)H5Eset_auto2(H5E_DEFAULT, saved_func_, saved_data_);
}

namespace {

herr_t collect(unsigned /*n*/, const H5E_error2_t* err, void* data) {
  auto* out = static_cast<std::vector<std::string>*>(data);
  if (err != nullptr && err->desc != nullptr && *err->desc != '\0') {
    std::string desc = err->desc;
    if (out->empty() || out->back() != desc) out->push_back(std::move(desc));
  }
  return 0;
}

}  // namespace

std::string take_error_stack() {
  std::vector<std::string> descs;
  (void)H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, &collect, &descs);
  (void)H5Eclear2(H5E_DEFAULT);
  if (descs.empty()) return "";
  // The outermost entry says what the call was doing, the innermost why it failed; the ones
  // between rarely help. A failed system call reads "... errno = 21, error message = 'Is a
  // directory', ...": keep only the message.
  std::string cause = descs.back();
  const std::string marker = "error message = '";
  if (auto at = cause.find(marker); at != std::string::npos) {
    at += marker.size();
    cause = cause.substr(at, cause.find('\'', at) - at);
  }
  std::string out = descs.size() > 1 ? descs.front() + ": " + cause : cause;
  for (char& c : out) {
    if (c == '\n') c = ' ';
  }
  return out;
}

void fail(const std::filesystem::path& file, const std::string& call, const std::string& reason) {
  std::string why = reason.empty() ? take_error_stack() : reason;
  if (reason.empty() && why.empty()) why = "unknown HDF5 error";
  if (!reason.empty()) (void)H5Eclear2(H5E_DEFAULT);
  throw IoError("results file '" + file.string() + "': " + call + " failed: " + why);
}

}  // namespace fastgpu::io::h5
