// The cost part of `fastgpu inspect`: lines for the terminal and the "cost" object of --json.
#pragma once

#include <ostream>
#include <string>

#include <nlohmann/json.hpp>

#include "app/gpu_cost.hpp"

namespace fastgpu::app {

/// Hours and money: a few significant digits whatever the size ("0.0123", "4.50", "1234").
std::string amount(double value);

/// The GPU-hours line and the cost, with a line per GPU model when the job prices models.
/// `gpu_unit` false (only CPU slots): "worker-hours" instead of "GPU-hours".
void print_cost(std::ostream& out, const CostSummary& cost, bool gpu_unit);

nlohmann::json cost_json(const CostSummary& cost);

}  // namespace fastgpu::app
