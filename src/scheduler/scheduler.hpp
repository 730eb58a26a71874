// Rank 0's brain, as a pure state machine: it reacts to events (a worker joined, a worker
// reported, a retraction was acknowledged, time passed), decides, and emits messages through an
// injected MessageSink and records through a ResultsSink. It never calls MPI, reads a clock or
// touches a file, so the same code runs under MPI, with in-process threads, in the simulator
// and in tests with a fake sink and a fixed clock.
#pragma once

#include <cstdint>
#include <deque>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <ranges>
#include <set>
#include <span>
#include <string>
#include <tuple>
#include <vector>

#include "comm/transport.hpp"
#include "cost/cost_model.hpp"
#include "fastgpu/cost_model.hpp"
#include "fastgpu/job_spec.hpp"
#include "fastgpu/results.hpp"
#include "support/rank_set.hpp"

namespace fastgpu::scheduler {

enum class Policy {
  cost,    ///< predicted-earliest-finish placement, longest first, rebalance and speculation
  greedy,  ///< first come, first served: the next subtask to whichever worker has room
  static_, ///< block split at start, as a job array does: worker k gets the k-th block
};

/// "cost", "greedy", "static" -> Policy; throws fastgpu::UsageError otherwise.
Policy parse_policy(const std::string& name);
const char* to_string(Policy policy);

struct SchedulerConfig {
  Policy policy = Policy::cost;
  /// greedy and static: attempts in flight per worker (running + queued), 0 = 2. cost: the most
  /// (0 = 32); it keeps queues only as deep as needed to cover `latency_s` (at least one running
  /// and one next), and queues behind a running attempt only when that nears its end.
  int prefetch = 0;
  /// Workers the run will have (0 = unknown). Until all have joined, each gets one attempt at a
  /// time, so the first to join does not take a deep queue the others then wait for; static
  /// waits for all of them to split the work.
  int expected_workers = 0;
  /// Seconds between rebalance rounds (cost policy); 0 = adaptive (half the mean predicted
  /// subtask time, between 0.1 and 5 s).
  double rebalance_interval_s = 0;
  /// Re-run the subtask predicted to finish last on an idle worker that would finish it sooner.
  bool speculation = true;
  /// Round trip scheduler <-> worker the queues must cover, seconds.
  double latency_s = 0.02;
  /// Whether the job's kernel can checkpoint, so that a running attempt may move (in-flight
  /// migration). Any other attempt ignores the request, and one asked to move gets no speculative
  /// copy: asking would only take its rescue away.
  bool running_migration = true;
};

struct StatusCounts {
  std::size_t pending = 0, running = 0, done = 0, failed = 0, cancelled = 0;
};

/// Why a subtask failed for good: its last attempt's error and stderr tail.
struct Failure {
  std::uint32_t task = 0;
  std::string error;
  std::string stderr_tail;
};

class Scheduler {
 public:
  /// cost policy: a worker whose speed is not known (no history, fewer finished attempts than
  /// this) first runs this many short subtasks, so that no long one is committed to it blind: at
  /// the start every worker is unknown, and a long subtask on a slow one would be the makespan.
  static constexpr int kCalibrationRuns = 3;

  /// `job.output_dir` must be set: it is passed to subtasks as {output_dir} and FASTGPU_OUTPUT_DIR.
  /// `history` (from --history) seeds the cost model.
  Scheduler(JobSpec job, std::vector<Subtask> subtasks, SchedulerConfig config, comm::MessageSink& out,
            ResultsSink& sink, const CostModelSnapshot* history = nullptr);

  /// The /tasks rows every subtask starts with (all pending), in subtask order.
  static std::vector<TaskRecord> initial_records(const std::vector<Subtask>& subtasks);

  void on_worker_joined(const WorkerRecord& worker, double now);
  void on_report(int worker_rank, const comm::WorkerReport& report, double now);
  void on_retract_ack(int worker_rank, const comm::RetractAck& ack, double now);
  /// The worker's device became unusable (worker_retirement.cpp): nothing more is placed on it,
  /// the attempts it returned run elsewhere. With every worker retired, what is left fails.
  void on_worker_retired(int worker_rank, const comm::WorkerRetired& retired, double now);
  /// Ranks of the retired workers, for Shutdown.
  std::vector<std::int32_t> retired_workers() const;
  /// Periodic work (rebalance rounds). Call at least by next_wakeup().
  void on_tick(double now);
  /// When on_tick next has something to do (seconds since job start).
  double next_wakeup() const { return next_rebalance_; }

  /// Resume: before any worker joins, takes over the /tasks rows of an earlier run (same order as
  /// the subtasks). Done subtasks stay done and are never placed; the others start their attempt
  /// numbers at `next_attempts[task]` (after the earlier run's).
  void resume_from(const std::vector<TaskRecord>& records, const std::vector<std::int32_t>& next_attempts);
  /// --resume: the states interrupted kernels left (by task), which their next attempts restore.
  void resume_checkpoints(const std::map<std::uint32_t, std::string>& checkpoints);
  /// The run is stopping (signal, deadline): nothing new is placed or moved from now on, and an
  /// attempt the worker reports as cancelled is recorded as interrupted (its subtask goes back to
  /// pending, to run again on resume).
  void stop(double now, const std::string& why);
  bool stopping() const { return stopping_; }
  /// From now on no attempt is placed unless predicted (pessimistically: the model's upper
  /// quantile) to end by `stop_at` (seconds since job start; src/scheduler/deadline.cpp).
  void set_deadline(double stop_at);
  /// Every worker is idle and nothing left is predicted to fit before the deadline: stopping now
  /// loses nothing and gives the allocation back early.
  bool out_of_time() const;

  /// Online arrivals (`fastgpu simulate` with trace submit times): before any worker joins, takes
  /// every subtask out of the queue of pending work; release() hands each back, once, when it
  /// arrives, and places it. cost and greedy only: static splits the whole job at start.
  void hold_all();
  void release(const std::vector<std::uint32_t>& tasks, double now);
  /// Stopping at once, without waiting for the workers: records every attempt still running as
  /// interrupted (end = now) and sets its subtask back to pending.
  void abandon_running(double now);

  bool finished() const { return unfinished_ == 0; }
  std::size_t worker_count() const { return workers_.size(); }
  const std::vector<TaskRecord>& tasks() const { return records_; }
  const std::vector<Subtask>& subtasks() const { return subtasks_; }
  StatusCounts counts() const;
  const std::vector<Failure>& failures() const { return failures_; }
  CostModelSnapshot model_snapshot() const { return model_.snapshot(); }
  /// Predicted seconds of work not yet done, spread over the workers (for ETAs).
  double predicted_remaining_s(double now) const;

 private:
  enum class Phase { queued, retracting, running, cancelling };

  /// A multi-GPU attempt (gang.cpp): the same launch queued on `members`, which start it together
  /// and each report their own result; the attempt is recorded once, when all have reported.
  struct Gang {
    std::vector<int> members;    ///< member order: members[0] leads (LiveAttempt::worker)
    std::vector<bool> reported;  ///< by member index
    int left = 0;                ///< members yet to report
    bool failed = false;         ///< a member reported a non-done status: `result` is that one's
    comm::TaskResult result;     ///< the first non-done member result, else the lead's
    double latest_start = 0, latest_end = 0;
    /// backfill_gangs(): when each member is predicted to reach it, by member index, as of the
    /// walk of that member's queue stamped in reach_walk.
    std::vector<double> reach;
    std::vector<std::uint64_t> reach_walk;
  };

  struct LiveAttempt {
    std::int32_t attempt = 0;
    int worker = -1;
    Phase phase = Phase::queued;
    double start = 0;        ///< when it started running (Phase::running)
    double predicted_s = 0;  ///< the model's prediction when it was placed
    bool migrated = false;
    double moved_at = -1e300;  ///< when a rebalance last moved it (hysteresis)
    bool speculative = false;
    bool calibration = false;  ///< placed to learn the worker's speed (never moved)
    int retract_to = -1;  ///< Phase::retracting: the worker it moves to
    bool migrating = false;  ///< running, asked to checkpoint so it continues on a faster worker
    /// Set for a multi-GPU attempt (shared: LiveAttempt is copied). Never retracted nor copied:
    /// gangs must keep one relative order on every worker they share, or their members deadlock.
    std::shared_ptr<Gang> gang;
  };
  struct TaskState {
    int class_id = 0;
    std::int32_t next_attempt = 0;
    std::int32_t failures = 0;
    int avoid_worker = -1;  ///< a retry prefers another worker than the one that failed
    bool copied = false;    ///< a speculative copy was made (at most one)
    std::vector<LiveAttempt> live;
    std::string checkpoint;  ///< the state an interrupted kernel left: the next attempt starts from it
    bool arrives_migrated = false;  ///< its next attempt continues a running one moved off its worker
  };
  /// A walk of a worker's queue: what it must run before it is free, besides its running attempt,
  /// as the costs of each class (cost::CostSums, split at the class line's reach). Kept until
  /// what it holds changes or a class line's reach moves: a backlog of gangs queues hundreds of
  /// attempts per worker, and walking every queue in every placement and rebalance round was most
  /// of a simulation (Philly's jobs as gangs at 64 workers).
  struct QueueWalk {
    std::uint64_t holdings_version = ~std::uint64_t{0};  ///< WorkerState::holdings_version it was made at
    std::uint64_t epoch = 0;                             ///< Scheduler::walk_epoch_ it was made at
    std::vector<double> reach;          ///< per class id: the reach the sums were split at
    std::vector<cost::CostSums> ahead;  ///< per class id: all queued (gangs, started elsewhere or not, too)
    /// The gangs in the queue not started when walked; for gang i, gang_ahead[i * classes + c] are
    /// the sums of class c ahead of it (classes = reach.size()).
    std::vector<comm::AttemptRef> gangs;
    std::vector<cost::CostSums> gang_ahead;
  };
  struct WorkerState {
    WorkerRecord info;
    std::deque<comm::AttemptRef> queue;  ///< placed, not yet started, in the worker's order
    std::optional<comm::AttemptRef> running;
    int host = 0;  ///< info.host's number in host_ids_ (gangs group members by host)
    int calibrations = 0;  ///< calibration attempts placed on it
    int calibrating = 0;   ///< of them, not finished yet
    double ready = 0;      ///< ready_time() as of placement round ready_round
    std::uint64_t ready_round = 0;
    /// Key of this worker in by_ready_: its ready_time() when it last changed (what it holds, its
    /// model). A lower bound of its ready time but for model changes since (see touch()).
    double ready_key = 0;
    int bucket = 0;           ///< by_ready_'s bucket: its pessimism multiplier (factor x exp) on a log grid
    std::uint64_t retry_round = 0;  ///< place() skips it before this round (it found nothing it may take)
    bool dirty = false;       ///< in dirty_: its key is refreshed at the next placement round
    double parked_key = -1;   ///< >= 0: in parked_ with this key (hungry, its queue bounded in time)
    /// pessimistic()'s multiplier exp(kPessimism * sigma) (sigma widened while its speed is not
    /// known), cached by what it follows from: exp and hypot are costly, and an idle worker weighs
    /// dozens of subtasks per decision.
    double mult_sigma = -1, mult_widen = -1, mult = 1;  ///< pessimism_multiplier()'s cache and its inputs
    bool retired = false;     ///< its device is unusable: never hungry, never a destination
    /// Changes with every touch(): what it holds, their order or their phases changed.
    std::uint64_t holdings_version = 0;
    int in_flight() const { return static_cast<int>(queue.size()) + (running ? 1 : 0); }
  };

  // placement.cpp
  void place(double now);
  void enqueue(std::uint32_t task);
  /// The next subtask for `worker`; `calibration` says it is one of its calibration runs.
  bool take_task_for(WorkerState& worker, double now, std::uint32_t& task, bool& calibration);
  /// cost: whether `worker` may take `task` now. Yes when, even if it runs long (its prediction's
  /// upper quantile), it ends by the projected end of the whole job; otherwise only when no other
  /// worker would end it sooner.
  bool allows(WorkerState& worker, std::uint32_t task, double now);
  /// cost: the prediction's upper quantile: kPessimism sigmas, at least the typical sigma, plus
  /// the uncertainty of the worker's speed while it is not known (unless `speed_as_known`).
  double pessimistic(WorkerState& worker, std::uint32_t task, bool speed_as_known = false);
  /// pessimistic() of a subtask whose class line gives 1 s: orders the workers for any subtask.
  double pessimistic_per_unit(WorkerState& worker);
  double pessimistic_with(WorkerState& worker, const Prediction& mine, bool speed_as_known);
  /// What pessimistic_with() multiplies a prediction of sigma `sigma_log` by on `worker`.
  double multiplier_for(WorkerState& worker, double sigma_log, bool speed_as_known);
  /// cost: when every worker would be done if all the work held and pending were spread over
  /// them in proportion to their speeds (cached for one placement round).
  double projected_end(double now);
  /// ready_time(), cached for one placement round.
  double ready_cached(WorkerState& worker, double now);
  /// cost: whether `worker` may queue one more subtask behind what it holds.
  bool queue_allows(WorkerState& worker, double now);
  /// cost: a worker whose speed is not known yet first runs a few short subtasks.
  bool needs_calibration(const WorkerState& worker) const;
  bool calibrating(const WorkerState& worker) const;
  bool take_calibration_task(WorkerState& worker, double now, std::uint32_t& task);
  /// Removes one entry of pending_ (keeping the per-class sums).
  void unqueue(std::set<std::pair<double, std::uint32_t>>::iterator it);
  /// What pessimistic() multiplies a class line's prediction by for `worker`: its speed factor,
  /// then its pessimism multiplier (as two factors, in that order, so comparisons stay exact).
  struct Pessimism {
    double factor = 0, multiplier = 0;
  };
  Pessimism pessimism_of(WorkerState& worker);
  /// take_task_for(), cost: the last worker this round that was allowed none of the subtasks it
  /// looked at (none of them left alone because it had failed them), with nothing placed or
  /// queued since. allows() and fits_deadline() only get stricter as a worker's finish time
  /// grows, so a worker no faster (factor and multiplier at least as large, ready no sooner)
  /// would be allowed none of them either: it need not look. In a pool of thousands, most idle
  /// workers are of the same unknown speed and would each weigh the same 64 subtasks in vain.
  struct Rejection {
    std::uint64_t round = 0, changes = 0;
    double ready = 0;
    Pessimism pessimism;
  };
  Rejection rejection_;
  /// Bumped whenever pending_ or what a worker holds changes: a Rejection holds only while it stays.
  std::uint64_t placement_changes_ = 0;
  bool surely_rejects(WorkerState& worker, double now);
  void remember_rejection(WorkerState& worker, double now);
  /// How many attempts a worker keeps in flight (the same for every worker).
  int target_depth(bool all_joined) const;
  /// Predicted seconds left of an attempt that started at live.start and should take `predicted`.
  static double remaining(const LiveAttempt& live, double predicted, double now);
  void split_static();
  /// Places attempt `attempt` of `task` on `worker` (a new attempt number unless migrating).
  void assign(WorkerState& worker, std::uint32_t task, std::int32_t attempt, double now, bool migrated,
              bool speculative, std::map<int, comm::AssignTasks>& batches, bool calibration = false);
  double predict(const WorkerState& worker, std::uint32_t task) const;
  /// When the worker is predicted to have finished everything it holds.
  double ready_time(const WorkerState& worker, double now) const;
  /// When the worker is predicted to have finished its running attempt (now if none).
  double running_until(const WorkerState& worker, double now) const;
  /// The worker's QueueWalk, walked again only when it is stale.
  const QueueWalk& queue_walk(const WorkerState& worker) const;
  /// queue_walk()'s caches, by rank: kept apart from WorkerState so that the passes over all
  /// workers do not carry them (whether that is measurable was not shown: a slowdown first put on
  /// it came from cuBLAS not being loaded, docs/PERFORMANCE.md).
  mutable std::vector<QueueWalk> walks_;
  /// Predicted seconds on `worker` of the attempts summed in `sums` (one entry per class id).
  double predicted_sum(const WorkerState& worker, std::span<const cost::CostSums> sums) const;
  /// Bumped where attempts are dropped from under workers that still list them (a retired gang
  /// lead, a stop): every QueueWalk is stale then.
  std::uint64_t walk_epoch_ = 0;

  // rebalance.cpp
  void rebalance(double now);
  /// The live attempt `ref` if a rebalance round may move it, else null.
  LiveAttempt* movable(const comm::AttemptRef& ref, double now);
  /// Whether any worker holds an attempt a rebalance round may move.
  bool any_movable(double now);
  /// In-flight migration (src/scheduler/running_migration.cpp).
  void migrate_running(double now);
  // speculation.cpp
  void speculate(double now, std::map<int, comm::AssignTasks>& batches);
  /// A running attempt a speculative copy could overtake, with when it is predicted to end.
  struct SpeculationCandidate {
    double finish = 0;
    int rank = -1;
    comm::AttemptRef ref;
  };
  void collect_speculation_candidates(double now);
  /// Whether the attempt still runs where it did, uncopied and not moving.
  bool still_a_candidate(const SpeculationCandidate& candidate);
  std::vector<SpeculationCandidate> speculation_candidates_;  ///< latest first
  std::uint64_t speculation_candidates_round_ = 0;

  // gang.cpp: multi-GPU subtasks (Subtask::gpus > 1)
  static bool is_gang(const Subtask& subtask) { return subtask.gpus > 1; }
  /// Places the gangs whose turn it is (nothing single-GPU before them in the order of pending work).
  void place_gangs(double now, std::map<int, comm::AssignTasks>& batches);
  /// The k workers for a gang: k on one host when a host has k, those predicted ready first.
  std::vector<int> pick_gang(int k, double now);
  /// Hosts by name, numbered as their first worker joins (WorkerState::host).
  std::map<std::string, int> host_ids_;
  std::vector<int> host_workers_;  ///< workers that joined, by host number
  int largest_host_ = 0;           ///< the most workers any host has: no gang of more fits on one
  // pick_gang()'s, reused: (predicted ready, rank), and each host's members so far.
  std::vector<std::pair<double, int>> gang_by_ready_;
  std::vector<std::vector<int>> gang_groups_;
  /// A gang subtask that needs more GPUs than the run will have: failed for good.
  void fail_too_big(std::uint32_t task, double now);
  /// Fails `task` for good with `error` without an attempt (nothing can run it); no-op if settled.
  void fail_unplaced(std::uint32_t task, const std::string& error, double now);
  /// One member's result; the attempt is settled when the last member reports.
  void on_gang_member_finished(WorkerState& member, const comm::TaskResult& result, double now);
  /// Gang attempts placed and not started yet: (task, attempt). Their members may backfill.
  std::set<std::pair<std::uint32_t, std::int32_t>> reserved_gangs_;

  // backfill.cpp
  /// Fills the members' idle time before each reserved gang's predicted start with pending
  /// one-GPU subtasks predicted to end by then, queued ahead of the gang.
  void backfill_gangs(double now, std::map<int, comm::AssignTasks>& batches);
  /// Stamps, in every gang `worker` holds queued, when the worker is predicted to reach it
  /// (Gang::reach), from its queue_walk().
  void record_gang_reaches(const WorkerState& worker, double now);
  /// Gang::reach of `member` in `gang` (walking its queue first unless walked this round).
  double gang_reach(Gang& gang, std::size_t member, double now);
  std::uint64_t reach_walk_ = 0;  ///< stamps Gang::reach_walk: a new value per backfill round
  /// Per worker rank: the reach_walk_ its queue was last walked in.
  std::vector<std::uint64_t> walked_in_;

  // scheduler.cpp
  comm::TaskLaunch make_launch(std::uint32_t task, std::int32_t attempt) const;
  void on_started(WorkerState& worker, const comm::TaskStarted& started);
  void on_finished(WorkerState& worker, const comm::TaskResult& result, double now);
  /// Records a whole attempt's result (a gang's combined one on its lead) and decides what next.
  void settle(WorkerState& worker, const comm::TaskResult& result, double now);
  /// A running subtask moved off `source`, its state sent worker to worker: continues it there.
  void continue_moved(WorkerState& source, const comm::TaskResult& result, double now);
  void forget(WorkerState& worker, const comm::AttemptRef& ref);
  LiveAttempt* find_live(std::uint32_t task, std::int32_t attempt);
  void update(std::uint32_t task);
  double rebalance_interval() const;
  /// How many rebalance intervals until the next round: more than one only after rounds with no
  /// event in between (quiet_rounds_), bounded by the age of the running attempts.
  double quiet_backoff(double now);
  int quiet_rounds_ = 0;          ///< rounds in a row with no event since the previous one
  std::uint64_t tick_round_ = 0;  ///< round_ after the last rebalance round's placement

  JobSpec job_;
  std::vector<Subtask> subtasks_;
  SchedulerConfig config_;
  comm::MessageSink& out_;
  ResultsSink& sink_;
  cost::CostModel model_;

  std::vector<TaskRecord> records_;
  std::vector<TaskState> states_;
  /// Tasks waiting for a worker, best first: (key, task). greedy: arrival order (retries first);
  /// cost: longest predicted first.
  std::set<std::pair<double, std::uint32_t>> pending_;
  /// By class: how many subtasks pending_ holds and the sum of their costs (the work they are
  /// predicted to take follows from the class line at any time).
  std::vector<double> pending_count_, pending_cost_;
  /// Gang subtasks waiting for workers, keyed as in pending_ (and kept out of it: no worker takes
  /// one alone).
  std::set<std::pair<double, std::uint32_t>> gangs_;
  /// Gang subtasks needing more GPUs than config_.expected_workers: failed at the next placement
  /// (not at enqueue: resume_from may still take over their rows).
  std::vector<std::uint32_t> too_big_;
  std::uint64_t round_ = 1;         ///< placement round (for the caches)
  std::uint64_t projected_round_ = 0;
  double projected_end_ = 0;
  std::map<int, std::deque<std::uint32_t>> own_;  ///< static: each worker's block
  bool split_done_ = false;
  double arrivals_ = 0;  ///< greedy: a counter that orders the queue
  std::map<int, WorkerState> workers_;
  support::RankSet hungry_;  ///< workers that may take more work
  /// Workers that hold nothing (none running, none queued), as of their last touch() seen by
  /// place(): their ready time is now, so place() need not look at each one to order them.
  support::RankSet idle_;
  /// Workers with attempts queued behind their running one (the only ones with any to move).
  support::RankSet queued_;
  /// Brings idle_ and queued_ up to date for the workers touched since (dirty_).
  void note_holdings_of_dirty();
  /// (retry round, rank): hungry workers that found nothing they may take, out of hungry_ until
  /// that round (or until wake()); a big pool only.
  std::set<std::pair<std::uint64_t, int>> benched_;
  /// Takes the worker out of hungry_ for `rounds` placement rounds.
  void bench(WorkerState& worker, std::uint64_t rounds);
  /// Back to hungry_: the benched workers whose round has come.
  void unbench_due();
  int retired_count_ = 0;  ///< workers retired (WorkerState::retired)
  /// Workers that can still run subtasks.
  std::size_t usable_workers() const { return workers_.size() - static_cast<std::size_t>(retired_count_); }
  /// Every worker retired: nothing can run, so what is left fails for good.
  void fail_unrunnable(double now);
  std::vector<Failure> failures_;
  std::size_t unfinished_ = 0;
  double next_rebalance_ = 0;
  double mean_predicted_s_ = 0;  ///< moving average of placed attempts' predictions (queue depth, interval)
  std::size_t placed_ = 0;
  bool stopping_ = false;
  std::optional<double> deadline_;  ///< set_deadline()
  bool held_for_deadline_ = false;  ///< a subtask was held back by the deadline (recorded once)
  bool fits_deadline(WorkerState& worker, std::uint32_t task, double now);

  // Scale (thousands of workers): indexes so that a decision looks at a few workers, not all.
  /// Marks a worker whose holdings or speed changed: its by_ready_ key is refreshed next round.
  void touch(WorkerState& worker);
  /// Re-keys the touched workers (start of each placement round).
  void refresh_keys(double now);
  /// A hungry worker goes back to the active set (it finished, was retracted from, joined).
  void wake(int rank);
  /// exp(kPessimism * sigma), sigma widened by unknown_speed_sigma() when `speed_unknown`; cached on the worker.
  double pessimism_multiplier(WorkerState& worker, double sigma, bool speed_unknown);
  /// The spread assumed for a worker whose speed is not known yet: kUnknownSpeedSigma, or the
  /// pool's measured spread (CostModel::slow_spread) where that is smaller.
  double unknown_speed_sigma() const;
  /// Every so many rounds: the sum of the workers' speeds (a bound that lets most decisions skip
  /// the exact O(workers) projected end).
  void refresh_bounds();
  /// Whether finish_here is surely within the projected end (a lower bound of it; O(classes)).
  bool surely_before_projected_end(double finish_here, double margin, double now);
  /// A lower bound of projected_end(now) from the pending work alone (O(classes)); -inf when none
  /// can be given cheaply.
  double projected_end_lower_bound(double now);
  /// What projected_end_lower_bound() was last computed for, and its result less `now`.
  struct LowerBoundKey {
    std::uint64_t round = 0;
    std::size_t pending = 0;
    double speed = 0;
    bool operator==(const LowerBoundKey&) const = default;
  };
  LowerBoundKey lower_bound_key_;
  double lower_bound_span_ = 0;

  /// Workers by the multiplier allows() applies to them as "the other worker" (factor times
  /// exp(kPessimism sigma)), in buckets of kBucketWidth in the log, and within a bucket by
  /// ready_key, ascending: a lower bound of when each could end a subtask, for allows() to stop.
  std::map<int, std::set<std::pair<double, int>>> by_ready_;
  int other_bucket(WorkerState& worker);
  /// The model-wide estimates every worker's bucket depends on, as of the last full re-keying.
  struct KeyedModel {
    double typical_sigma = -1, borrowed_log_factor = 0, borrowed_sigma = -1, unknown_sigma = -1;
    /// How far (log) a multiplier may have moved with them since `keyed`.
    double drift_from(const KeyedModel& keyed) const;
  };
  KeyedModel keyed_model_;
  std::vector<int> dirty_;
  std::vector<WorkerState*> by_rank_;  ///< workers_ by rank (map nodes do not move)
  /// A worker that joined, by rank, in O(1).
  WorkerState& worker_at(int rank) { return *by_rank_[static_cast<std::size_t>(rank)]; }
  /// Every worker that joined, in rank order (as workers_ iterates) through by_rank_: a pass over
  /// thousands of workers that walks workers_'s tree spends most of its time chasing its nodes.
  auto in_rank_order() const {
    return by_rank_ | std::views::filter([](const WorkerState* w) { return w != nullptr; }) |
           std::views::transform([](WorkerState* w) -> WorkerState& { return *w; });
  }
  /// Hungry workers whose next subtask waits for their running one to near its end, by when it
  /// is predicted to end (parked_key); place() wakes them when that comes within reach.
  std::set<std::pair<double, int>> parked_;
  std::uint64_t bounds_round_ = 0;
  int rekey_cursor_ = 0;     ///< round robin: a few workers are re-keyed every round (model drift)
  double speed_bound_ = 0;   ///< sum of 1 / factor over the workers at the last refresh_bounds()
  // Reused per round (no allocation per decision once warm).
  /// A hungry worker in place()'s order: predicted ready time, rank (ties), its target depth.
  struct Chooser {
    double ready;
    int rank;
    int depth;
    bool operator<(const Chooser& other) const { return std::tie(ready, rank) < std::tie(other.ready, other.rank); }
  };
  std::vector<Chooser> order_;  ///< place(): the hungry workers looked at so far, in choosing order
  std::vector<Chooser> busy_;   ///< place(): the hungry workers that hold something, sorted as far as needed
  std::vector<std::pair<double, int>> wake_;
  std::vector<int> idle_benched_;  ///< speculate(): the idle workers on the bench, by rank
  std::vector<std::pair<double, WorkerState*>> idle_by_speed_;  ///< migrate_running(), per-unit time
};

}  // namespace fastgpu::scheduler
