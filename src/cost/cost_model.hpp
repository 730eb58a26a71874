// Predicts the run time of a subtask on a worker, learned online from finished attempts:
// per task class a robust fit t = a + b * cost, per worker a speed factor, both robust to
// single spikes and quick to notice a worker that slows down.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "cost/cost_line.hpp"
#include "cost/ring_buffer.hpp"
#include "cost/robust_stats.hpp"
#include "fastgpu/cost_model.hpp"

namespace fastgpu::cost {

struct CostModelConfig {
  int window = 32;        ///< recent samples kept per worker (and at least this many per class)
  double decay = 0.75;    ///< weight of a sample relative to the next newer one (worker factor)
  double prior_seconds_per_cost = 1.0;  ///< before any sample and without history
  /// Recent samples kept per class: a class's line is shared by every worker and changes rarely
  /// (speed changes go to the worker factors), so it can afford a longer memory; the intercept, an
  /// extrapolation to cost 0, needs it. The larger of this and `window` is used.
  int class_window = 128;
};

/**
 * Model: seconds = f_w * (a_c + b_c * cost), for worker w and task class c; the estimators are
 * described at the top of cost_model.cpp.
 *
 * - Class line (a_c, b_c): Theil–Sen fit over the class's last `window` samples of seconds / f_w;
 *   beyond the largest cost among them, proportional to cost (CostLine::reach).
 * - Worker factor f_w: robust medians of log(seconds / line(cost)) over the worker's last `window`
 *   samples, a calm one over the whole window and a quick one (weights 1, decay, decay^2, ...)
 *   that takes over when the worker's speed changes. A single spike does not move it; three slow
 *   samples in a row do (with decay 0.75). Before its first samples: its history factor, else the
 *   median factor of the workers with samples, else 1.
 * - sigma_log: 1.4826 * the MAD of those log-ratios about the factor (over the window).
 * - The median worker is kept near factor 1 (within 10%) by re-gauging, which changes no prediction.
 *
 * Not thread-safe; predict() is const and allocation-free, so concurrent predict() calls are fine
 * while nothing calls a non-const member.
 */
class CostModel {
 public:
  explicit CostModel(CostModelConfig config = {});

  /// Interns a task class name ("command", a kernel name); ids are small dense integers.
  int class_id(const std::string& task_class);
  /// Declares a worker; its factor starts from history (same host and device, else same rank)
  /// or from the other workers' median.
  void add_worker(int rank, const std::string& host, const std::string& device);
  /// Starts from an earlier run's model (--history): class fits and per-worker factors.
  void seed(const CostModelSnapshot& history);

  /// O(1): no allocation, no search. Unknown workers get the median factor.
  Prediction predict(int worker_rank, int class_id, double cost) const noexcept;
  /// predict() of a subtask whose class line gives 1 s: the worker's factor, spread and samples.
  /// Every prediction for the worker is this scaled by the line, so it orders workers for any subtask.
  Prediction per_unit(int worker_rank) const noexcept;
  /// The worker's speed factor (seconds per second of a factor-1 worker): its own, else its
  /// history's, else the median of the others' (also for unknown ranks). O(1).
  double factor(int worker_rank) const noexcept;
  /// The class's line t = a + b * cost on a factor-1 worker (the prior line for unknown ids). O(1).
  CostLine line(int class_id) const noexcept;
  /// Whether the worker's speed rests on evidence: history from an earlier run, or at least
  /// `min_samples` finished attempts in this one.
  bool speed_known(int worker_rank, int min_samples) const noexcept;
  /// The median sigma_log of the workers with samples: how far a prediction typically is off on a
  /// worker whose speed is known (without the spread between workers a borrowed prediction has).
  double typical_sigma() const noexcept { return typical_sigma_; }
  /// How much slower than the median a worker never seen may be, as the sigma of a log: half the
  /// gap to the slowest worker with at least two samples (two sigmas reach it), once there are
  /// kSpreadPeers such workers; negative before (no evidence yet). A pool of equal GPUs has 0.
  double slow_spread() const noexcept { return slow_spread_; }
  static constexpr int kSpreadPeers = 8;
  /// Learns from one finished (successful) attempt.
  void observe(int worker_rank, int class_id, double cost, double seconds);

  CostModelSnapshot snapshot() const;

  /// Ranks above this are refused (std::out_of_range): workers are indexed by rank.
  static constexpr int kMaxRank = 1 << 22;

 private:
  /** @brief What predict() reads for a worker: kept apart from the samples for locality. */
  struct Estimate {
    double factor = 1;
    double sigma_log = 0;
    std::int32_t samples = 0;  // this run's samples behind it
    bool borrowed = true;      // no samples and no history: predict() uses borrowed_
  };
  struct WorkerSample {
    int class_id = 0;
    double cost = 0;
    double seconds = 0;
  };
  struct WorkerState {
    bool known = false;
    std::string host;
    std::string device;
    RingBuffer<WorkerSample> window;
    std::int64_t observed = 0;
    double noise = 0;  // sigma of its log-ratios, from successive differences, when last judged
    bool has_history = false;
    double history_factor = 1;
    double history_sigma = 0;
    std::int64_t history_samples = 0;
  };
  struct ClassState {
    std::string name;
    RingBuffer<CostSample> window;
    std::int64_t observed = 0;
    bool has_history = false;
    CostLine history;
    std::int64_t history_samples = 0;
    CostLine at_refresh;  // the line when the workers' factors were last all recomputed
    double mean_cost = 1;  // of the window, at the last refit
  };

  bool ensure_worker(int rank);  // true when the rank was not known before
  void match_history(int rank);
  void refit_class(int class_id);
  void refresh_worker(int rank);
  void refresh_all_workers();
  void refresh_borrowed();
  void regauge(double factor);
  double current_factor(int rank) const;

  CostModelConfig config_;
  CostLine prior_line_;
  // Hot: read by predict().
  std::vector<CostLine> lines_;     // by class id
  std::vector<Estimate> estimates_;  // by rank
  Estimate borrowed_;                // workers without samples or history, and unknown ranks
  double typical_sigma_ = 0;
  double slow_spread_ = -1;
  // Cold: the samples and what they were learned from.
  std::vector<ClassState> classes_;
  std::unordered_map<std::string, int> class_ids_;
  std::vector<WorkerState> workers_;
  std::vector<CostWorkerParams> history_workers_;
  double history_gauge_ = 1;  // history factors times this are in this model's unit
  int sampled_workers_ = 0;  // workers with samples
  int observes_since_borrowed_ = 0;
  int observes_since_refresh_all_ = 0;
  // Reused storage, so observe() does not allocate once warm.
  std::vector<WeightedValue> weighted_;
  std::vector<WeightedValue> by_value_;  // refresh_worker(): values with their ages as weights
  std::vector<double> age_weights_;
  std::vector<double> values_;
  std::vector<double> ratios_;
  std::vector<double> smoothed_;
  std::vector<double> sigmas_;
  std::vector<CostSample> class_samples_;
  CostLineScratch line_scratch_;
};

}  // namespace fastgpu::cost
