/** @file The cost model: how long will this subtask take on that worker? Learned online. */
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace fastgpu {

/** @brief A predicted run time and how sure the model is of it. */
struct Prediction {
  double seconds = 0;    ///< the robust central estimate (median-like)
  double sigma_log = 0;  ///< spread of log(actual / predicted) for this worker; 0 = unknown
  int samples = 0;       ///< finished attempts behind the estimate; 0 = priors only
  /** @brief A quantile of the predicted time: z = 0 the median, z = 1.64 about the 95th percentile. */
  double quantile(double z) const { return seconds * std::exp(z * sigma_log); }
};

/** @brief t = intercept_s + seconds_per_cost * cost on a worker of speed factor 1. */
struct CostClassParams {
  std::string task_class;  ///< "command" or the kernel's name
  double intercept_s = 0;
  double seconds_per_cost = 1;
  std::int32_t samples = 0;
};

/** @brief How much slower than the class fit a worker runs (factor 2 = twice as long). */
struct CostWorkerParams {
  std::int32_t rank = -1;
  std::string host;
  std::string device;
  double speed_factor = 1;
  double sigma_log = 0;
  std::int32_t samples = 0;
};

/** @brief Everything the model has learned; stored in /model and read back by --history. */
struct CostModelSnapshot {
  std::vector<CostClassParams> classes;
  std::vector<CostWorkerParams> workers;
};

}  // namespace fastgpu
