#include "worker/nvml.hpp"

#include <dlfcn.h>

#include <map>
#include <mutex>

namespace fastgpu::worker {

// The few NVML declarations used, copied from nvml.h (a stable C ABI since NVML 5), so that
// building needs no CUDA toolkit.
namespace {
using nvmlReturn_t = int;  // NVML_SUCCESS = 0
using nvmlDevice_t = void*;
struct nvmlUtilization_t {
  unsigned int gpu;
  unsigned int memory;
};
struct nvmlMemory_t {
  unsigned long long total;
  unsigned long long free;
  unsigned long long used;
};
constexpr int kNvmlTemperatureGpu = 0;  // NVML_TEMPERATURE_GPU
constexpr int kNvmlClockSm = 1;         // NVML_CLOCK_SM
}  // namespace

struct NvmlDevice::Api {
  nvmlReturn_t (*init)() = nullptr;
  const char* (*error_string)(nvmlReturn_t) = nullptr;
  nvmlReturn_t (*by_uuid)(const char*, nvmlDevice_t*) = nullptr;
  nvmlReturn_t (*by_index)(unsigned int, nvmlDevice_t*) = nullptr;
  nvmlReturn_t (*utilization)(nvmlDevice_t, nvmlUtilization_t*) = nullptr;
  nvmlReturn_t (*memory)(nvmlDevice_t, nvmlMemory_t*) = nullptr;
  nvmlReturn_t (*power)(nvmlDevice_t, unsigned int*) = nullptr;  // milliwatts
  nvmlReturn_t (*temperature)(nvmlDevice_t, int, unsigned int*) = nullptr;
  nvmlReturn_t (*clock)(nvmlDevice_t, int, unsigned int*) = nullptr;
  std::string error;  // why it could not be loaded; empty when it works

  std::string describe(nvmlReturn_t code) const {
    return error_string ? error_string(code) : "NVML error " + std::to_string(code);
  }
};

namespace {

template <typename F>
bool resolve(void* library, const char* name, F& out, std::string& error) {
  out = reinterpret_cast<F>(dlsym(library, name));
  if (!out && error.empty()) error = std::string("NVML has no ") + name;
  return out != nullptr;
}

}  // namespace

// Loaded and initialised once per process and library name, never unloaded: the worker threads of
// one process share it, and nvmlShutdown at exit would buy nothing.
std::unique_ptr<NvmlDevice> NvmlDevice::open(const std::string& id, std::string& why_not, const char* library) {
  static std::mutex mutex;
  static std::map<std::string, Api> loaded;
  const Api* api = nullptr;
  {
    std::lock_guard lock(mutex);
    auto [it, fresh] = loaded.try_emplace(library);
    Api& a = it->second;
    if (fresh) {
      void* handle = dlopen(library, RTLD_NOW | RTLD_LOCAL);
      if (!handle) {
        const char* error = dlerror();
        a.error = std::string("cannot load ") + library + " (no NVIDIA driver?)" + (error ? ": " + std::string(error) : "");
      } else {
        a.error_string = reinterpret_cast<const char* (*)(nvmlReturn_t)>(dlsym(handle, "nvmlErrorString"));
        bool ok = resolve(handle, "nvmlInit_v2", a.init, a.error);
        ok = resolve(handle, "nvmlDeviceGetHandleByUUID", a.by_uuid, a.error) && ok;
        ok = resolve(handle, "nvmlDeviceGetHandleByIndex_v2", a.by_index, a.error) && ok;
        ok = resolve(handle, "nvmlDeviceGetUtilizationRates", a.utilization, a.error) && ok;
        ok = resolve(handle, "nvmlDeviceGetMemoryInfo", a.memory, a.error) && ok;
        ok = resolve(handle, "nvmlDeviceGetPowerUsage", a.power, a.error) && ok;
        ok = resolve(handle, "nvmlDeviceGetTemperature", a.temperature, a.error) && ok;
        ok = resolve(handle, "nvmlDeviceGetClockInfo", a.clock, a.error) && ok;
        if (ok) {
          if (const nvmlReturn_t code = a.init(); code != 0) a.error = "nvmlInit failed: " + a.describe(code);
        }
      }
    }
    if (!a.error.empty()) {
      why_not = a.error;
      return nullptr;
    }
    api = &a;
  }
  nvmlDevice_t device = nullptr;
  const bool is_index = !id.empty() && id.size() < 9 && id.find_first_not_of("0123456789") == std::string::npos;
  const nvmlReturn_t code = is_index ? api->by_index(static_cast<unsigned>(std::stoul(id)), &device)
                                     : api->by_uuid(id.c_str(), &device);
  if (code != 0 || device == nullptr) {
    why_not = "NVML has no GPU '" + id + "': " + api->describe(code);
    return nullptr;
  }
  return std::unique_ptr<NvmlDevice>(new NvmlDevice(api, device));
}

NvmlDevice::~NvmlDevice() = default;

void NvmlDevice::sample(TelemetrySample& out) const {
  auto device = static_cast<nvmlDevice_t>(handle_);
  nvmlUtilization_t utilization{};
  if (api_->utilization(device, &utilization) == 0) out.gpu_util = utilization.gpu;
  nvmlMemory_t memory{};
  if (api_->memory(device, &memory) == 0) out.mem_used_bytes = static_cast<double>(memory.used);
  unsigned int value = 0;
  if (api_->power(device, &value) == 0) out.power_w = value / 1000.0;
  if (api_->temperature(device, kNvmlTemperatureGpu, &value) == 0) out.temp_c = value;
  if (api_->clock(device, kNvmlClockSm, &value) == 0) out.sm_clock_mhz = value;
}

}  // namespace fastgpu::worker
