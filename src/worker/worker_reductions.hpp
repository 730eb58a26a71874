// The job's reductions ([[reduce]]) on one worker: each kernel attempt adds into device buffers
// of its own (so a failed or stopped attempt adds nothing), which go into the worker's totals when
// the attempt ends done; at Shutdown every worker combines its totals with the others' (NCCL on
// device memory, MPI or threads through host memory) and the first sends them to rank 0.
// The totals are kept in host memory (one small copy per done attempt): they outlive a device
// whose context a CUDA error has poisoned, so a retired worker still hands in what it did.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "comm/collectives.hpp"
#include "fastgpu/job_spec.hpp"
#include "fastgpu/kernel.hpp"
#include "fastgpu/results.hpp"

namespace fastgpu::worker {

/// Values a reduction buffer holds: its size, and one more (the weight) for a mean.
std::size_t buffer_values(const ReductionSpec& spec);

/// One attempt's reduction buffers, made when the kernel first asks for one.
class AttemptReductions {
 public:
  AttemptReductions(fastgpu::Device& device, const std::vector<ReductionSpec>& specs)
      : device_(device), specs_(specs) {}
  /// The buffer of `name`, filled with the op's identity on first use; KernelError if undeclared.
  ReductionSlot& slot(std::string_view name);
  /// Adds host `values` (the reduction's size) and `weight` into `name`.
  void add(std::string_view name, std::span<const double> values, double weight);

 private:
  friend class WorkerReductions;
  struct Buffer {
    const ReductionSpec* spec = nullptr;
    DeviceBuffer<double> data;
    ReductionSlot slot;
  };
  fastgpu::Device& device_;
  const std::vector<ReductionSpec>& specs_;
  std::map<std::string, Buffer, std::less<>> buffers_;
};

class WorkerReductions {
 public:
  WorkerReductions(fastgpu::Device& device, std::vector<ReductionSpec> specs);
  const std::vector<ReductionSpec>& specs() const { return specs_; }
  /// An attempt that ended done: its buffers go into the totals.
  void add(const AttemptReductions& attempt);
  /// Every member calls it at Shutdown, in the same order: the totals of all members, combined.
  /// `collectives` works on device memory when its backend is "nccl", else on host memory.
  std::vector<ReductionValue> combine(comm::Collectives& collectives);
  /// This worker's own totals, without touching the device (a retired worker's share).
  const std::vector<ReductionValue>& totals() const { return totals_; }

 private:
  fastgpu::Device& device_;
  std::vector<ReductionSpec> specs_;
  std::vector<ReductionValue> totals_;  ///< one per spec: identity-filled, 0 weight, 0 contributions
};

}  // namespace fastgpu::worker
