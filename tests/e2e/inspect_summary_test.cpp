// End-to-end: the figures `fastgpu inspect` adds to the summary and --json: efficiency against
// the lower bound, failure causes, scheduling, GPU-hours and cost (price from the job file or
// --gpu-hour-price), and the remaining work of a stopped run. Real runs, real HDF5 files.
#include <nlohmann/json.hpp>

#include "e2e/cli_harness.hpp"

namespace fastgpu::e2e {
namespace {

// 4 sleeps of 0.1-0.25 s and two command subtasks that fail differently, on 2 workers.
constexpr const char* kPricedJob = R"(
[job]
name = "priced"
gpu_hour_price = 3.6
[task]
command = ["sh", "-c", "sleep $0; exit $1", "{s}", "{code}"]
cost = "{s}"
[[tasks]]
params = { s = 0.1, code = 0 }
[[tasks]]
params = { s = 0.2, code = 0 }
[[tasks]]
params = { s = 0.15, code = 0 }
[[tasks]]
params = { s = 0.25, code = 0 }
[[tasks]]
params = { s = 0.05, code = 3 }
[[tasks]]
params = { s = 0.05, code = 4 }
)";

class InspectSummaryTest : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    auto run = fastgpu({"run", write("priced.toml", kPricedJob), "--workers", "2", "-o", "priced.h5", "--quiet"});
    ASSERT_EQ(run.exit_code, 1) << run.err;
  }
};

TEST_F(InspectSummaryTest, JsonHasEfficiencyCausesSchedulingAndCost) {
  auto run = fastgpu({"inspect", "priced.h5", "--json"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const auto json = nlohmann::json::parse(run.out);
  const double makespan = json["makespan_s"];
  ASSERT_GT(makespan, 0.2);

  const auto& e = json["efficiency"];
  EXPECT_EQ(e["speeds_from"], "model");
  EXPECT_GT(e["total_work_s"].get<double>(), 0.5);  // 0.7 s of successful sleeps, at speeds near 1
  EXPECT_LT(e["total_work_s"].get<double>(), 1.5);
  EXPECT_GT(e["lower_bound_s"].get<double>(), 0);
  EXPECT_LE(e["lower_bound_s"].get<double>(), makespan * 1.2);
  EXPECT_NEAR(e["efficiency"].get<double>(), e["lower_bound_s"].get<double>() / makespan, 1e-9);

  EXPECT_EQ(json["attempt_counts"]["done"], 4);
  EXPECT_EQ(json["attempt_counts"]["failed"], 2);  // no retries by default
  ASSERT_EQ(json["failure_causes"].size(), 2u);
  for (const auto& cause : json["failure_causes"]) {
    EXPECT_EQ(cause["subtasks"], 1);
    EXPECT_TRUE(cause["error"] == "exit code 3" || cause["error"] == "exit code 4") << cause;
  }
  EXPECT_TRUE(json["scheduling"]["migrations"].is_number_unsigned());
  EXPECT_EQ(json["scheduling"]["speculative_copies"], 0);  // command subtasks: speculation is off by default

  const auto& c = json["cost"];
  EXPECT_EQ(c["workers"], 2);
  EXPECT_NEAR(c["gpu_hours"].get<double>(), 2 * makespan / 3600, 1e-12);
  EXPECT_LE(c["busy_gpu_hours"].get<double>(), c["gpu_hours"].get<double>() + 1e-12);
  EXPECT_EQ(c["price_per_gpu_hour"], 3.6);
  EXPECT_EQ(c["price_from"], "job file");
  EXPECT_NEAR(c["cost"].get<double>(), 3.6 * c["gpu_hours"].get<double>(), 1e-12);

  EXPECT_EQ(json["remaining"]["subtasks"], 2);  // the two failed subtasks: --resume runs them again
  EXPECT_EQ(json["remaining"]["failed"], 2);
  EXPECT_EQ(json["remaining"]["basis"], "model");
}

TEST_F(InspectSummaryTest, TheOptionPriceOverridesTheJobFile) {
  auto run = fastgpu({"inspect", "priced.h5", "--json", "--gpu-hour-price", "100"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const auto json = nlohmann::json::parse(run.out);
  EXPECT_EQ(json["cost"]["price_from"], "option");
  EXPECT_NEAR(json["cost"]["cost"].get<double>(), 100 * json["cost"]["gpu_hours"].get<double>(), 1e-12);

  run = fastgpu({"inspect", "priced.h5", "--gpu-hour-price", "-1"});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("--gpu-hour-price must be a number, zero or more"), std::string::npos) << run.err;
}

TEST_F(InspectSummaryTest, TheSummaryReadsWellInATerminal) {
  auto run = fastgpu({"inspect", "priced.h5"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const auto& out = run.out;
  for (const char* expected :
       {"subtasks: 6, 4 done, 2 failed; attempts: 6 (4 done, 2 failed)", "makespan: ", "efficiency: ",
        "no schedule could beat ", "speeds from the cost model", "worker-hours (CPU slots, no GPU): ", "(2 workers x makespan)",
        "cost: ", " at 3.60 per worker-hour (from the job file)", "scheduling: ", " speculative copies\n",
        "remaining: 2 subtasks not done (2 failed)", "failures by cause:\n", "exit code 3  e.g. ",
        "failed subtasks:\n"}) {
    EXPECT_NE(out.find(expected), std::string::npos) << "missing '" << expected << "' in:\n" << out;
  }
}

TEST_F(InspectSummaryTest, WithoutAPriceTheSummarySaysHowToGiveOne) {
  auto job = std::string(kPricedJob);
  job.erase(job.find("gpu_hour_price = 3.6\n"), std::string("gpu_hour_price = 3.6\n").size());
  auto run = fastgpu({"run", write("free.toml", job), "--workers", "2", "-o", "free.h5", "--quiet"});
  ASSERT_EQ(run.exit_code, 1) << run.err;
  run = fastgpu({"inspect", "free.h5"});
  EXPECT_NE(run.out.find("cost: no price given ([job] gpu_hour_price"), std::string::npos) << run.out;
  run = fastgpu({"inspect", "free.h5", "--json"});
  const auto json = nlohmann::json::parse(run.out);
  EXPECT_TRUE(json["cost"]["cost"].is_null());
  EXPECT_TRUE(json["cost"]["price_per_gpu_hour"].is_null());
}

TEST_F(CliTest, ABadPriceInTheJobFileNamesItsPlace) {
  auto run = fastgpu({"validate", write("bad.toml", "[job]\nname = \"x\"\ngpu_hour_price = \"cheap\"\n[task]\n"
                                                     "command = [\"true\"]\n")});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("bad.toml:3:18: 'gpu_hour_price' must be a number"), std::string::npos) << run.err;
  run = fastgpu({"validate", write("neg.toml", "[job]\nname = \"x\"\ngpu_hour_price = -2\n[task]\n"
                                                "command = [\"true\"]\n")});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("neg.toml:3:18: 'gpu_hour_price' must be a finite number, zero or more"), std::string::npos)
      << run.err;
}

TEST_F(CliTest, AStoppedRunShowsItsRemainingWorkPredictedByTheModel) {
  // 30 subtasks of 0.2 s on 2 workers (3 s); SIGTERM about 1 s after the results file appears
  // (its stop handlers are in place by then, however slowly it started: a sanitized build).
  const auto job = write("long.toml", R"(
[job]
name = "long"
[task]
kernel = "sleep"
args = { seconds = "0.2" }
[sweep]
i = { range = [0, 30] }
)");
  auto run = exec({"sh", "-c",
                   std::string(FASTGPU_BINARY) + " run " + job +
                       " --workers 2 -o long.h5 --quiet --grace 2 & pid=$!; "
                       "while [ ! -e long.h5 ] && kill -0 $pid 2>/dev/null; do sleep 0.05; done; "
                       "sleep 1; kill -TERM $pid; wait $pid"});
  ASSERT_EQ(run.exit_code, 3) << run.out << run.err;
  run = fastgpu({"inspect", "long.h5", "--json"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const auto json = nlohmann::json::parse(run.out);
  EXPECT_EQ(json["job"]["status"], "stopped");
  const auto& r = json["remaining"];
  const int left = r["subtasks"];
  ASSERT_GT(left, 0);
  EXPECT_EQ(left, 30 - json["counts"]["done"].get<int>());
  EXPECT_EQ(r["basis"], "model");
  // Each about 0.2 s on a worker of speed about 1.
  EXPECT_NEAR(r["predicted_work_s"].get<double>(), 0.2 * left, 0.05 * left);
  EXPECT_NEAR(r["predicted_wall_s"].get<double>(), 0.1 * left, 0.05 * left);

  run = fastgpu({"inspect", "long.h5"});
  EXPECT_NE(run.out.find("remaining: " + std::to_string(left) + " subtasks not done"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("(cost model)"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("--resume runs them"), std::string::npos) << run.out;
}

}  // namespace
}  // namespace fastgpu::e2e

namespace fastgpu::e2e {
namespace {

// A run with a slowed worker (FASTGPU_SLOWDOWN), where the scheduler moves work: the Gantt chart
// marks every migration and speculative copy inspect counts, labels its lanes and has an axis and
// a legend. The SVG is parsed as XML by Python's ElementTree.
TEST_F(CliTest, GanttMarksTheMigrationsAndCopiesInspectCounts) {
  const std::string python = "/usr/bin/python3";
  if (!std::filesystem::exists(python)) GTEST_SKIP() << "no /usr/bin/python3";
  const auto job = write("slow.toml", R"(
[job]
name = "slow"
[task]
kernel = "sleep"
args = { seconds = "0.1" }
[sweep]
i = { range = [0, 24] }
)");
  auto run = exec({"/usr/bin/env", "FASTGPU_SLOWDOWN=2=10", FASTGPU_BINARY, "run", job, "--workers", "3", "-o",
                   "slow.h5", "--speculation", "on", "--quiet"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  run = fastgpu({"inspect", "slow.h5", "--json"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const auto scheduling = nlohmann::json::parse(run.out)["scheduling"];
  run = fastgpu({"inspect", "slow.h5", "--gantt", "slow.svg"});
  ASSERT_EQ(run.exit_code, 0) << run.err;

  const auto script = write("svg.py", R"(
import sys, json, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
S = "{http://www.w3.org/2000/svg}"
assert root.tag == S + "svg", root.tag
markers = {"m-migrate": 0, "m-speculate": 0}
for e in root.iter():
    if e.get("class") in markers and e.find(S + "title") is not None:
        markers[e.get("class")] += 1
texts = [t.text or "" for t in root.iter(S + "text")]
print(json.dumps({"markers": markers, "texts": texts}))
)");
  run = exec({python, script, path("slow.svg").string()});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const auto svg = nlohmann::json::parse(run.out);
  // With more than 200 markers only the receiving lane's triangle is drawn; here there are few.
  EXPECT_EQ(svg["markers"]["m-migrate"], scheduling["migrations"]) << run.out;
  EXPECT_EQ(svg["markers"]["m-speculate"], scheduling["speculative_copies"]) << run.out;
  const auto texts = svg["texts"].get<std::vector<std::string>>();
  auto has = [&](const std::string& what) {
    return std::any_of(texts.begin(), texts.end(), [&](const std::string& t) { return t.find(what) != t.npos; });
  };
  for (const char* label : {"rank 1 · ", "rank 2 · ", "rank 3 · "}) EXPECT_TRUE(has(label)) << label;
  EXPECT_TRUE(has("time since job start"));
  EXPECT_TRUE(has("done (24)")) << "legend";
  if (scheduling["migrations"].get<int>() > 0) EXPECT_TRUE(has("migrated (")) << "legend";
}

}  // namespace
}  // namespace fastgpu::e2e
