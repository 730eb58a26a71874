#include "app/cost_report.hpp"

#include <cmath>
#include <cstdio>

namespace fastgpu::app {
namespace {

std::string percent(double part, double whole) {
  char text[32];
  std::snprintf(text, sizeof text, "%.0f%%", whole > 0 ? 100 * part / whole : 0);
  return text;
}

std::string workers_text(std::size_t n) { return std::to_string(n) + (n == 1 ? " worker" : " workers"); }

nlohmann::json optional_number(const std::optional<double>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

std::string joined(const std::vector<std::string>& names) {
  std::string text;
  for (const auto& name : names) text += (text.empty() ? "" : ", ") + name;
  return text;
}

// The GPU names no price applies to: those of the group charged at a missing default price.
std::string unpriced_names(const CostSummary& c) {
  std::vector<std::string> names;
  for (const ModelCost& group : c.by_model) {
    if (!group.price) names.insert(names.end(), group.gpu_names.begin(), group.gpu_names.end());
  }
  return joined(names);
}

}  // namespace

std::string amount(double value) {
  if (value == 0) return "0";
  const char* pattern = std::fabs(value) >= 100 ? "%.0f" : std::fabs(value) >= 1 ? "%.2f" : "%.3g";
  char text[64];
  std::snprintf(text, sizeof text, pattern, value);
  return text;
}

void print_cost(std::ostream& out, const CostSummary& c, bool gpu_unit) {
  const char* hours = gpu_unit ? "GPU-hours" : "worker-hours";
  out << (gpu_unit ? "GPU-hours" : "worker-hours (CPU slots, no GPU)") << ": " << amount(c.gpu_hours) << " ("
      << workers_text(c.workers) << " x makespan), busy " << amount(c.busy_gpu_hours) << " ("
      << percent(c.busy_gpu_hours, c.gpu_hours) << "), idle " << amount(c.idle_gpu_hours) << "\n";
  const std::string from = c.price_from == "option" ? "--gpu-hour-price" : "the job file";
  if (c.price_from.empty()) {
    out << "cost: no price given ([job] gpu_hour_price or [job.gpu_hour_prices] in the job file, or inspect "
           "--gpu-hour-price PRICE)\n";
    return;
  }
  if (c.model_prices.empty()) {  // one price for every worker
    out << "cost: " << amount(*c.cost) << " at " << amount(*c.price_per_gpu_hour) << " per "
        << (gpu_unit ? "GPU-hour" : "worker-hour") << " (from " << from << "), of which idle " << amount(*c.idle_cost)
        << "\n";
    return;
  }
  if (c.cost) {
    out << "cost: " << amount(*c.cost) << " (from " << from << "), of which idle " << amount(*c.idle_cost)
        << "; by GPU model:\n";
  } else {
    out << "cost: unknown: no price for " << unpriced_names(c)
        << " (not of a model in [job.gpu_hour_prices], and no [job] gpu_hour_price for the others); by GPU model:\n";
  }
  for (const ModelCost& group : c.by_model) {
    out << "  " << (group.model.empty() ? "other" : group.model) << " ("
        << workers_text(group.workers) << ": " << joined(group.gpu_names) << "): " << amount(group.gpu_hours) << " "
        << hours << ", idle " << amount(group.idle_gpu_hours);
    if (group.price) {
      out << ", at " << amount(*group.price) << " = " << amount(*group.cost) << "\n";
    } else {
      out << ", no price\n";
    }
  }
}

nlohmann::json cost_json(const CostSummary& c) {
  nlohmann::json prices = nlohmann::json::object();
  for (const GpuModelPrice& p : c.model_prices) prices[p.model] = p.price;
  nlohmann::json by_model = nlohmann::json::array();
  for (const ModelCost& group : c.by_model) {
    by_model.push_back({{"model", group.model.empty() ? nlohmann::json(nullptr) : nlohmann::json(group.model)},
                        {"gpu_names", group.gpu_names},
                        {"workers", group.workers},
                        {"gpu_hours", group.gpu_hours},
                        {"busy_gpu_hours", group.busy_gpu_hours},
                        {"idle_gpu_hours", group.idle_gpu_hours},
                        {"price_per_gpu_hour", optional_number(group.price)},
                        {"cost", optional_number(group.cost)},
                        {"idle_cost", optional_number(group.idle_cost)}});
  }
  return {{"workers", c.workers},
          {"gpu_hours", c.gpu_hours},
          {"busy_gpu_hours", c.busy_gpu_hours},
          {"idle_gpu_hours", c.idle_gpu_hours},
          {"price_per_gpu_hour", optional_number(c.price_per_gpu_hour)},
          {"prices_by_model", prices},
          {"price_from", c.price_from.empty() ? nlohmann::json(nullptr) : nlohmann::json(c.price_from)},
          {"cost", optional_number(c.cost)},
          {"idle_cost", optional_number(c.idle_cost)},
          {"by_model", by_model}};
}

}  // namespace fastgpu::app
