// `fastgpu plan`: a small real run of sleep kernels, then plan --history on it: the table, the
// JSON, the recommendation against a deadline, the emitted sbatch script, and usage errors.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "e2e/cli_harness.hpp"

namespace fastgpu::e2e {
namespace {

// 12 sleep kernels, 1.5 s of work: about 0.8 s on 2 workers. cost = seconds, so the model's line
// is t = seconds (plus a little overhead).
const char* const kPilot = R"([job]
name = "pilot"
output = "pilot.h5"
gpu_hour_price = 2.5

[task]
kernel = "sleep"
cost = "{s}"

[task.args]
seconds = "{s}"

[sweep]
s = [0.05, 0.1, 0.15, 0.2]
k = { range = [0, 3] }
)";

nlohmann::json json_of(const CliRun& run) {
  try {
    return nlohmann::json::parse(run.out);
  } catch (const std::exception& e) {
    ADD_FAILURE() << "not JSON: " << e.what() << "\n" << run.out << run.err;
    return {};
  }
}

std::string read(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

class PlanTest : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    write("pilot.toml", kPilot);
    const CliRun run = fastgpu({"run", "pilot.toml", "--workers", "2", "--quiet"});
    ASSERT_EQ(run.exit_code, 0) << run.err;
  }
};

TEST_F(PlanTest, PredictsTheTableRecommendsForADeadlineAndEmitsAnSbatchScript) {
  const CliRun run = fastgpu({"plan", "pilot.toml", "--history", "pilot.h5", "--max-gpus", "8", "--deadline", "0.5",
                              "--gpu-hour-price", "3", "--emit-sbatch", "plan.sbatch", "--gpus-per-node", "8", "--json"});
  ASSERT_EQ(run.exit_code, 0) << run.err << run.out;
  const auto j = json_of(run);
  EXPECT_EQ(j["subtasks"], 12);
  EXPECT_EQ(j["task_class"], "sleep");
  EXPECT_FALSE(j["sampled"].get<bool>());
  // The model learned t ~ seconds: 1.5 s of work in all (the sleeps' overhead is small).
  EXPECT_NEAR(j["total_work_s"].get<double>(), 1.5, 0.15);
  const auto& rows = j["rows"];
  ASSERT_EQ(rows.size(), 8u);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto& row = rows[i];
    EXPECT_EQ(row["gpus"], static_cast<int>(i) + 1);
    const double makespan = row["makespan_s"].get<double>();
    EXPECT_NEAR(row["gpu_hours"].get<double>(), row["gpus"].get<int>() * makespan / 3600, 1e-12);
    EXPECT_NEAR(row["cost"].get<double>(), 3 * row["gpu_hours"].get<double>(), 1e-12);
    EXPECT_EQ(row["meets_deadline"].get<bool>(), makespan <= 0.5);
    EXPECT_GT(row["efficiency"].get<double>(), 0);
    EXPECT_LE(row["efficiency"].get<double>(), 1);
    // The makespan is at least the lower bound: work / GPUs and the longest subtask (0.2 s).
    EXPECT_GE(makespan, std::max(j["total_work_s"].get<double>() / row["gpus"].get<int>(), j["longest_s"].get<double>()) - 1e-9);
  }
  EXPECT_NEAR(rows[0]["makespan_s"].get<double>(), j["total_work_s"].get<double>(), 1e-6);  // 1 GPU: all of it
  ASSERT_TRUE(j["recommended"].is_number()) << j.dump(2);
  EXPECT_TRUE(j["deadline_met"].get<bool>());
  const int recommended = j["recommended"];
  const auto& pick = rows[static_cast<std::size_t>(recommended - 1)];
  EXPECT_LE(pick["makespan_s"].get<double>(), 0.5);
  for (const auto& row : rows) {  // no allocation that meets the deadline is clearly cheaper
    if (row["meets_deadline"].get<bool>()) EXPECT_GE(row["gpu_hours"].get<double>() * 1.01, pick["gpu_hours"].get<double>());
  }
  // The script: the template's, with this allocation; bash can parse it.
  ASSERT_TRUE(j["sbatch"].is_object()) << j.dump(2);
  const std::string script = read(path("plan.sbatch"));
  EXPECT_NE(script.find("#SBATCH --gpus-per-node=" + std::to_string(j["sbatch"]["gpus_per_node"].get<int>()) + "\n"),
            std::string::npos) << script;
  EXPECT_EQ(j["sbatch"]["gpus"].get<int>(), recommended);  // up to 8 GPUs fit on one node
  EXPECT_EQ(j["sbatch"]["nodes"].get<int>(), 1);
  EXPECT_NE(script.find("#SBATCH --ntasks-per-node=" + std::to_string(recommended + 1)), std::string::npos);
  EXPECT_NE(script.find("#SBATCH --time=" + j["sbatch"]["time"].get<std::string>() + "\n"), std::string::npos);
  // makespan + 2 min + the template's 300-s signal lead, in whole minutes: 8 minutes.
  EXPECT_EQ(j["sbatch"]["time"], "00:08:00");
  EXPECT_NE(script.find("#SBATCH --job-name=pilot\n"), std::string::npos);
  EXPECT_NE(script.find("set -- " + path("pilot.toml").string() + " -o " + path("pilot.planned.h5").string() +
                        " --history " + path("pilot.h5").string()),
            std::string::npos)
      << script;  // pilot.h5 exists, so the planned run writes pilot.planned.h5
  EXPECT_NE(script.find("--signal=B:USR1@"), std::string::npos);  // the template's conventions stay
  const CliRun syntax = exec({"bash", "-n", path("plan.sbatch").string()});
  EXPECT_EQ(syntax.exit_code, 0) << syntax.err;
}

TEST_F(PlanTest, PrintsATableForPeople) {
  const CliRun run = fastgpu({"plan", "pilot.toml", "--history", "pilot.h5", "--max-gpus", "4", "--deadline", "1"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("GPUs"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("GPU-hours"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("cost"), std::string::npos) << run.out;  // the job's gpu_hour_price
  EXPECT_NE(run.out.find("efficiency"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("<- recommended"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("recommended: 2 GPUs"), std::string::npos) << run.out;  // 1.5 s: 2 GPUs (~0.75 s) meet 1 s
}

// The simulated GPUs have no model: the default price applies, and a note says why the prices
// per model do not.
TEST_F(PlanTest, PricesPerGpuModelGiveWayToTheDefault) {
  std::string job = kPilot;
  job.replace(job.find("[task]"), 0, "[job.gpu_hour_prices]\n\"H100\" = 9\n\n");
  write("models.toml", job);
  const CliRun run = fastgpu({"plan", "models.toml", "--history", "pilot.h5", "--max-gpus", "2", "--json"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const auto j = json_of(run);
  EXPECT_EQ(j["gpu_hour_price"], 2.5);
  for (const auto& row : j["rows"]) {
    EXPECT_NEAR(row["cost"].get<double>(), 2.5 * row["gpu_hours"].get<double>(), 1e-12);
  }
  ASSERT_FALSE(j["notes"].empty());
  EXPECT_NE(j["notes"][0].get<std::string>().find("[job.gpu_hour_prices] not used: the simulated GPUs have no model, "
                                                  "so costs are at [job] gpu_hour_price"),
            std::string::npos)
      << j["notes"];
}

// A job of two-GPU subtasks (gangs), planned from the one-GPU pilot of the same kernel: no row has
// fewer GPUs than a subtask needs, the work counts both GPUs of each, and the gangs are simulated.
TEST_F(PlanTest, MultiGpuSubtasksStartAtTheirWidthAndCountEveryGpu) {
  std::string job = kPilot;
  job.replace(job.find("[task.args]"), 0, "gpus = 2\n\n");
  write("gangs.toml", job);
  const CliRun run = fastgpu({"plan", "gangs.toml", "--history", "pilot.h5", "--max-gpus", "6", "--json"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const auto j = json_of(run);
  EXPECT_EQ(j["widest_subtask_gpus"], 2);
  std::vector<int> gpus;
  for (const auto& row : j["rows"]) {
    gpus.push_back(row["gpus"]);
    EXPECT_LE(row["efficiency"].get<double>(), 1.0);
    // A gang of 2 on an odd count leaves a GPU idle at least until the last gang: never faster
    // than the GPU-seconds spread over every GPU, nor than the longest subtask.
    EXPECT_GE(row["makespan_s"].get<double>(),
              std::max(j["total_work_s"].get<double>() / row["gpus"].get<int>(), j["longest_s"].get<double>()) - 1e-9);
  }
  EXPECT_EQ(gpus, (std::vector<int>{2, 3, 4, 5, 6}));
  const auto one = json_of(fastgpu({"plan", "pilot.toml", "--history", "pilot.h5", "--max-gpus", "6", "--json"}));
  EXPECT_NEAR(j["total_work_s"].get<double>(), 2 * one["total_work_s"].get<double>(), 1e-9) << "GPU-seconds";
  // Two GPUs run one gang at a time: the one-GPU job's total time, as on one GPU.
  EXPECT_NEAR(j["rows"][0]["makespan_s"].get<double>(), one["total_work_s"].get<double>(),
              0.25 * one["total_work_s"].get<double>());

  const CliRun narrow = fastgpu({"plan", "gangs.toml", "--history", "pilot.h5", "--max-gpus", "1"});
  EXPECT_EQ(narrow.exit_code, 2);
  EXPECT_NE(narrow.err.find("fewer than the widest subtask's gpus = 2"), std::string::npos) << narrow.err;
}

TEST_F(PlanTest, SaysClearlyWhenNoAllocationMeetsTheDeadline) {
  const CliRun run = fastgpu({"plan", "pilot.toml", "--history", "pilot.h5", "--max-gpus", "4", "--deadline", "0.1",
                              "--emit-sbatch", "none.sbatch"});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("NO ALLOCATION MEETS THE DEADLINE"), std::string::npos) << run.out;
  EXPECT_NE(run.err.find("not written"), std::string::npos) << run.err;
  EXPECT_FALSE(std::filesystem::exists(path("none.sbatch")));
  const auto j = json_of(fastgpu({"plan", "pilot.toml", "--history", "pilot.h5", "--max-gpus", "4", "--deadline",
                                  "0.1", "--json"}));
  EXPECT_TRUE(j["recommended"].is_null());
  EXPECT_FALSE(j["deadline_met"].get<bool>());
}

TEST_F(PlanTest, ABiggerJobFromThePilotSamplesTheGpuCounts) {
  // The same kernel, 400 subtasks: planned from the 12-subtask pilot, on up to 40 GPUs.
  write("big.toml", std::string(kPilot).replace(std::string(kPilot).find("k = { range = [0, 3] }"), 22,
                                                "k = { range = [0, 100] }"));
  const CliRun run = fastgpu({"plan", "big.toml", "--history", "pilot.h5", "--max-gpus", "40", "--json"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const auto j = json_of(run);
  EXPECT_EQ(j["subtasks"], 400);
  EXPECT_TRUE(j["sampled"].get<bool>());
  std::vector<int> gpus;
  for (const auto& row : j["rows"]) gpus.push_back(row["gpus"]);
  EXPECT_EQ(gpus.back(), 40);
  EXPECT_NE(std::find(gpus.begin(), gpus.end(), 24), gpus.end());
  EXPECT_NE(std::find(gpus.begin(), gpus.end(), 32), gpus.end());
  EXPECT_EQ(std::find(gpus.begin(), gpus.end(), 20), gpus.end());
  EXPECT_NEAR(j["total_work_s"].get<double>(), 50, 5);  // 100 x 0.5 s
  // No deadline: the fastest allocation at least 80 % efficient.
  ASSERT_TRUE(j["recommended"].is_number());
  double best = 0;
  for (const auto& row : j["rows"]) {
    if (row["gpus"] == j["recommended"]) {
      EXPECT_GE(row["efficiency"].get<double>(), 0.8);
      best = row["makespan_s"];
    }
  }
  for (const auto& row : j["rows"]) {
    if (row["makespan_s"].get<double>() < best) EXPECT_LT(row["efficiency"].get<double>(), 0.8) << row.dump();
  }
}

TEST_F(PlanTest, UsageErrorsExitTwo) {
  EXPECT_EQ(fastgpu({"plan", "pilot.toml"}).exit_code, 2);  // no --history
  EXPECT_EQ(fastgpu({"plan", "pilot.toml", "--history", "nope.h5"}).exit_code, 2);
  EXPECT_EQ(fastgpu({"plan", "pilot.toml", "--history", "pilot.h5", "--deadline", "soon"}).exit_code, 2);
  EXPECT_EQ(fastgpu({"plan", "pilot.toml", "--history", "pilot.h5", "--max-gpus", "0"}).exit_code, 2);
  EXPECT_EQ(fastgpu({"plan", "pilot.toml", "--history", "pilot.toml"}).exit_code, 2);  // not HDF5
  // A command job has no line in a history of sleep kernels.
  write("cmd.toml", "[job]\nname = \"cmd\"\n[task]\ncommand = [\"true\"]\n");
  const CliRun other = fastgpu({"plan", "cmd.toml", "--history", "pilot.h5"});
  EXPECT_EQ(other.exit_code, 2);
  EXPECT_NE(other.err.find("no class 'command'"), std::string::npos) << other.err;
  const CliRun help = fastgpu({"plan", "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("--emit-sbatch"), std::string::npos);
}

}  // namespace
}  // namespace fastgpu::e2e
