#include "app/job_reductions.hpp"

#include "device/device_factory.hpp"

namespace fastgpu::app {
namespace {

bool matches(const ReductionValue& value, const ReductionSpec& spec) {
  return value.name == spec.name && value.op == spec.op && value.values.size() == spec.size;
}

}  // namespace

std::vector<ReductionValue> merge_reductions(const std::vector<ReductionSpec>& specs,
                                             const std::vector<ReductionValue>& earlier,
                                             const std::vector<ReductionValue>& now) {
  std::vector<ReductionValue> out;
  for (const ReductionSpec& spec : specs) {
    ReductionValue total{spec.name, spec.op, std::vector<double>(spec.size, device::reduction_identity(spec.op)), 0, 0};
    // `now` holds one value per combine: the workers' together, and each retired worker's own.
    for (const auto* values : {&earlier, &now}) {
      for (const ReductionValue& value : *values) {
        if (matches(value, spec)) device::add_reduction(total, value);
      }
    }
    out.push_back(std::move(total));
  }
  return out;
}

}  // namespace fastgpu::app
