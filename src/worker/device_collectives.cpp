#include "worker/device_collectives.hpp"

#include <string_view>
#include <vector>

namespace fastgpu::worker {
namespace {

bool takes_device_memory(const comm::Collectives& collectives) {
  return std::string_view(collectives.backend()) == "nccl";
}

}  // namespace

void all_reduce_device(comm::Collectives& collectives, fastgpu::Device& device, double* data, std::size_t count,
                       fastgpu::ReduceOp op) {
  if (takes_device_memory(collectives)) {
    collectives.all_reduce(data, count, op);
    return;
  }
  std::vector<double> host(count);
  device.copy_to_host(host.data(), data, count * sizeof(double));
  collectives.all_reduce(host.data(), count, op);
  device.copy_to_device(data, host.data(), count * sizeof(double));
}

void broadcast_device(comm::Collectives& collectives, fastgpu::Device& device, void* data, std::size_t bytes) {
  if (takes_device_memory(collectives)) {
    collectives.broadcast(data, bytes, 0);
    return;
  }
  std::vector<std::byte> host(bytes);
  if (collectives.rank() == 0) device.copy_to_host(host.data(), data, bytes);
  collectives.broadcast(host.data(), bytes, 0);
  if (collectives.rank() != 0) device.copy_to_device(data, host.data(), bytes);
}

}  // namespace fastgpu::worker
