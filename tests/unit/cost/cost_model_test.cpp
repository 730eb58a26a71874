// The cost model: convergence, robustness to spikes, adaptation, borrowing, history, confidence.
#include "cost/cost_model.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

#include "cost_model_test_util.hpp"

namespace fastgpu::cost {
namespace {

using test::rel_diff;
using test::Synthetic;

constexpr double kA = 2.0;   // seconds of overhead
constexpr double kB = 0.5;   // seconds per unit of cost
double truth(double cost, double speed = 1) { return speed * (kA + kB * cost); }

/** @brief Feeds @p rounds round-robin samples from workers 1..speeds.size() with these speeds. */
void feed(CostModel& model, Synthetic& gen, int cls, const std::vector<double>& speeds, int rounds, double noise,
          double lo = 1, double hi = 20) {
  for (int r = 0; r < rounds; ++r) {
    for (std::size_t w = 0; w < speeds.size(); ++w) {
      const double cost = gen.cost(lo, hi);
      model.observe(static_cast<int>(w + 1), cls, cost, gen.noisy(truth(cost, speeds[w]), noise));
    }
  }
}

const CostWorkerParams& worker(const CostModelSnapshot& s, int rank) {
  for (const CostWorkerParams& w : s.workers) {
    if (w.rank == rank) return w;
  }
  throw std::logic_error("no worker " + std::to_string(rank) + " in the snapshot");
}

TEST(CostModel, ClassIdsAreDenseAndStable) {
  CostModel model;
  EXPECT_EQ(model.class_id("command"), 0);
  EXPECT_EQ(model.class_id("gemm"), 1);
  EXPECT_EQ(model.class_id("command"), 0);
  EXPECT_EQ(model.class_id("montecarlo"), 2);
}

TEST(CostModel, BeforeAnySampleThePriorIsTheJobFilesCost) {
  CostModel model(CostModelConfig{32, 0.75, 2.0});
  const int c = model.class_id("command");
  model.add_worker(1, "n1", "cuda:0");
  const Prediction p = model.predict(1, c, 3);
  EXPECT_DOUBLE_EQ(p.seconds, 6);
  EXPECT_EQ(p.sigma_log, 0);
  EXPECT_EQ(p.samples, 0);
  // Unknown workers and classes, odd costs: the prior, never a throw.
  EXPECT_DOUBLE_EQ(model.predict(99, c, 3).seconds, 6);
  EXPECT_DOUBLE_EQ(model.predict(-1, 77, 3).seconds, 6);
  EXPECT_DOUBLE_EQ(model.predict(1, c, -5).seconds, 0);
  EXPECT_DOUBLE_EQ(model.predict(1, c, std::numeric_limits<double>::quiet_NaN()).seconds, 0);
  EXPECT_DOUBLE_EQ(p.quantile(1.64), 6);
}

TEST(CostModel, RefusesBadConfigurationAndInput) {
  EXPECT_THROW(CostModel(CostModelConfig{1, 0.75, 1}), std::invalid_argument);
  EXPECT_THROW(CostModel(CostModelConfig{32, 0, 1}), std::invalid_argument);
  EXPECT_THROW(CostModel(CostModelConfig{32, 1.5, 1}), std::invalid_argument);
  EXPECT_THROW(CostModel(CostModelConfig{32, 0.75, -1}), std::invalid_argument);
  CostModel model;
  const int c = model.class_id("command");
  EXPECT_THROW(model.observe(1, c + 1, 1, 1), std::out_of_range);
  EXPECT_THROW(model.observe(-1, c, 1, 1), std::out_of_range);
  EXPECT_THROW(model.add_worker(CostModel::kMaxRank + 1, "h", "d"), std::out_of_range);
  // Times that mean nothing are ignored.
  model.observe(1, c, 1, std::numeric_limits<double>::quiet_NaN());
  model.observe(1, c, 1, -3);
  model.observe(1, c, std::numeric_limits<double>::infinity(), 3);
  EXPECT_DOUBLE_EQ(model.predict(1, c, 4).seconds, 4);
  EXPECT_EQ(model.predict(1, c, 4).samples, 0);
}

TEST(CostModel, ConvergesToAKnownLineOnNoisyData) {
  CostModel model;
  Synthetic gen;
  const int c = model.class_id("gemm");
  model.add_worker(1, "n1", "cuda:0");
  feed(model, gen, c, {1.0}, 300, 0.05);

  const CostModelSnapshot s = model.snapshot();
  ASSERT_EQ(s.classes.size(), 1u);
  EXPECT_EQ(s.classes[0].task_class, "gemm");
  EXPECT_EQ(s.classes[0].samples, 300);
  // Only factor * line is in the data; the model keeps the median worker within 10% of 1.
  const double f = worker(s, 1).speed_factor;
  EXPECT_NEAR(f, 1, 0.1);
  EXPECT_NEAR(f * s.classes[0].intercept_s, kA, 0.4);
  EXPECT_NEAR(f * s.classes[0].seconds_per_cost, kB, 0.04);
  EXPECT_EQ(worker(s, 1).samples, 300);
  for (double cost : {1.0, 5.0, 10.0, 20.0}) {
    const Prediction p = model.predict(1, c, cost);
    EXPECT_LT(rel_diff(p.seconds, truth(cost)), cost < 5 ? 0.08 : 0.05) << "cost " << cost << ": " << p.seconds;
    EXPECT_EQ(p.samples, 300);
  }
}

TEST(CostModel, ConvergesWithSeveralEqualWorkers) {
  CostModel model;
  Synthetic gen(7);
  const int c = model.class_id("gemm");
  feed(model, gen, c, {1, 1, 1, 1}, 100, 0.05);
  for (int w = 1; w <= 4; ++w) {
    for (double cost : {1.0, 10.0, 20.0}) {
      EXPECT_LT(rel_diff(model.predict(w, c, cost).seconds, truth(cost)), cost == 10 ? 0.05 : 0.1) << "worker " << w;
    }
  }
}

TEST(CostModel, AnInterceptDominatedClassIsFitted) {
  CostModel model;
  Synthetic gen(3);
  const int c = model.class_id("command");
  for (int i = 0; i < 100; ++i) {
    const double cost = gen.cost(1, 100);
    model.observe(1, c, cost, gen.noisy(30 + 0.01 * cost, 0.03));
  }
  EXPECT_LT(rel_diff(model.predict(1, c, 1).seconds, 30.01), 0.05);
  EXPECT_LT(rel_diff(model.predict(1, c, 100).seconds, 31), 0.05);
}

/** @brief Predictions of workers 1..n at a few costs. */
std::vector<double> predictions(const CostModel& model, int c, int workers) {
  std::vector<double> out;
  for (int w = 1; w <= workers + 1; ++w) {  // + 1: a worker that never reported (borrows)
    for (double cost : {1.0, 10.0, 20.0}) out.push_back(model.predict(w, c, cost).seconds);
  }
  return out;
}

TEST(CostModel, OneFiftyFoldSpikeMovesPredictionsByLessThanFivePercent) {
  CostModel model;
  Synthetic gen(11);
  const int c = model.class_id("gemm");
  feed(model, gen, c, {1, 1, 1, 1}, 100, 0.03);
  const std::vector<double> before = predictions(model, c, 4);

  model.observe(2, c, 10, 50 * truth(10));

  const std::vector<double> after = predictions(model, c, 4);
  for (std::size_t i = 0; i < before.size(); ++i) {
    EXPECT_LT(rel_diff(after[i], before[i]), 0.05) << "prediction " << i << ": " << before[i] << " -> " << after[i];
  }
}

TEST(CostModel, OneSpikeOnASingleWorkerMovesItsPredictionByLessThanFivePercent) {
  CostModel model;
  Synthetic gen(12);
  const int c = model.class_id("gemm");
  feed(model, gen, c, {1}, 100, 0.03);
  const double before = model.predict(1, c, 10).seconds;
  model.observe(1, c, 10, 50 * truth(10));
  EXPECT_LT(rel_diff(model.predict(1, c, 10).seconds, before), 0.05);
  // ... and later samples keep it out.
  feed(model, gen, c, {1}, 5, 0.03);
  EXPECT_LT(rel_diff(model.predict(1, c, 10).seconds, truth(10)), 0.05);
}

TEST(CostModel, AWarmUpFirstSampleDoesNotSendWorkAwayFromAGpu) {
  // The known failure: one slow first sample (CUDA context, JIT) and every GEMM avoided that GPU.
  CostModel model;
  Synthetic gen(13);
  const int c = model.class_id("gemm");
  for (int w = 1; w <= 8; ++w) model.add_worker(w, "n" + std::to_string(w), "cuda:0");
  // Workers 1..8 report once; worker 3's first sample is a 30x warm-up.
  for (int w = 1; w <= 8; ++w) {
    const double cost = gen.cost(1, 20);
    const double seconds = truth(cost) * (w == 3 ? 30 : 1);
    model.observe(w, c, cost, gen.noisy(seconds, 0.03));
    const double p3 = model.predict(3, c, 10).seconds;
    const double p1 = model.predict(1, c, 10).seconds;
    EXPECT_LT(p3 / p1, 1.1) << "after worker " << w;
  }
  feed(model, gen, c, std::vector<double>(8, 1.0), 3, 0.03);
  for (int w = 1; w <= 8; ++w) EXPECT_LT(rel_diff(model.predict(w, c, 10).seconds, truth(10)), 0.07);
}

TEST(CostModel, EveryWorkerWarmingUpIsForgottenWithinAFewRounds) {
  CostModel model;
  Synthetic gen(14);
  const int c = model.class_id("gemm");
  feed(model, gen, c, std::vector<double>(8, 20.0), 1, 0.0);  // every first sample 20x
  // While every sample is a warm-up, every worker looks the same: relative predictions stay fair.
  for (int w = 2; w <= 8; ++w)
    EXPECT_LT(rel_diff(model.predict(w, c, 10).seconds, model.predict(1, c, 10).seconds), 0.01);
  feed(model, gen, c, std::vector<double>(8, 1.0), 6, 0.02);
  for (int w = 1; w <= 8; ++w) {
    EXPECT_LT(rel_diff(model.predict(w, c, 10).seconds, truth(10)), 0.07) << "worker " << w;
  }
}

TEST(CostModel, AWorkerTwiceAsSlowIsNoticedWithinFourSamples) {
  CostModel model;
  Synthetic gen(21);
  const int c = model.class_id("gemm");
  feed(model, gen, c, {1, 1, 1, 1}, 60, 0.03);
  const double before = model.predict(2, c, 10).seconds;
  const double other_before = model.predict(1, c, 10).seconds;

  double ratio = 0;
  for (int i = 1; i <= 4; ++i) {
    const double cost = gen.cost(1, 20);
    model.observe(2, c, cost, gen.noisy(truth(cost, 2), 0.03));
    ratio = model.predict(2, c, 10).seconds / before;
    if (i == 1) EXPECT_LT(ratio, 1.5) << "one slow sample is not yet a trend";
  }
  EXPECT_GE(ratio, 1.8);
  EXPECT_LE(ratio, 2.3);
  EXPECT_LT(rel_diff(model.predict(1, c, 10).seconds, other_before), 0.05) << "the others are unaffected";

  // It stays noticed as everyone goes on.
  feed(model, gen, c, {1, 2, 1, 1}, 40, 0.03);
  EXPECT_LT(rel_diff(model.predict(2, c, 10).seconds, truth(10, 2)), 0.07);
  EXPECT_LT(rel_diff(model.predict(1, c, 10).seconds, truth(10)), 0.07);
}

TEST(CostModel, ALoneWorkerThatSlowsDownIsPredictedRightThroughTheTransition) {
  CostModel model;
  Synthetic gen(22);
  const int c = model.class_id("gemm");
  feed(model, gen, c, {1}, 60, 0.03);
  bool noticed = false;
  for (int i = 1; i <= 60; ++i) {
    const double cost = gen.cost(1, 20);
    model.observe(1, c, cost, gen.noisy(truth(cost, 2), 0.03));
    const double ratio = model.predict(1, c, 10).seconds / truth(10);
    if (i == 4) {
      EXPECT_GE(ratio, 1.8);
      noticed = true;
    }
    if (noticed) {
      EXPECT_GT(ratio, 1.75) << "after " << i << " slow samples";
      EXPECT_LT(ratio, 2.3) << "after " << i << " slow samples";
    }
  }
}

TEST(CostModel, ASpeedIsKnownFromHistoryOrEnoughSamples) {
  CostModelSnapshot history;
  history.classes.push_back({"gemm", kA, kB, 50});
  history.workers.push_back({1, "n1", "cuda:0", 2.0, 0.1, 50});
  CostModel model;
  model.seed(history);
  const int c = model.class_id("gemm");
  model.add_worker(1, "n1", "cuda:0");
  model.add_worker(2, "n2", "cuda:0");
  EXPECT_TRUE(model.speed_known(1, 3));  // history
  EXPECT_FALSE(model.speed_known(2, 3));
  EXPECT_FALSE(model.speed_known(7, 3));  // never declared
  EXPECT_NEAR(model.factor(1) / model.factor(2), 2.0, 1e-9);  // 2 borrows the median, here 1's
  for (int i = 0; i < 3; ++i) {
    EXPECT_FALSE(model.speed_known(2, 3)) << "after " << i << " samples";
    model.observe(2, c, 10, truth(10));
  }
  EXPECT_TRUE(model.speed_known(2, 3));
  const CostLine line = model.line(c);
  EXPECT_NEAR(model.factor(2) * line.at(10), truth(10), 0.05 * truth(10));
  EXPECT_EQ(model.line(99).slope, 1.0);  // unknown class: the prior
}

TEST(CostModel, TheTypicalSigmaLeavesOutTheSpreadBetweenWorkers) {
  // Two workers of very different speed, each with 10% noise: a worker never seen could be either
  // (its sigma includes the spread), but a prediction for a known one is off by about 10%.
  CostModel model;
  Synthetic gen(21);
  const int c = model.class_id("gemm");
  feed(model, gen, c, {1.0, 3.0}, 30, 0.1);
  EXPECT_NEAR(model.typical_sigma(), 0.1, 0.05);
  EXPECT_GT(model.predict(-1, c, 10).sigma_log, 0.4);
}

TEST(CostModel, TheSlowSpreadIsHalfTheGapToTheSlowestWorkerOnceEightAreKnown) {
  // How much slower than the median an unseen worker may be (the scheduler's spread for unknown
  // speeds): nothing before 8 workers have 2 samples, then half the log gap to the slowest.
  Synthetic gen(41);
  CostModel few;
  const int c = few.class_id("gemm");
  feed(few, gen, c, {1, 1, 1, 1, 1, 1, 2}, 20, 0.01);
  EXPECT_LT(few.slow_spread(), 0) << "7 workers: no evidence yet";

  CostModel mixed;
  feed(mixed, gen, mixed.class_id("gemm"), {1, 1, 1, 1, 1, 1, 1, 2}, 20, 0.01);
  EXPECT_NEAR(mixed.slow_spread(), std::log(2.0) / 2, 0.02);

  CostModel equal;
  feed(equal, gen, equal.class_id("gemm"), std::vector<double>(16, 1.0), 20, 0.01);
  EXPECT_GE(equal.slow_spread(), 0);
  EXPECT_LT(equal.slow_spread(), 0.02) << "equal GPUs: an unseen one is most likely equal too";
}

TEST(CostModel, ANewWorkerBorrowsTheOthersMedian) {
  CostModel model;
  Synthetic gen(31);
  const int c = model.class_id("gemm");
  feed(model, gen, c, {1.0, 1.2, 1.5}, 60, 0.03);
  model.add_worker(9, "n9", "cuda:0");
  const Prediction p = model.predict(9, c, 10);
  EXPECT_EQ(p.samples, 0);
  const double median_worker = model.predict(2, c, 10).seconds;
  EXPECT_LT(rel_diff(p.seconds, median_worker), 0.02);
  EXPECT_GT(p.sigma_log, model.predict(2, c, 10).sigma_log) << "a worker never seen is less certain";
  // A rank never declared borrows the same.
  EXPECT_DOUBLE_EQ(model.predict(42, c, 10).seconds, p.seconds);
  EXPECT_EQ(worker(model.snapshot(), 9).samples, 0);

  // Its own samples take over quickly: it is in fact 3x slower.
  for (int i = 0; i < 3; ++i) {
    const double cost = gen.cost(1, 20);
    model.observe(9, c, cost, gen.noisy(truth(cost, 3), 0.03));
  }
  EXPECT_LT(rel_diff(model.predict(9, c, 10).seconds, truth(10, 3)), 0.1);
  EXPECT_EQ(model.predict(9, c, 10).samples, 3);
}

TEST(CostModel, TwoWorkersOfDifferentSpeedsGetFactorsInTheRightRatio) {
  CostModel model;
  Synthetic gen(41);
  const int c = model.class_id("gemm");
  model.add_worker(1, "fast", "cuda:0");
  model.add_worker(2, "slow", "cuda:0");
  feed(model, gen, c, {1, 3}, 150, 0.05);
  const CostModelSnapshot s = model.snapshot();
  EXPECT_NEAR(worker(s, 2).speed_factor / worker(s, 1).speed_factor, 3, 0.2);
  for (double cost : {1.0, 10.0, 20.0}) {
    const double tolerance = cost == 10 ? 0.05 : 0.1;  // the ends extrapolate a little
    EXPECT_LT(rel_diff(model.predict(1, c, cost).seconds, truth(cost, 1)), tolerance) << "cost " << cost;
    EXPECT_LT(rel_diff(model.predict(2, c, cost).seconds, truth(cost, 3)), tolerance) << "cost " << cost;
  }
}

TEST(CostModel, AFastWorkerThatFinishesMoreDoesNotSkewTheOthers) {
  CostModel model;
  Synthetic gen(42);
  const int c = model.class_id("gemm");
  for (int i = 0; i < 400; ++i) {
    const double cost = gen.cost(1, 20);
    if (i % 4 != 3) {
      model.observe(1, c, cost, gen.noisy(truth(cost, 1), 0.05));
    } else {
      model.observe(2, c, cost, gen.noisy(truth(cost, 3), 0.05));
    }
  }
  EXPECT_LT(rel_diff(model.predict(1, c, 10).seconds, truth(10, 1)), 0.07);
  EXPECT_LT(rel_diff(model.predict(2, c, 10).seconds, truth(10, 3)), 0.07);
}

TEST(CostModel, FactorsStayAnchoredNearOne) {
  // Only the product factor * line is in the data; the model pins the median worker to 1 so
  // that /model stays readable and comparable between runs.
  CostModel model;
  Synthetic gen(43);
  const int c = model.class_id("gemm");
  feed(model, gen, c, {1, 1, 1, 1, 1}, 400, 0.2);
  const CostModelSnapshot s = model.snapshot();
  for (const CostWorkerParams& w : s.workers) EXPECT_NEAR(w.speed_factor, 1, 0.25) << "rank " << w.rank;
  EXPECT_NEAR(s.classes[0].seconds_per_cost, kB, 0.1);
}

TEST(CostModel, OneFactorPerWorkerAcrossClasses) {
  CostModel model;
  Synthetic gen(44);
  const int gemm = model.class_id("gemm");
  const int mc = model.class_id("montecarlo");
  for (int i = 0; i < 100; ++i) {
    for (int w = 1; w <= 3; ++w) {
      const double speed = w == 3 ? 2 : 1;
      const double cost = gen.cost(1, 20);
      model.observe(w, gemm, cost, gen.noisy(speed * (1 + 2 * cost), 0.03));
      model.observe(w, mc, cost, gen.noisy(speed * (10 + 0.1 * cost), 0.03));
    }
  }
  EXPECT_LT(rel_diff(model.predict(3, gemm, 10).seconds, 2 * 21), 0.07);
  EXPECT_LT(rel_diff(model.predict(3, mc, 10).seconds, 2 * 11), 0.07);
  EXPECT_LT(rel_diff(model.predict(1, mc, 10).seconds, 11), 0.07);
}

TEST(CostModel, ConfidenceGrowsWithNoise) {
  auto sigma_for = [](double noise) {
    CostModel model;
    Synthetic gen(51);
    const int c = model.class_id("gemm");
    feed(model, gen, c, {1, 1, 1}, 100, noise);
    return model.predict(1, c, 10).sigma_log;
  };
  const double quiet = sigma_for(0.02);
  const double noisy = sigma_for(0.3);
  EXPECT_GT(noisy, 3 * quiet);
  EXPECT_GT(noisy, 0.1);
  EXPECT_LT(noisy, 0.7);
  EXPECT_LT(quiet, 0.06);
  EXPECT_GT(quiet, 0);
}

TEST(CostModel, QuantilesWidenWithSigma) {
  CostModel model;
  Synthetic gen(52);
  const int c = model.class_id("gemm");
  feed(model, gen, c, {1, 1}, 100, 0.2);
  const Prediction p = model.predict(1, c, 10);
  EXPECT_GT(p.quantile(1.64), p.seconds);
  EXPECT_LT(p.quantile(-1.64), p.seconds);
  EXPECT_DOUBLE_EQ(p.quantile(0), p.seconds);
}

TEST(CostModel, SubtasksThatTakeNoTimeGiveNoNaN) {
  CostModel model;
  const int c = model.class_id("noop");
  for (int i = 0; i < 20; ++i) model.observe(1, c, 1, 0);
  const Prediction p = model.predict(1, c, 1);
  EXPECT_TRUE(std::isfinite(p.seconds));
  EXPECT_NEAR(p.seconds, 0, 1e-5);
  EXPECT_TRUE(std::isfinite(p.sigma_log));
  model.observe(2, c, 0, 0.5);  // a zero cost
  EXPECT_TRUE(std::isfinite(model.predict(2, c, 0).seconds));
}

TEST(CostModel, SnapshotHasEveryClassAndDeclaredWorker) {
  CostModel model;
  Synthetic gen(61);
  const int c = model.class_id("gemm");
  model.class_id("unused");
  model.add_worker(1, "n1", "cuda:0");
  model.add_worker(3, "n1", "cuda:1");
  feed(model, gen, c, {1}, 10, 0.03);
  const CostModelSnapshot s = model.snapshot();
  ASSERT_EQ(s.classes.size(), 2u);
  EXPECT_EQ(s.classes[1].task_class, "unused");
  EXPECT_EQ(s.classes[1].samples, 0);
  EXPECT_EQ(s.classes[1].intercept_s, 0);
  EXPECT_EQ(s.classes[1].seconds_per_cost, 1);
  ASSERT_EQ(s.workers.size(), 2u);  // ranks 0 and 2 were never declared
  EXPECT_EQ(worker(s, 1).host, "n1");
  EXPECT_EQ(worker(s, 3).device, "cuda:1");
  EXPECT_EQ(worker(s, 3).samples, 0);
  EXPECT_EQ(worker(s, 1).samples, 10);
}

/** @brief A model learned on 4 GPUs of which the one on n2 cuda:1 is twice as slow. */
CostModelSnapshot learned_history() {
  CostModel model;
  Synthetic gen(71);
  const int c = model.class_id("gemm");
  model.class_id("never-ran");
  model.add_worker(1, "n1", "cuda:0");
  model.add_worker(2, "n1", "cuda:1");
  model.add_worker(3, "n2", "cuda:0");
  model.add_worker(4, "n2", "cuda:1");
  feed(model, gen, c, {1, 1, 1, 2}, 80, 0.05);
  return model.snapshot();
}

TEST(CostModel, HistorySeedsClassesAndWorkersByHostAndDevice) {
  const CostModelSnapshot history = learned_history();
  CostModel model;
  model.seed(history);
  const int c = model.class_id("gemm");
  // The same GPUs under other ranks.
  model.add_worker(1, "n2", "cuda:1");
  model.add_worker(2, "n2", "cuda:0");
  model.add_worker(3, "n1", "cuda:1");
  model.add_worker(4, "n1", "cuda:0");
  const Prediction slow = model.predict(1, c, 10);
  EXPECT_LT(rel_diff(slow.seconds, truth(10, 2)), 0.08);
  EXPECT_EQ(slow.samples, 0) << "samples count this run's attempts";
  EXPECT_GT(slow.sigma_log, 0) << "the history's confidence comes along";
  for (int w = 2; w <= 4; ++w) EXPECT_LT(rel_diff(model.predict(w, c, 10).seconds, truth(10)), 0.08);

  const CostModelSnapshot s = model.snapshot();
  ASSERT_EQ(s.classes.size(), 1u) << "a class with no samples is no history";
  EXPECT_EQ(s.classes[0].samples, 320) << "history's samples are kept";
  EXPECT_EQ(worker(s, 1).samples, 80);
  EXPECT_DOUBLE_EQ(worker(s, 1).speed_factor, worker(history, 4).speed_factor);
}

TEST(CostModel, HistoryMatchesByRankWhenTheHostsDiffer) {
  const CostModelSnapshot history = learned_history();
  CostModel model;
  model.add_worker(4, "other-node", "cuda:1");  // declared before the seed
  model.add_worker(1, "other-node", "cuda:0");
  model.seed(history);
  const int c = model.class_id("gemm");
  EXPECT_LT(rel_diff(model.predict(4, c, 10).seconds, truth(10, 2)), 0.08);
  EXPECT_LT(rel_diff(model.predict(1, c, 10).seconds, truth(10, 1)), 0.08);
}

TEST(CostModel, AnUndeclaredWorkerFindsItsHistoryByRank) {
  CostModel model;
  model.seed(learned_history());
  const int c = model.class_id("gemm");
  model.add_worker(1, "n1", "cuda:0");
  const double before = model.predict(1, c, 10).seconds;
  // Rank 4 (twice as slow in the history) reports without add_worker: its first sample is read
  // with its history factor, so it neither moves the class line nor its own factor (the only
  // worker with samples is then the median: the model re-gauges, which changes no prediction).
  model.observe(4, c, 10, truth(10, 2));
  EXPECT_LT(rel_diff(model.predict(4, c, 10).seconds, truth(10, 2)), 0.08);
  EXPECT_LT(rel_diff(model.predict(1, c, 10).seconds, before), 0.02);
}

TEST(CostModel, SeedingFromASnapshotReproducesItsPredictions) {
  const CostModelSnapshot history = learned_history();
  CostModel model;
  model.seed(history);
  const int c = model.class_id("gemm");
  for (const CostWorkerParams& w : history.workers) model.add_worker(w.rank, w.host, w.device);
  const CostClassParams& line = history.classes[0];
  for (const CostWorkerParams& w : history.workers) {
    for (double cost : {1.0, 10.0}) {
      EXPECT_DOUBLE_EQ(model.predict(w.rank, c, cost).seconds,
                       w.speed_factor * (line.intercept_s + line.seconds_per_cost * cost));
    }
  }
}

TEST(CostModel, AWarmUpAfterHistoryDoesNotOverrideIt) {
  CostModel model;
  model.seed(learned_history());
  const int c = model.class_id("gemm");
  model.add_worker(1, "n1", "cuda:0");
  model.observe(1, c, 10, 40 * truth(10));  // first sample of the new run: a warm-up
  EXPECT_LT(rel_diff(model.predict(1, c, 10).seconds, truth(10)), 0.1);
  EXPECT_LT(rel_diff(model.predict(2, c, 10).seconds, truth(10)), 0.1);
}

TEST(CostModel, HistoryFromOtherHardwareGivesWayToNewSamples) {
  CostModel model;
  model.seed(learned_history());
  const int c = model.class_id("gemm");
  Synthetic gen(72);
  for (int w = 1; w <= 4; ++w) model.add_worker(w, "n" + std::to_string(w), "cuda:0");
  feed(model, gen, c, {3, 3, 3, 3}, 6, 0.03);  // everything is 3x slower now
  for (int w = 1; w <= 4; ++w) EXPECT_LT(rel_diff(model.predict(w, c, 10).seconds, truth(10, 3)), 0.1);
}

TEST(CostModel, PredictIsConstantTimeOverManyWorkers) {
  // predict() indexes two vectors; this exercises it over many workers and classes (no timing
  // assertion: the allocation test proves it does not allocate).
  CostModel model;
  Synthetic gen(81);
  std::vector<int> classes;
  for (int k = 0; k < 4; ++k) classes.push_back(model.class_id("k" + std::to_string(k)));
  for (int w = 1; w <= 1000; ++w) model.add_worker(w, "n" + std::to_string(w / 8), "cuda:" + std::to_string(w % 8));
  for (int i = 0; i < 4000; ++i) {
    const int w = 1 + i % 1000;
    const double cost = gen.cost(1, 20);
    const auto k = static_cast<std::size_t>((i + i / 1000) % 4);  // each worker sees every class
    model.observe(w, classes[k], cost, gen.noisy(truth(cost, w % 2 ? 1 : 2), 0.05));
  }
  double total = 0;
  for (int i = 0; i < 1'000'000; ++i)
    total += model.predict(1 + i % 1000, classes[static_cast<std::size_t>(i % 4)], 10).seconds;
  EXPECT_GT(total, 0);
  EXPECT_LT(rel_diff(model.predict(1, classes[0], 10).seconds, truth(10, 1)), 0.15);
  EXPECT_LT(rel_diff(model.predict(2, classes[0], 10).seconds, truth(10, 2)), 0.15);
}

}  // namespace
}  // namespace fastgpu::cost
