// Reading typed values out of a parsed TOML document, with errors that name file:line:column.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <toml++/toml.h>

#include "fastgpu/error.hpp"
#include "fastgpu/job_spec.hpp"

namespace fastgpu::job {

/// "a string", "an integer", "a float", "a boolean", "an array", "a table", "a date", ...
std::string type_phrase(const toml::node& node);

/// An integer, float, boolean or string as a parameter value; nullopt for anything else.
std::optional<ParamValue> scalar_value(const toml::node& node);

class TomlReader {
 public:
  using Entry = std::pair<const toml::key*, const toml::node*>;

  explicit TomlReader(std::string file) : file_(std::move(file)) {}

  const std::string& file() const { return file_; }

  SourceLocation at(const toml::source_region& region) const;
  SourceLocation at(const toml::node& node) const { return at(node.source()); }
  SourceLocation at(const toml::key& key) const { return at(key.source()); }

  [[noreturn]] void fail(const SourceLocation& where, const std::string& message) const;

  /// The table's entries in the order they were written (toml++ stores them sorted by name).
  std::vector<Entry> entries(const toml::table& table) const;

  /// Rejects the first key (in file order) not in `allowed`: "unknown key 'gpu' (did you mean
  /// 'gpus'?)". `special` maps a key to the whole message to give instead (a key reserved for
  /// later, or one that belongs in another table). `hint` is added when nothing is close.
  void check_keys(const toml::table& table, const std::vector<std::string>& allowed,
                  const std::map<std::string, std::string>& special = {}, const std::string& hint = {}) const;

  // Typed getters: "'gpus' must be an integer, not a string" at the value. `what` names the value.
  const std::string& string_value(const toml::node& node, std::string_view what) const;
  std::int64_t integer_value(const toml::node& node, std::string_view what) const;
  const toml::table& table_value(const toml::node& node, std::string_view what) const;
  const toml::array& array_value(const toml::node& node, std::string_view what) const;

 private:
  std::string file_;
};

}  // namespace fastgpu::job
