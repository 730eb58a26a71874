#include "app/gpu_cost.hpp"

#include <algorithm>
#include <utility>

#include "job/gpu_prices.hpp"

namespace fastgpu::app {
namespace {

std::string gpu_label(const WorkerRecord& worker) {
  if (!worker.gpu_name.empty()) return worker.gpu_name;
  return worker.device == "cpu" ? "CPU slot" : "unnamed GPU";
}

void add_worker(ModelCost& group, const WorkerRecord& worker, double busy_s, double makespan_s) {
  ++group.workers;
  group.gpu_hours += makespan_s / 3600;
  group.busy_gpu_hours += busy_s / 3600;
  const std::string label = gpu_label(worker);
  if (std::find(group.gpu_names.begin(), group.gpu_names.end(), label) == group.gpu_names.end()) {
    group.gpu_names.push_back(label);
  }
}

}  // namespace

CostSummary compute_cost(const std::vector<WorkerRecord>& workers, const std::vector<double>& busy_s,
                         double makespan_s, const GpuPrices& prices) {
  CostSummary c;
  c.workers = workers.size();
  c.price_per_gpu_hour = prices.default_price;
  c.model_prices = prices.models;
  c.price_from = prices.from;

  // One group per listed model (in file order), the last for every worker of none.
  std::vector<ModelCost> groups(prices.models.size() + 1);
  for (std::size_t m = 0; m < prices.models.size(); ++m) {
    groups[m].model = prices.models[m].model;
    groups[m].price = prices.models[m].price;
  }
  groups.back().price = prices.default_price;
  for (std::size_t i = 0; i < workers.size(); ++i) {
    const GpuModelPrice* listed = job::find_model_price(prices.models, workers[i].gpu_name);
    ModelCost& group = listed ? groups[static_cast<std::size_t>(listed - prices.models.data())] : groups.back();
    add_worker(group, workers[i], busy_s.at(i), makespan_s);
  }

  double cost = 0, idle_cost = 0;
  bool all_priced = true;
  for (ModelCost& group : groups) {
    if (group.workers == 0) continue;
    group.idle_gpu_hours = std::max(0.0, group.gpu_hours - group.busy_gpu_hours);
    c.gpu_hours += group.gpu_hours;
    c.busy_gpu_hours += group.busy_gpu_hours;
    if (group.price) {
      group.cost = *group.price * group.gpu_hours;
      group.idle_cost = *group.price * group.idle_gpu_hours;
      cost += *group.cost;
      idle_cost += *group.idle_cost;
    } else {
      all_priced = false;
    }
    c.by_model.push_back(std::move(group));
  }
  c.idle_gpu_hours = std::max(0.0, c.gpu_hours - c.busy_gpu_hours);
  if (all_priced && !prices.from.empty()) {
    c.cost = cost;
    c.idle_cost = idle_cost;
  }
  return c;
}

}  // namespace fastgpu::app
