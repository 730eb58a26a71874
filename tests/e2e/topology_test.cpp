// End-to-end: every worker records where it runs (/workers cpu_set, numa_node, pci_bus_id), the
// subtasks it starts run there (their /proc/self/status Cpus_allowed_list is the worker's cpu_set),
// `inspect --json` shows the three keys, and FASTGPU_PIN=0 pins nothing.
#include <hwloc.h>

#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "device/topology.hpp"
#include "e2e/cli_harness.hpp"
#include "io/results_reader.hpp"

namespace fastgpu::e2e {
namespace {

// Each subtask prints the CPUs it may run on.
constexpr const char* kAffinityJob = R"(
[job]
name = "topology"
[task]
command = ["sh", "-c", "grep Cpus_allowed_list /proc/self/status"]
[sweep]
i = { range = [0, 6] }
)";

/** @brief Cores of this machine, and whether this process is already bound to fewer CPUs. */
struct Machine {
  int cores = 0;
  bool bound = false;
  std::string all;  ///< every CPU this process may use, list form
  Machine() {
    hwloc_topology_t topology;
    hwloc_topology_init(&topology);
    hwloc_topology_load(topology);
    cores = hwloc_get_nbobjs_by_type(topology, HWLOC_OBJ_CORE);
    hwloc_bitmap_t set = hwloc_bitmap_alloc();
    hwloc_get_cpubind(topology, set, HWLOC_CPUBIND_PROCESS);
    bound = !hwloc_bitmap_isequal(set, hwloc_topology_get_allowed_cpuset(topology));
    char* text = nullptr;
    hwloc_bitmap_list_asprintf(&text, set);
    all = text ? text : "";
    std::free(text);
    hwloc_bitmap_free(set);
    hwloc_topology_destroy(topology);
  }
};

std::string allowed_list(const std::string& stdout_tail) {
  const std::string key = "Cpus_allowed_list:";
  const auto at = stdout_tail.find(key);
  if (at == std::string::npos) return "";
  std::string value = stdout_tail.substr(at + key.size());
  value.erase(0, value.find_first_not_of(" \t"));
  value.erase(value.find_last_not_of(" \t\r\n") + 1);
  return value;
}

class TopologyTest : public CliTest {
 protected:
  /// Checks the workers' records and that each attempt ran within its worker's cpu_set.
  Results check_run(const std::string& file, std::size_t workers) {
    const Results results = io::read_results(path(file));
    EXPECT_EQ(results.workers.size(), workers);
    std::map<int, std::string> cpu_set;
    for (const WorkerRecord& w : results.workers) {
      SCOPED_TRACE("worker " + std::to_string(w.rank));
      EXPECT_FALSE(w.cpu_set.empty());
      EXPECT_FALSE(device::parse_cpu_list(w.cpu_set).empty()) << w.cpu_set;
      EXPECT_GE(w.numa_node, -1);
      EXPECT_EQ(w.pci_bus_id, "");  // CPU slots: no GPU here
      cpu_set[w.rank] = w.cpu_set;
    }
    EXPECT_EQ(results.attempts.size(), 6u);
    for (const AttemptRecord& a : results.attempts) {
      EXPECT_EQ(a.status, AttemptStatus::done) << a.error;
      EXPECT_EQ(device::parse_cpu_list(allowed_list(a.stdout_tail)), device::parse_cpu_list(cpu_set[a.worker]))
          << "attempt on worker " << a.worker << " printed " << a.stdout_tail << ", worker recorded "
          << cpu_set[a.worker];
    }
    return results;
  }
};

TEST_F(TopologyTest, WorkersRecordWhereTheyRunAndTheirSubtasksRunThere) {
  const Machine machine;
  auto run = fastgpu({"run", write("job.toml", kAffinityJob), "--workers", "2", "-o", "t.h5", "--quiet"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const Results results = check_run("t.h5", 2);
  if (machine.cores >= 2 && !machine.bound) {
    // Two workers on two or more cores: each pinned to its own share.
    std::set<int> first, second;
    for (int cpu : device::parse_cpu_list(results.workers.at(0).cpu_set)) first.insert(cpu);
    for (int cpu : device::parse_cpu_list(results.workers.at(1).cpu_set)) {
      EXPECT_EQ(first.count(cpu), 0u) << "CPU " << cpu << " in both workers' cpu_set";
    }
  }

  auto inspect = fastgpu({"inspect", "t.h5", "--json"});
  ASSERT_EQ(inspect.exit_code, 0) << inspect.err;
  const auto json = nlohmann::json::parse(inspect.out);
  ASSERT_EQ(json.at("workers").size(), 2u);
  for (const auto& w : json.at("workers")) {
    EXPECT_EQ(w.at("pci_bus_id"), "");
    EXPECT_GE(w.at("numa_node").get<int>(), -1);
    EXPECT_FALSE(w.at("cpu_set").get<std::string>().empty());
  }
}

TEST_F(TopologyTest, PinZeroLeavesEveryWorkerOnEveryCpu) {
  const Machine machine;
  auto run = exec({"/usr/bin/env", "FASTGPU_PIN=0", FASTGPU_BINARY, "run", write("job.toml", kAffinityJob),
                   "--workers", "2", "-o", "t.h5", "--quiet"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const Results results = check_run("t.h5", 2);
  for (const WorkerRecord& w : results.workers) {
    EXPECT_EQ(device::parse_cpu_list(w.cpu_set), device::parse_cpu_list(machine.all)) << w.rank;
  }
}

TEST_F(TopologyTest, MpiWorkersRecordWhereTheyRun) {
  auto run = mpi_fastgpu(3, {"run", write("job.toml", kAffinityJob), "-o", "t.h5", "--quiet"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  check_run("t.h5", 2);
}

}  // namespace
}  // namespace fastgpu::e2e
