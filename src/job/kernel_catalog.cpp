// The kernel registry. To add a kernel: add an entry to known_kernels() with its args, and its
// implementation where workers find kernels (src/worker/synthetic_kernels.cpp for the synthetic
// ones); the job parser, `fastgpu validate` and the docs check pick it up from here.
#include "job/kernel_catalog.hpp"

#include <charconv>
#include <cmath>
#include <cstdint>

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

}  // namespace

const KernelArgSpec* KernelSpec::find_arg(std::string_view arg) const {
  for (const KernelArgSpec& spec : args) {
    if (spec.name == arg) return &spec;
  }
  return nullptr;
}

const std::vector<KernelSpec>& known_kernels() {
  static const std::vector<KernelSpec> kernels = {
      {"noop", "finishes at once: measures the system's own overhead per subtask", {}},
      {"sleep", "waits, without using the CPU", {seconds_arg("how long it waits, in seconds")}},
      {"spin", "keeps one CPU core busy", {seconds_arg("how long it keeps the core busy, in seconds")}},
  };
  return kernels;
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
