#include "app/job_reductions.hpp"

#include <algorithm>

#include "device/device_factory.hpp"

namespace fastgpu::app {
namespace {

const ReductionValue* find(const std::vector<ReductionValue>& values, const ReductionSpec& spec) {
  for (const ReductionValue& v : values) {
    if (v.name == spec.name && v.op == spec.op && v.values.size() == spec.size) return &v;
  }
  return nullptr;
}

void add_into(ReductionValue& total, const ReductionValue& part) {
  for (std::size_t i = 0; i < total.values.size(); ++i) {
    double& t = total.values[i];
    const double p = part.values[i];
    t = total.op == "min" ? std::min(t, p) : total.op == "max" ? std::max(t, p) : t + p;
  }
  total.weight += part.weight;
  total.contributions += part.contributions;
}

}  // namespace

std::vector<ReductionValue> merge_reductions(const std::vector<ReductionSpec>& specs,
                                             const std::vector<ReductionValue>& earlier,
                                             const std::vector<ReductionValue>& now) {
  std::vector<ReductionValue> out;
  for (const ReductionSpec& spec : specs) {
    ReductionValue total{spec.name, spec.op, std::vector<double>(spec.size, device::reduction_identity(spec.op)), 0, 0};
    if (const ReductionValue* e = find(earlier, spec)) add_into(total, *e);
    if (const ReductionValue* n = find(now, spec)) add_into(total, *n);
    out.push_back(std::move(total));
  }
  return out;
}

}  // namespace fastgpu::app
