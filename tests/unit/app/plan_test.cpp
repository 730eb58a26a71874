// `fastgpu plan`'s pure logic on hand-made predicted tables: which counts it simulates, which
// allocation it recommends, the sbatch time limit and the script written from the template.
#include "app/plan.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "fastgpu/error.hpp"

namespace fastgpu::app::plan {
namespace {

// A job of `work` GPU-seconds that scales perfectly up to `subtasks` GPUs, with a longest subtask.
PlanRow ideal(int gpus, double work, double longest) {
  return make_row(gpus, std::max(work / gpus, longest), work);
}

std::vector<PlanRow> table(std::initializer_list<std::pair<int, double>> makespans, double work) {
  std::vector<PlanRow> rows;
  for (const auto& [gpus, makespan] : makespans) rows.push_back(make_row(gpus, makespan, work));
  return rows;
}

TEST(PlanRows, GpuHoursAndEfficiency) {
  const PlanRow row = make_row(4, 900, 3000);
  EXPECT_DOUBLE_EQ(row.gpu_hours, 1.0);
  EXPECT_DOUBLE_EQ(row.efficiency, 3000.0 / 3600.0);
  EXPECT_DOUBLE_EQ(make_row(3, 0, 0).efficiency, 1.0);  // nothing to do: nothing idles
}

TEST(PlanCounts, EveryCountUpTo16ThenOneAndAHalfSteps) {
  EXPECT_EQ(sampled_counts(1), (std::vector<int>{1}));
  EXPECT_EQ(sampled_counts(5), (std::vector<int>{1, 2, 3, 4, 5}));
  EXPECT_EQ(sampled_counts(16).size(), 16u);
  EXPECT_EQ(sampled_counts(100), (std::vector<int>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 24, 32, 48,
                                                   64, 96, 100}));
  EXPECT_EQ(sampled_counts(64).back(), 64);
  // From the widest subtask's width on: fewer GPUs cannot run it.
  EXPECT_EQ(sampled_counts(5, 3), (std::vector<int>{3, 4, 5}));
  EXPECT_EQ(sampled_counts(40, 20), (std::vector<int>{20, 24, 32, 40}));
  EXPECT_EQ(sampled_counts(4, 4), (std::vector<int>{4}));
  EXPECT_EQ(sampled_counts(4096).size(), 16u + 15u + 1u);  // 1..16, 24 .. 3072 (15 of them), 4096
}

TEST(PlanRecommend, FewestGpuHoursThatMeetTheDeadline) {
  // 1 GPU: 10 h; 2: 5.2 h (10.4 GPU-h); 3: 3.6 h (10.8); 4: 2.8 h (11.2); 8: 1.6 h (12.8).
  const auto rows = table({{1, 36000}, {2, 18720}, {3, 12960}, {4, 10080}, {8, 5760}}, 36000);
  const auto rec = recommend(rows, 4 * 3600.0, 0.8);
  ASSERT_TRUE(rec.row);
  EXPECT_EQ(rows[*rec.row].gpus, 3);  // 3.6 h meets 4 h; 4 and 8 GPUs meet it too but cost more
  EXPECT_TRUE(rec.deadline_met);
  // A tighter deadline moves it up; one the fastest cannot meet gives nothing, and says so.
  EXPECT_EQ(rows[*recommend(rows, 2 * 3600.0, 0.8).row].gpus, 8);
  const auto none = recommend(rows, 3600.0, 0.8);
  EXPECT_FALSE(none.row);
  EXPECT_FALSE(none.deadline_met);
  EXPECT_NE(none.why.find("no allocation of up to 8 GPUs meets the deadline"), std::string::npos) << none.why;
  EXPECT_NE(none.why.find("fastest is 8 GPUs"), std::string::npos) << none.why;
}

TEST(PlanRecommend, ExactlyTheDeadlineMeetsIt) {
  const auto rows = table({{1, 7200}, {2, 3600}}, 7200);
  EXPECT_EQ(rows[*recommend(rows, 3600.0, 0.8).row].gpus, 2);
}

TEST(PlanRecommend, AnUnevenCountCanBeCheaperThanAFewerOne) {
  // 5 subtasks of 1 h: 4 GPUs need 2 h (8 GPU-h), 5 GPUs 1 h (5 GPU-h): 5 is cheaper and faster.
  std::vector<PlanRow> rows;
  for (int n = 1; n <= 5; ++n) rows.push_back(make_row(n, std::ceil(5.0 / n) * 3600, 5 * 3600));
  const auto rec = recommend(rows, 2.5 * 3600, 0.8);
  ASSERT_TRUE(rec.row);
  EXPECT_EQ(rows[*rec.row].gpus, 5);
}

TEST(PlanRecommend, NearlyEqualGpuHoursGoToFewerGpus) {
  // Perfect scaling: every count costs the same up to simulation noise; the fewest GPUs that meet
  // the deadline win, not the largest allocation.
  auto rows = table({{1, 4000}, {2, 2001}, {4, 999.9}, {8, 500.2}}, 4000);
  const auto rec = recommend(rows, 2100.0, 0.8);
  ASSERT_TRUE(rec.row);
  EXPECT_EQ(rows[*rec.row].gpus, 2);
}

TEST(PlanRecommend, WithoutADeadlineTheFastestAboveTheEfficiencyFloor) {
  // Efficiencies: 1, 0.95, 0.85, 0.5.
  const auto rows = table({{1, 1000}, {2, 1000 / 1.9}, {4, 1000 / 3.4}, {8, 250}}, 1000);
  auto rec = recommend(rows, std::nullopt, 0.8);
  ASSERT_TRUE(rec.row);
  EXPECT_EQ(rows[*rec.row].gpus, 4);
  EXPECT_EQ(rows[*recommend(rows, std::nullopt, 0.9).row].gpus, 2);
  // No row reaches the floor: the fewest GPU-hours.
  const auto poor = table({{2, 800}, {4, 700}}, 1000);
  rec = recommend(poor, std::nullopt, 0.99);
  ASSERT_TRUE(rec.row);
  EXPECT_EQ(poor[*rec.row].gpus, 2);
}

TEST(PlanExplore, BisectsTheGapWhereTheDeadlineIsFirstMet) {
  // 10,000 GPU-s of work, longest subtask 10 s: 1,000 s needs 10 GPUs; sampled counts go 1..16, so
  // no bisection; with 64 max and a deadline of 190 s, 48 misses (208 s) and 64 meets (156 s):
  // the gap 49..63 is bisected down to 53 (10000 / 53 = 188.7 s; 52 gives 192.3 s).
  std::map<int, int> calls;
  auto simulate = [&](int n) {
    ++calls[n];
    return ideal(n, 10000, 10);
  };
  auto rows = explore(64, 190.0, simulate);
  EXPECT_EQ(calls.count(52), 1u);
  EXPECT_EQ(calls.count(53), 1u);
  for (const auto& [n, count] : calls) EXPECT_EQ(count, 1) << n;  // each count simulated once
  for (std::size_t i = 1; i < rows.size(); ++i) EXPECT_LT(rows[i - 1].gpus, rows[i].gpus);
  const auto rec = recommend(rows, 190.0, 0.8);
  ASSERT_TRUE(rec.row);
  EXPECT_EQ(rows[*rec.row].gpus, 53);
  EXPECT_TRUE(rows[*rec.row].bisected);
  // Without a deadline only the sampled counts are simulated.
  calls.clear();
  EXPECT_EQ(explore(64, std::nullopt, simulate).size(), sampled_counts(64).size());
  // A deadline met by 1 GPU, or by none: nothing to bisect.
  EXPECT_EQ(explore(64, 1e9, simulate).size(), sampled_counts(64).size());
  EXPECT_EQ(explore(64, 1.0, simulate).size(), sampled_counts(64).size());
}

TEST(PlanSbatch, LayoutOnNodes) {
  EXPECT_EQ(layout(3, 4).nodes, 1);
  EXPECT_EQ(layout(3, 4).gpus_per_node, 3);
  EXPECT_EQ(layout(8, 4).nodes, 2);
  EXPECT_EQ(layout(8, 4).gpus_per_node, 4);
  EXPECT_EQ(layout(6, 4).gpus_per_node, 3);  // 2 x 3, not 4 + 2
  EXPECT_EQ(layout(5, 4).gpus(), 6);          // 2 x 3: one more than asked
  EXPECT_EQ(layout(1, 8).gpus(), 1);
}

TEST(PlanSbatch, TimeLimit) {
  // 1 h + 25 % + 300 s lead = 80 min.
  EXPECT_DOUBLE_EQ(time_limit_s(3600, 0.25, 120, 300), 80 * 60);
  // 10 s: the 2-min floor + 300 s = 430 s -> 8 min.
  EXPECT_DOUBLE_EQ(time_limit_s(10, 0.25, 120, 300), 8 * 60);
  EXPECT_EQ(slurm_time(80 * 60), "01:20:00");
  EXPECT_EQ(slurm_time(59.2), "00:01:00");
  EXPECT_EQ(slurm_time(2 * 86400 + 3 * 3600 + 4 * 60 + 5), "2-03:04:05");
}

const char* const kTemplate =
    "#!/usr/bin/env bash\n"
    "# a template\n"
    "#SBATCH --job-name=fastgpu\n"
    "#SBATCH --nodes=1\n"
    "#SBATCH --gpus-per-node=4\n"
    "#SBATCH --ntasks-per-node=5          # GPUs per node + 1\n"
    "#SBATCH --time=01:00:00\n"
    "#SBATCH --signal=B:USR1@240          # warning\n"
    "set -euo pipefail\n"
    "job_file=$1\n";

TEST(PlanSbatch, ReadsTheTemplate) {
  EXPECT_DOUBLE_EQ(signal_lead_s(kTemplate, 300), 240);
  EXPECT_DOUBLE_EQ(signal_lead_s("#SBATCH --time=1\n", 300), 300);
  EXPECT_EQ(template_gpus_per_node(kTemplate, 8), 4);
  EXPECT_EQ(template_gpus_per_node("#SBATCH --gpus-per-node=a100:2\n", 8), 2);
  EXPECT_EQ(template_gpus_per_node("", 8), 8);
}

TEST(PlanSbatch, RendersTheAllocationIntoTheTemplate) {
  SbatchSettings settings;
  settings.job_name = "sweep";
  settings.layout = layout(6, 4);
  settings.time = "02:10:00";
  settings.arguments = {"/jobs/sweep.toml", "-o", "/results/it's.h5"};
  settings.fastgpu = "/opt/fastgpu/bin/fastgpu";
  settings.comments = {"fastgpu plan: 6 GPUs"};
  const std::string text = render_sbatch(kTemplate, settings);
  EXPECT_EQ(text.rfind("#!/usr/bin/env bash\n# fastgpu plan: 6 GPUs\n", 0), 0u) << text;
  EXPECT_NE(text.find("#SBATCH --job-name=sweep\n"), std::string::npos) << text;
  EXPECT_NE(text.find("#SBATCH --nodes=2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("#SBATCH --gpus-per-node=3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("#SBATCH --ntasks-per-node=4          # GPUs per node + 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("#SBATCH --time=02:10:00\n"), std::string::npos) << text;
  EXPECT_NE(text.find("#SBATCH --signal=B:USR1@240          # warning\n"), std::string::npos) << text;
  // The default arguments come right after `set -euo pipefail`, quoted for bash.
  const auto set = text.find("set -euo pipefail\n");
  const auto args = text.find("if [ $# -eq 0 ]; then set -- /jobs/sweep.toml -o '/results/it'\\''s.h5'; fi\n");
  ASSERT_NE(args, std::string::npos) << text;
  EXPECT_LT(set, args);
  EXPECT_LT(args, text.find("job_file=$1"));
  EXPECT_NE(text.find("export FASTGPU=${FASTGPU:-/opt/fastgpu/bin/fastgpu}\n"), std::string::npos) << text;
  // The directives are all before the first command (sbatch stops reading them there).
  EXPECT_LT(text.rfind("#SBATCH"), set);
}

TEST(PlanSbatch, AddsMissingDirectivesAndRefusesATextWithoutAny) {
  SbatchSettings settings;
  settings.job_name = "j";
  settings.layout = layout(2, 8);
  settings.time = "00:30:00";
  const std::string text = render_sbatch("#!/bin/bash\n#SBATCH --output=x.out\necho hi\n", settings);
  EXPECT_NE(text.find("#SBATCH --output=x.out\n#SBATCH --job-name=j\n#SBATCH --nodes=1\n#SBATCH --gpus-per-node=2\n"
                      "#SBATCH --ntasks-per-node=3\n#SBATCH --time=00:30:00\nset -euo pipefail\n"),
            std::string::npos)
      << text;
  EXPECT_THROW(render_sbatch("#!/bin/bash\necho hi\n", settings), UsageError);
}

TEST(PlanSbatch, ShellQuote) {
  EXPECT_EQ(shell_quote("/a/b-c_d.toml"), "/a/b-c_d.toml");
  EXPECT_EQ(shell_quote("a b"), "'a b'");
  EXPECT_EQ(shell_quote("$HOME"), "'$HOME'");
  EXPECT_EQ(shell_quote(""), "''");
}

}  // namespace
}  // namespace fastgpu::app::plan
