// Where a worker runs on its node (hwloc): its GPU's PCI bus id, the NUMA node and the cores near
// it, and pinning the worker's thread there. A GPU worker is pinned to the cores local to its GPU;
// CPU-only workers share the node's cores out between them, or stay unpinned when there are more
// workers than cores (pinning would only make the oversubscription worse).
#pragma once

#include <string>
#include <vector>

#include "device/device_binding.hpp"

namespace fastgpu::device {

struct Placement {
  std::string pci_bus_id;  ///< the GPU's PCI address, "0000:3b:00.0"; "" for a CPU slot or unknown
  int numa_node = -1;      ///< OS index of the GPU's NUMA node, for a CPU slot the node holding cpu_set; -1: unknown or several
  std::string cpu_set;     ///< PUs (OS indices) the worker runs on, list form "0-3,8"; "" when unknown
  bool pinned = false;     ///< the worker's thread is bound to cpu_set (else cpu_set is all it may use anyway)
  std::string decision;    ///< why, in words: "near its GPU", "oversubscribed: 3 workers on 2 cores", ...
};

/// False when the environment says FASTGPU_PIN=0 (also "off", "no", "false"): no worker is pinned.
bool pinning_enabled();

/**
 * @brief Decides where worker @p local_index of @p workers_on_node (0 when unknown) on this node
 * runs, without binding anything. Within the CPUs this process may use (its binding when the
 * launcher or taskset set one, else the node's allowed CPUs):
 * - "cuda:<id>": the cores local to the GPU (hwloc: the PCI device's non-I/O ancestor), found by
 *   the bus id from the CUDA runtime or NVML; not pinned when the GPU cannot be located.
 * - "cpu": when the process is not already bound and there are at least as many cores as
 *   workers, worker i gets the i-th of workers_on_node equal blocks of cores (in topology order,
 *   so blocks stay within a NUMA node where they can); one core each when workers == cores.
 *   Otherwise not pinned, and cpu_set is the whole set the worker may use.
 * Never throws: what cannot be found is left empty / -1, and the worker is then not pinned.
 */
Placement plan_placement(const DeviceBinding& binding, int local_index, int workers_on_node);

/// Binds the calling thread (HWLOC_CPUBIND_THREAD) to placement.cpu_set when placement.pinned;
/// true when bound. On failure sets @p why_not and leaves the thread as it was.
bool pin_current_thread(const Placement& placement, std::string& why_not);

/// plan_placement, then pin_current_thread; a pinning that fails is reported as not pinned.
Placement place_worker(const DeviceBinding& binding, int local_index, int workers_on_node);

/// The CPUs (OS indices) of a list-form set such as "0-3,8"; throws fastgpu::Error when malformed.
std::vector<int> parse_cpu_list(const std::string& list);

}  // namespace fastgpu::device
