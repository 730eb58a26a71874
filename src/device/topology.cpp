#include "device/topology.hpp"

#include <dlfcn.h>
#include <hwloc.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>

#include "fastgpu/config.hpp"
#include "fastgpu/error.hpp"

#if FASTGPU_HAVE_CUDA
#include <cuda_runtime_api.h>
#endif

namespace fastgpu::device {
namespace {

struct BitmapFree {
  void operator()(hwloc_bitmap_s* set) const { hwloc_bitmap_free(set); }
};
using Bitmap = std::unique_ptr<hwloc_bitmap_s, BitmapFree>;

Bitmap new_bitmap() { return Bitmap(hwloc_bitmap_alloc()); }
Bitmap copy_bitmap(hwloc_const_bitmap_t set) { return Bitmap(hwloc_bitmap_dup(set)); }

std::string list_text(hwloc_const_bitmap_t set) {
  char* text = nullptr;
  if (hwloc_bitmap_list_asprintf(&text, set) < 0 || text == nullptr) return {};
  std::string out(text);
  std::free(text);
  return out;
}

/** @brief A loaded hwloc topology of this machine; with PCI devices when asked. */
class Topology {
 public:
  explicit Topology(bool with_pci) {
    if (hwloc_topology_init(&topology_) != 0) {
      topology_ = nullptr;
      return;
    }
    if (with_pci) hwloc_topology_set_io_types_filter(topology_, HWLOC_TYPE_FILTER_KEEP_IMPORTANT);
    if (hwloc_topology_load(topology_) != 0) {
      hwloc_topology_destroy(topology_);
      topology_ = nullptr;
    }
  }
  ~Topology() {
    if (topology_) hwloc_topology_destroy(topology_);
  }
  Topology(const Topology&) = delete;
  Topology& operator=(const Topology&) = delete;
  explicit operator bool() const { return topology_ != nullptr; }
  hwloc_topology_t get() const { return topology_; }

 private:
  hwloc_topology_t topology_ = nullptr;
};

// The CPUs this process may use: its current binding (set by mpirun, srun or taskset, or the whole
// machine), within what the topology allows (cgroups). `bound` says whether that is narrower than
// the allowed set, i.e. somebody already placed the process.
Bitmap process_cpus(hwloc_topology_t topology, bool& bound) {
  hwloc_const_cpuset_t allowed = hwloc_topology_get_allowed_cpuset(topology);
  Bitmap set = new_bitmap();
  if (hwloc_get_cpubind(topology, set.get(), HWLOC_CPUBIND_PROCESS) != 0 || hwloc_bitmap_iszero(set.get())) {
    hwloc_bitmap_copy(set.get(), allowed);
  }
  hwloc_bitmap_and(set.get(), set.get(), allowed);
  if (hwloc_bitmap_iszero(set.get())) hwloc_bitmap_copy(set.get(), allowed);
  bound = !hwloc_bitmap_isequal(set.get(), allowed);
  return set;
}

// The NUMA node whose CPUs include all of `set`, or -1 (none, or `set` spans several).
int numa_node_of(hwloc_topology_t topology, hwloc_const_cpuset_t set) {
  if (hwloc_bitmap_iszero(set)) return -1;
  int found = -1;
  for (hwloc_obj_t node = hwloc_get_next_obj_by_type(topology, HWLOC_OBJ_NUMANODE, nullptr); node != nullptr;
       node = hwloc_get_next_obj_by_type(topology, HWLOC_OBJ_NUMANODE, node)) {
    if (node->cpuset == nullptr || !hwloc_bitmap_isincluded(set, node->cpuset)) continue;
    if (found >= 0) return -1;  // nodes that share their CPUs (memory-only tiers): ambiguous
    found = static_cast<int>(node->os_index);
  }
  return found;
}

// "0000:3b:00.0" from any "domain:bus:device.function" spelling (CUDA: "0000:3B:00.0", NVML:
// "00000000:3B:00.0"); "" when it is not one.
std::string normalize_bus_id(const std::string& text) {
  unsigned domain = 0, bus = 0, dev = 0, func = 0;
  if (std::sscanf(text.c_str(), "%x:%x:%x.%x", &domain, &bus, &dev, &func) != 4) return {};
  char out[32];
  std::snprintf(out, sizeof out, "%04x:%02x:%02x.%x", domain, bus, dev, func);
  return out;
}

// NVML's nvmlDeviceGetPciInfo_v3, loaded with dlopen like src/worker/nvml.cpp (the device area
// cannot use the worker's wrapper): for builds without CUDA that still see a GPU.
std::string nvml_bus_id(const DeviceBinding& binding) {
  struct PciInfo {  // nvmlPciInfo_t
    char bus_id_legacy[16];
    unsigned domain, bus, device, pci_device_id, pci_subsystem_id;
    char bus_id[32];
  };
  using Init = int (*)();
  using ByUuid = int (*)(const char*, void**);
  using ByIndex = int (*)(unsigned, void**);
  using GetPci = int (*)(void*, PciInfo*);
  static std::once_flag once;
  static void* library = nullptr;
  static bool initialised = false;
  std::call_once(once, [] {
    library = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
    if (library == nullptr) return;
    auto init = reinterpret_cast<Init>(dlsym(library, "nvmlInit_v2"));
    initialised = init != nullptr && init() == 0;
  });
  if (!initialised) return {};
  auto by_uuid = reinterpret_cast<ByUuid>(dlsym(library, "nvmlDeviceGetHandleByUUID"));
  auto by_index = reinterpret_cast<ByIndex>(dlsym(library, "nvmlDeviceGetHandleByIndex_v2"));
  auto get_pci = reinterpret_cast<GetPci>(dlsym(library, "nvmlDeviceGetPciInfo_v3"));
  if (get_pci == nullptr) return {};
  void* device = nullptr;
  // The UUID names the GPU whatever the numbering; NVML's index matches CUDA_VISIBLE_DEVICES' only
  // when that is a plain index (NVML ignores CUDA_VISIBLE_DEVICES).
  const std::string id = !binding.gpu_uuid.empty() ? binding.gpu_uuid : binding.gpu.value_or("");
  const bool is_index = !id.empty() && id.size() < 9 && id.find_first_not_of("0123456789") == std::string::npos;
  int code = -1;
  if (is_index && by_index) code = by_index(static_cast<unsigned>(std::stoul(id)), &device);
  if (!is_index && !id.empty() && by_uuid) code = by_uuid(id.c_str(), &device);
  if (code != 0 || device == nullptr) return {};
  PciInfo info{};
  if (get_pci(device, &info) != 0) return {};
  info.bus_id[sizeof info.bus_id - 1] = '\0';
  return normalize_bus_id(info.bus_id);
}

std::string gpu_bus_id(const DeviceBinding& binding, int local_index) {
#if FASTGPU_HAVE_CUDA
  // The runtime numbers the GPUs this process sees 0..n-1; worker i has the i-th (device_binding.cpp).
  char bus_id[32] = {};
  if (cudaDeviceGetPCIBusId(bus_id, sizeof bus_id, local_index) == cudaSuccess) {
    if (std::string id = normalize_bus_id(bus_id); !id.empty()) return id;
  }
#else
  (void)local_index;
#endif
  return nvml_bus_id(binding);
}

std::string env_lower(const char* name) {
  const char* value = std::getenv(name);
  std::string out = value ? value : "";
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

void describe(hwloc_topology_t topology, hwloc_const_cpuset_t set, Placement& placement) {
  placement.cpu_set = list_text(set);
  placement.numa_node = numa_node_of(topology, set);
}

void place_near_gpu(const DeviceBinding& binding, int local_index, Placement& placement) {
  Topology topology(/*with_pci=*/true);
  if (!topology) {
    placement.decision = "hwloc could not read the topology";
    return;
  }
  bool bound = false;
  Bitmap cpus = process_cpus(topology.get(), bound);
  describe(topology.get(), cpus.get(), placement);  // unless the GPU is found below
  placement.pci_bus_id = gpu_bus_id(binding, local_index);
  if (placement.pci_bus_id.empty()) {
    placement.decision = "GPU's PCI bus id unknown (no CUDA runtime or NVML answer): not pinned";
    return;
  }
  hwloc_obj_t pci = hwloc_get_pcidev_by_busidstring(topology.get(), placement.pci_bus_id.c_str());
  hwloc_obj_t near = pci ? hwloc_get_non_io_ancestor_obj(topology.get(), pci) : nullptr;
  if (near == nullptr || near->cpuset == nullptr) {
    placement.decision = "hwloc does not see PCI device " + placement.pci_bus_id + ": not pinned";
    return;
  }
  Bitmap local = copy_bitmap(near->cpuset);
  hwloc_bitmap_and(local.get(), local.get(), cpus.get());
  if (hwloc_bitmap_iszero(local.get())) {
    placement.decision = "none of this process's CPUs is near GPU " + placement.pci_bus_id + ": not pinned";
    return;
  }
  describe(topology.get(), local.get(), placement);
  placement.numa_node = numa_node_of(topology.get(), near->cpuset);  // the GPU's node, even when bound narrower
  placement.pinned = true;
  placement.decision = "near GPU " + placement.pci_bus_id;
}

void place_on_cpus(int local_index, int workers_on_node, Placement& placement) {
  Topology topology(/*with_pci=*/false);
  if (!topology) {
    placement.decision = "hwloc could not read the topology";
    return;
  }
  bool bound = false;
  Bitmap cpus = process_cpus(topology.get(), bound);
  describe(topology.get(), cpus.get(), placement);
  if (bound) {
    placement.decision = "already bound by the launcher (mpirun, srun, taskset): kept";
    return;
  }
  // Cores in topology order (so consecutive ones share a NUMA node), each as its PUs we may use.
  std::vector<Bitmap> cores;
  hwloc_obj_type_t type = hwloc_get_nbobjs_by_type(topology.get(), HWLOC_OBJ_CORE) > 0 ? HWLOC_OBJ_CORE : HWLOC_OBJ_PU;
  for (hwloc_obj_t core = hwloc_get_next_obj_by_type(topology.get(), type, nullptr); core != nullptr;
       core = hwloc_get_next_obj_by_type(topology.get(), type, core)) {
    if (core->cpuset == nullptr) continue;
    Bitmap set = copy_bitmap(core->cpuset);
    hwloc_bitmap_and(set.get(), set.get(), cpus.get());
    if (!hwloc_bitmap_iszero(set.get())) cores.push_back(std::move(set));
  }
  const int n = static_cast<int>(cores.size());
  if (workers_on_node <= 0) {
    placement.decision = "number of workers on this node unknown: not pinned";
    return;
  }
  if (n == 0 || workers_on_node > n) {
    placement.decision = "oversubscribed: " + std::to_string(workers_on_node) + " workers on " + std::to_string(n) +
                         " cores: not pinned";
    return;
  }
  // Worker i of w gets cores [i*n/w, (i+1)*n/w): one each when w == n, an equal block otherwise
  // (a worker's subtasks may use several threads: a lone worker keeps every core).
  const int i = local_index >= 0 ? local_index % workers_on_node : 0;
  const int first = i * n / workers_on_node;
  const int last = (i + 1) * n / workers_on_node;
  Bitmap share = new_bitmap();
  for (int c = first; c < last; ++c) hwloc_bitmap_or(share.get(), share.get(), cores[static_cast<std::size_t>(c)].get());
  describe(topology.get(), share.get(), placement);
  placement.pinned = true;
  placement.decision = "cores " + std::to_string(first) + "-" + std::to_string(last - 1) + " of " + std::to_string(n) +
                       " (worker " + std::to_string(i) + " of " + std::to_string(workers_on_node) + ")";
}

}  // namespace

bool pinning_enabled() {
  const std::string value = env_lower("FASTGPU_PIN");
  return !(value == "0" || value == "off" || value == "no" || value == "false");
}

Placement plan_placement(const DeviceBinding& binding, int local_index, int workers_on_node) {
  Placement placement;
  try {
    if (binding.device.rfind("cuda:", 0) == 0) {
      place_near_gpu(binding, local_index, placement);
    } else {
      place_on_cpus(local_index, workers_on_node, placement);
    }
  } catch (const std::exception& e) {  // std::bad_alloc, std::stoul: a placement is never worth failing a run
    placement.pinned = false;
    placement.decision = std::string("placement failed: ") + e.what();
  }
  if (placement.pinned && !pinning_enabled()) {
    // The file says where the worker may run: with pinning off, everywhere this process may.
    Topology topology(/*with_pci=*/false);
    if (topology) {
      bool bound = false;
      Bitmap cpus = process_cpus(topology.get(), bound);
      placement.cpu_set = list_text(cpus.get());
      if (placement.pci_bus_id.empty()) placement.numa_node = numa_node_of(topology.get(), cpus.get());
    }
    placement.pinned = false;
    placement.decision = "FASTGPU_PIN=0: not pinned";
  }
  return placement;
}

bool pin_current_thread(const Placement& placement, std::string& why_not) {
  if (!placement.pinned) {
    why_not = "not to be pinned";
    return false;
  }
  // One topology for every pinning of the process: loading it is the costly part, and binding with
  // it from several threads at once is safe (hwloc documents read-only use as thread-safe).
  static const Topology topology(/*with_pci=*/false);
  if (!topology) {
    why_not = "hwloc could not read the topology";
    return false;
  }
  Bitmap set = new_bitmap();
  if (hwloc_bitmap_list_sscanf(set.get(), placement.cpu_set.c_str()) != 0 || hwloc_bitmap_iszero(set.get())) {
    why_not = "bad CPU set '" + placement.cpu_set + "'";
    return false;
  }
  if (hwloc_set_cpubind(topology.get(), set.get(), HWLOC_CPUBIND_THREAD) != 0) {
    why_not = "hwloc_set_cpubind(" + placement.cpu_set + ") failed";
    return false;
  }
  return true;
}

Placement place_worker(const DeviceBinding& binding, int local_index, int workers_on_node) {
  Placement placement = plan_placement(binding, local_index, workers_on_node);
  if (placement.pinned) {
    std::string why_not;
    if (!pin_current_thread(placement, why_not)) {
      placement.pinned = false;
      placement.decision += " (" + why_not + ")";
    }
  }
  return placement;
}

std::vector<int> parse_cpu_list(const std::string& list) {
  std::vector<int> cpus;
  std::size_t at = 0;
  const auto number = [&]() {
    if (at >= list.size() || !std::isdigit(static_cast<unsigned char>(list[at]))) {
      throw Error("bad CPU list '" + list + "'");
    }
    int value = 0;
    while (at < list.size() && std::isdigit(static_cast<unsigned char>(list[at]))) {
      value = value * 10 + (list[at++] - '0');
      if (value > 1 << 20) throw Error("bad CPU list '" + list + "'");
    }
    return value;
  };
  while (at < list.size()) {
    const int first = number();
    int last = first;
    if (at < list.size() && list[at] == '-') {
      ++at;
      last = number();
      if (last < first) throw Error("bad CPU list '" + list + "'");
    }
    for (int cpu = first; cpu <= last; ++cpu) cpus.push_back(cpu);
    if (at < list.size()) {
      if (list[at] != ',') throw Error("bad CPU list '" + list + "'");
      ++at;
      if (at == list.size()) throw Error("bad CPU list '" + list + "'");
    }
  }
  return cpus;
}

}  // namespace fastgpu::device
