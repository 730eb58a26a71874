// End-to-end: [[reduce]] in a job file, montecarlo subtasks adding into it, the workers combining
// it at the end (thread collectives in-process, MPI under mpiexec) and /reductions/NAME in the
// file: the same value, bit for bit, whatever the number of workers or ranks.
#include <cmath>
#include <numbers>

#include "e2e/cli_harness.hpp"
#include "io/results_reader.hpp"

namespace fastgpu::e2e {
namespace {

// 16 subtasks of 2^20 samples: the estimate's standard error is about 4e-4.
constexpr const char* kPiJob = R"(
[job]
name = "pi"
[task]
kernel = "montecarlo"
[task.args]
samples = "1048576"
seed = "{seed}"
reduce = "pi"
[[reduce]]
name = "pi"
op = "mean"
[[reduce]]
name = "unused"
op = "max"
size = 2
[sweep]
seed = { range = [0, 16] }
)";

class ReductionsTest : public CliTest {
 protected:
  ReductionValue reduction(const std::string& file, const std::string& name) {
    const Results results = io::read_results(path(file));
    for (const ReductionValue& r : results.reductions) {
      if (r.name == name) return r;
    }
    ADD_FAILURE() << "no /reductions/" << name << " in " << file;
    return {};
  }
};

TEST_F(ReductionsTest, PiIsTheSameWhateverTheWorkersAndTransport) {
  const std::string job = write("pi.toml", kPiJob);
  std::vector<double> estimates;
  for (const char* workers : {"1", "3"}) {
    const std::string out = std::string("threads") + workers + ".h5";
    auto run = fastgpu({"run", job, "--workers", workers, "-o", out, "--quiet"});
    ASSERT_EQ(run.exit_code, 0) << run.err;
    const ReductionValue pi = reduction(out, "pi");
    EXPECT_EQ(pi.op, "mean");
    EXPECT_EQ(pi.contributions, 16);
    EXPECT_EQ(pi.weight, 16.0 * 1048576);
    estimates.push_back(pi.result().at(0));
  }
  for (int ranks : {2, 4}) {
    const std::string out = "mpi" + std::to_string(ranks) + ".h5";
    auto run = mpi_fastgpu(ranks, {"run", job, "-o", out, "--quiet"});
    ASSERT_EQ(run.exit_code, 0) << run.err;
    EXPECT_EQ(reduction(out, "pi").contributions, 16);
    estimates.push_back(reduction(out, "pi").result().at(0));
  }
  for (double estimate : estimates) {
    EXPECT_NEAR(estimate, std::numbers::pi, 2e-3);
    EXPECT_EQ(estimate, estimates.front()) << "exact: whole numbers added in any order";
  }
}

TEST_F(ReductionsTest, AReductionNobodyAddsToHoldsItsIdentity) {
  auto run = fastgpu({"run", write("pi.toml", kPiJob), "--workers", "2", "-o", "out.h5", "--quiet"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const ReductionValue unused = reduction("out.h5", "unused");
  EXPECT_EQ(unused.contributions, 0);
  EXPECT_EQ(unused.values, (std::vector<double>{-INFINITY, -INFINITY}));

  auto inspect = fastgpu({"inspect", "out.h5"});
  ASSERT_EQ(inspect.exit_code, 0) << inspect.err;
  EXPECT_NE(inspect.out.find("reduction pi (mean of 16 attempts): 3.14"), std::string::npos) << inspect.out;
  EXPECT_NE(inspect.out.find("reduction unused (max of 0 attempts): -inf, -inf"), std::string::npos) << inspect.out;
}

TEST_F(ReductionsTest, TheShippedMontecarloPiJobUnderMpiexecGivesPi) {
  const auto job = std::filesystem::path(FASTGPU_SOURCE_DIR) / "jobs/montecarlo_pi.toml";
  auto run = mpi_fastgpu(4, {"run", job.string(), "-o", "pi.h5", "--quiet"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const ReductionValue pi = reduction("pi.h5", "pi");
  EXPECT_EQ(pi.contributions, 64);
  EXPECT_NEAR(pi.result().at(0), std::numbers::pi, 1e-3);
}

}  // namespace
}  // namespace fastgpu::e2e
