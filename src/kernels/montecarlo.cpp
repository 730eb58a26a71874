// montecarlo: estimates pi, or prices a European call, from `samples` counter-based random
// samples (montecarlo_samples.hpp), on the CPU or the GPU. Per (seed, task) the pi hit count is
// the same on either; option prices agree to the tolerance in builtin_kernels.hpp.
#include <algorithm>
#include <array>
#include <cmath>
#include <string>

#include "fastgpu/config.hpp"
#include "kernels/kernel_factories.hpp"
#include "kernels/montecarlo_samples.hpp"

#if FASTGPU_HAVE_CUDA
#include "kernels/montecarlo_cuda.hpp"
#endif

namespace fastgpu::kernels {
namespace {

/// The CPU works in chunks of this many samples, checking for a stop request between them.
constexpr std::uint64_t kChunk = std::uint64_t{1} << 20;

MonteCarloSums sample_on_cpu(const MonteCarloProblem& problem) {
  MonteCarloSums sums;
  const std::uint64_t end = problem.first + problem.count;
  for (std::uint64_t i = problem.first; i < end; ++i) {
    if (problem.option) {
      const double payoff = option_payoff(problem.model, problem.seed, problem.stream, i);
      sums.sum += payoff;
      sums.sum_squares += payoff * payoff;
    } else {
      sums.hits += pi_hit(problem.seed, problem.stream, i) ? 1 : 0;
    }
  }
  return sums;
}

OptionModel option_model(const KernelArgs& args) {
  const double rate = args.number("rate", 0.05);
  const double volatility = args.number("volatility", 0.2);
  const double maturity = args.number("maturity", 1.0);
  if (volatility < 0 || maturity < 0) throw KernelError("montecarlo: volatility and maturity must be >= 0");
  OptionModel model;
  model.spot = args.number("spot", 100.0);
  model.strike = args.number("strike", 100.0);
  model.log_drift = (rate - 0.5 * volatility * volatility) * maturity;
  model.diffusion = volatility * std::sqrt(maturity);
  model.discount = std::exp(-rate * maturity);
  return model;
}

/// Adds an estimate (weighted_sum / weight) into reduction `name`. A "mean" gets the weighted sum
/// and the weight written straight into its buffer: for pi both are integers, so the job's result
/// 4*sum(hits)/sum(samples) is exact whatever the number and order of workers.
void add_to_reduction(Context& context, std::string_view name, double weighted_sum, double weight) {
  ReductionSlot& slot = context.reduction(name);
  if (slot.size != 1) {
    throw KernelError("montecarlo: reduction '" + slot.name + "' must have size 1, not " + std::to_string(slot.size));
  }
  if (slot.op != "mean") {
    context.reduce(name, std::array{weighted_sum / weight});
    return;
  }
  std::array<double, 2> totals{};  // the value and the weight
  context.device().copy_to_host(totals.data(), slot.data, sizeof(totals));
  totals[0] += weighted_sum;
  totals[1] += weight;
  context.device().copy_to_device(slot.data, totals.data(), sizeof(totals));
}

class MonteCarloKernel final : public fastgpu::Kernel {
 public:
  void run(Context& context) override {
    const KernelArgs& args = context.args();
    const std::int64_t samples = args.integer("samples");
    const std::int64_t seed = args.integer("seed", 0);
    if (samples < 1) throw KernelError("montecarlo: samples must be >= 1");
    if (seed < 0) throw KernelError("montecarlo: seed must be >= 0");
    const std::string mode = args.string("mode", "pi");
    if (mode != "pi" && mode != "option") {
      throw KernelError("montecarlo: mode must be 'pi' or 'option', not '" + mode + "'");
    }

    MonteCarloProblem problem;
    problem.option = mode == "option";
    problem.seed = static_cast<std::uint64_t>(seed);
    problem.stream = static_cast<std::uint64_t>(context.task_id());
    problem.count = static_cast<std::uint64_t>(samples);
    if (problem.option) problem.model = option_model(args);

    MonteCarloSums sums;
    if (!sample(context, problem, sums)) return;  // stopped: nothing to report

    const auto n = static_cast<double>(samples);
    if (problem.option) {
      const double price = sums.sum / n;
      const double variance = std::max(0.0, sums.sum_squares / n - price * price);
      context.metric("price", price);
      context.metric("stderr", std::sqrt(variance / n));
    } else {
      context.metric("pi", 4.0 * static_cast<double>(sums.hits) / n);
      context.metric("hits", static_cast<double>(sums.hits));
    }
    context.metric("samples", n);
    if (const std::string name = args.string("reduce"); !name.empty()) {
      add_to_reduction(context, name, problem.option ? sums.sum : 4.0 * static_cast<double>(sums.hits), n);
    }
  }

 private:
  /// Fills `sums`; false when a stop request cut the CPU loop short.
  static bool sample(Context& context, const MonteCarloProblem& problem, MonteCarloSums& sums) {
#if FASTGPU_HAVE_CUDA
    if (context.device().kind() == DeviceKind::cuda) {
      sums = montecarlo_on_cuda(context.device(), problem);
      return true;
    }
#endif
    for (std::uint64_t done = 0; done < problem.count; done += kChunk) {
      if (context.stop_requested()) return false;
      MonteCarloProblem chunk = problem;
      chunk.first = done;
      chunk.count = std::min(kChunk, problem.count - done);
      const MonteCarloSums part = sample_on_cpu(chunk);
      sums.hits += part.hits;
      sums.sum += part.sum;
      sums.sum_squares += part.sum_squares;
    }
    return true;
  }
};

}  // namespace

std::unique_ptr<fastgpu::Kernel> make_montecarlo_kernel() { return std::make_unique<MonteCarloKernel>(); }

}  // namespace fastgpu::kernels
