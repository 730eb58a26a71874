// /telemetry: rows written by the writer come back from the reader, through h5py's field names,
// and through the journal after a kill.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "io/journal.hpp"
#include "io/results_reader.hpp"
#include "io/results_writer.hpp"
#include "io_test_util.hpp"

namespace fastgpu::io {
namespace {

using test::same;

class TelemetryTable : public test::ScratchDir {
 protected:
  std::filesystem::path file() const { return dir() / "out.h5"; }
};

std::vector<TelemetrySample> sample_rows(std::int32_t worker, std::size_t n) {
  std::vector<TelemetrySample> rows;
  for (std::size_t i = 0; i < n; ++i) {
    TelemetrySample s;
    s.time = 0.5 * static_cast<double>(i);
    s.worker = worker;
    s.cpu_util = 50 + static_cast<double>(i);
    s.rss_bytes = 1e8;
    if (worker == 1) {  // a GPU worker; worker 2 is a CPU slot and leaves the GPU fields NaN
      s.gpu_util = 90;
      s.mem_used_bytes = 4e10;
      s.power_w = 300 + static_cast<double>(i);
      s.temp_c = 65;
      s.sm_clock_mhz = 1755;
    }
    rows.push_back(s);
  }
  return rows;
}

void expect_same_rows(const std::vector<TelemetrySample>& got, const std::vector<TelemetrySample>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].worker, want[i].worker) << i;
    for (auto field : {&TelemetrySample::time, &TelemetrySample::gpu_util, &TelemetrySample::mem_used_bytes,
                       &TelemetrySample::power_w, &TelemetrySample::temp_c, &TelemetrySample::sm_clock_mhz,
                       &TelemetrySample::cpu_util, &TelemetrySample::rss_bytes}) {
      EXPECT_TRUE(same(got[i].*field, want[i].*field)) << "row " << i << ": " << got[i].*field << " vs " << want[i].*field;
    }
  }
}

TEST_F(TelemetryTable, RowsComeBackInOrderWithNaNsKept) {
  auto want = sample_rows(1, 5);
  const auto cpu = sample_rows(2, 3);
  want.insert(want.end(), cpu.begin(), cpu.end());
  {
    auto writer = ResultsWriter::create(file(), test::sample_job(), test::sample_tasks(2), false);
    writer->add_telemetry({want.begin(), want.begin() + 5});
    writer->flush();  // two appends: the table grows
    writer->add_telemetry({want.begin() + 5, want.end()});
    writer->add_telemetry({});
    writer->finish("done", "2024-05-01T12:00:05Z");
  }
  expect_same_rows(read_results(file()).telemetry, want);
}

TEST_F(TelemetryTable, ARunWithoutTelemetryHasAnEmptyTable) {
  ResultsWriter::create(file(), test::sample_job(), test::sample_tasks(1), false)->finish("done", "");
  EXPECT_TRUE(read_results(file()).telemetry.empty());
}

TEST_F(TelemetryTable, FieldNamesAreTheDocumentedColumns) {
  ResultsWriter::create(file(), test::sample_job(), test::sample_tasks(1), false)->finish("done", "");
  std::string header;
  ASSERT_EQ(test::run_command("h5dump -H -d /telemetry " + test::quote(file()), &header), 0);
  for (const char* name : {"time", "worker", "gpu_util", "mem_used_bytes", "power_w", "temp_c", "sm_clock_mhz",
                           "cpu_util", "rss_bytes"}) {
    EXPECT_NE(header.find(std::string("\"") + name + "\""), std::string::npos) << name << " in\n" << header;
  }
}

TEST_F(TelemetryTable, AKilledRunsTelemetryIsRebuiltFromTheJournal) {
  const auto want = sample_rows(1, 4);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto writer = ResultsWriter::create(file(), test::sample_job(), test::sample_tasks(2), false);
    writer->add_telemetry({want.begin(), want.begin() + 2});
    writer->flush();
    writer->add_telemetry({want.begin() + 2, want.end()});  // only in the journal
    writer->commit();
    writer.release();
    ::_exit(0);  // like kill -9: nothing closed
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(std::filesystem::exists(journal_path(file())));
  const Results results = read_results(file());
  EXPECT_EQ(results.job.status, "killed");
  expect_same_rows(results.telemetry, want);
  EXPECT_FALSE(std::filesystem::exists(journal_path(file())));
}

}  // namespace
}  // namespace fastgpu::io
