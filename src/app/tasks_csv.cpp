#include "app/tasks_csv.hpp"

#include <charconv>
#include <cmath>
#include <map>
#include <optional>
#include <set>

#include <nlohmann/json.hpp>

namespace fastgpu::app {
namespace {

constexpr const char* kFixedColumns[] = {"id",  "name", "status",   "attempts", "worker",
                                         "start", "end", "duration", "exit_code"};

// A parameter's value as a cell: strings as they are, numbers and booleans as JSON writes them,
// null as empty, arrays and objects as JSON text.
std::string param_text(const nlohmann::ordered_json& value) {
  if (value.is_null()) return "";
  if (value.is_string()) return value.get<std::string>();
  if (value.is_number_float()) return csv_number(value.get<double>());
  return value.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

// Adds `name` to the columns, prefixed when taken; returns its index.
std::size_t add_column(TasksTable& table, std::set<std::string>& taken, const std::string& name,
                       const std::string& prefix) {
  std::string column = taken.count(name) ? prefix + name : name;
  while (taken.count(column)) column = prefix + column;
  taken.insert(column);
  table.columns.push_back(column);
  return table.columns.size() - 1;
}

}  // namespace

std::string csv_field(std::string_view text) {
  const bool quote = text.find_first_of(",\"\r\n") != std::string_view::npos ||
                     (!text.empty() && (text.front() == ' ' || text.back() == ' '));
  if (!quote) return std::string(text);
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string csv_number(double value) {
  if (std::isnan(value)) return "";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  char text[64];
  auto [end, ec] = std::to_chars(text, text + sizeof text, value);
  return ec == std::errc() ? std::string(text, end) : std::to_string(value);
}

TasksTable tasks_table(const Results& results) {
  TasksTable table;
  std::set<std::string> taken;
  for (const char* name : kFixedColumns) {
    table.columns.push_back(name);
    taken.insert(name);
  }

  // Parameters of every subtask, by name, in first-seen order.
  std::vector<nlohmann::ordered_json> params(results.tasks.size());
  std::map<std::string, std::size_t> param_column;
  for (std::size_t i = 0; i < results.tasks.size(); ++i) {
    params[i] = nlohmann::ordered_json::parse(results.tasks[i].params, nullptr, false);
    if (!params[i].is_object()) continue;
    for (const auto& [name, value] : params[i].items()) {
      if (!param_column.count(name)) param_column[name] = add_column(table, taken, name, "param.");
    }
  }
  table.parameter_columns = param_column.size();

  // Metrics of each subtask's last successful attempt (the last value of each name).
  std::vector<const AttemptRecord*> success(results.tasks.size(), nullptr);
  for (const auto& attempt : results.attempts) {
    if (attempt.status != AttemptStatus::done || attempt.task < 0) continue;
    const auto task = static_cast<std::size_t>(attempt.task);
    if (task >= success.size()) continue;
    if (!success[task] || attempt.attempt >= success[task]->attempt) success[task] = &attempt;
  }
  std::map<std::string, std::size_t> metric_column;
  for (const auto* attempt : success) {
    if (!attempt) continue;
    for (const auto& metric : attempt->metrics) {
      if (!metric_column.count(metric.name)) metric_column[metric.name] = add_column(table, taken, metric.name, "metric.");
    }
  }
  table.metric_columns = metric_column.size();

  for (std::size_t i = 0; i < results.tasks.size(); ++i) {
    const auto& t = results.tasks[i];
    std::vector<std::string> row(table.columns.size());
    row[0] = t.id;
    row[1] = t.name;
    row[2] = to_string(t.status);
    row[3] = std::to_string(t.attempts);
    row[4] = std::to_string(t.worker);
    row[5] = csv_number(t.start);
    row[6] = csv_number(t.end);
    row[7] = csv_number(t.end - t.start);
    row[8] = std::to_string(t.exit_code);
    if (params[i].is_object()) {
      for (const auto& [name, value] : params[i].items()) row[param_column.at(name)] = param_text(value);
    }
    if (success[i]) {
      for (const auto& metric : success[i]->metrics) row[metric_column.at(metric.name)] = csv_number(metric.value);
    }
    for (auto& field : row) field = csv_field(field);
    table.rows.push_back(std::move(row));
  }
  for (auto& column : table.columns) column = csv_field(column);
  return table;
}

void write_csv(std::ostream& out, const TasksTable& table) {
  auto line = [&](const std::vector<std::string>& fields) {
    for (std::size_t i = 0; i < fields.size(); ++i) {
      if (i) out << ',';
      out << fields[i];
    }
    out << "\r\n";
  };
  line(table.columns);
  for (const auto& row : table.rows) line(row);
}

}  // namespace fastgpu::app
