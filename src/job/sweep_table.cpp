// The [sweep] table: one axis per key, in file order; values listed or given as a range.
#include <cmath>
#include <cstdint>
#include <optional>
#include <set>

#include "job/job_parser.hpp"
#include "job/placeholders.hpp"

namespace fastgpu::job {

namespace {

/// "[sweep] expands to more than 10000000 subtasks, ...": the axes so far multiply to
/// total_before * count, which is not computed when it would overflow.
std::string too_many_subtasks_message(const std::string& axis, std::uint64_t total_before, std::uint64_t count) {
  const std::string product = count > UINT64_MAX / total_before ? "more than " + std::to_string(UINT64_MAX)
                                                                 : std::to_string(total_before * count);
  return "[sweep] expands to more than " + std::to_string(kMaxSubtasks) +
         " subtasks, the most a job may have (the axes up to '" + axis + "' already make " + product + ")";
}

ParamValue checked_scalar(const TomlReader& reader, const toml::node& node, const std::string& axis) {
  const std::optional<ParamValue> value = scalar_value(node);
  if (!value) {
    reader.fail(reader.at(node), "sweep '" + axis + "' values must be integers, floats, booleans or strings, not " +
                                     type_phrase(node));
  }
  if (const auto* f = std::get_if<double>(&*value); f != nullptr && !std::isfinite(*f)) {
    reader.fail(reader.at(node), "sweep '" + axis + "' values must be finite numbers, not " + param_to_string(*value));
  }
  return *value;
}

/// A range's values, not yet made: start, start + step, ... (count of them).
struct Range {
  std::int64_t start = 0;
  std::int64_t step = 1;
  std::uint64_t count = 0;
};

/// Checks { range = [start, stop(, step)] } and counts its values without making them.
Range read_range(const TomlReader& reader, const toml::table& table, const std::string& axis) {
  reader.check_keys(table, {"range"}, {}, "a sweep table has only range = [start, stop] or [start, stop, step]");
  const toml::node* range = table.get("range");
  if (range == nullptr) {
    reader.fail(reader.at(table), "sweep '" + axis + "' needs range = [start, stop] or range = [start, stop, step]");
  }
  const toml::array* bounds = range->as_array();
  if (bounds == nullptr || bounds->size() < 2 || bounds->size() > 3) {
    reader.fail(reader.at(*range), "'range' must be [start, stop] or [start, stop, step] (stop is excluded)");
  }
  std::int64_t numbers[3] = {0, 0, 1};
  for (std::size_t i = 0; i < bounds->size(); ++i) {
    const toml::node& bound = *bounds->get(i);
    static const char* const names[3] = {"start", "stop", "step"};
    if (!bound.is_integer()) {
      reader.fail(reader.at(bound), std::string("range ") + names[i] + " must be an integer, not " + type_phrase(bound));
    }
    numbers[i] = bound.as_integer()->get();
  }
  const std::int64_t start = numbers[0], stop = numbers[1], step = numbers[2];
  if (step == 0) reader.fail(reader.at(*bounds->get(2)), "range step must not be zero");

  // Count without overflow: the distance fits in an unsigned 64-bit integer.
  std::uint64_t count = 0;
  if (step > 0 && start < stop) {
    const std::uint64_t distance = static_cast<std::uint64_t>(stop) - static_cast<std::uint64_t>(start);
    count = (distance - 1) / static_cast<std::uint64_t>(step) + 1;
  } else if (step < 0 && start > stop) {
    const std::uint64_t distance = static_cast<std::uint64_t>(start) - static_cast<std::uint64_t>(stop);
    const std::uint64_t magnitude = std::uint64_t{0} - static_cast<std::uint64_t>(step);
    count = (distance - 1) / magnitude + 1;
  }
  if (count == 0) {
    reader.fail(reader.at(*range),
                "sweep '" + axis + "' is empty: range [" + std::to_string(start) + ", " + std::to_string(stop) +
                    (bounds->size() == 3 ? ", " + std::to_string(step) : std::string()) +
                    "] has no values (stop is excluded; count down with a negative step)");
  }
  if (count > kMaxSubtasks) {
    reader.fail(reader.at(*range), "sweep '" + axis + "' has " + std::to_string(count) + " values; a job may have at most " +
                                       std::to_string(kMaxSubtasks) + " subtasks");
  }
  return {start, step, count};
}

std::vector<ParamValue> range_values(const Range& range) {
  std::vector<ParamValue> values;
  values.reserve(range.count);
  for (std::uint64_t i = 0; i < range.count; ++i) {
    // Two's-complement wrap-around gives the exact value, which lies between start and stop.
    values.emplace_back(static_cast<std::int64_t>(static_cast<std::uint64_t>(range.start) +
                                                  i * static_cast<std::uint64_t>(range.step)));
  }
  return values;
}

}  // namespace

std::vector<SweepAxis> parse_sweep_table(const TomlReader& reader, const toml::table& table) {
  // Two passes: every axis is checked and counted, and the product of the counts with it, before
  // any range's values are made, so a sweep too big to run is refused without filling memory.
  std::vector<SweepAxis> axes;
  std::vector<std::optional<Range>> ranges;
  std::uint64_t total = 1;
  for (const auto& [key, node] : reader.entries(table)) {
    check_parameter_name(reader, *key);
    SweepAxis axis{std::string(key->str()), {}, reader.at(*key)};
    std::optional<Range> range_of_axis;
    if (const toml::array* list = node->as_array()) {
      if (list->empty()) reader.fail(reader.at(*node), "sweep '" + axis.name + "' is empty");
      for (const toml::node& item : *list) axis.values.push_back(checked_scalar(reader, item, axis.name));
      // Two values that read the same would give two subtasks the same id.
      std::set<std::string> seen;
      for (std::size_t i = 0; i < list->size(); ++i) {
        const std::string text = param_to_string(axis.values[i]);
        if (!seen.insert(text).second) {
          reader.fail(reader.at(*list->get(i)),
                      "sweep '" + axis.name + "' lists '" + text + "' twice; every value must read differently");
        }
      }
    } else if (const toml::table* range = node->as_table()) {
      range_of_axis = read_range(reader, *range, axis.name);
    } else {
      const std::optional<ParamValue> single = scalar_value(*node);
      std::string message = "sweep '" + axis.name + "' must be an array of values or { range = [start, stop] }, not " +
                            type_phrase(*node);
      if (single) {
        const std::string shown = node->is_string() ? "\"" + param_to_string(*single) + "\"" : param_to_string(*single);
        message += " (for a single value write " + axis.name + " = [" + shown + "])";
      }
      reader.fail(reader.at(*node), message);
    }
    const std::uint64_t count = range_of_axis ? range_of_axis->count : axis.values.size();
    if (count > kMaxSubtasks / total) reader.fail(reader.at(*key), too_many_subtasks_message(axis.name, total, count));
    total *= count;
    axes.push_back(std::move(axis));
    ranges.push_back(range_of_axis);
  }
  for (std::size_t a = 0; a < axes.size(); ++a) {
    if (ranges[a]) axes[a].values = range_values(*ranges[a]);
  }
  return axes;
}

}  // namespace fastgpu::job
