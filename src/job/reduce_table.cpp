// [[reduce]] tables: job-level reductions kernels add into (name, op, size).
#include <algorithm>
#include <map>

#include "job/job_parser.hpp"
#include "job/suggest.hpp"

namespace fastgpu::job {

namespace {

const std::vector<std::string> kReduceKeys = {"name", "op", "size"};
const std::vector<std::string> kReduceOps = {"sum", "min", "max", "mean"};

ReductionSpec parse_entry(const TomlReader& reader, const toml::table& entry,
                          std::map<std::string, SourceLocation>& names_seen) {
  reader.check_keys(entry, kReduceKeys, {}, "a [[reduce]] has name, op and size");
  ReductionSpec reduction;
  const toml::node* name = entry.get("name");
  if (name == nullptr) reader.fail(reader.at(entry), "missing required key 'name' in [[reduce]]");
  reduction.name = reader.string_value(*name, "name");
  if (!is_plain_name(reduction.name)) {  // a dataset name under /reductions
    reader.fail(reader.at(*name), "reduction name '" + reduction.name +
                                      "' must be non-empty and only contain letters, digits, '_' and '-'");
  }
  const auto [previous, inserted] = names_seen.emplace(reduction.name, reader.at(*name));
  if (!inserted) {
    reader.fail(reader.at(*name), "reduction '" + reduction.name + "' is already declared at line " +
                                      std::to_string(previous->second.line));
  }
  const toml::node* op = entry.get("op");
  if (op == nullptr) reader.fail(reader.at(entry), "missing required key 'op' in [[reduce]] (sum, min, max or mean)");
  reduction.op = reader.string_value(*op, "op");
  if (std::find(kReduceOps.begin(), kReduceOps.end(), reduction.op) == kReduceOps.end()) {
    std::string message = "unknown op '" + reduction.op + "'";
    if (const std::string match = closest_match(reduction.op, kReduceOps); !match.empty()) {
      message += " (did you mean '" + match + "'?)";
    } else {
      message += " (sum, min, max or mean)";
    }
    reader.fail(reader.at(*op), message);
  }
  if (const toml::node* size = entry.get("size")) {
    const std::int64_t value = reader.integer_value(*size, "size");
    // A reduction is combined in every worker's device memory and sent to rank 0 in one message.
    constexpr std::int64_t kMaxSize = std::int64_t{1} << 24;
    if (value < 1 || value > kMaxSize) {
      reader.fail(reader.at(*size), "'size' must be between 1 and " + std::to_string(kMaxSize) + ", not " +
                                        std::to_string(value));
    }
    reduction.size = static_cast<std::size_t>(value);
  }
  return reduction;
}

}  // namespace

bool is_plain_name(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

void check_reduce_arg(const TomlReader& reader, const toml::table& root, const JobSpec& job) {
  const toml::node* arg = root.at_path("task.args.reduce").node();
  if (arg == nullptr || !arg->is_string()) return;
  const std::string& name = arg->as_string()->get();
  if (name.find('{') != std::string::npos) return;
  for (const ReductionSpec& r : job.reductions) {
    if (r.name == name) return;
  }
  reader.fail(reader.at(*arg), "kernel arg 'reduce' names reduction '" + name +
                                   "', which the job does not declare: add [[reduce]] with name = \"" + name +
                                   "\" and op = \"sum\" (or min, max, mean)");
}

std::vector<ReductionSpec> parse_reductions(const TomlReader& reader, const toml::node& node) {
  const toml::array* list = node.as_array();
  if (list == nullptr) {
    reader.fail(reader.at(node), "'reduce' must be a list of tables, written [[reduce]], not " + type_phrase(node));
  }
  std::vector<ReductionSpec> reductions;
  std::map<std::string, SourceLocation> names_seen;
  for (const toml::node& entry : *list) {
    if (!entry.is_table()) {
      reader.fail(reader.at(entry), "each [[reduce]] entry must be a table, not " + type_phrase(entry));
    }
    reductions.push_back(parse_entry(reader, *entry.as_table(), names_seen));
  }
  return reductions;
}

}  // namespace fastgpu::job
