// The cost model: seconds = f_w * (a_c + b_c * cost) for worker w and task class c.
//
// Per class, a window of (cost, seconds / f_w) samples (class_window, 128 by default), f_w being
// the worker's factor just before the sample, and a Theil–Sen line through them: dividing by f_w
// lets every worker teach the class its shape (a, b).
//
// Per worker, a window of raw (class, cost, seconds) samples. Its factor is recomputed from them
// against the current lines: the log-ratios log(seconds / line(cost)), newest first, are smoothed
// by a running median of three (a lone spike vanishes; three slow samples in a row stay three slow
// values), then two weighted medians are taken, each with the worker's prior (history factor, else
// the others' median) as two pseudo-samples older than the oldest, so that a new worker's first
// sample (often a warm-up: CUDA context, JIT) cannot set its factor alone:
// - short: weights 1, decay, decay^2, ... (the window weighs about 1 / (1 - decay) = 4 with decay
//   0.75, so three slow values, 1 + .75 + .5625 > 2, carry it);
// - long: every sample of the window alike, calm.
// The long one is used unless the short one has moved away from it by more than 2 noise sigmas
// (the noise judged from successive differences, which a change of level does not inflate), the
// short one beyond 4 sigmas, a blend in between, so predictions do not jump. Beyond 4 sigmas the
// worker has changed: its samples before the run of three that showed it are dropped, so the
// calm estimate restarts from the new speed instead of dragging the old one along.
//
// Only the product f_w * line is determined by the data: factors and lines could drift against
// each other. When the median factor of the workers with samples leaves [1/1.1, 1.1], the model
// is re-gauged: every factor divided by it, every line and class sample multiplied by it, which
// changes no prediction and keeps the median worker near 1, so /model reads naturally.
//
// When a class line has moved by more than 5% since the factors were last computed against it,
// every worker's factor is recomputed; otherwise only the observing worker's. observe() costs
// O(window log window), plus the class line's refit (Theil–Sen over at most 1024 pairs of the
// class_window samples; done every class_window / 32 samples once the window is that full), plus,
// amortized, O(8) for the others' median (recomputed every (workers with samples) / 8
// observations, and in pools of up to 64 workers at once when a worker gets its first sample or
// its factor moves by more than 10%) and O(8 * window log window) for refreshing every worker
// (at most every (workers with samples) / 8 observations).
#include "cost/cost_model.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace fastgpu::cost {

namespace {

/** @brief Times and line values are floored here before taking logs (noop subtasks take ~0 s). */
constexpr double kMinSeconds = 1e-6;
/** @brief Below this many own samples, a class with history keeps the history's shape. */
constexpr std::size_t kMinClassSamples = 3;
/** @brief A class line with n samples is refitted every n / this samples (every one up to this). */
constexpr std::size_t kRefitSpan = 32;
/** @brief |log| change of a class line that makes every worker's factor be recomputed. */
constexpr double kRefreshShift = 0.05;
/** @brief |log| change of one worker's factor that makes the others' median be recomputed at once. */
constexpr double kMedianShift = 0.1;
/** @brief Otherwise the median is recomputed every (workers with samples) / this observations. */
constexpr int kMedianAmortization = 8;
/** @brief Up to this many workers with samples, the median follows each one's first sample or big move at once. */
constexpr int kSmallPool = 64;
/** @brief |log| of the median factor beyond which the model is re-gauged (10%). */
const double kRegauge = std::log(1.1);
/**
 * @brief A worker's short-memory factor is trusted over its long-memory one once they differ by
 * more than this many noise sigmas (fully at twice that), and never below kMinSwitch.
 */
constexpr double kSwitchSigmas = 2.0;
constexpr double kMinSwitch = 0.01;
/** @brief Samples kept when a worker's speed has changed: the run of three that showed it. */
constexpr std::size_t kChangeRun = 3;
/** @brief Samples needed to judge a worker's noise on their own (and to detect a change). */
constexpr std::size_t kNoiseSamples = 8;

std::int32_t clamp32(std::int64_t n) {
  return static_cast<std::int32_t>(std::clamp<std::int64_t>(n, 0, std::numeric_limits<std::int32_t>::max()));
}

double log_ratio(double seconds, double predicted) {
  return std::log(std::max(seconds, kMinSeconds) / std::max(predicted, kMinSeconds));
}

bool finite_nonnegative(double x) { return std::isfinite(x) && x >= 0; }

CostLine scaled(const CostLine& line, double factor) {
  return CostLine{line.intercept * factor, line.slope * factor, line.reach};
}

}  // namespace

CostModel::CostModel(CostModelConfig config) : config_(config) {
  if (config_.window < 2) {
    throw std::invalid_argument("cost model: window must be at least 2, not " + std::to_string(config_.window));
  }
  if (!(config_.decay > 0 && config_.decay <= 1)) {
    throw std::invalid_argument("cost model: decay must be in (0, 1], not " + std::to_string(config_.decay));
  }
  if (!(std::isfinite(config_.prior_seconds_per_cost) && config_.prior_seconds_per_cost > 0)) {
    throw std::invalid_argument("cost model: prior_seconds_per_cost must be positive, not " +
                                std::to_string(config_.prior_seconds_per_cost));
  }
  prior_line_ = CostLine{0, config_.prior_seconds_per_cost};
  config_.class_window = std::max(config_.class_window, config_.window);
  const auto window = static_cast<std::size_t>(config_.window);
  const auto class_window = static_cast<std::size_t>(config_.class_window);
  weighted_.reserve(window + 2);
  by_value_.reserve(window + 2);
  age_weights_.reserve(window + 2);
  values_.reserve(window + 2);
  ratios_.reserve(window);
  smoothed_.reserve(window);
  class_samples_.reserve(class_window);
  line_scratch_.costs.reserve(class_window);
  line_scratch_.seconds.reserve(class_window);
  line_scratch_.values.reserve(class_window);
  line_scratch_.pairs.reserve(1024);
}

int CostModel::class_id(const std::string& task_class) {
  if (auto it = class_ids_.find(task_class); it != class_ids_.end()) return it->second;
  const int id = static_cast<int>(classes_.size());
  ClassState state;
  state.name = task_class;
  state.window = RingBuffer<CostSample>(static_cast<std::size_t>(config_.class_window));
  state.at_refresh = prior_line_;
  classes_.push_back(std::move(state));
  lines_.push_back(prior_line_);
  class_ids_.emplace(task_class, id);
  return id;
}

bool CostModel::ensure_worker(int rank) {
  if (rank < 0 || rank > kMaxRank) {
    throw std::out_of_range("cost model: worker rank " + std::to_string(rank) + " is out of range");
  }
  const auto index = static_cast<std::size_t>(rank);
  if (index >= workers_.size()) {
    const std::size_t old_size = workers_.size();
    workers_.resize(index + 1);
    estimates_.resize(index + 1);
    for (std::size_t i = old_size; i < workers_.size(); ++i) {
      workers_[i].window = RingBuffer<WorkerSample>(static_cast<std::size_t>(config_.window));
    }
  }
  WorkerState& w = workers_[index];
  if (w.known) return false;
  w.known = true;
  return true;
}

void CostModel::add_worker(int rank, const std::string& host, const std::string& device) {
  ensure_worker(rank);
  WorkerState& w = workers_[static_cast<std::size_t>(rank)];
  w.host = host;
  w.device = device;
  match_history(rank);
  refresh_worker(rank);
}

void CostModel::match_history(int rank) {
  WorkerState& w = workers_[static_cast<std::size_t>(rank)];
  const CostWorkerParams* match = nullptr;
  // The same GPU (host and device) is the best match; CPU slots ("cpu") all look alike, so for
  // them only the rank tells workers apart.
  for (const CostWorkerParams& h : history_workers_) {
    if (h.host == w.host && h.device == w.device && (h.rank == rank || w.device.rfind("cuda:", 0) == 0)) {
      match = &h;
      break;
    }
  }
  if (match == nullptr) {
    for (const CostWorkerParams& h : history_workers_) {
      if (h.rank == rank) {
        match = &h;
        break;
      }
    }
  }
  w.has_history = match != nullptr;
  w.history_factor = match != nullptr ? match->speed_factor * history_gauge_ : 1;
  w.history_sigma = match != nullptr ? match->sigma_log : 0;
  w.history_samples = match != nullptr ? match->samples : 0;
}

void CostModel::seed(const CostModelSnapshot& history) {
  // History factors and lines come in the history's gauge; lines are converted into this model's
  // gauge when seeded, factors when matched (history_gauge_ follows re-gauging).
  history_gauge_ = 1;
  for (const CostClassParams& p : history.classes) {
    if (p.samples <= 0 || !finite_nonnegative(p.intercept_s) || !finite_nonnegative(p.seconds_per_cost)) {
      continue;  // nothing learned (or nonsense): the job file's cost is as good a prior
    }
    const int id = class_id(p.task_class);
    ClassState& cls = classes_[static_cast<std::size_t>(id)];
    cls.has_history = true;
    cls.history = CostLine{p.intercept_s, p.seconds_per_cost};
    cls.history_samples = p.samples;
    refit_class(id);
    cls.at_refresh = lines_[static_cast<std::size_t>(id)];
  }
  history_workers_.clear();
  for (const CostWorkerParams& p : history.workers) {
    if (p.samples > 0 && std::isfinite(p.speed_factor) && p.speed_factor > 0 && finite_nonnegative(p.sigma_log)) {
      history_workers_.push_back(p);
    }
  }
  for (std::size_t rank = 0; rank < workers_.size(); ++rank) {
    if (!workers_[rank].known) continue;
    match_history(static_cast<int>(rank));
    refresh_worker(static_cast<int>(rank));
  }
  refresh_borrowed();
}

Prediction CostModel::predict(int worker_rank, int class_id, double cost) const noexcept {
  const CostLine& line = class_id >= 0 && static_cast<std::size_t>(class_id) < lines_.size()
                             ? lines_[static_cast<std::size_t>(class_id)]
                             : prior_line_;
  const double base = line.at(cost > 0 ? cost : 0.0);  // NaN and negative costs count as 0
  Prediction p = per_unit(worker_rank);
  p.seconds *= base;
  return p;
}

Prediction CostModel::per_unit(int worker_rank) const noexcept {
  const Estimate* e = &borrowed_;
  if (worker_rank >= 0 && static_cast<std::size_t>(worker_rank) < estimates_.size() &&
      !estimates_[static_cast<std::size_t>(worker_rank)].borrowed) {
    e = &estimates_[static_cast<std::size_t>(worker_rank)];
  }
  Prediction p;
  p.seconds = e->factor;
  p.sigma_log = e->sigma_log;
  p.samples = e->samples;
  return p;
}

double CostModel::factor(int worker_rank) const noexcept {
  if (worker_rank < 0 || static_cast<std::size_t>(worker_rank) >= estimates_.size()) return borrowed_.factor;
  return current_factor(worker_rank);
}

CostLine CostModel::line(int class_id) const noexcept {
  if (class_id < 0 || static_cast<std::size_t>(class_id) >= lines_.size()) return prior_line_;
  return lines_[static_cast<std::size_t>(class_id)];
}

bool CostModel::speed_known(int worker_rank, int min_samples) const noexcept {
  if (worker_rank < 0 || static_cast<std::size_t>(worker_rank) >= workers_.size()) return false;
  const WorkerState& w = workers_[static_cast<std::size_t>(worker_rank)];
  return w.known && (w.has_history || w.observed >= min_samples);
}

double CostModel::current_factor(int rank) const {
  const Estimate& e = estimates_[static_cast<std::size_t>(rank)];
  return e.borrowed ? borrowed_.factor : e.factor;
}

void CostModel::observe(int worker_rank, int class_id, double cost, double seconds) {
  if (class_id < 0 || static_cast<std::size_t>(class_id) >= classes_.size()) {
    throw std::out_of_range("cost model: unknown task class id " + std::to_string(class_id));
  }
  if (ensure_worker(worker_rank)) {  // never declared: matched by rank alone
    match_history(worker_rank);
    refresh_worker(worker_rank);
  }
  if (!std::isfinite(cost) || !finite_nonnegative(seconds)) return;  // nothing to learn from
  cost = std::max(cost, 0.0);
  const auto c = static_cast<std::size_t>(class_id);
  WorkerState& w = workers_[static_cast<std::size_t>(worker_rank)];

  const double factor_before = current_factor(worker_rank);
  ClassState& cls = classes_[c];
  cls.window.push(CostSample{cost, seconds / factor_before});
  ++cls.observed;
  // A line through n samples moves by about 1/n of its spread per sample: refitting every
  // n / kRefitSpan samples keeps observe() cheap without letting it lag.
  const auto refit_every = static_cast<std::int64_t>(std::max<std::size_t>(1, cls.window.size() / kRefitSpan));
  if (cls.observed % refit_every == 0) refit_class(class_id);

  const bool first = w.observed == 0;
  w.window.push(WorkerSample{class_id, cost, seconds});
  ++w.observed;
  if (first) ++sampled_workers_;

  // Judged at the window's mean cost, where a line is best determined (at the ends its
  // intercept and slope wobble against each other). In a big pool at most every
  // (workers with samples) / 8 observations, so that it stays O(8 workers) amortized.
  ++observes_since_refresh_all_;
  if (std::abs(log_ratio(lines_[c].at(cls.mean_cost), cls.at_refresh.at(cls.mean_cost))) > kRefreshShift &&
      observes_since_refresh_all_ >= std::max(1, sampled_workers_ / kMedianAmortization)) {
    observes_since_refresh_all_ = 0;
    cls.at_refresh = lines_[c];
    refresh_all_workers();
    refresh_borrowed();
    return;
  }
  refresh_worker(worker_rank);
  const double moved = std::abs(std::log(current_factor(worker_rank) / factor_before));
  ++observes_since_borrowed_;
  const bool small_pool = sampled_workers_ <= kSmallPool;  // where one worker moves the median
  if (((first || moved > kMedianShift) && small_pool) ||
      observes_since_borrowed_ >= std::max(1, sampled_workers_ / kMedianAmortization)) {
    refresh_borrowed();
  }
}

void CostModel::refit_class(int class_id) {
  const auto c = static_cast<std::size_t>(class_id);
  ClassState& cls = classes_[c];
  const std::size_t n = cls.window.size();
  double cost_sum = 0;
  for (std::size_t age = 0; age < n; ++age) cost_sum += cls.window.newest(age).cost;
  cls.mean_cost = n > 0 ? cost_sum / static_cast<double>(n) : 1.0;
  if (cls.has_history && n < kMinClassSamples) {
    // Too few samples for a line of their own: keep the history's shape, scaled by the median of
    // {1, 1, sample / history} (in logs), so one odd sample cannot move it.
    values_.assign(2, 0.0);
    for (std::size_t age = 0; age < n; ++age) {
      const CostSample& s = cls.window.newest(age);
      values_.push_back(log_ratio(s.seconds, cls.history.at(s.cost)));
    }
    lines_[c] = scaled(cls.history, std::exp(median(values_)));
    return;
  }
  class_samples_.clear();
  for (std::size_t age = 0; age < n; ++age) class_samples_.push_back(cls.window.newest(age));
  const double fallback_slope = cls.has_history ? cls.history.slope : prior_line_.slope;
  lines_[c] = fit_cost_line(class_samples_, fallback_slope, line_scratch_);
}

void CostModel::refresh_worker(int rank) {
  WorkerState& w = workers_[static_cast<std::size_t>(rank)];
  Estimate& e = estimates_[static_cast<std::size_t>(rank)];
  const std::size_t n = w.window.size();
  if (n == 0) {
    e = w.has_history ? Estimate{w.history_factor, w.history_sigma, 0, false} : Estimate{};
    return;
  }
  const double prior_log = std::log(w.has_history ? w.history_factor : borrowed_.factor);
  const double prior_sigma = w.has_history ? w.history_sigma : borrowed_.sigma_log;

  ratios_.clear();  // newest first
  for (std::size_t age = 0; age < n; ++age) {
    const WorkerSample& s = w.window.newest(age);
    ratios_.push_back(log_ratio(s.seconds, lines_[static_cast<std::size_t>(s.class_id)].at(s.cost)));
  }
  median_of_three(ratios_, smoothed_);

  // The two weighted medians of the same values (the window and the prior twice, older than the
  // oldest): sorted once, the entries' weights carrying their age until both weightings are made.
  const double prior_weight = std::pow(config_.decay, static_cast<double>(n));
  by_value_.clear();
  for (std::size_t age = 0; age < n; ++age) by_value_.push_back(WeightedValue{smoothed_[age], static_cast<double>(age)});
  by_value_.push_back(WeightedValue{prior_log, static_cast<double>(n)});
  by_value_.push_back(WeightedValue{prior_log, static_cast<double>(n + 1)});
  sort_by_value(by_value_);
  const auto weighted_median_with_prior = [&](double decay) {
    age_weights_.clear();
    double weight = 1;
    for (std::size_t age = 0; age < n; ++age) {
      age_weights_.push_back(weight);
      weight *= decay;
    }
    age_weights_.push_back(prior_weight);
    age_weights_.push_back(prior_weight * config_.decay);
    weighted_.clear();
    for (const WeightedValue& v : by_value_) {
      weighted_.push_back(WeightedValue{v.value, age_weights_[static_cast<std::size_t>(v.weight)]});
    }
    return weighted_median_sorted(weighted_);
  };
  const double short_log = weighted_median_with_prior(config_.decay);
  const double long_log = weighted_median_with_prior(1.0);

  // Noise from successive differences: sigma = 1.4826 * median |r_i - r_i+1| / sqrt(2).
  values_.clear();
  for (std::size_t i = 0; i + 1 < n; ++i) values_.push_back(std::abs(ratios_[i] - ratios_[i + 1]));
  double noise = values_.size() >= 2 ? kMadToSigma * median(values_) / std::sqrt(2.0) : 0.0;
  if (n >= kNoiseSamples) {
    w.noise = noise;
  } else {
    noise = std::max(noise, w.noise);  // a few samples (after a change) can look deceptively calm
  }
  const double threshold = std::max(kSwitchSigmas * noise, kMinSwitch);
  const double moved = short_log - long_log;
  const double blend = std::clamp((std::abs(moved) - threshold) / threshold, 0.0, 1.0);
  if (blend >= 1 && n >= kNoiseSamples) {
    // The worker's speed has changed: what it did before says nothing about it now. Keep the run
    // of samples that showed the change (older ones would drag the calm estimate back for half a
    // window) and start again from them.
    w.window.keep_newest(kChangeRun);
    refresh_worker(rank);
    return;
  }
  const double log_factor = long_log + blend * moved;

  // The spread of log(actual / predicted) over the window.
  double sigma = prior_sigma;
  if (n >= 2) {
    values_.assign(ratios_.begin(), ratios_.end());
    sigma = kMadToSigma * mad(values_, log_factor);
  }
  if (n < kNoiseSamples) sigma = std::max(sigma, w.noise);  // a few samples after a change
  e = Estimate{std::exp(log_factor), sigma, clamp32(w.observed), false};
}

void CostModel::refresh_all_workers() {
  for (std::size_t rank = 0; rank < workers_.size(); ++rank) {
    if (workers_[rank].observed > 0) refresh_worker(static_cast<int>(rank));
  }
}

void CostModel::refresh_borrowed() {
  observes_since_borrowed_ = 0;
  values_.clear();
  sigmas_.clear();
  double slowest = -std::numeric_limits<double>::infinity();
  for (std::size_t rank = 0; rank < workers_.size(); ++rank) {
    if (workers_[rank].observed == 0) continue;
    values_.push_back(std::log(estimates_[rank].factor));
    if (workers_[rank].observed >= 2) {
      sigmas_.push_back(estimates_[rank].sigma_log);
      slowest = std::max(slowest, values_.back());
    }
  }
  if (values_.empty()) {
    borrowed_ = Estimate{};
    typical_sigma_ = 0;
    slow_spread_ = -1;
    return;
  }
  double log_median = median(values_);
  slow_spread_ = sigmas_.size() >= kSpreadPeers ? std::max(0.0, slowest - log_median) / 2 : -1;
  // A worker never seen may be anywhere among the others: their spread adds to the usual noise.
  double spread = 0;
  if (values_.size() >= 2) {
    for (double& v : values_) v = std::abs(v - log_median);
    spread = kMadToSigma * median(values_);
  }
  if (std::abs(log_median) > kRegauge) {
    regauge(std::exp(log_median));
    log_median = 0;
  }
  typical_sigma_ = sigmas_.empty() ? 0 : median(sigmas_);
  borrowed_ = Estimate{std::exp(log_median), std::hypot(typical_sigma_, spread), 0, true};
}

void CostModel::regauge(double factor) {
  // Workers factor times slower than before in the new unit; lines factor times longer.
  for (std::size_t c = 0; c < classes_.size(); ++c) {
    ClassState& cls = classes_[c];
    lines_[c] = scaled(lines_[c], factor);
    cls.at_refresh = scaled(cls.at_refresh, factor);
    cls.history = scaled(cls.history, factor);
    for (std::size_t age = 0; age < cls.window.size(); ++age) cls.window.newest(age).seconds *= factor;
  }
  for (std::size_t rank = 0; rank < workers_.size(); ++rank) {
    Estimate& e = estimates_[rank];
    if (!e.borrowed) e.factor /= factor;
    workers_[rank].history_factor /= factor;
  }
  history_gauge_ /= factor;
}

CostModelSnapshot CostModel::snapshot() const {
  CostModelSnapshot out;
  out.classes.reserve(classes_.size());
  for (std::size_t c = 0; c < classes_.size(); ++c) {
    const ClassState& cls = classes_[c];
    out.classes.push_back(CostClassParams{cls.name, lines_[c].intercept, lines_[c].slope,
                                          clamp32(cls.history_samples + cls.observed)});
  }
  for (std::size_t rank = 0; rank < workers_.size(); ++rank) {
    const WorkerState& w = workers_[rank];
    if (!w.known) continue;
    const Estimate& e = estimates_[rank].borrowed ? borrowed_ : estimates_[rank];
    out.workers.push_back(CostWorkerParams{static_cast<std::int32_t>(rank), w.host, w.device, e.factor,
                                           e.sigma_log, clamp32(w.history_samples + w.observed)});
  }
  return out;
}

}  // namespace fastgpu::cost
