#include "worker/shared_inputs.hpp"

#include "fastgpu/error.hpp"
#include "worker/device_collectives.hpp"

namespace fastgpu::worker {

SharedInputs load_shared_inputs(const std::vector<InputSpec>& inputs,
                                const std::function<std::vector<double>(const InputSpec&)>& read,
                                comm::Collectives& collectives, fastgpu::Device& device) {
  SharedInputs loaded;
  for (const InputSpec& input : inputs) {
    std::vector<double> values;
    std::string failure;
    double header[2] = {1, 0};  // read ok, number of values
    if (collectives.rank() == 0) {
      try {
        values = read(input);
        header[1] = static_cast<double>(values.size());
      } catch (const std::exception& e) {
        failure = e.what();
        header[0] = 0;
      }
    }
    fastgpu::DeviceBuffer<double> header_buffer(device, 2);
    if (collectives.rank() == 0) device.copy_to_device(header_buffer.data(), header, sizeof header);
    broadcast_device(collectives, device, header_buffer.data(), sizeof header);
    device.copy_to_host(header, header_buffer.data(), sizeof header);
    if (header[0] == 0) {
      throw Error(failure.empty() ? "input '" + input.name + "': the first worker could not read it" : failure);
    }
    fastgpu::DeviceBuffer<double> buffer(device, static_cast<std::size_t>(header[1]));
    if (collectives.rank() == 0) device.copy_to_device(buffer.data(), values.data(), buffer.bytes());
    broadcast_device(collectives, device, buffer.data(), buffer.bytes());
    loaded.emplace(input.name, std::move(buffer));
  }
  return loaded;
}

}  // namespace fastgpu::worker
