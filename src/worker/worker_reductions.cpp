#include "worker/worker_reductions.hpp"

#include "device/device_factory.hpp"
#include "worker/device_collectives.hpp"

namespace fastgpu::worker {
namespace {

fastgpu::ReduceOp collective_op(const std::string& op) {
  if (op == "min") return fastgpu::ReduceOp::min;
  if (op == "max") return fastgpu::ReduceOp::max;
  return fastgpu::ReduceOp::sum;  // sum, and mean (weighted sums and the weight add up)
}

}  // namespace

std::size_t buffer_values(const ReductionSpec& spec) { return spec.size + (spec.op == "mean" ? 1 : 0); }

ReductionSlot& AttemptReductions::slot(std::string_view name) {
  if (auto it = buffers_.find(name); it != buffers_.end()) return it->second.slot;
  const ReductionSpec* spec = nullptr;
  for (const ReductionSpec& s : specs_) {
    if (s.name == name) spec = &s;
  }
  if (spec == nullptr) {
    std::string declared;
    for (const ReductionSpec& s : specs_) declared += (declared.empty() ? "" : ", ") + s.name;
    throw KernelError("reduction '" + std::string(name) + "' is not declared in the job file (" +
                      (declared.empty() ? std::string("it has no [[reduce]]") : "declared: " + declared) + ")");
  }
  Buffer buffer;
  buffer.spec = spec;
  buffer.data = DeviceBuffer<double>(device_, buffer_values(*spec));
  device::fill_identity(device_, buffer.data.data(), buffer.data.size(), spec->op);  // a mean's weight starts at 0 too
  buffer.slot = ReductionSlot{spec->name, spec->op, spec->size, buffer.data.data()};
  return buffers_.emplace(spec->name, std::move(buffer)).first->second.slot;
}

void AttemptReductions::add(std::string_view name, std::span<const double> values, double weight) {
  ReductionSlot& target = slot(name);
  if (values.size() != target.size) {
    throw KernelError("reduction '" + target.name + "' has " + std::to_string(target.size) + " values, not " +
                      std::to_string(values.size()));
  }
  std::vector<double> staged(values.begin(), values.end());
  if (target.op == "mean") {
    for (double& v : staged) v *= weight;  // a mean keeps weighted sums and the total weight
    staged.push_back(weight);
  }
  DeviceBuffer<double> incoming(device_, staged.size());
  device_.copy_to_device(incoming.data(), staged.data(), staged.size() * sizeof(double));
  device::combine_into(device_, target.data, incoming.data(), staged.size(), target.op);
  device_.synchronize();
}

WorkerReductions::WorkerReductions(fastgpu::Device& device, std::vector<ReductionSpec> specs)
    : device_(device), specs_(std::move(specs)) {
  for (const ReductionSpec& spec : specs_) {
    totals_.push_back({spec.name, spec.op, std::vector<double>(spec.size, device::reduction_identity(spec.op)), 0, 0});
  }
}

void WorkerReductions::add(const AttemptReductions& attempt) {
  for (std::size_t i = 0; i < specs_.size(); ++i) {
    auto it = attempt.buffers_.find(specs_[i].name);
    if (it == attempt.buffers_.end()) continue;
    ReductionValue part{specs_[i].name, specs_[i].op, std::vector<double>(it->second.data.size()), 0, 1};
    device_.copy_to_host(part.values.data(), it->second.data.data(), it->second.data.bytes());
    if (specs_[i].op == "mean") {
      part.weight = part.values.back();
      part.values.pop_back();
    }
    device::add_reduction(totals_[i], part);
  }
}

std::vector<ReductionValue> WorkerReductions::combine(comm::Collectives& collectives) {
  std::vector<ReductionValue> out = totals_;
  for (ReductionValue& value : out) {
    // Staged into one device buffer (a mean's weight last), so NCCL combines in device memory.
    std::vector<double> host = value.values;
    if (value.op == "mean") host.push_back(value.weight);
    DeviceBuffer<double> buffer(device_, host.size());
    device_.copy_to_device(buffer.data(), host.data(), buffer.bytes());
    all_reduce_device(collectives, device_, buffer.data(), buffer.size(), collective_op(value.op));
    device_.copy_to_host(host.data(), buffer.data(), buffer.bytes());
    if (value.op == "mean") {
      value.weight = host.back();
      host.pop_back();
    }
    value.values = std::move(host);
  }
  // The contribution counts travel as one more reduction, in host memory for every backend but NCCL.
  if (!out.empty()) {
    std::vector<double> counts;
    for (const ReductionValue& value : totals_) counts.push_back(static_cast<double>(value.contributions));
    DeviceBuffer<double> buffer(device_, counts.size());
    device_.copy_to_device(buffer.data(), counts.data(), buffer.bytes());
    all_reduce_device(collectives, device_, buffer.data(), buffer.size(), fastgpu::ReduceOp::sum);
    device_.copy_to_host(counts.data(), buffer.data(), buffer.bytes());
    for (std::size_t i = 0; i < out.size(); ++i) out[i].contributions = static_cast<std::int64_t>(counts[i]);
  }
  return out;
}

}  // namespace fastgpu::worker
