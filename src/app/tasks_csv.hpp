// `fastgpu inspect OUT.h5 --tasks-csv FILE`: one row per subtask, its parameters and its metrics as
// columns: a sweep's results table for pandas, R or a spreadsheet.
#pragma once

#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "fastgpu/results.hpp"

namespace fastgpu::app {

/// One CSV field per RFC 4180: quoted (with quotes doubled) when it holds a comma, a quote, CR or
/// LF, or starts or ends with a space; otherwise as it is.
std::string csv_field(std::string_view text);

/// The shortest text that reads back as the same double ("0.1", "12", "1e-07"); "" for NaN.
std::string csv_number(double value);

/// The table: a header and one row per subtask, every field already CSV-quoted text.
struct TasksTable {
  std::vector<std::string> columns;
  std::vector<std::vector<std::string>> rows;
  std::size_t parameter_columns = 0;  ///< after the fixed columns
  std::size_t metric_columns = 0;     ///< after the parameters
};

/**
 * @brief Columns: id, name, status, attempts, worker, start, end, duration, exit_code (the /tasks
 * row: its last attempt), then every parameter name of any subtask (first-seen order), then every
 * metric name of any subtask's last successful attempt (first-seen order; a metric printed twice
 * counts with its last value). A parameter or metric whose name is already a column gets the
 * prefix "param." or "metric.". Missing values and unset times are empty fields.
 */
TasksTable tasks_table(const Results& results);

/// A table as RFC 4180 CSV: a header line, CRLF line ends.
void write_csv(std::ostream& out, const TasksTable& table);
inline void write_tasks_csv(std::ostream& out, const Results& results) { write_csv(out, tasks_table(results)); }

}  // namespace fastgpu::app
