// End-to-end: every policy under mpiexec, with in-process sleep kernels and one worker slowed by
// FASTGPU_SLOWDOWN: each subtask completes exactly once, whatever migrations and speculative
// copies happened, and the results file explains them.
#include <map>

#include "e2e/cli_harness.hpp"
#include "io/results_reader.hpp"

namespace fastgpu::e2e {
namespace {

constexpr const char* kSleepJob = R"(
[job]
name = "balance"
[task]
kernel = "sleep"
cost = "{s}"
[task.args]
seconds = "{s}"
[sweep]
s = [0.2, 0.01, 0.05, 0.02, 0.1]
i = { range = [0, 6] }
)";

class BalanceTest : public CliTest, public ::testing::WithParamInterface<const char*> {};

TEST_P(BalanceTest, EverySubtaskCompletesExactlyOnceWithASlowWorker) {
  const std::string policy = GetParam();
  const auto job = write("balance.toml", kSleepJob);
  auto run = exec({MPIEXEC_BINARY, "-n", "4", "--oversubscribe", "-x", "FASTGPU_SLOWDOWN=2=4", FASTGPU_BINARY, "run",
                   job, "-o", "balance.h5", "--policy", policy, "--rebalance-interval", "0.1"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const auto results = io::read_results(path("balance.h5"));
  ASSERT_EQ(results.tasks.size(), 30u);
  std::map<std::int64_t, int> done;
  for (const auto& attempt : results.attempts) {
    if (attempt.status == AttemptStatus::done) {
      ++done[attempt.task];
    } else {
      // The only other way an attempt ends here: a speculative copy that lost.
      EXPECT_EQ(attempt.status, AttemptStatus::superseded) << to_string(attempt.status);
    }
  }
  for (std::size_t task = 0; task < results.tasks.size(); ++task) {
    EXPECT_EQ(results.tasks[task].status, TaskStatus::done);
    EXPECT_EQ(done[static_cast<std::int64_t>(task)], 1) << results.tasks[task].id;
  }
  std::size_t speculated = 0, superseded = 0, migrated_events = 0, migrated_attempts = 0;
  for (const auto& event : results.events) {
    speculated += event.kind == "speculate";
    migrated_events += event.kind == "migrate";
  }
  for (const auto& attempt : results.attempts) {
    superseded += attempt.status == AttemptStatus::superseded;
    migrated_attempts += attempt.migrated;
  }
  EXPECT_LE(superseded, speculated);  // every superseded attempt comes from a recorded copy
  EXPECT_LE(migrated_attempts, migrated_events);  // an attempt may move more than once
  if (policy != "cost") EXPECT_EQ(speculated + migrated_events, 0u);
  // Predictions are recorded next to actual times, and the model is saved for --history.
  EXPECT_FALSE(std::isnan(results.attempts.back().predicted_s));
  auto model = io::read_model(path("balance.h5"));
  ASSERT_TRUE(model.has_value());
  ASSERT_FALSE(model->classes.empty());
  EXPECT_EQ(model->classes[0].task_class, "sleep");
}

INSTANTIATE_TEST_SUITE_P(Policies, BalanceTest, ::testing::Values("cost", "greedy", "static"));

TEST_F(CliTest, HistorySeedsTheCostModelAndABadOneIsAClearError) {
  const auto job = write("balance.toml", kSleepJob);
  ASSERT_EQ(fastgpu({"run", job, "--workers", "2", "-o", "first.h5"}).exit_code, 0);
  auto second = fastgpu({"run", job, "--workers", "2", "-o", "second.h5", "--history", "first.h5"});
  ASSERT_EQ(second.exit_code, 0) << second.err;
  // From the first attempt on, predictions come from the history: about the real 0.01-0.2 s.
  const auto results = io::read_results(path("second.h5"));
  for (const auto& attempt : results.attempts) {
    EXPECT_LT(attempt.predicted_s, 1.0) << "attempt of " << results.tasks[attempt.task].id;
  }
  write("text.h5", "not hdf5");
  auto bad = fastgpu({"run", job, "--workers", "2", "-o", "third.h5", "--history", "text.h5"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("--history"), std::string::npos) << bad.err;
  EXPECT_FALSE(std::filesystem::exists(path("third.h5")));
}

TEST_F(CliTest, AnUnknownPolicyIsAUsageError) {
  const auto job = write("balance.toml", kSleepJob);
  auto run = fastgpu({"run", job, "--workers", "1", "--policy", "fastest"});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("unknown policy 'fastest'"), std::string::npos) << run.err;
}

}  // namespace
}  // namespace fastgpu::e2e
