// Helpers on parameter values beyond the public param_to_string / params_json.
#pragma once

#include <string>
#include <vector>

#include "fastgpu/job_spec.hpp"

namespace fastgpu::job {

/// A JSON object of the parameters, in order: {"lr":0.1,"seed":3}.
std::string params_json(const std::vector<Param>& params);

}  // namespace fastgpu::job
