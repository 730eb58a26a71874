// dlopen of plugins and the record of which are loaded (see plugin_loader.hpp).
#include "job/plugin_loader.hpp"

#include <dlfcn.h>

#include <exception>
#include <map>
#include <mutex>
#include <optional>

#include "fastgpu/error.hpp"
#include "fastgpu/kernel.hpp"
#include "job/kernel_catalog.hpp"

namespace fastgpu::job {

namespace {

using EntryPoint = void (*)(fastgpu::KernelRegistry&);

struct LoadedPlugins {
  std::mutex mutex;
  /// Canonical path -> nullopt when loaded, else the reason it failed (given again next time:
  /// a half-registered plugin must not register its first kernels twice).
  std::map<std::filesystem::path, std::optional<std::string>> outcome;
};

LoadedPlugins& loaded_plugins() {
  static LoadedPlugins plugins;
  return plugins;
}

std::string dl_error_text() {
  const char* text = dlerror();
  return text != nullptr ? text : "unknown dlopen error";
}

/// Opens the library and finds its entry; throws PluginLoadError. Nothing is registered yet.
EntryPoint open_plugin(const std::filesystem::path& path) {
  dlerror();
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) throw PluginLoadError(dl_error_text());
  dlerror();
  void* symbol = dlsym(handle, FASTGPU_PLUGIN_ENTRY_NAME);
  if (symbol == nullptr) {
    dlclose(handle);
    throw PluginLoadError("it has no FASTGPU_PLUGIN entry (no symbol '" FASTGPU_PLUGIN_ENTRY_NAME
                          "'): define one with FASTGPU_PLUGIN(registry) { ... } from fastgpu/kernel.hpp");
  }
  return reinterpret_cast<EntryPoint>(symbol);
}

/// Runs the entry; throws PluginLoadError. The library stays open for good: the registered
/// kernels' code lives in it.
void register_kernels(EntryPoint entry) {
  try {
    entry(kernel_registry());
  } catch (const UsageError& error) {
    throw PluginLoadError(error.what());
  } catch (const std::exception& error) {
    throw PluginLoadError(std::string("its FASTGPU_PLUGIN entry threw: ") + error.what());
  } catch (...) {
    throw PluginLoadError("its FASTGPU_PLUGIN entry threw an unknown exception");
  }
}

}  // namespace

std::filesystem::path resolve_plugin_path(const std::string& plugin, const std::string& job_file) {
  std::filesystem::path path(plugin);
  if (path.is_relative()) path = std::filesystem::path(job_file).parent_path() / path;
  std::error_code ec;
  std::filesystem::path absolute = std::filesystem::absolute(path, ec);
  if (ec) absolute = path;
  return absolute.lexically_normal();
}

std::filesystem::path load_plugin(const std::filesystem::path& path) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (!std::filesystem::exists(status)) throw PluginLoadError("file not found");
  if (std::filesystem::is_directory(status)) throw PluginLoadError("it is a directory, not a shared library");
  std::filesystem::path canonical = std::filesystem::canonical(path, ec);
  if (ec) throw PluginLoadError("cannot resolve the path: " + ec.message());

  LoadedPlugins& plugins = loaded_plugins();
  const std::lock_guard lock(plugins.mutex);
  if (const auto found = plugins.outcome.find(canonical); found != plugins.outcome.end()) {
    if (found->second) throw PluginLoadError(*found->second);
    return canonical;
  }
  const EntryPoint entry = open_plugin(canonical);  // a failure here registered nothing: not remembered
  try {
    register_kernels(entry);
  } catch (const PluginLoadError& error) {
    plugins.outcome.emplace(canonical, error.what());
    throw;
  }
  plugins.outcome.emplace(canonical, std::nullopt);
  return canonical;
}

}  // namespace fastgpu::job
