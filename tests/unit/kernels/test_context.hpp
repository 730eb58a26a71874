// A fastgpu::Context for kernel tests: any Device, metrics and outputs kept in maps, reductions
// that behave like the worker's (a mean keeps weighted sums and the weight), a stop request after
// a chosen number of polls, and communicators of one member or of k threads sharing memory.
#pragma once

#include <algorithm>
#include <barrier>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "device/device_factory.hpp"
#include "fastgpu/config.hpp"
#include "fastgpu/kernel.hpp"
#include "kernels/builtin_kernels.hpp"

#if FASTGPU_HAVE_CUDA
#include <cuda_runtime_api.h>
#endif

namespace fastgpu::testing {

/// True when the CUDA runtime sees a GPU (GPU tests skip themselves otherwise).
inline bool have_gpu() {
#if FASTGPU_HAVE_CUDA
  int count = 0;
  return cudaGetDeviceCount(&count) == cudaSuccess && count > 0;
#else
  return false;
#endif
}

/// A subtask of one GPU: every collective is the identity.
class SoloCommunicator final : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  void all_reduce(double*, std::size_t, ReduceOp) override {}
  void broadcast(void*, std::size_t, int) override {}
  void send(const void*, std::size_t, int) override { throw CommError("a 1-member group has no peer"); }
  void recv(void*, std::size_t, int) override { throw CommError("a 1-member group has no peer"); }
  void barrier() override {}
};

/// `size` members, one per thread, over host memory (CPU devices only). Members combine in rank
/// order, so every member gets the same bits.
class ThreadGroup {
 public:
  explicit ThreadGroup(int size) : barrier_(size), slots_(static_cast<std::size_t>(size)) {
    for (int rank = 0; rank < size; ++rank) members_.push_back(std::make_unique<Member>(*this, rank));
  }
  Communicator& member(int rank) { return *members_.at(static_cast<std::size_t>(rank)); }

 private:
  class Member final : public Communicator {
   public:
    Member(ThreadGroup& group, int rank) : group_(group), rank_(rank) {}
    int rank() const override { return rank_; }
    int size() const override { return static_cast<int>(group_.slots_.size()); }
    void all_reduce(double* data, std::size_t count, ReduceOp op) override {
      group_.slots_[rank_] = data;
      group_.barrier_.arrive_and_wait();  // every member's data is published
      std::vector<double> result(static_cast<const double*>(group_.slots_[0]),
                                 static_cast<const double*>(group_.slots_[0]) + count);
      for (std::size_t member = 1; member < group_.slots_.size(); ++member) {
        const auto* other = static_cast<const double*>(group_.slots_[member]);
        for (std::size_t i = 0; i < count; ++i) {
          if (op == ReduceOp::sum) result[i] += other[i];
          if (op == ReduceOp::min) result[i] = std::min(result[i], other[i]);
          if (op == ReduceOp::max) result[i] = std::max(result[i], other[i]);
        }
      }
      group_.barrier_.arrive_and_wait();  // every member has read: now each may overwrite its own
      std::memcpy(data, result.data(), count * sizeof(double));
    }
    void broadcast(void* data, std::size_t bytes, int root) override {
      group_.slots_[rank_] = data;
      group_.barrier_.arrive_and_wait();
      if (rank_ != root) std::memcpy(data, group_.slots_[root], bytes);
      group_.barrier_.arrive_and_wait();
    }
    void send(const void*, std::size_t, int) override { throw CommError("not used by the kernel tests"); }
    void recv(void*, std::size_t, int) override { throw CommError("not used by the kernel tests"); }
    void barrier() override { group_.barrier_.arrive_and_wait(); }

   private:
    ThreadGroup& group_;
    int rank_;
  };

  std::barrier<> barrier_;
  std::vector<void*> slots_;
  std::vector<std::unique_ptr<Member>> members_;
};

class TestContext final : public Context {
 public:
  TestContext(Device& device, KernelArgs args, std::int64_t task_id = 0, Communicator* communicator = nullptr)
      : device_(device), args_(std::move(args)), task_id_(task_id), communicator_(communicator) {}

  /// Declares a job reduction, as a [[reduce]] table would.
  void declare_reduction(const std::string& name, const std::string& op, std::size_t size = 1) {
    Reduction& r = reductions_[name];
    r.buffer = DeviceBuffer<double>(device_, op == "mean" ? size + 1 : size);
    device::fill_identity(device_, r.buffer.data(), r.buffer.size(), op);
    device_.synchronize();
    r.slot = ReductionSlot{name, op, size, r.buffer.data()};
  }
  /// The reduction's values as the job would report them (a mean divided by its weight).
  std::vector<double> reduction_result(const std::string& name) {
    Reduction& r = reductions_.at(name);
    std::vector<double> values(r.buffer.size());
    device_.copy_to_host(values.data(), r.buffer.data(), r.buffer.bytes());
    if (r.slot.op == "mean") {
      const double weight = values.back();
      values.pop_back();
      for (double& v : values) v /= weight;
    }
    return values;
  }
  /// stop_requested() turns true from poll number `polls` + 1 on.
  void stop_after(int polls) { stop_after_ = polls; }

  Device& device() override { return device_; }
  const KernelArgs& args() const override { return args_; }
  std::int64_t task_id() const override { return task_id_; }
  int attempt() const override { return 0; }
  void metric(std::string_view name, double value) override { metrics[std::string(name)] = value; }
  void output(std::string_view name, std::span<const double> values) override {
    outputs[std::string(name)].assign(values.begin(), values.end());
  }
  ReductionSlot& reduction(std::string_view name) override {
    const auto it = reductions_.find(std::string(name));
    if (it == reductions_.end()) throw KernelError("reduction '" + std::string(name) + "' is not declared");
    return it->second.slot;
  }
  void reduce(std::string_view name, std::span<const double> values, double weight) override {
    ReductionSlot& slot = reduction(name);
    std::vector<double> staged(values.begin(), values.end());
    if (slot.op == "mean") {
      for (double& v : staged) v *= weight;
      staged.push_back(weight);
    }
    DeviceBuffer<double> incoming(device_, staged.size());
    device_.copy_to_device(incoming.data(), staged.data(), incoming.bytes());
    device::combine_into(device_, slot.data, incoming.data(), staged.size(), slot.op);
    device_.synchronize();
  }
  std::span<const double> input(std::string_view name) override {
    throw KernelError("no input '" + std::string(name) + "' in tests");
  }
  Communicator& communicator() override { return communicator_ != nullptr ? *communicator_ : solo_; }
  bool stop_requested() const override { return stop_after_ && ++polls_ > *stop_after_; }

  std::map<std::string, double> metrics;
  std::map<std::string, std::vector<double>> outputs;

 private:
  struct Reduction {
    DeviceBuffer<double> buffer;
    ReductionSlot slot;
  };
  Device& device_;
  KernelArgs args_;
  std::int64_t task_id_;
  Communicator* communicator_;
  SoloCommunicator solo_;
  std::map<std::string, Reduction> reductions_;
  std::optional<int> stop_after_;
  mutable int polls_ = 0;
};

/// Makes built-in kernel `name`, runs it once in `context` and returns it (for checkpoint()).
inline std::unique_ptr<Kernel> run_kernel(std::string_view name, Context& context) {
  std::unique_ptr<Kernel> kernel = kernels::make_builtin_kernel(name);
  if (!kernel) throw KernelError("no built-in kernel '" + std::string(name) + "'");
  kernel->run(context);
  return kernel;
}

}  // namespace fastgpu::testing
