// The kernel registry. To add a kernel: add an entry to known_kernels() with its args, and its
// implementation where workers find kernels (src/worker/synthetic_kernels.cpp for the synthetic
// ones, src/kernels/builtin_kernels.cpp for the compute ones); the job parser, `fastgpu validate`
// and the docs check pick it up from here.
#include "job/kernel_catalog.hpp"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>

namespace fastgpu::job {

namespace {

std::string_view trimmed(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  return text;
}

std::optional<double> read_number(std::string_view text) {
  text = trimmed(text);
  double value = 0;
  const auto result = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || result.ec != std::errc() || result.ptr != text.data() + text.size()) return std::nullopt;
  if (!std::isfinite(value)) return std::nullopt;
  return value;
}

std::optional<std::int64_t> read_integer(std::string_view text) {
  text = trimmed(text);
  std::int64_t value = 0;
  const auto result = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || result.ec != std::errc() || result.ptr != text.data() + text.size()) return std::nullopt;
  return value;
}

std::string minimum_text(double minimum) {
  if (minimum == std::floor(minimum) && std::fabs(minimum) < 1e15) {
    return std::to_string(static_cast<std::int64_t>(minimum));
  }
  return std::to_string(minimum);
}

KernelArgSpec seconds_arg(std::string help) {
  KernelArgSpec arg;
  arg.name = "seconds";
  arg.type = KernelArgType::number;
  arg.required = true;
  arg.minimum = 0;
  arg.help = std::move(help);
  arg.example = "1";
  return arg;
}

KernelArgSpec arg(std::string name, KernelArgType type, bool required, double minimum, std::string help,
                  std::string example) {
  return KernelArgSpec{std::move(name), type, required, minimum, std::move(help), std::move(example)};
}

constexpr double kAny = -std::numeric_limits<double>::infinity();

// The compute kernels' args; src/kernels implements them (CPU and CUDA).
std::vector<KernelArgSpec> gemm_args() {
  using enum KernelArgType;
  return {arg("n", integer, true, 1, "columns of B and C (and rows and columns of A unless m, k are given)", "256"),
          arg("m", integer, false, 1, "rows of A and C (default n)", "256"),
          arg("k", integer, false, 1, "columns of A, rows of B (default n)", "256"),
          arg("repeat", integer, false, 1, "how many times C = A * B runs, timed together (default 1)", "1"),
          arg("precision", string, false, kAny, "'double' (default) or 'float'", "double"),
          arg("seed", integer, false, 0, "seed of the random inputs (default 0)", "0")};
}

std::vector<KernelArgSpec> montecarlo_args() {
  using enum KernelArgType;
  return {arg("samples", integer, true, 1, "how many random samples", "100000"),
          arg("seed", integer, false, 0, "random seed; with the task id it fixes every sample (default 0)", "0"),
          arg("mode", string, false, kAny, "'pi' (default: estimate pi) or 'option' (price a European call)", "pi"),
          // No example value: a kernel run with every example must not need a [[reduce]].
          arg("reduce", string, false, kAny,
              "name of a [[reduce]] (size 1, op \"mean\") to add the estimate into, e.g. \"pi\"", ""),
          arg("spot", number, false, 0, "option: the underlying's price today (default 100)", "100"),
          arg("strike", number, false, 0, "option: the strike (default 100)", "100"),
          arg("rate", number, false, kAny, "option: the risk-free rate, continuous (default 0.05)", "0.05"),
          arg("volatility", number, false, 0, "option: the annual volatility (default 0.2)", "0.2"),
          arg("maturity", number, false, 0, "option: years to expiry (default 1)", "1")};
}

std::vector<KernelArgSpec> dp_train_args() {
  using enum KernelArgType;
  return {arg("samples", integer, false, 1, "rows of synthetic data per GPU (default 4096)", "4096"),
          arg("features", integer, false, 1, "features per row (default 16)", "16"),
          arg("steps", integer, false, 1, "gradient steps (default 100)", "100"),
          arg("lr", number, false, 0, "learning rate (default 0.5)", "0.5"),
          arg("seed", integer, false, 0, "seed of the data set and batches (default 0)", "0"),
          arg("batch", integer, false, 1, "rows per step and GPU, drawn from its shard (default: all)", "256"),
          arg("x_input", string, false, kAny,
              "a shared input ([[input]]) with the data set's features, rows x features, instead of synthetic data", ""),
          arg("y_input", string, false, kAny, "the shared input with its labels (0 or 1), one per row", "")};
}

}  // namespace

namespace {

std::deque<KernelSpec>& kernels() {
  static std::deque<KernelSpec> kernels = {
      {"noop", "finishes at once: measures the system's own overhead per subtask", {}, {}},
      {"sleep", "waits, without using the CPU", {seconds_arg("how long it waits, in seconds")}, {}},
      {"spin", "keeps one CPU core busy", {seconds_arg("how long it keeps the core busy, in seconds")}, {}},
      {"gemm", "dense matrix multiply C = A * B (OpenBLAS on the CPU, cuBLAS on a GPU)", gemm_args(), {}},
      {"montecarlo", "Monte Carlo estimate of pi, or price of a European call", montecarlo_args(), {}},
      {"dp_train", "data-parallel logistic regression across the subtask's GPUs (checkpointable)",
       dp_train_args(), {}},
  };
  return kernels;
}

class CatalogRegistry final : public fastgpu::KernelRegistry {
 public:
  void add(KernelSpec spec) override {
    if (spec.name.empty()) throw UsageError("a plugin registered a kernel without a name");
    if (find_kernel(spec.name) != nullptr) {
      throw UsageError("kernel '" + spec.name + "' is registered twice (a plugin reuses a name that is taken)");
    }
    if (!spec.make) throw UsageError("kernel '" + spec.name + "' was registered without a way to make it");
    kernels().push_back(std::move(spec));
  }
};

}  // namespace

const std::deque<KernelSpec>& known_kernels() { return kernels(); }

fastgpu::KernelRegistry& kernel_registry() {
  static CatalogRegistry registry;
  return registry;
}

const KernelSpec* find_kernel(std::string_view name) {
  for (const KernelSpec& kernel : known_kernels()) {
    if (kernel.name == name) return &kernel;
  }
  return nullptr;
}

std::string kernel_name_list() {
  std::string out;
  for (const KernelSpec& kernel : known_kernels()) out += (out.empty() ? "" : ", ") + kernel.name;
  return out;
}

std::optional<std::string> kernel_arg_problem(const KernelArgSpec& arg, std::string_view text) {
  const bool bounded = arg.minimum > -std::numeric_limits<double>::infinity();
  switch (arg.type) {
    case KernelArgType::number: {
      const std::optional<double> value = read_number(text);
      const std::string want = bounded ? "a number >= " + minimum_text(arg.minimum) : "a number";
      if (!value || *value < arg.minimum) return want;
      return std::nullopt;
    }
    case KernelArgType::integer: {
      const std::optional<std::int64_t> value = read_integer(text);
      const std::string want = bounded ? "an integer >= " + minimum_text(arg.minimum) : "an integer";
      if (!value || static_cast<double>(*value) < arg.minimum) return want;
      return std::nullopt;
    }
    case KernelArgType::boolean:
      if (text == "true" || text == "false") return std::nullopt;
      return "true or false";
    case KernelArgType::string:
      return std::nullopt;
  }
  return std::nullopt;
}

double kernel_arg_number(std::string_view text) {
  if (const std::optional<double> value = read_number(text)) return *value;
  return 0;
}

}  // namespace fastgpu::job
