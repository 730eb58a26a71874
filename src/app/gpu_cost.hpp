// What a run's GPUs cost: every worker (one GPU, or one CPU slot) is billed for the whole
// makespan, at the price of its GPU model ([job.gpu_hour_prices]) or the default price
// ([job] gpu_hour_price). `inspect` reports it (docs/inspect.md, "Cost").
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "fastgpu/job_spec.hpp"
#include "fastgpu/results.hpp"

namespace fastgpu::app {

/// The prices a run is charged at.
struct GpuPrices {
  std::optional<double> default_price;   ///< GPUs of no listed model, and CPU slots
  std::vector<GpuModelPrice> models;     ///< per GPU model (job/gpu_prices.hpp says which applies)
  std::string from;                      ///< "option" (--gpu-hour-price), "job file" or "" (no price)
};

/// The workers charged at one price: those of one listed GPU model, or all the others.
struct ModelCost {
  std::string model;                   ///< the name listed in the job file; "" for the default price
  std::vector<std::string> gpu_names;  ///< the workers' GPU names, each once ("CPU slot", "unnamed GPU" without one)
  std::size_t workers = 0;
  double gpu_hours = 0;       ///< workers * makespan / 3600
  double busy_gpu_hours = 0;  ///< their attempts' durations / 3600
  double idle_gpu_hours = 0;  ///< gpu_hours - busy_gpu_hours
  std::optional<double> price;  ///< nullopt: no price applies to these GPUs
  std::optional<double> cost;       ///< price * gpu_hours
  std::optional<double> idle_cost;  ///< price * idle_gpu_hours
};

struct CostSummary {
  std::size_t workers = 0;
  double gpu_hours = 0;       ///< workers * makespan / 3600
  double busy_gpu_hours = 0;  ///< sum of the attempts' durations / 3600
  double idle_gpu_hours = 0;  ///< gpu_hours - busy_gpu_hours
  std::optional<double> price_per_gpu_hour;  ///< the default price
  std::vector<GpuModelPrice> model_prices;   ///< the prices per model that applied
  std::string price_from;                    ///< as GpuPrices::from
  /// The listed models that some worker has, in file order, then the workers of no listed model.
  std::vector<ModelCost> by_model;
  std::optional<double> cost;       ///< sum of by_model's costs; nullopt when any of them has no price
  std::optional<double> idle_cost;  ///< likewise for the idle hours
};

/// The bill for `workers`, where `busy_s[i]` is how long workers[i] ran attempts.
CostSummary compute_cost(const std::vector<WorkerRecord>& workers, const std::vector<double>& busy_s,
                         double makespan_s, const GpuPrices& prices);

}  // namespace fastgpu::app
