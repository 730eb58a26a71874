#include "kernels/builtin_kernels.hpp"

#include "kernels/kernel_factories.hpp"

namespace fastgpu::kernels {

std::unique_ptr<fastgpu::Kernel> make_builtin_kernel(std::string_view name) {
  if (name == "montecarlo") return make_montecarlo_kernel();
  if (name == "gemm") return make_gemm_kernel();
  if (name == "dp_train") return make_dp_train_kernel();
  return nullptr;
}

}  // namespace fastgpu::kernels
