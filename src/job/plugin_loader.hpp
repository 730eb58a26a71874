// Plugins: shared libraries of user kernels named by `[job] plugin = "..."`. Each is loaded once
// per process (dlopen) and its FASTGPU_PLUGIN entry adds its kernels to job::kernel_registry(),
// so the [task] that follows can name them. Libraries are never unloaded: the catalog keeps
// their kernels' make() functions.
#pragma once

#include <filesystem>
#include <stdexcept>
#include <string>

namespace fastgpu::job {

/// Why a plugin could not be loaded ("file not found", dlerror()'s text, ...), without the place.
class PluginLoadError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Where `plugin` (as written in the job file) is: an absolute path as is, a relative one taken
/// from the directory of the job file `job_file` (itself absolute or relative to the current
/// directory). The result is absolute and normalized; the file need not exist.
std::filesystem::path resolve_plugin_path(const std::string& plugin, const std::string& job_file);

/// Loads the library at `path` and calls its FASTGPU_PLUGIN entry with kernel_registry(), unless
/// this process already loaded the same file (compared by canonical path): then it does nothing,
/// or throws the same error when that load failed. Returns the canonical path. Throws
/// PluginLoadError. Not thread-safe with the catalog: call it while job files are read.
std::filesystem::path load_plugin(const std::filesystem::path& path);

}  // namespace fastgpu::job
