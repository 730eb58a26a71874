#include "job/toml_reader.hpp"

#include <algorithm>

#include "job/suggest.hpp"

namespace fastgpu::job {

std::string type_phrase(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a float";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::date: return "a date";
    case toml::node_type::time: return "a time";
    case toml::node_type::date_time: return "a date-time";
    case toml::node_type::none: break;
  }
  return "nothing";
}

std::optional<ParamValue> scalar_value(const toml::node& node) {
  if (const auto* v = node.as_integer()) return ParamValue{v->get()};
  if (const auto* v = node.as_floating_point()) return ParamValue{v->get()};
  if (const auto* v = node.as_boolean()) return ParamValue{v->get()};
  if (const auto* v = node.as_string()) return ParamValue{v->get()};
  return std::nullopt;
}

SourceLocation TomlReader::at(const toml::source_region& region) const {
  SourceLocation where{file_, static_cast<int>(region.begin.line), static_cast<int>(region.begin.column)};
  if (where.line <= 0) where = {file_, 1, 1};  // the document itself, or a node without a position
  return where;
}

void TomlReader::fail(const SourceLocation& where, const std::string& message) const {
  throw JobFileError(where, message);
}

std::vector<TomlReader::Entry> TomlReader::entries(const toml::table& table) const {
  std::vector<Entry> out;
  for (auto&& [key, node] : table) out.emplace_back(&key, &node);
  std::stable_sort(out.begin(), out.end(), [](const Entry& a, const Entry& b) {
    const auto& pa = a.first->source().begin;
    const auto& pb = b.first->source().begin;
    return pa.line != pb.line ? pa.line < pb.line : pa.column < pb.column;
  });
  return out;
}

void TomlReader::check_keys(const toml::table& table, const std::vector<std::string>& allowed,
                            const std::map<std::string, std::string>& special, const std::string& hint) const {
  for (const auto& [key, node] : entries(table)) {
    const std::string name(key->str());
    if (const auto it = special.find(name); it != special.end()) fail(at(*key), it->second);
    if (std::find(allowed.begin(), allowed.end(), name) != allowed.end()) continue;
    std::string message = "unknown key '" + name + "'";
    if (const std::string match = closest_match(name, allowed); !match.empty()) {
      message += " (did you mean '" + match + "'?)";
    } else if (!hint.empty()) {
      message += " (" + hint + ")";
    } else {
      std::string known;
      for (const std::string& k : allowed) known += (known.empty() ? "" : ", ") + k;
      message += " (known keys here: " + known + ")";
    }
    fail(at(*key), message);
  }
}

const std::string& TomlReader::string_value(const toml::node& node, std::string_view what) const {
  const auto* value = node.as_string();
  if (value == nullptr) fail(at(node), "'" + std::string(what) + "' must be a string, not " + type_phrase(node));
  return value->get();
}

std::int64_t TomlReader::integer_value(const toml::node& node, std::string_view what) const {
  const auto* value = node.as_integer();
  if (value == nullptr) fail(at(node), "'" + std::string(what) + "' must be an integer, not " + type_phrase(node));
  return value->get();
}

const toml::table& TomlReader::table_value(const toml::node& node, std::string_view what) const {
  const auto* value = node.as_table();
  if (value == nullptr) fail(at(node), "'" + std::string(what) + "' must be a table, not " + type_phrase(node));
  return *value;
}

const toml::array& TomlReader::array_value(const toml::node& node, std::string_view what) const {
  const auto* value = node.as_array();
  if (value == nullptr) fail(at(node), "'" + std::string(what) + "' must be an array, not " + type_phrase(node));
  return *value;
}

}  // namespace fastgpu::job
