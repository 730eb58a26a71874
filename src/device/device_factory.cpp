// Picks the backend from the binding and dispatches the reduction helpers on the device's kind.
#include "device/device_factory.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <string>

#include "fastgpu/config.hpp"
#include "fastgpu/error.hpp"

#if FASTGPU_HAVE_CUDA
#include "device/cuda_device.hpp"
#endif

namespace fastgpu::device {
namespace {

enum class Op { sum, min, max };

Op parse_op(std::string_view op) {
  if (op == "sum" || op == "mean") return Op::sum;  // a mean keeps weighted sums and their weight
  if (op == "min") return Op::min;
  if (op == "max") return Op::max;
  throw DeviceError("unknown reduction op '" + std::string(op) + "' (sum, min, max or mean)");
}

void combine_on_host(Op op, double* dst, const double* src, std::size_t count) {
  for (std::size_t i = 0; i < count; ++i) {
    switch (op) {
      case Op::sum: dst[i] += src[i]; break;
      case Op::min: dst[i] = std::fmin(dst[i], src[i]); break;  // fmin/fmax, as on the GPU
      case Op::max: dst[i] = std::fmax(dst[i], src[i]); break;
    }
  }
}

double identity_of(Op op) {
  switch (op) {
    case Op::sum: return 0.0;
    case Op::min: return std::numeric_limits<double>::infinity();
    case Op::max: return -std::numeric_limits<double>::infinity();
  }
  return 0.0;
}

#if FASTGPU_HAVE_CUDA
/// The runtime ordinal of "cuda:<id>": <id> is a CUDA_VISIBLE_DEVICES entry (an index or a UUID),
/// and the runtime numbers the visible GPUs 0..n-1 in that list's order.
int cuda_ordinal(const std::string& id) {
  const std::vector<std::string> visible = visible_gpus();
  if (const auto it = std::find(visible.begin(), visible.end(), id); it != visible.end()) {
    return static_cast<int>(it - visible.begin());
  }
  int ordinal = -1;
  const auto [end, error] = std::from_chars(id.data(), id.data() + id.size(), ordinal);
  if (error != std::errc() || end != id.data() + id.size() || ordinal < 0) {
    throw DeviceError("device 'cuda:" + id + "' is not among the GPUs this process sees");
  }
  return ordinal;
}
#endif

}  // namespace

std::unique_ptr<fastgpu::Device> make_device(const DeviceBinding& binding) {
  if (binding.device == "cpu") return make_cpu_device();
  constexpr std::string_view kCuda = "cuda:";
  if (!binding.device.starts_with(kCuda)) {
    throw DeviceError("unknown device '" + binding.device + "' (cpu or cuda:<id>)");
  }
#if FASTGPU_HAVE_CUDA
  return make_cuda_device(cuda_ordinal(binding.device.substr(kCuda.size())));
#else
  throw DeviceError("device '" + binding.device + "' needs CUDA, and this build of FastGPU has none");
#endif
}

double reduction_identity(std::string_view op) { return identity_of(parse_op(op)); }

void fill_identity([[maybe_unused]] fastgpu::Device& device, double* data, std::size_t count, std::string_view op) {
  const double identity = reduction_identity(op);
#if FASTGPU_HAVE_CUDA
  if (device.kind() == DeviceKind::cuda) return cuda_fill(data, count, identity, device.stream());
#endif
  std::fill(data, data + count, identity);
}

void combine_into([[maybe_unused]] fastgpu::Device& device, double* dst, const double* src, std::size_t count,
                  std::string_view op) {
  const Op parsed = parse_op(op);
#if FASTGPU_HAVE_CUDA
  if (device.kind() == DeviceKind::cuda) {
    constexpr CombineOp kCombine[] = {CombineOp::sum, CombineOp::min, CombineOp::max};
    return cuda_combine(dst, src, count, kCombine[static_cast<int>(parsed)], device.stream());
  }
#endif
  combine_on_host(parsed, dst, src, count);
}

void add_reduction(ReductionValue& total, const ReductionValue& part) {
  combine_on_host(parse_op(total.op), total.values.data(), part.values.data(),
                  std::min(total.values.size(), part.values.size()));
  total.weight += part.weight;
  total.contributions += part.contributions;
}

}  // namespace fastgpu::device
