#include "job/gpu_prices.hpp"

#include <string>

#include "job/suggest.hpp"

namespace fastgpu::job {

const GpuModelPrice* find_model_price(const std::vector<GpuModelPrice>& prices, std::string_view gpu_name) {
  const std::string name = lowercase(gpu_name);
  const GpuModelPrice* best = nullptr;
  for (const GpuModelPrice& price : prices) {
    if (name.find(lowercase(price.model)) == std::string::npos) continue;
    if (best == nullptr || price.model.size() > best->model.size()) best = &price;
  }
  return best;
}

}  // namespace fastgpu::job
