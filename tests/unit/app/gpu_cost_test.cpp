// The bill of a run (app/gpu_cost.hpp): every worker's makespan at the price of its GPU model,
// else the default price; the cost per model; and the text and JSON `inspect` shows.
#include "app/gpu_cost.hpp"

#include <gtest/gtest.h>

#include <sstream>

#include "app/cost_report.hpp"

namespace fastgpu::app {
namespace {

WorkerRecord gpu_worker(int rank, const std::string& gpu_name) {
  WorkerRecord w;
  w.rank = rank;
  w.device = gpu_name.empty() ? "cpu" : "cuda:0";
  w.gpu_name = gpu_name;
  return w;
}

// Two H100s, an A100 and a CPU slot, over a 2-hour makespan; each busy 1.5 h except the slot (0.5 h).
struct MixedRun {
  std::vector<WorkerRecord> workers = {gpu_worker(1, "NVIDIA H100 80GB HBM3"), gpu_worker(2, "NVIDIA H100 80GB HBM3"),
                                       gpu_worker(3, "NVIDIA A100-SXM4-40GB"), gpu_worker(4, "")};
  std::vector<double> busy_s = {5400, 5400, 5400, 1800};
  double makespan_s = 7200;
};

const GpuPrices kPrices = {2.0, {{"H100", 4.5}, {"A100", 2.9}}, "job file"};

TEST(GpuCost, EachModelAtItsPriceTheRestAtTheDefault) {
  const MixedRun run;
  const CostSummary c = compute_cost(run.workers, run.busy_s, run.makespan_s, kPrices);
  EXPECT_DOUBLE_EQ(c.gpu_hours, 8);
  EXPECT_DOUBLE_EQ(c.busy_gpu_hours, 5);
  EXPECT_DOUBLE_EQ(c.idle_gpu_hours, 3);
  ASSERT_EQ(c.by_model.size(), 3u);

  const ModelCost& h100 = c.by_model[0];
  EXPECT_EQ(h100.model, "H100");
  EXPECT_EQ(h100.workers, 2u);
  EXPECT_EQ(h100.gpu_names, std::vector<std::string>{"NVIDIA H100 80GB HBM3"});
  EXPECT_DOUBLE_EQ(h100.gpu_hours, 4);
  EXPECT_DOUBLE_EQ(h100.idle_gpu_hours, 1);
  EXPECT_DOUBLE_EQ(*h100.cost, 18);       // 4 h x 4.5
  EXPECT_DOUBLE_EQ(*h100.idle_cost, 4.5);

  const ModelCost& a100 = c.by_model[1];
  EXPECT_EQ(a100.model, "A100");
  EXPECT_DOUBLE_EQ(*a100.cost, 5.8);      // 2 h x 2.9

  const ModelCost& other = c.by_model[2];
  EXPECT_EQ(other.model, "");
  EXPECT_EQ(other.gpu_names, std::vector<std::string>{"CPU slot"});
  EXPECT_DOUBLE_EQ(*other.price, 2);
  EXPECT_DOUBLE_EQ(*other.cost, 4);       // 2 h x 2
  EXPECT_DOUBLE_EQ(*other.idle_cost, 3);  // 1.5 h idle x 2

  EXPECT_DOUBLE_EQ(*c.cost, 18 + 5.8 + 4);
  EXPECT_DOUBLE_EQ(*c.idle_cost, 4.5 + 2.9 * 0.5 + 3);
}

TEST(GpuCost, ModelsNoWorkerHasAreLeftOut) {
  const std::vector<WorkerRecord> workers = {gpu_worker(1, "NVIDIA A100-SXM4-40GB")};
  const CostSummary c = compute_cost(workers, {3600}, 3600, kPrices);
  ASSERT_EQ(c.by_model.size(), 1u);
  EXPECT_EQ(c.by_model[0].model, "A100");
  EXPECT_DOUBLE_EQ(*c.cost, 2.9);
  EXPECT_DOUBLE_EQ(*c.idle_cost, 0);
}

TEST(GpuCost, AGpuWithNoPriceLeavesTheTotalUnknown) {
  const MixedRun run;
  const GpuPrices models_only = {std::nullopt, {{"H100", 4.5}, {"A100", 2.9}}, "job file"};
  const CostSummary c = compute_cost(run.workers, run.busy_s, run.makespan_s, models_only);
  EXPECT_FALSE(c.cost);
  EXPECT_FALSE(c.idle_cost);
  ASSERT_EQ(c.by_model.size(), 3u);
  EXPECT_DOUBLE_EQ(*c.by_model[0].cost, 18);  // the priced models still show theirs
  EXPECT_FALSE(c.by_model[2].price);
  EXPECT_FALSE(c.by_model[2].cost);
}

TEST(GpuCost, NoPriceAtAllIsNoCost) {
  const MixedRun run;
  const CostSummary c = compute_cost(run.workers, run.busy_s, run.makespan_s, {});
  EXPECT_FALSE(c.cost);
  EXPECT_DOUBLE_EQ(c.gpu_hours, 8);
  ASSERT_EQ(c.by_model.size(), 1u);  // every worker in the default's group
  EXPECT_EQ(c.by_model[0].workers, 4u);
}

TEST(GpuCost, OnePriceForAllIsOneLine) {
  const MixedRun run;
  const CostSummary c = compute_cost(run.workers, run.busy_s, run.makespan_s, {3.0, {}, "option"});
  EXPECT_DOUBLE_EQ(*c.cost, 24);
  std::ostringstream text;
  print_cost(text, c, true);
  EXPECT_EQ(text.str(),
            "GPU-hours: 8.00 (4 workers x makespan), busy 5.00 (62%), idle 3.00\n"
            "cost: 24.00 at 3.00 per GPU-hour (from --gpu-hour-price), of which idle 9.00\n");
}

TEST(GpuCost, TextHasALinePerModel) {
  const MixedRun run;
  std::ostringstream text;
  print_cost(text, compute_cost(run.workers, run.busy_s, run.makespan_s, kPrices), true);
  EXPECT_EQ(text.str(),
            "GPU-hours: 8.00 (4 workers x makespan), busy 5.00 (62%), idle 3.00\n"
            "cost: 27.80 (from the job file), of which idle 8.95; by GPU model:\n"
            "  H100 (2 workers: NVIDIA H100 80GB HBM3): 4.00 GPU-hours, idle 1.00, at 4.50 = 18.00\n"
            "  A100 (1 worker: NVIDIA A100-SXM4-40GB): 2.00 GPU-hours, idle 0.5, at 2.90 = 5.80\n"
            "  other (1 worker: CPU slot): 2.00 GPU-hours, idle 1.50, at 2.00 = 4.00\n");
}

TEST(GpuCost, TextNamesTheGpusWithoutAPrice) {
  const MixedRun run;
  std::ostringstream text;
  const GpuPrices models_only = {std::nullopt, {{"H100", 4.5}}, "job file"};
  print_cost(text, compute_cost(run.workers, run.busy_s, run.makespan_s, models_only), true);
  EXPECT_NE(text.str().find("cost: unknown: no price for NVIDIA A100-SXM4-40GB, CPU slot"), std::string::npos)
      << text.str();
  EXPECT_NE(
      text.str().find("  other (2 workers: NVIDIA A100-SXM4-40GB, CPU slot): 4.00 GPU-hours, idle 2.00, no price"),
      std::string::npos)
      << text.str();
}

TEST(GpuCost, JsonHasThePricesAndTheBreakdown) {
  const MixedRun run;
  const nlohmann::json j = cost_json(compute_cost(run.workers, run.busy_s, run.makespan_s, kPrices));
  EXPECT_EQ(j["price_per_gpu_hour"], 2.0);
  EXPECT_EQ(j["prices_by_model"], (nlohmann::json{{"H100", 4.5}, {"A100", 2.9}}));
  EXPECT_EQ(j["price_from"], "job file");
  EXPECT_DOUBLE_EQ(j["cost"].get<double>(), 27.8);
  ASSERT_EQ(j["by_model"].size(), 3u);
  EXPECT_EQ(j["by_model"][0]["model"], "H100");
  EXPECT_EQ(j["by_model"][0]["workers"], 2);
  EXPECT_DOUBLE_EQ(j["by_model"][0]["cost"].get<double>(), 18);
  EXPECT_TRUE(j["by_model"][2]["model"].is_null());
  EXPECT_EQ(j["by_model"][2]["gpu_names"], nlohmann::json::array({"CPU slot"}));
}

}  // namespace
}  // namespace fastgpu::app
