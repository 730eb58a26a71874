// Worker placement on this machine (CPU only here and in CI): which cores a CPU slot gets, that
// pinning binds the calling thread (checked with sched_getaffinity), and when it does not pin.
#include "device/topology.hpp"

#include <gtest/gtest.h>
#include <hwloc.h>
#include <sched.h>

#include <algorithm>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "fastgpu/error.hpp"
#include "support/scoped_env.hpp"

namespace fastgpu::device {
namespace {

std::vector<int> thread_affinity() {
  cpu_set_t mask;
  CPU_ZERO(&mask);
  EXPECT_EQ(sched_getaffinity(0, sizeof mask, &mask), 0);  // 0: the calling thread
  std::vector<int> cpus;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(cpu, &mask)) cpus.push_back(cpu);
  }
  return cpus;
}

/** @brief The machine as hwloc sees it: cores (each its PUs), and whether this process is bound. */
struct Machine {
  std::vector<std::vector<int>> cores;
  bool process_bound = false;

  Machine() {
    hwloc_topology_t topology;
    hwloc_topology_init(&topology);
    hwloc_topology_load(topology);
    for (hwloc_obj_t core = hwloc_get_next_obj_by_type(topology, HWLOC_OBJ_CORE, nullptr); core != nullptr;
         core = hwloc_get_next_obj_by_type(topology, HWLOC_OBJ_CORE, core)) {
      std::vector<int> pus;
      for (int pu = hwloc_bitmap_first(core->cpuset); pu >= 0; pu = hwloc_bitmap_next(core->cpuset, pu)) pus.push_back(pu);
      cores.push_back(pus);
    }
    hwloc_bitmap_t bound = hwloc_bitmap_alloc();
    hwloc_get_cpubind(topology, bound, HWLOC_CPUBIND_PROCESS);
    process_bound = !hwloc_bitmap_isequal(bound, hwloc_topology_get_allowed_cpuset(topology));
    hwloc_bitmap_free(bound);
    hwloc_topology_destroy(topology);
  }
  std::vector<int> all() const {
    std::vector<int> pus;
    for (const auto& core : cores) pus.insert(pus.end(), core.begin(), core.end());
    std::sort(pus.begin(), pus.end());
    return pus;
  }
};

using fastgpu::testing::ScopedEnv;

// Runs place_worker on a new thread (so the test's own thread is never pinned) and returns the
// placement and that thread's affinity before and after.
struct PlacedThread {
  Placement placement;
  std::vector<int> before;
  std::vector<int> after;
};
PlacedThread place_on_thread(const DeviceBinding& binding, int local_index, int workers) {
  PlacedThread out;
  std::thread([&] {
    out.before = thread_affinity();
    out.placement = place_worker(binding, local_index, workers);
    out.after = thread_affinity();
  }).join();
  return out;
}

class Topology : public ::testing::Test {
 protected:
  void SetUp() override {
    if (machine_.cores.empty()) GTEST_SKIP() << "hwloc sees no cores";
    if (machine_.process_bound) GTEST_SKIP() << "this process is already bound (taskset, mpirun): nothing to pin";
  }
  Machine machine_;
  ScopedEnv pin_{"FASTGPU_PIN", nullptr};
};

TEST(CpuList, Parses) {
  EXPECT_EQ(parse_cpu_list("0"), (std::vector<int>{0}));
  EXPECT_EQ(parse_cpu_list("0-3,8"), (std::vector<int>{0, 1, 2, 3, 8}));
  EXPECT_EQ(parse_cpu_list("1,3-4,10-11"), (std::vector<int>{1, 3, 4, 10, 11}));
  EXPECT_TRUE(parse_cpu_list("").empty());
  for (const char* bad : {"a", "1-", "3-1", "1,", ",1", "1 2", "-1"}) {
    EXPECT_THROW(parse_cpu_list(bad), Error) << bad;
  }
}

TEST_F(Topology, CpuSlotRecordsItsCpusAndNumaNode) {
  const Placement placement = plan_placement(DeviceBinding{}, 0, 1);
  EXPECT_TRUE(placement.pci_bus_id.empty());
  ASSERT_FALSE(placement.cpu_set.empty()) << placement.decision;
  const std::vector<int> cpus = parse_cpu_list(placement.cpu_set);
  EXPECT_FALSE(cpus.empty());
  // A machine with one NUMA node (this one, most CI) gives 0; -1 only when the set spans several.
  EXPECT_GE(placement.numa_node, -1);
  // A lone worker keeps every core: its subtasks may run several threads.
  EXPECT_TRUE(placement.pinned) << placement.decision;
  EXPECT_EQ(cpus, machine_.all());
}

TEST_F(Topology, OneWorkerPerCoreIsPinnedToItsOwnCore) {
  const int n = static_cast<int>(machine_.cores.size());
  std::set<int> seen;
  for (int i = 0; i < n; ++i) {
    SCOPED_TRACE("worker " + std::to_string(i) + " of " + std::to_string(n));
    const PlacedThread placed = place_on_thread(DeviceBinding{}, i, n);
    ASSERT_TRUE(placed.placement.pinned) << placed.placement.decision;
    EXPECT_EQ(placed.before, machine_.all());
    EXPECT_EQ(placed.after, machine_.cores[static_cast<std::size_t>(i)]);  // one core, its PUs
    EXPECT_EQ(parse_cpu_list(placed.placement.cpu_set), placed.after);
    for (int pu : placed.after) EXPECT_TRUE(seen.insert(pu).second) << "PU " << pu << " given twice";
  }
  EXPECT_EQ(std::vector<int>(seen.begin(), seen.end()), machine_.all());
  EXPECT_EQ(thread_affinity(), machine_.all());  // the test's own thread was left alone
}

TEST_F(Topology, OversubscribedWorkersAreNotPinned) {
  const int workers = static_cast<int>(machine_.cores.size()) + 1;  // 3 workers on this machine's 2 cores
  const PlacedThread placed = place_on_thread(DeviceBinding{}, 0, workers);
  EXPECT_FALSE(placed.placement.pinned);
  EXPECT_NE(placed.placement.decision.find("oversubscribed"), std::string::npos) << placed.placement.decision;
  EXPECT_EQ(placed.after, placed.before);
  EXPECT_EQ(parse_cpu_list(placed.placement.cpu_set), machine_.all());  // it may run anywhere
}

TEST_F(Topology, UnknownWorkerCountIsNotPinned) {
  const PlacedThread placed = place_on_thread(DeviceBinding{}, 0, 0);
  EXPECT_FALSE(placed.placement.pinned);
  EXPECT_EQ(placed.after, placed.before);
}

TEST_F(Topology, PinZeroDisablesPinning) {
  ScopedEnv off("FASTGPU_PIN", "0");
  EXPECT_FALSE(pinning_enabled());
  const PlacedThread placed = place_on_thread(DeviceBinding{}, 0, static_cast<int>(machine_.cores.size()));
  EXPECT_FALSE(placed.placement.pinned);
  EXPECT_EQ(placed.after, placed.before);
  EXPECT_EQ(parse_cpu_list(placed.placement.cpu_set), machine_.all());
}

TEST_F(Topology, GpuThatCannotBeLocatedIsNotPinned) {
  // No GPU here: no PCI bus id from the CUDA runtime or NVML. Never an error.
  DeviceBinding gpu;
  gpu.device = "cuda:0";
  gpu.gpu = "0";
  const PlacedThread placed = place_on_thread(gpu, 0, 1);
  if (!placed.placement.pci_bus_id.empty()) GTEST_SKIP() << "a GPU is here: " << placed.placement.pci_bus_id;
  EXPECT_FALSE(placed.placement.pinned);
  EXPECT_EQ(placed.after, placed.before);
  EXPECT_FALSE(placed.placement.cpu_set.empty());
}

TEST_F(Topology, PinningFollowsTheCpuSet) {
  const Placement placement = plan_placement(DeviceBinding{}, 0, static_cast<int>(machine_.cores.size()));
  ASSERT_TRUE(placement.pinned);
  std::vector<int> after;
  std::string why_not;
  std::thread([&] {
    EXPECT_TRUE(pin_current_thread(placement, why_not)) << why_not;
    after = thread_affinity();
  }).join();
  EXPECT_EQ(after, parse_cpu_list(placement.cpu_set));
  Placement bad = placement;
  bad.cpu_set = "x";
  std::thread([&] { EXPECT_FALSE(pin_current_thread(bad, why_not)); }).join();
  EXPECT_NE(why_not.find("bad CPU set"), std::string::npos) << why_not;
}

}  // namespace
}  // namespace fastgpu::device
