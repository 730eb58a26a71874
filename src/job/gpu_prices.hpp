// Which of a job file's prices per GPU model ([job.gpu_hour_prices]) a GPU is charged at.
#pragma once

#include <string_view>
#include <vector>

#include "fastgpu/job_spec.hpp"

namespace fastgpu::job {

/// The listed model that `gpu_name` (as recorded in /workers) is one of: the longest listed name
/// found in it, ignoring case, so "A100 80GB" beats "A100" for "NVIDIA A100 80GB PCIe"; among
/// equally long ones the first listed. nullptr when none is (a CPU slot's empty name never is).
const GpuModelPrice* find_model_price(const std::vector<GpuModelPrice>& prices, std::string_view gpu_name);

}  // namespace fastgpu::job
