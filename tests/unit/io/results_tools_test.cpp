// The file as other tools see it: h5dump (HDF5 1.10 tools) and h5py, while the writer is open.
#include <gtest/gtest.h>

#include <fstream>

#include "io/results_writer.hpp"
#include "io_test_util.hpp"

namespace fastgpu::io {
namespace {

class Tools : public test::ScratchDir {
 protected:
  /** @brief A flushed file, writer still open: 3 tasks (row 1 done), 2 attempts, 1 worker, 1 event. */
  std::unique_ptr<ResultsWriter> write_sample(const std::filesystem::path& path) {
    auto tasks = test::sample_tasks(3);
    auto writer = ResultsWriter::create(path, test::sample_job(), tasks, false);
    writer->add_worker({0, "node0", 0, "cuda:0", "NVIDIA H100", "GPU-0"});
    AttemptRecord a = test::sample_attempt(1, 0);
    a.status = AttemptStatus::timed_out;
    a.stdout_tail = "hello ✓\n";
    writer->add_attempt(a);
    AttemptRecord b = test::sample_attempt(1, 1);
    b.migrated = true;
    writer->add_attempt(b);
    writer->add_event({0.25, "assign", 1, -1, 0, "first"});
    tasks[1].status = TaskStatus::done;
    tasks[1].exit_code = 0;
    writer->update_task(1, tasks[1]);
    writer->flush();
    return writer;
  }
};

TEST_F(Tools, H5dumpShowsTheCommittedEnumsWhileTheWriterIsOpen) {
  if (test::run_command("h5dump --version >/dev/null 2>&1") != 0) GTEST_SKIP() << "h5dump not installed";
  const auto path = dir() / "results.h5";
  auto writer = write_sample(path);

  std::string header;
  ASSERT_EQ(test::run_command("h5dump -H " + test::quote(path) + " 2>&1", &header), 0) << header;
  EXPECT_NE(header.find("DATATYPE \"task_status\""), std::string::npos) << header;
  EXPECT_NE(header.find("DATATYPE \"attempt_status\""), std::string::npos) << header;
  for (const char* name : {"\"pending\"", "\"cancelled\"", "\"timed_out\"", "\"spawn_failed\"", "\"lost\""}) {
    EXPECT_NE(header.find(name), std::string::npos) << name;
  }
  for (const char* name : {"DATASET \"tasks\"", "DATASET \"attempts\"", "DATASET \"workers\"",
                           "DATASET \"events\"", "GROUP \"outputs\"", "DATASET \"stdout\"",
                           "DATASET \"stderr\"", "DATASET \"metrics\"", "GROUP \"job\""}) {
    EXPECT_NE(header.find(name), std::string::npos) << name;
  }

  // Values: row 1's status reads as the enum name, and /job status is "running".
  std::string data;
  ASSERT_EQ(test::run_command("h5dump -d /tasks -s 1 -c 1 " + test::quote(path) + " 2>&1", &data), 0) << data;
  EXPECT_NE(data.find("done"), std::string::npos) << data;
  std::string attr;
  ASSERT_EQ(test::run_command("h5dump -a /job/status " + test::quote(path) + " 2>&1", &attr), 0) << attr;
  EXPECT_NE(attr.find("\"running\""), std::string::npos) << attr;
}

/** @brief A python3 that can import h5py, or "" (the Debian one may not be first on PATH). */
std::string python_with_h5py() {
  for (const char* python : {"python3", "/usr/bin/python3"}) {
    if (test::run_command(std::string(python) + " -c 'import h5py' >/dev/null 2>&1") == 0) return python;
  }
  return "";
}

TEST_F(Tools, H5pyReadsStatusesAsIntegersWithTheEnumMapping) {
  const std::string python = python_with_h5py();
  if (python.empty()) GTEST_SKIP() << "no python3 with h5py";
  const auto path = dir() / "results.h5";
  auto writer = write_sample(path);

  const auto script = dir() / "check.py";
  std::ofstream(script) << R"PY(
import math, sys
import h5py

f = h5py.File(sys.argv[1], "r")
tasks = f["tasks"]
assert h5py.check_enum_dtype(tasks.dtype["status"]) == {
    "pending": 0, "running": 1, "done": 2, "failed": 3, "cancelled": 4}, tasks.dtype
assert [int(s) for s in tasks["status"]] == [0, 2, 0], tasks["status"]
assert tasks[1]["id"].decode() == "t1"
assert math.isnan(tasks[0]["start"])

attempts = f["attempts"]
assert h5py.check_enum_dtype(attempts.dtype["status"]) == {
    "running": 0, "done": 1, "failed": 2, "timed_out": 3, "spawn_failed": 4, "lost": 5,
    "cancelled": 6, "superseded": 7, "interrupted": 8}
assert list(attempts["status"]) == [3, 1]
assert attempts.dtype["migrated"].kind == "b", attempts.dtype["migrated"]
assert list(attempts["migrated"]) == [False, True]
assert f["outputs/stdout"].asstr()[0] == "hello \u2713\n"
metrics = f["outputs/metrics"]
assert [int(r) for r in metrics["attempt"]] == [0, 0, 1, 1]

assert isinstance(f["task_status"], h5py.Datatype)
assert h5py.check_enum_dtype(f["attempt_status"].dtype)["lost"] == 5

job = f["job"].attrs
assert job["status"] == "running", job["status"]
assert job["name"] == "sweep-\u03bb"
assert abs(job["started_unix"] - 1714564800.25) < 1e-9
assert f["workers"][0]["gpu_name"].decode() == "NVIDIA H100"
assert f["events"][0]["kind"].decode() == "assign"
print("ok")
)PY";
  std::string output;
  const int rc =
      test::run_command(python + " " + test::quote(script) + " " + test::quote(path) + " 2>&1", &output);
  EXPECT_EQ(rc, 0) << output;
  EXPECT_NE(output.find("ok"), std::string::npos) << output;
}

}  // namespace
}  // namespace fastgpu::io
