// End-to-end: prices per GPU model ([job.gpu_hour_prices]) in `fastgpu inspect`. A real run here
// has only CPU slots (charged the default price); a run on mixed GPUs is a results file written
// with the project's own writer (io::ResultsWriter), its /workers naming H100s, an A100 and a CPU
// slot, and its /job holding the priced job file, as `fastgpu run` stores it.
#include <nlohmann/json.hpp>

#include "e2e/cli_harness.hpp"
#include "io/results_writer.hpp"
#include "support/synthetic_results.hpp"

namespace fastgpu::e2e {
namespace {

constexpr const char* kModelPricedJob = R"(
[job]
name = "mixed"
gpu_hour_price = 2.0
[job.gpu_hour_prices]
"H100" = 4.5
"A100" = 2.9
[task]
command = ["sleep", "0.05"]
[sweep]
i = { range = [0, 4] }
)";

class GpuPricesTest : public CliTest {
 protected:
  nlohmann::json inspect_json(const std::string& file, std::vector<std::string> more = {}) {
    std::vector<std::string> args = {"inspect", file, "--json"};
    args.insert(args.end(), more.begin(), more.end());
    const CliRun run = fastgpu(args);
    EXPECT_EQ(run.exit_code, 0) << run.err;
    return nlohmann::json::parse(run.out);
  }
};

TEST_F(GpuPricesTest, ARealRunsCpuSlotsPayTheDefaultPrice) {
  const CliRun run =
      fastgpu({"run", write("mixed.toml", kModelPricedJob), "--workers", "2", "-o", "mixed.h5", "--quiet"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const auto c = inspect_json("mixed.h5")["cost"];
  EXPECT_EQ(c["prices_by_model"], (nlohmann::json{{"H100", 4.5}, {"A100", 2.9}}));
  EXPECT_EQ(c["price_per_gpu_hour"], 2.0);
  ASSERT_EQ(c["by_model"].size(), 1u);  // no worker has an H100 or an A100
  EXPECT_TRUE(c["by_model"][0]["model"].is_null());
  EXPECT_EQ(c["by_model"][0]["gpu_names"], nlohmann::json::array({"CPU slot"}));
  EXPECT_NEAR(c["cost"].get<double>(), 2.0 * c["gpu_hours"].get<double>(), 1e-12);

  const CliRun text = fastgpu({"inspect", "mixed.h5"});
  EXPECT_NE(text.out.find("(from the job file), of which idle "), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("; by GPU model:\n  other (2 workers: CPU slot): "), std::string::npos) << text.out;
}

TEST_F(GpuPricesTest, EachWorkerIsChargedAtItsGpuModelsPrice) {
  test::SyntheticRun spec;
  spec.workers = 4;
  spec.attempts = 200;
  Results mixed = test::synthetic_results(spec);
  mixed.job.spec = kModelPricedJob;
  mixed.job.source_path = "mixed.toml";
  mixed.workers[2].gpu_name = "NVIDIA A100-SXM4-40GB";
  mixed.workers[3].gpu_name = "";
  mixed.workers[3].device = "cpu";
  {
    auto writer = io::ResultsWriter::create(path("mixed.h5"), mixed.job, mixed.tasks, false);
    for (const auto& w : mixed.workers) writer->add_worker(w);
    for (const auto& a : mixed.attempts) writer->add_attempt(a);
    for (std::size_t i = 0; i < mixed.tasks.size(); ++i) writer->update_task(i, mixed.tasks[i]);
    writer->finish("done", "2024-05-01T13:00:00Z");
  }
  const auto json = inspect_json("mixed.h5");
  const double hours = json["makespan_s"].get<double>() / 3600;
  const auto& c = json["cost"];
  EXPECT_NEAR(c["cost"].get<double>(), hours * (2 * 4.5 + 2.9 + 2.0), 1e-9);
  ASSERT_EQ(c["by_model"].size(), 3u);
  const auto& h100 = c["by_model"][0];
  EXPECT_EQ(h100["model"], "H100");
  EXPECT_EQ(h100["workers"], 2);
  EXPECT_EQ(h100["gpu_names"], nlohmann::json::array({"NVIDIA H100 80GB HBM3"}));
  EXPECT_NEAR(h100["cost"].get<double>(), 2 * hours * 4.5, 1e-9);
  // The idle part: each worker's share of the makespan it did not run attempts, at its price.
  double busy_h100 = 0;
  for (const auto& w : json["workers"]) {
    if (w["rank"] == 1 || w["rank"] == 2) busy_h100 += w["busy_s"].get<double>() / 3600;
  }
  EXPECT_NEAR(h100["idle_cost"].get<double>(), (2 * hours - busy_h100) * 4.5, 1e-9);
  EXPECT_EQ(c["by_model"][1]["model"], "A100");
  EXPECT_NEAR(c["by_model"][1]["cost"].get<double>(), hours * 2.9, 1e-9);
  EXPECT_TRUE(c["by_model"][2]["model"].is_null());
  EXPECT_EQ(c["by_model"][2]["gpu_names"], nlohmann::json::array({"CPU slot"}));

  const CliRun text = fastgpu({"inspect", "mixed.h5"});
  for (const char* line : {"  H100 (2 workers: NVIDIA H100 80GB HBM3): ", "  A100 (1 worker: NVIDIA A100-SXM4-40GB): ",
                           "  other (1 worker: CPU slot): ", ", at 4.50 = "}) {
    EXPECT_NE(text.out.find(line), std::string::npos) << "missing '" << line << "' in:\n" << text.out;
  }

  // --gpu-hour-price is one price for every worker: the job file's prices per model step aside.
  const auto flat = inspect_json("mixed.h5", {"--gpu-hour-price", "1"})["cost"];
  EXPECT_EQ(flat["prices_by_model"], nlohmann::json::object());
  EXPECT_NEAR(flat["cost"].get<double>(), 4 * hours, 1e-9);
}

TEST_F(GpuPricesTest, ABadModelPriceIsAnErrorAtItsPlace) {
  const CliRun run = fastgpu({"validate", write("bad.toml", "[job]\nname = \"x\"\n[job.gpu_hour_prices]\n"
                                                            "\"H100\" = \"a lot\"\n[task]\ncommand = [\"true\"]\n")});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("bad.toml:4:10: the price of GPU model 'H100' must be a number"), std::string::npos)
      << run.err;
}

}  // namespace
}  // namespace fastgpu::e2e
