// The pure parts of `fastgpu plan`: which GPU counts to simulate, which allocation to recommend,
// and the sbatch script written from slurm/fastgpu.sbatch. No files, clocks or simulations here,
// so the unit tests can hand it made-up predictions (tests/unit/app/plan_test.cpp).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace fastgpu::app::plan {

/// One simulated allocation.
struct PlanRow {
  int gpus = 1;
  double makespan_s = 0;  ///< predicted: the last subtask's end
  double gpu_hours = 0;   ///< gpus x makespan / 3600: what the allocation is billed
  double efficiency = 0;  ///< predicted busy GPU time / allocated GPU time (1 = no GPU idles)
  bool bisected = false;  ///< added between two sampled counts to find where the deadline is met
};

/// Makes a row from a simulation: GPU-hours and efficiency from the makespan and the total work.
PlanRow make_row(int gpus, double makespan_s, double total_work_s);

/**
 * @brief The GPU counts simulated from @p min_gpus to @p max_gpus: every count up to 16, then
 * 1-1.5-2 steps (24, 32, 48, 64, 96, 128, ...), and both ends. Ascending. @p min_gpus is the
 * widest subtask's `gpus`: fewer GPUs cannot run it.
 */
std::vector<int> sampled_counts(int max_gpus, int min_gpus = 1);

/**
 * @brief Simulates the sampled counts with @p simulate and, when @p deadline_s is given and a
 * sampled count meets it while the sampled count just below misses it, bisects the gap between
 * them to find the smallest count that meets it (makespans fall as GPUs are added, so the gap holds
 * the cheapest allocation that meets the deadline). Rows come back sorted by GPU count.
 */
std::vector<PlanRow> explore(int max_gpus, std::optional<double> deadline_s,
                             const std::function<PlanRow(int gpus)>& simulate, int min_gpus = 1);

struct Recommendation {
  std::optional<std::size_t> row;  ///< index into the rows; none when nothing qualifies
  bool deadline_met = false;       ///< with a deadline: the recommended row meets it
  std::string why;                 ///< one sentence for people
};

/**
 * @brief With a deadline: of the rows whose makespan is at most the deadline, the one with the
 * fewest GPU-hours, where GPU-hours within 1 % of the fewest count as equal and then the fewest
 * GPUs win; none when no row meets it (`why` then names the fastest row). Without a deadline: the
 * fastest row whose efficiency is at least @p min_efficiency (ties: fewer GPUs); if none reaches
 * it, the row with the fewest GPU-hours.
 */
Recommendation recommend(const std::vector<PlanRow>& rows, std::optional<double> deadline_s, double min_efficiency);

/// How N GPUs are laid out on nodes of at most @p max_per_node GPUs: ceil(N / max) nodes with
/// ceil(N / nodes) GPUs each (so nodes x per_node may exceed N by less than one per node).
struct NodeLayout {
  int nodes = 1;
  int gpus_per_node = 1;
  int gpus() const { return nodes * gpus_per_node; }
};
NodeLayout layout(int gpus, int max_per_node);

/**
 * @brief The sbatch time limit in seconds: makespan + max(@p margin_fraction x makespan,
 * @p min_margin_s) + @p lead_s (the template's warning signal lead, which covers the run's stop
 * grace and the last writes), rounded up to a whole minute.
 */
double time_limit_s(double makespan_s, double margin_fraction, double min_margin_s, double lead_s);

/// Slurm's --time form: "HH:MM:SS", with "D-" in front from one day on. Rounds up to a second.
std::string slurm_time(double seconds);

/// The seconds of `--signal=[B:]USR1@SECONDS` in an sbatch script, else @p fallback.
double signal_lead_s(const std::string& script, double fallback);
/// The value of `#SBATCH --gpus-per-node=N` in an sbatch script, else @p fallback.
int template_gpus_per_node(const std::string& script, int fallback);

/// Quotes a word for bash: unchanged when it is plain, else in single quotes.
std::string shell_quote(const std::string& word);

struct SbatchSettings {
  std::string job_name;
  NodeLayout layout;
  std::string time;                   ///< Slurm's --time
  std::vector<std::string> arguments; ///< `fastgpu run` arguments when the script is given none
  std::string fastgpu;                ///< the fastgpu binary ($FASTGPU overrides it)
  std::vector<std::string> comments;  ///< said at the top, after the first line
};

/**
 * @brief slurm/fastgpu.sbatch (@p template_text) with the allocation of @p settings: its
 * `#SBATCH --nodes/--gpus-per-node/--ntasks-per-node (GPUs + 1)/--time/--job-name` values replaced
 * (kept comments; added after the last #SBATCH line when missing), the comments after the first
 * line, and after `set -euo pipefail` the default arguments and FASTGPU. Throws UsageError when
 * the text has no #SBATCH line.
 */
std::string render_sbatch(const std::string& template_text, const SbatchSettings& settings);

}  // namespace fastgpu::app::plan
