// Placement: which queued subtask goes to which worker, and how deep each worker's queue is.
#include <algorithm>
#include <cmath>
#include <limits>

#include "scheduler/scheduler.hpp"
#include "support/sort_chunks.hpp"

namespace fastgpu::scheduler {
namespace {
// How far into the queue a worker looks for a task it may take (a retry avoids the worker that
// failed it; in the tail a task may be left for a faster worker). Bounded so a decision stays cheap.
constexpr int kQueueScan = 64;
// Retries go before every first attempt in greedy order.
constexpr double kRetryKey = -1e15;
// cost: a worker whose speed is not known first runs kCalibrationRuns short subtasks. A
// calibration subtask is the shortest pending one predicted to take at least this many round
// trips (shorter ones measure mostly overhead and noise)...
constexpr double kCalibrationFloor = 5;
// ...and none predicted to take more than this share of the projected time left (then the worker
// is placed as usual): calibrating must not delay the long subtasks noticeably.
constexpr double kCalibrationShare = 0.02;
// cost: a subtask may push a worker past the projected end only if no other worker would end it
// sooner, judged by the predictions' upper quantile: the model's median plus this many sigmas
// (at least the typical sigma of all workers, since a few samples can look deceptively calm).
// Estimates are noisy, and a long subtask that overruns on a slow worker is the makespan.
constexpr double kPessimism = 2.0;
// The spread (sigma of the log) of a worker's speed factor while it is not known: another GPU
// model, a throttled one, a noisy neighbour; 0.5 puts it within a factor of 2.7 either way (2 sigmas).
// Once the pool has shown its spread (CostModel::slow_spread) the smaller of the two is used.
constexpr double kUnknownSpeedSigma = 0.5;
// Scale: the bounds below are refreshed at least every this many placement rounds (and every
// workers / 8 rounds in a big pool)...
constexpr std::uint64_t kBoundsRounds = 16;
// ...and may be off by model changes in between: the speed sum is taken as up to this many times
// larger, so the shortcut it allows stays safe.
constexpr double kBoundSlack = 1.5;
// Workers whose by_ready_ key is recomputed every round besides the touched ones (round robin),
// so keys follow model changes (class lines, the borrowed factor) within workers / this rounds.
constexpr int kRekeyPerRound = 8;
// In a pool of more than twice this many workers the exact projected end is recomputed every
// workers / this rounds only.
constexpr std::size_t kProjectedEndSpan = 64;
// A worker that found nothing it may take tries again after at most this many rounds (workers / 64).
constexpr std::uint64_t kRetryRounds = 16;
// Width of a by_ready_ bucket in the log of the multiplier (5 %), and how much the multiplier of a
// worker may have moved since it was keyed for the bounds of allows() to hold.
// A worker as fast as this one (same multiplier, idle) must stop the scan: 1.01 * 1.02 < 1 / 0.95,
// 0.95 being allows()'s margin of 5 %.
const double kBucketWidth = std::log(1.01);
constexpr double kMultiplierSlack = 1.02;
// How far (in the log) the model-wide estimates may move every worker's multiplier before all are
// re-keyed: within kMultiplierSlack with room to spare.
const double kKeyDrift = std::log(1.01);
}  // namespace

double Scheduler::KeyedModel::drift_from(const KeyedModel& keyed) const {
  // A multiplier is factor * exp(kPessimism * sigma), sigma at least the typical one: its log moves
  // by at most the factor's move plus kPessimism times the sigmas' moves.
  return std::abs(borrowed_log_factor - keyed.borrowed_log_factor) +
         kPessimism * (std::abs(typical_sigma - keyed.typical_sigma) + std::abs(borrowed_sigma - keyed.borrowed_sigma) +
                       std::abs(unknown_sigma - keyed.unknown_sigma));
}

void Scheduler::touch(WorkerState& worker) {
  ++worker.holdings_version;
  if (worker.dirty) return;
  worker.dirty = true;
  dirty_.push_back(worker.info.rank);
}

void Scheduler::wake(int rank) {
  auto it = workers_.find(rank);
  if (it == workers_.end()) return;
  WorkerState& worker = it->second;
  if (worker.retired) return;
  if (worker.parked_key >= 0) {
    parked_.erase({worker.parked_key, rank});
    worker.parked_key = -1;
  }
  benched_.erase({worker.retry_round, rank});
  worker.retry_round = 0;
  hungry_.insert(rank);
}

void Scheduler::bench(WorkerState& worker, std::uint64_t rounds) {
  worker.retry_round = round_ + rounds;
  hungry_.erase(worker.info.rank);
  benched_.emplace(worker.retry_round, worker.info.rank);
}

void Scheduler::unbench_due() {
  while (!benched_.empty() && benched_.begin()->first <= round_) {
    const int rank = benched_.begin()->second;
    benched_.erase(benched_.begin());
    wake(rank);
  }
}

int Scheduler::other_bucket(WorkerState& worker) {
  // As allows() judges `other`: a worker being calibrated as if its speed were known.
  const bool soon_known = calibrating(worker);
  const Prediction p = model_.predict(worker.info.rank, 0, 1.0);
  double sigma = std::max(p.sigma_log, model_.typical_sigma());
  if (!soon_known && !model_.speed_known(worker.info.rank, kCalibrationRuns)) sigma = std::hypot(sigma, unknown_speed_sigma());
  // log(factor * exp(kPessimism * sigma)), without the exp.
  const double log_multiplier = std::log(std::max(model_.factor(worker.info.rank), 1e-300)) + kPessimism * sigma;
  return static_cast<int>(std::floor(log_multiplier / kBucketWidth));
}

void Scheduler::refresh_keys(double now) {
  auto rekey = [&](WorkerState& worker) {
    if (worker.retired) return;  // out of by_ready_ for good
    const int rank = worker.info.rank;
    const double key = ready_cached(worker, now);
    const int bucket = other_bucket(worker);
    if (key != worker.ready_key || bucket != worker.bucket) {
      auto old = by_ready_.find(worker.bucket);
      old->second.erase({worker.ready_key, rank});
      if (old->second.empty()) by_ready_.erase(old);
      by_ready_[bucket].emplace(key, rank);
      worker.ready_key = key;
      worker.bucket = bucket;
    }
    if (worker.parked_key >= 0 && worker.parked_key != key) {
      parked_.erase({worker.parked_key, rank});
      parked_.emplace(key, rank);
      worker.parked_key = key;
    }
  };
  note_holdings_of_dirty();
  for (const int rank : dirty_) {
    auto it = workers_.find(rank);
    if (it == workers_.end()) continue;
    it->second.dirty = false;
    rekey(it->second);
  }
  dirty_.clear();
  // Every worker's multiplier moves with the typical sigma and the borrowed estimate: all are
  // re-keyed once these moved a multiplier by more than kKeyDrift since the last time (smaller
  // moves stay within kMultiplierSlack; re-keying at every one was a third of a decision at 64 workers).
  const KeyedModel model{model_.typical_sigma(), std::log(std::max(model_.factor(-1), 1e-300)),
                         model_.predict(-1, 0, 1.0).sigma_log, unknown_speed_sigma()};
  if (model.drift_from(keyed_model_) > kKeyDrift || workers_.size() <= static_cast<std::size_t>(kRekeyPerRound)) {
    keyed_model_ = model;
    for (auto& [rank, worker] : workers_) rekey(worker);
    return;
  }
  auto it = workers_.lower_bound(rekey_cursor_);
  for (int i = 0; i < kRekeyPerRound; ++i, ++it) {
    if (it == workers_.end()) it = workers_.begin();
    rekey(it->second);
  }
  rekey_cursor_ = it == workers_.end() ? 0 : it->first;
}

void Scheduler::note_holdings_of_dirty() {
  // Every change of what a worker holds touches it, though some touch before they change it: read
  // once the event's handling is over, which place() is called at.
  for (const int rank : dirty_) {
    const WorkerState& worker = worker_at(rank);
    if (!worker.running && worker.queue.empty()) {
      idle_.insert(rank);
    } else {
      idle_.erase(rank);
    }
    if (worker.queue.empty()) {
      queued_.erase(rank);
    } else {
      queued_.insert(rank);
    }
  }
}

void Scheduler::refresh_bounds() {
  double speed = 0;
  for (const auto& [rank, worker] : workers_) {
    if (!worker.retired) speed += 1 / std::max(model_.factor(rank), 1e-9);
  }
  speed_bound_ = speed;
  bounds_round_ = round_;
}

double Scheduler::pessimism_multiplier(WorkerState& worker, double sigma, bool speed_unknown) {
  const double widen = speed_unknown ? unknown_speed_sigma() : 0;
  if (sigma != worker.mult_sigma || widen != worker.mult_widen) {
    worker.mult_sigma = sigma;
    worker.mult_widen = widen;
    worker.mult = std::exp(kPessimism * (speed_unknown ? std::hypot(sigma, widen) : sigma));
  }
  return worker.mult;
}

double Scheduler::unknown_speed_sigma() const {
  const double measured = model_.slow_spread();
  return measured < 0 ? kUnknownSpeedSigma : std::min(measured, kUnknownSpeedSigma);
}

double Scheduler::projected_end_lower_bound(double now) {
  // projected_end() = now + (held work + pending work) / speed, the held work >= 0 as long as no
  // line goes below 0. Here: the pending work over kBoundSlack times the speed last summed. Cached
  // while the round and what is pending stay the same (it is asked for every subtask weighed).
  const LowerBoundKey key{round_, pending_.size(), speed_bound_};
  if (key == lower_bound_key_) return now + lower_bound_span_;
  lower_bound_key_ = key;
  lower_bound_span_ = -std::numeric_limits<double>::infinity();
  if (speed_bound_ <= 0) return lower_bound_span_;
  double work = 0;
  for (std::size_t c = 0; c < pending_count_.size(); ++c) {
    const cost::CostLine line = model_.line(static_cast<int>(c));
    if (line.intercept < 0 || line.slope < 0) return lower_bound_span_;
    if (!pending_.empty()) work += line.intercept * pending_count_[c] + line.slope * pending_cost_[c];
  }
  lower_bound_span_ = std::max(work, 0.0) / (kBoundSlack * speed_bound_);
  return now + lower_bound_span_;
}

bool Scheduler::surely_before_projected_end(double finish_here, double margin, double now) {
  return finish_here <= projected_end_lower_bound(now) + margin;
}

void Scheduler::enqueue(std::uint32_t task) {
  const TaskState& state = states_[task];
  double key = 0;
  if (config_.policy == Policy::cost) {
    // Longest predicted first (LPT): the long ones start early, the short ones fill the gaps.
    key = -model_.predict(-1, state.class_id, subtasks_[task].cost).seconds;
  } else {
    key = (state.failures > 0 ? kRetryKey : 0) + arrivals_++;
  }
  if (is_gang(subtasks_[task])) {
    if (config_.expected_workers > 0 && subtasks_[task].gpus > config_.expected_workers) {
      too_big_.push_back(task);
    } else {
      gangs_.emplace(key, task);
    }
    return;
  }
  // pending_ may have been cleared wholesale (hold_all): then the sums start again too.
  if (pending_.empty()) {
    std::fill(pending_count_.begin(), pending_count_.end(), 0.0);
    std::fill(pending_cost_.begin(), pending_cost_.end(), 0.0);
  }
  if (pending_.emplace(key, task).second) {
    ++placement_changes_;
    const auto c = static_cast<std::size_t>(state.class_id);
    if (c >= pending_count_.size()) {
      pending_count_.resize(c + 1, 0.0);
      pending_cost_.resize(c + 1, 0.0);
    }
    pending_count_[c] += 1;
    pending_cost_[c] += std::max(subtasks_[task].cost, 0.0);
  }
}

void Scheduler::unqueue(std::set<std::pair<double, std::uint32_t>>::iterator it) {
  const std::uint32_t task = it->second;
  pending_.erase(it);
  ++placement_changes_;
  const auto c = static_cast<std::size_t>(states_[task].class_id);
  if (c < pending_count_.size()) {
    pending_count_[c] -= 1;
    pending_cost_[c] -= std::max(subtasks_[task].cost, 0.0);
  }
}

double Scheduler::predict(const WorkerState& worker, std::uint32_t task) const {
  return model_.predict(worker.info.rank, states_[task].class_id, subtasks_[task].cost).seconds;
}

double Scheduler::remaining(const LiveAttempt& live, double predicted, double now) {
  const double elapsed = now - live.start;
  // Past its prediction, the model was wrong about it: expect it to need half as long again.
  return elapsed <= predicted ? predicted - elapsed : 0.5 * elapsed;
}

double Scheduler::ready_time(const WorkerState& worker, double now) const {
  return running_until(worker, now) + predicted_sum(worker, queue_walk(worker).ahead);
}

double Scheduler::running_until(const WorkerState& worker, double now) const {
  double ready = now;
  if (worker.running) {
    for (const auto& live : states_[worker.running->task].live) {
      if (live.attempt == worker.running->attempt) ready += remaining(live, predict(worker, worker.running->task), now);
    }
  }
  return ready;
}

const Scheduler::QueueWalk& Scheduler::queue_walk(const WorkerState& worker) const {
  const auto rank = static_cast<std::size_t>(worker.info.rank);
  if (walks_.size() <= rank) walks_.resize(rank + 1);
  QueueWalk& walk = walks_[rank];
  bool fresh = walk.holdings_version == worker.holdings_version && walk.epoch == walk_epoch_;
  for (std::size_t c = 0; fresh && c < walk.reach.size(); ++c) {
    fresh = walk.ahead[c].count == 0 || walk.reach[c] == model_.line(static_cast<int>(c)).reach;
  }
  if (fresh) return walk;
  walk.holdings_version = worker.holdings_version;
  walk.epoch = walk_epoch_;
  walk.reach.clear();
  walk.ahead.clear();
  walk.gangs.clear();
  walk.gang_ahead.clear();
  std::size_t classes = 0;  // one past the largest class id queued
  for (const auto& ref : worker.queue) classes = std::max(classes, static_cast<std::size_t>(states_[ref.task].class_id) + 1);
  for (std::size_t c = 0; c < classes; ++c) walk.reach.push_back(model_.line(static_cast<int>(c)).reach);
  walk.ahead.resize(classes);
  for (const auto& ref : worker.queue) {
    for (const auto& live : states_[ref.task].live) {
      if (live.attempt != ref.attempt) continue;
      if (live.gang && live.phase == Phase::queued) {
        walk.gangs.push_back(ref);
        walk.gang_ahead.insert(walk.gang_ahead.end(), walk.ahead.begin(), walk.ahead.end());
      }
      // A gang is running once any member started it; the others still have it ahead of them.
      if (live.phase != Phase::queued && !(live.gang && live.phase == Phase::running)) continue;
      const auto c = static_cast<std::size_t>(states_[ref.task].class_id);
      const double cost = subtasks_[ref.task].cost;
      walk.ahead[c].add(cost > 0 ? cost : 0.0, walk.reach[c]);  // clamped as in CostModel::predict
    }
  }
  return walk;
}

double Scheduler::predicted_sum(const WorkerState& worker, std::span<const cost::CostSums> sums) const {
  double base = 0;  // seconds on a factor-1 worker
  for (std::size_t c = 0; c < sums.size(); ++c) {
    if (sums[c].count > 0) base += cost::sum_at(model_.line(static_cast<int>(c)), sums[c]);
  }
  return base == 0 ? 0.0 : model_.per_unit(worker.info.rank).seconds * base;
}

int Scheduler::target_depth(bool all_joined) const {
  if (!all_joined) return 1;
  if (config_.policy != Policy::cost) return config_.prefetch;
  // One running, plus as many queued as it takes to cover the round trip to rank 0.
  const double typical = placed_ > 0 ? mean_predicted_s_ : config_.latency_s;
  const double queued = std::ceil(config_.latency_s / std::max(typical, 1e-6));
  return static_cast<int>(std::clamp(1 + queued, 2.0, static_cast<double>(std::max(config_.prefetch, 2))));
}

double Scheduler::ready_cached(WorkerState& worker, double now) {
  if (worker.ready_round != round_) {
    worker.ready = ready_time(worker, now);
    worker.ready_round = round_;
  }
  return worker.ready;
}

double Scheduler::projected_end(double now) {
  if (projected_round_ == round_) return projected_end_;
  // The exact end sums over every worker: in a big pool it is recomputed every workers / 64 rounds
  // only (O(64) per round), in between the last one stands (a time: the work done meanwhile is the
  // time passed times the speed), raised to the fresh lower bound where work has arrived since.
  if (projected_round_ > 0 && round_ - projected_round_ < workers_.size() / kProjectedEndSpan) {
    return std::max({projected_end_, projected_end_lower_bound(now), now});
  }
  // Work in seconds of a factor-1 worker; a worker of factor f does 1 / f of it per second.
  double work = 0, speed = 0;
  for (WorkerState& worker : in_rank_order()) {
    if (worker.retired) continue;
    const double factor = std::max(model_.factor(worker.info.rank), 1e-9);
    work += (ready_cached(worker, now) - now) / factor;
    speed += 1 / factor;
  }
  for (std::size_t c = 0; c < pending_count_.size() && !pending_.empty(); ++c) {
    const cost::CostLine line = model_.line(static_cast<int>(c));
    work += line.intercept * pending_count_[c] + line.slope * pending_cost_[c];
  }
  projected_end_ = now + (speed > 0 ? std::max(work, 0.0) / speed : 0.0);
  projected_round_ = round_;
  return projected_end_;
}

double Scheduler::pessimistic(WorkerState& worker, std::uint32_t task, bool speed_as_known) {
  const int class_id = states_[task].class_id;
  const double cost = subtasks_[task].cost;
  return pessimistic_with(worker, model_.predict(worker.info.rank, class_id, cost), speed_as_known);
}

double Scheduler::pessimistic_per_unit(WorkerState& worker) {
  return pessimistic_with(worker, model_.per_unit(worker.info.rank), false);
}

double Scheduler::pessimistic_with(WorkerState& worker, const Prediction& mine, bool speed_as_known) {
  return mine.seconds * multiplier_for(worker, mine.sigma_log, speed_as_known);
}

double Scheduler::multiplier_for(WorkerState& worker, double sigma_log, bool speed_as_known) {
  const double sigma = std::max(sigma_log, model_.typical_sigma());
  const bool speed_unknown = !speed_as_known && !model_.speed_known(worker.info.rank, kCalibrationRuns);
  return pessimism_multiplier(worker, sigma, speed_unknown);
}

bool Scheduler::allows(WorkerState& worker, std::uint32_t task, double now) {
  // While plenty is queued, a subtask that ends before everything else would is no risk: every
  // worker stays busy. Beyond that (a long subtask, a slow worker, the tail), it goes where it
  // ends soonest: a worker leaves it to another that would end it sooner and takes a shorter one.
  const double mine = pessimistic(worker, task);
  const double finish_here = ready_cached(worker, now) + mine;
  const double margin = std::max(0.05 * mine, config_.latency_s);
  if (surely_before_projected_end(finish_here, margin, now)) return true;  // O(classes), most of the run
  if (finish_here <= projected_end(now) + margin) return true;
  // The other workers in order of their ready keys (lower bounds of their ready times): once a
  // key plus the least this subtask could take anywhere (the smallest factor times the least
  // pessimism) reaches finish_here - margin, no later worker can end it sooner.
  const double c = subtasks_[task].cost;
  const double base = model_.line(states_[task].class_id).at(c > 0 ? c : 0.0);
  // Buckets by multiplier ascending: once even a worker ready now could not end it sooner, no
  // later bucket's can. A ready time is never before now (an idle worker's key is when it was
  // keyed; it is ready now).
  for (const auto& [bucket, keyed] : by_ready_) {
    const double least =
        base > 0 ? base * std::exp(bucket * kBucketWidth) / kMultiplierSlack : -std::numeric_limits<double>::infinity();
    if (now + least + margin >= finish_here) break;
    for (const auto& [key, rank] : keyed) {
      if (std::max(key, now) + least + margin >= finish_here) break;
      if (rank == worker.info.rank) continue;
      if (rank == states_[task].avoid_worker) continue;  // a retry will not be placed there: don't wait for it
      WorkerState& other = worker_at(rank);
      // A worker running its calibration subtasks will know its speed shortly: judged as if it
      // were known. One that has not started them is as unknown as this one: judged as known, a
      // pool of thousands that never needed calibrating left a month-long subtask pending for
      // weeks, each idle worker deferring to the next (the Alibaba trace at 4,096 workers).
      const bool soon_known = calibrating(other);
      const double finish_there = ready_cached(other, now) + pessimistic(other, task, soon_known);
      if (finish_there + margin < finish_here) return false;  // leave it to them
    }
  }
  return true;
}

bool Scheduler::queue_allows(WorkerState& worker, double now) {
  if (config_.policy != Policy::cost || worker.in_flight() == 0 || needs_calibration(worker)) return true;
  // Behind what it holds, a worker queues more only when that ends before the next chance to
  // place (a rebalance round) is over: a queue deeper in time hides no latency, only makes work
  // to migrate, and a long subtask queued behind another starts late.
  return ready_cached(worker, now) - now <= rebalance_interval() + 2 * config_.latency_s;
}

bool Scheduler::needs_calibration(const WorkerState& worker) const {
  return config_.policy == Policy::cost && config_.expected_workers != 1 && worker.calibrations < kCalibrationRuns &&
         !model_.speed_known(worker.info.rank, kCalibrationRuns);
}

bool Scheduler::calibrating(const WorkerState& worker) const {
  return worker.calibrating > 0 && !model_.speed_known(worker.info.rank, kCalibrationRuns);
}

bool Scheduler::take_calibration_task(WorkerState& worker, double now, std::uint32_t& task) {
  // pending_ is longest first: the entries from `boundary` on are predicted below the floor.
  const double floor = kCalibrationFloor * config_.latency_s;
  const auto boundary = pending_.lower_bound({-floor, 0});
  auto usable = [&](auto it) { return states_[it->second].avoid_worker != worker.info.rank; };
  // The shortest at or above the floor, unless it is too long; then the longest below the floor.
  auto chosen = pending_.end();
  int scanned = 0;
  for (auto it = boundary; it != pending_.begin() && scanned < kQueueScan; ++scanned) {
    --it;
    if (usable(it)) {
      chosen = it;
      break;
    }
  }
  // The cap from a cheap lower bound of the projected end when that suffices, else the exact one.
  double cap = kCalibrationShare * (projected_end_lower_bound(now) - now);
  auto too_long = [&](std::uint32_t t) {
    const double p = predict(worker, t);
    if (p <= cap) return false;
    cap = kCalibrationShare * (projected_end(now) - now);
    return p > cap;
  };
  if (chosen == pending_.end() || too_long(chosen->second)) {
    chosen = pending_.end();
    scanned = 0;
    for (auto it = boundary; it != pending_.end() && scanned < kQueueScan; ++it, ++scanned) {
      if (usable(it)) {
        chosen = it;
        break;
      }
    }
  }
  if (chosen == pending_.end() || too_long(chosen->second)) {
    if (!pending_.empty()) {
      worker.calibrations = kCalibrationRuns;  // nothing short enough: placed as usual
      touch(worker);                           // judged as of unknown speed from now on (by_ready_)
    }
    return false;
  }
  task = chosen->second;
  unqueue(chosen);
  return true;
}

bool Scheduler::take_task_for(WorkerState& worker, double now, std::uint32_t& task, bool& calibration) {
  calibration = false;
  if (config_.policy == Policy::static_) {
    auto& block = own_[worker.info.rank];
    // In block order; near a deadline, the first that still fits.
    const auto next = std::find_if(block.begin(), block.end(), [&](std::uint32_t t) { return fits_deadline(worker, t, now); });
    if (next != block.end()) {
      task = *next;
      block.erase(next);
      return true;
    }
  }
  if (config_.policy == Policy::cost && !pending_.empty()) {
    if (needs_calibration(worker) && take_calibration_task(worker, now, task)) {
      if (fits_deadline(worker, task, now)) {
        calibration = true;
        return true;
      }
      enqueue(task);  // too long for the time left: not even to calibrate
    }
    if (calibrating(worker)) return false;  // nothing long until its speed is known
  }
  const bool cost_policy = config_.policy == Policy::cost;
  if (cost_policy && surely_rejects(worker, now)) return false;
  const bool only_worker = usable_workers() == 1;
  bool avoided = false;  // a subtask it failed before was passed over: not a rejection by allows()
  auto takes = [&](std::uint32_t candidate) {
    if (!only_worker && states_[candidate].avoid_worker == worker.info.rank) {
      avoided = true;
      return false;
    }
    if (cost_policy && !allows(worker, candidate, now)) return false;
    return fits_deadline(worker, candidate, now);
  };
  int scanned = 0;
  for (auto it = pending_.begin(); it != pending_.end() && scanned < kQueueScan; ++it, ++scanned) {
    if (!takes(it->second)) continue;
    task = it->second;
    unqueue(it);
    return true;
  }
  if (deadline_ && scanned == kQueueScan) {
    // Near the deadline the front of the queue may hold only subtasks too long for the time
    // left: look at the other end too (cost: the shortest ones), so the GPUs stay busy.
    scanned = 0;
    for (auto it = pending_.end(); it != pending_.begin() && scanned < kQueueScan; ++scanned) {
      --it;
      if (!takes(it->second)) continue;
      task = it->second;
      unqueue(it);
      return true;
    }
  }
  if (cost_policy && !avoided) remember_rejection(worker, now);
  return false;
}

Scheduler::Pessimism Scheduler::pessimism_of(WorkerState& worker) {
  // A prediction of this worker has per_unit's factor and sigma (CostModel::predict).
  const Prediction unit = model_.per_unit(worker.info.rank);
  return {unit.seconds, multiplier_for(worker, unit.sigma_log, /*speed_as_known=*/false)};
}

bool Scheduler::surely_rejects(WorkerState& worker, double now) {
  if (rejection_.round != round_ || rejection_.changes != placement_changes_) return false;
  const Pessimism mine = pessimism_of(worker);
  return mine.factor >= rejection_.pessimism.factor && mine.multiplier >= rejection_.pessimism.multiplier &&
         ready_cached(worker, now) >= rejection_.ready;
}

void Scheduler::remember_rejection(WorkerState& worker, double now) {
  // The predictions grow with factor and multiplier only while no class line goes below 0.
  for (std::size_t c = 0; c < pending_count_.size(); ++c) {
    const cost::CostLine line = model_.line(static_cast<int>(c));
    if (line.intercept < 0 || line.slope < 0) return;
  }
  rejection_ = {round_, placement_changes_, ready_cached(worker, now), pessimism_of(worker)};
}

void Scheduler::split_static() {
  // Worker k of W gets subtasks [k*N/W, (k+1)*N/W), in file order: a job array's split.
  const std::size_t n = subtasks_.size(), w = workers_.size();
  std::size_t k = 0;
  for (const auto& [rank, worker] : workers_) {
    auto& block = own_[rank];
    for (std::size_t task = k * n / w; task < (k + 1) * n / w; ++task) {
      if (records_[task].status == TaskStatus::done) continue;  // resume
      // A gang needs several workers, not one block: placed as the other policies do.
      if (is_gang(subtasks_[task])) {
        enqueue(static_cast<std::uint32_t>(task));
      } else {
        block.push_back(static_cast<std::uint32_t>(task));
      }
    }
    ++k;
  }
  split_done_ = true;
}

void Scheduler::assign(WorkerState& worker, std::uint32_t task, std::int32_t attempt, double now, bool migrated,
                       bool speculative, std::map<int, comm::AssignTasks>& batches, bool calibration) {
  TaskState& state = states_[task];
  const double predicted = predict(worker, task);
  LiveAttempt live;
  live.attempt = attempt;
  live.worker = worker.info.rank;
  live.predicted_s = predicted;
  live.migrated = migrated || std::exchange(state.arrives_migrated, false);
  if (migrated) live.moved_at = now;
  live.speculative = speculative;
  live.calibration = calibration;
  if (calibration) {
    ++worker.calibrations;
    ++worker.calibrating;
  }
  state.live.push_back(live);
  worker.queue.push_back({task, attempt});
  ++placement_changes_;
  touch(worker);
  if (worker.ready_round == round_) worker.ready += predicted;
  batches[worker.info.rank].tasks.push_back(make_launch(task, attempt));
  // A moving average, so early guesses (priors before any sample) fade within a few dozen placements.
  constexpr double kWeight = 0.05;
  mean_predicted_s_ = placed_++ == 0 ? predicted : (1 - kWeight) * mean_predicted_s_ + kWeight * predicted;
  if (!migrated && !speculative) {
    sink_.add_event({now, "assign", task, -1, worker.info.rank,
                     "attempt " + std::to_string(attempt) +
                         (calibration ? ", calibration " + std::to_string(worker.calibrations) + " of " +
                                            std::to_string(kCalibrationRuns) + " (speed not known yet)"
                                      : "")});
  }
}

void Scheduler::place(double now) {
  if (config_.policy == Policy::static_ && !split_done_) {
    if (workers_.empty() || static_cast<int>(workers_.size()) < config_.expected_workers) return;
    split_static();
  }
  const bool all_joined = static_cast<int>(workers_.size()) >= config_.expected_workers;
  if (retired_count_ > 0 && all_joined) fail_unrunnable(now);
  ++round_;  // the caches of ready times and of the projected end start afresh
  unbench_due();
  refresh_keys(now);
  if (round_ - bounds_round_ >= std::max<std::uint64_t>(kBoundsRounds, workers_.size() / 8)) refresh_bounds();

  std::map<int, comm::AssignTasks> batches;
  place_gangs(now, batches);
  backfill_gangs(now, batches);  // before the others are placed: behind a gang they would wait for it
  // Nothing to take (cost, greedy): no worker can be given anything this round.
  const bool nothing_to_take = config_.policy != Policy::static_ && pending_.empty();
  if (!nothing_to_take) {
    // Parked workers whose running subtask now nears its end may queue their next one again.
    if (!parked_.empty()) {
      const double reach = now + rebalance_interval() + 2 * config_.latency_s;
      wake_.clear();
      for (auto it = parked_.begin(); it != parked_.end() && it->first <= reach; ++it) wake_.push_back(*it);
      for (const auto& [key, rank] : wake_) wake(rank);
    }

    // The worker predicted to be free first chooses first (it gets the longest subtask). The idle
    // ones are all free now: they come in rank order, and are looked at only as far as the
    // choosing gets (a few subtasks arriving at thousands of idle workers are taken by the first
    // few). The others are sorted only as far too.
    note_holdings_of_dirty();  // gangs may have been placed on idle workers above
    order_.clear();
    busy_.clear();
    const int depth_now = target_depth(all_joined);
    const auto depth_of = [&](const WorkerState& worker) {
      // A worker being calibrated gets its short calibration subtasks at once.
      return needs_calibration(worker) ? std::max(kCalibrationRuns, depth_now) : depth_now;
    };
    int deepest = 0;
    // (Not those told to wait: see retry_round below.)
    for (int rank = hungry_.first_from(0, idle_, false); rank >= 0; rank = hungry_.first_from(rank + 1, idle_, false)) {
      WorkerState& worker = worker_at(rank);
      if (round_ < worker.retry_round) continue;
      busy_.push_back({ready_cached(worker, now), rank, depth_of(worker)});
      deepest = std::max(deepest, busy_.back().depth);
    }
    int next_idle = hungry_.first_from(0, idle_, true);
    if (next_idle >= 0) deepest = std::max(deepest, 1);  // made exact as they are looked at
    std::size_t sorted = 0, next_busy = 0;
    // Appends the next worker in choosing order to order_; false when every one is there.
    const auto look_further = [&] {
      while (next_idle >= 0 && round_ < worker_at(next_idle).retry_round) {
        next_idle = hungry_.first_from(next_idle + 1, idle_, true);
      }
      while (next_busy >= sorted && sorted < busy_.size()) sorted = support::sort_next_chunk(busy_, sorted);
      std::optional<Chooser> idle;
      if (next_idle >= 0) {
        WorkerState& worker = worker_at(next_idle);
        idle = Chooser{ready_cached(worker, now), next_idle, depth_of(worker)};
      }
      if (idle && (next_busy == busy_.size() || *idle < busy_[next_busy])) {
        order_.push_back(*idle);
        deepest = std::max(deepest, idle->depth);
        next_idle = hungry_.first_from(next_idle + 1, idle_, true);
      } else if (next_busy < busy_.size()) {
        order_.push_back(busy_[next_busy++]);
      } else {
        return false;
      }
      return true;
    };
    // Nothing left to take (cost, greedy): the others need not choose.
    const auto all_taken = [&] { return config_.policy != Policy::static_ && pending_.empty(); };

    // Level by level: every hungry worker gets its next attempt before any gets a deeper queue.
    // (order_ is complete after the first level unless everything was taken in it.)
    for (int level = 1; level <= deepest && !all_taken(); ++level) {
      for (std::size_t i = 0; !all_taken(); ++i) {
        if (i == order_.size() && !look_further()) break;
        WorkerState& worker = worker_at(order_[i].rank);
        std::uint32_t task = 0;
        bool calibration = false;
        if (worker.in_flight() >= std::min(level, order_[i].depth) || round_ < worker.retry_round ||
            !queue_allows(worker, now)) {
          continue;
        }
        if (take_task_for(worker, now, task, calibration)) {
          const std::int32_t attempt = states_[task].next_attempt++;
          assign(worker, task, attempt, now, false, false, batches, calibration);
        } else if (config_.policy == Policy::cost && !pending_.empty() && calibrating(worker)) {
          // Nothing but calibration until its speed is known, which only its own report changes
          // (wake() then clears this).
          worker.retry_round = std::numeric_limits<std::uint64_t>::max();
        } else if (config_.policy == Policy::cost && !pending_.empty()) {
          // Everything it looked at is better left to others (allows()). In a big pool it tries
          // again only every few rounds (or when it reports): thousands of idle workers each
          // rejecting 64 subtasks every round would be O(workers x 64) per decision. Meanwhile it
          // waits on the bench, out of hungry_, which place() then need not walk past it.
          const std::uint64_t rounds = std::min<std::uint64_t>(kRetryRounds, workers_.size() / 64);
          if (rounds > 0) bench(worker, rounds);
        }
      }
    }
    // The busy ones not looked at may have to be parked; idle ones not looked at stay hungry.
    order_.insert(order_.end(), busy_.begin() + static_cast<std::ptrdiff_t>(next_busy), busy_.end());
    for (const Chooser& chooser : order_) {
      const int rank = chooser.rank;
      WorkerState& worker = worker_at(rank);
      if (worker.in_flight() >= chooser.depth) {
        hungry_.erase(rank);
      } else if (!queue_allows(worker, now)) {
        // Still hungry, but its queue is full in time: it waits in parked_, by its ready time,
        // until that comes within a rebalance interval (place() then wakes it).
        hungry_.erase(rank);
        worker.parked_key = worker.ready_key;
        parked_.emplace(worker.parked_key, rank);
        touch(worker);  // re-keyed (both keys) at the next round, with what it holds then
      }
    }
  }
  const bool nothing_queued = pending_.empty() && gangs_.empty() && std::all_of(own_.begin(), own_.end(), [](const auto& block) {
                                return block.second.empty();
                              });
  if (config_.policy == Policy::cost && config_.speculation && nothing_queued) speculate(now, batches);
  for (const auto& [rank, batch] : batches) out_.send(rank, batch);
}

}  // namespace fastgpu::scheduler
