#include "job/param_value.hpp"

#include <charconv>
#include <nlohmann/json.hpp>
#include <system_error>

namespace fastgpu {

namespace {

std::string double_to_string(double value) {
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  std::string text(buffer, result.ptr);
  // Keep floats recognisable as floats: 1.0 stays "1.0", not "1" (which would read as an integer).
  if (text.find_first_of(".eEn") == std::string::npos) text += ".0";
  return text;
}

}  // namespace

std::string param_to_string(const ParamValue& value) {
  struct Visitor {
    std::string operator()(std::int64_t v) const { return std::to_string(v); }
    std::string operator()(double v) const { return double_to_string(v); }
    std::string operator()(bool v) const { return v ? "true" : "false"; }
    std::string operator()(const std::string& v) const { return v; }
  };
  return std::visit(Visitor{}, value);
}

std::string params_json(const Subtask& subtask) { return job::params_json(subtask.params); }

namespace job {

std::string params_json(const std::vector<Param>& params) {
  nlohmann::ordered_json object = nlohmann::ordered_json::object();
  for (const Param& param : params) {
    std::visit([&](const auto& v) { object[param.name] = v; }, param.value);
  }
  return object.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace job
}  // namespace fastgpu
