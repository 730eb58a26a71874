#include "job/subtask_id.hpp"

#include <algorithm>

#include "job/param_value.hpp"

namespace fastgpu::job {

namespace {

bool is_alnum(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

bool is_readable_value(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return is_alnum(c) || c == '_' || c == '.' || c == '+' || c == '-';
  });
}

}  // namespace

bool is_valid_task_name(std::string_view name) {
  if (name.empty() || name == "." || name == "..") return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return is_alnum(c) || c == '_' || c == '.' || c == '=' || c == '+' || c == ',' || c == '-';
  });
}

std::uint64_t fnv1a64(std::string_view text) {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (const char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

std::string derive_id(const std::vector<Param>& params, const std::string& fallback) {
  if (params.empty()) return fallback;
  std::string id;
  bool readable = true;
  for (const Param& param : params) {
    const std::string value = param_to_string(param.value);
    readable = readable && is_readable_value(value);
    if (!id.empty()) id += ',';
    id += param.name + "=" + value;
  }
  if (readable && id.size() <= kMaxReadableIdLength) return id;
  static const char digits[] = "0123456789abcdef";
  std::uint64_t hash = fnv1a64(params_json(params));
  std::string hashed(17, 'p');
  for (int i = 16; i >= 1; --i, hash >>= 4) hashed[static_cast<std::size_t>(i)] = digits[hash & 0xf];
  return hashed;
}

std::string derive_name(const std::vector<Param>& params, const std::string& fallback) {
  if (params.empty()) return fallback;
  std::string name;
  for (const Param& param : params) {
    if (!name.empty()) name += ' ';
    name += param.name + "=" + param_to_string(param.value);
  }
  return name;
}

}  // namespace fastgpu::job
