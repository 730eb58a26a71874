// `inspect --tasks-csv`: RFC 4180 quoting and the table of subtasks, parameters and metrics.
#include "app/tasks_csv.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

namespace fastgpu::app {
namespace {

TEST(CsvField, QuotesOnlyWhatNeedsIt) {
  EXPECT_EQ(csv_field("plain"), "plain");
  EXPECT_EQ(csv_field(""), "");
  EXPECT_EQ(csv_field("a,b"), "\"a,b\"");
  EXPECT_EQ(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(csv_field("two\nlines"), "\"two\nlines\"");
  EXPECT_EQ(csv_field("cr\rhere"), "\"cr\rhere\"");
  EXPECT_EQ(csv_field(" padded"), "\" padded\"");
  EXPECT_EQ(csv_field("λ=0.1"), "λ=0.1");
}

TEST(CsvNumber, IsShortestRoundTripAndEmptyForNaN) {
  EXPECT_EQ(csv_number(0.1), "0.1");
  EXPECT_EQ(csv_number(12), "12");
  EXPECT_EQ(csv_number(-2.5), "-2.5");
  EXPECT_EQ(csv_number(1e-7), "1e-07");
  EXPECT_EQ(csv_number(NAN), "");
  EXPECT_EQ(std::stod(csv_number(0.1 + 0.2)), 0.1 + 0.2);
}

Results sweep() {
  Results r;
  auto task = [&](std::string id, std::string params, TaskStatus status) {
    TaskRecord t;
    t.id = std::move(id);
    t.params = std::move(params);
    t.status = status;
    t.attempts = 1;
    t.worker = 1;
    t.start = 1;
    t.end = 3.5;
    t.exit_code = status == TaskStatus::done ? 0 : 2;
    r.tasks.push_back(t);
  };
  task("lr=0.1,seed=0", R"({"lr":0.1,"seed":0,"model":"resnet, 50"})", TaskStatus::done);
  task("lr=0.01,seed=1", R"({"seed":1,"lr":0.01,"status":"x"})", TaskStatus::done);
  task("bad", R"({"lr":1,"tags":[1,2],"note":null})", TaskStatus::failed);
  r.tasks[2].start = r.tasks[2].end = NAN;
  auto attempt = [&](std::int64_t task, std::int32_t n, AttemptStatus status, std::vector<Metric> metrics) {
    AttemptRecord a;
    a.task = task;
    a.attempt = n;
    a.status = status;
    a.metrics = std::move(metrics);
    r.attempts.push_back(a);
  };
  attempt(0, 0, AttemptStatus::done, {{"loss", 0.5}, {"acc", 0.9}, {"loss", 0.25}});  // last value wins
  attempt(1, 0, AttemptStatus::failed, {{"loss", 99}, {"crash", 1}});  // not successful: ignored
  attempt(1, 1, AttemptStatus::done, {{"loss", 0.75}, {"lr", 7}});
  attempt(2, 0, AttemptStatus::failed, {{"loss", 5}});
  return r;
}

TEST(TasksTable, ParametersAndMetricsBecomeColumns) {
  const TasksTable table = tasks_table(sweep());
  EXPECT_EQ(table.columns, (std::vector<std::string>{"id", "name", "status", "attempts", "worker", "start", "end",
                                                    "duration", "exit_code", "lr", "seed", "model", "param.status",
                                                    "tags", "note", "loss", "acc", "metric.lr"}));
  EXPECT_EQ(table.parameter_columns, 6u);
  EXPECT_EQ(table.metric_columns, 3u);
  ASSERT_EQ(table.rows.size(), 3u);
  EXPECT_EQ(table.rows[0], (std::vector<std::string>{"\"lr=0.1,seed=0\"", "", "done", "1", "1", "1", "3.5", "2.5",
                                                     "0", "0.1", "0", "\"resnet, 50\"", "", "", "", "0.25", "0.9",
                                                     ""}));
  EXPECT_EQ(table.rows[1][9], "0.01");
  EXPECT_EQ(table.rows[1][12], "x");
  EXPECT_EQ(table.rows[1][15], "0.75");  // from the successful retry, not the failed attempt
  EXPECT_EQ(table.rows[1][17], "7");
  // The failed subtask: no successful attempt, so no metrics; unset times are empty.
  EXPECT_EQ(table.rows[2][2], "failed");
  EXPECT_EQ(table.rows[2][5], "");
  EXPECT_EQ(table.rows[2][7], "");
  EXPECT_EQ(table.rows[2][13], "\"[1,2]\"");
  EXPECT_EQ(table.rows[2][14], "");
  EXPECT_EQ(table.rows[2][15], "");
}

TEST(TasksTable, WritesRfc4180WithCrlf) {
  std::ostringstream out;
  write_tasks_csv(out, sweep());
  const std::string csv = out.str();
  EXPECT_EQ(csv.rfind("id,name,status,attempts,worker,start,end,duration,exit_code,lr,", 0), 0u) << csv;
  std::size_t lines = 0;
  for (std::size_t at = csv.find("\r\n"); at != std::string::npos; at = csv.find("\r\n", at + 2)) ++lines;
  EXPECT_EQ(lines, 4u);
  EXPECT_EQ(csv.substr(csv.size() - 2), "\r\n");
}

TEST(TasksTable, EmptyRunHasOnlyTheHeader) {
  std::ostringstream out;
  write_tasks_csv(out, Results{});
  EXPECT_EQ(out.str(), "id,name,status,attempts,worker,start,end,duration,exit_code\r\n");
}

}  // namespace
}  // namespace fastgpu::app
