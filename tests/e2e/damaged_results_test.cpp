// End-to-end: `fastgpu inspect` on files that are not (whole) results files — missing, empty,
// truncated, foreign HDF5, text, a directory, rows that contradict each other — says what is wrong
// with which file and exits 2; it never crashes and never calls it an internal error.
#include <hdf5.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "e2e/cli_harness.hpp"
#include "io/results_writer.hpp"

namespace fastgpu::e2e {
namespace {

class DamagedResults : public CliTest {
 protected:
  /// A real results file of two subtasks with an attempt each, as `fastgpu run` writes it.
  std::filesystem::path make_results(const std::string& name, std::int64_t attempt_task = 1) const {
    JobInfo job;
    job.name = "real";
    job.spec = "[job]\nname = \"real\"\n";
    job.fastgpu_version = "test";
    job.started = "2024-01-01T00:00:00Z";
    job.status = "running";
    job.transport = "threads";
    std::vector<TaskRecord> tasks(2);
    tasks[0].id = tasks[0].name = "first";
    tasks[1].id = tasks[1].name = "second";
    for (auto& task : tasks) task.params = "{}";
    auto writer = io::ResultsWriter::create(path(name), job, tasks, false);
    writer->add_worker({1, "host", 0, "cpu", "", ""});
    AttemptRecord attempt;
    attempt.task = attempt_task;
    attempt.worker = 1;
    attempt.host = "host";
    attempt.device = "cpu";
    attempt.start = 0.5;
    attempt.end = 1.5;
    attempt.status = AttemptStatus::failed;
    attempt.exit_code = 3;
    attempt.error = "exit code 3";
    attempt.stderr_tail = std::string(4000, 'x');  // some bulk, so halves cut through data
    writer->add_attempt(attempt);
    if (attempt_task >= 0 && attempt_task < 2) {
      tasks[static_cast<std::size_t>(attempt_task)].status = TaskStatus::failed;
      writer->update_task(static_cast<std::size_t>(attempt_task), tasks[static_cast<std::size_t>(attempt_task)]);
    }
    writer->finish("failed", "2024-01-01T00:00:02Z");
    return path(name);
  }

  /// The first `bytes` bytes of `from`, as a new file `name`.
  std::string truncated_copy(const std::filesystem::path& from, const std::string& name, std::size_t bytes) const {
    std::ifstream in(from, std::ios::binary);
    std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    data.resize(std::min(bytes, data.size()));
    std::ofstream(path(name), std::ios::binary) << data;
    return name;
  }

  /// `fastgpu inspect FILE` (and --json) must exit 2, name the file and say `why`.
  void expect_refused(const std::string& file, const std::string& why) const {
    for (const bool json : {false, true}) {
      std::vector<std::string> args = {"inspect", file};
      if (json) args.push_back("--json");
      const CliRun run = fastgpu(args);
      EXPECT_EQ(run.exit_code, 2) << file << (json ? " --json" : "") << ": " << run.err;
      EXPECT_NE(run.err.find("fastgpu: error: results file '" + file + "'"), std::string::npos) << run.err;
      EXPECT_NE(run.err.find(why), std::string::npos) << "stderr: " << run.err << "\nexpected: " << why;
      EXPECT_EQ(run.err.find("internal error"), std::string::npos) << run.err;
      EXPECT_EQ(run.out, "") << file;
    }
  }
};

TEST_F(DamagedResults, TheRealFileReads) {
  make_results("real.h5");
  const CliRun run = fastgpu({"inspect", "real.h5"});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("subtasks: 2"), std::string::npos) << run.out;
}

TEST_F(DamagedResults, AMissingFile) { expect_refused("nothing.h5", "no such file"); }

TEST_F(DamagedResults, ADirectory) {
  std::filesystem::create_directories(path("dir.h5"));
  expect_refused("dir.h5", "it is a directory");
}

TEST_F(DamagedResults, AnEmptyFile) {
  write("empty.h5", "");
  expect_refused("empty.h5", "not an HDF5 file");
}

TEST_F(DamagedResults, ATextFile) {
  write("notes.h5", "job,status\nsweep,done\n");
  expect_refused("notes.h5", "not an HDF5 file");
  write("config.toml", "[job]\nname = \"x\"\n");
  expect_refused("config.toml", "not an HDF5 file");
}

TEST_F(DamagedResults, TheFirstHalfOfARealFile) {
  const auto real = make_results("real.h5");
  const std::size_t size = std::filesystem::file_size(real);
  expect_refused(truncated_copy(real, "half.h5", size / 2), "");
}

TEST_F(DamagedResults, ARealFileCutAnywhere) {
  const auto real = make_results("real.h5");
  const std::size_t size = std::filesystem::file_size(real);
  // The signature alone, the superblock, and cuts through the metadata and the data.
  for (std::size_t bytes : {std::size_t{8}, std::size_t{96}, std::size_t{512}, std::size_t{2048}, size / 4,
                            size * 3 / 4, size - 1}) {
    SCOPED_TRACE("cut at " + std::to_string(bytes) + " of " + std::to_string(size) + " bytes");
    expect_refused(truncated_copy(real, "cut" + std::to_string(bytes) + ".h5", bytes), "");
  }
}

TEST_F(DamagedResults, AForeignHdf5FileWithOtherDatasets) {
  {
    const hid_t file = H5Fcreate(path("foreign.h5").c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    ASSERT_GE(file, 0);
    const hsize_t dims[2] = {4, 3};
    const hid_t space = H5Screate_simple(2, dims, nullptr);
    const hid_t data = H5Dcreate2(file, "temperature", H5T_NATIVE_DOUBLE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    const double values[12] = {};
    H5Dwrite(data, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values);
    H5Dclose(data);
    H5Sclose(space);
    H5Fclose(file);
  }
  expect_refused("foreign.h5", "not a FastGPU results file (it has no /job group)");
}

TEST_F(DamagedResults, AForeignHdf5FileWithAJobDatasetAndTasksOfAnotherShape) {
  {
    const hid_t file = H5Fcreate(path("lookalike.h5").c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    ASSERT_GE(file, 0);
    const hsize_t one = 3;
    const hid_t space = H5Screate_simple(1, &one, nullptr);
    const hid_t job = H5Dcreate2(file, "job", H5T_NATIVE_INT, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dclose(job);
    H5Sclose(space);
    H5Fclose(file);
  }
  expect_refused("lookalike.h5", "not a FastGPU results file (its /job is not a group)");

  {
    const hid_t file = H5Fcreate(path("tasks2d.h5").c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    ASSERT_GE(file, 0);
    H5Gclose(H5Gcreate2(file, "job", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    const hsize_t dims[2] = {2, 2};
    const hid_t space = H5Screate_simple(2, dims, nullptr);
    const hid_t row = H5Tcreate(H5T_COMPOUND, sizeof(int));
    H5Tinsert(row, "id", 0, H5T_NATIVE_INT);
    H5Dclose(H5Dcreate2(file, "tasks", row, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    H5Tclose(row);
    H5Sclose(space);
    H5Fclose(file);
  }
  expect_refused("tasks2d.h5", "expected a 1-D dataset");

  {
    const hid_t file = H5Fcreate(path("tasksint.h5").c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    ASSERT_GE(file, 0);
    H5Gclose(H5Gcreate2(file, "job", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    const hsize_t rows = 5;
    const hid_t space = H5Screate_simple(1, &rows, nullptr);
    H5Dclose(H5Dcreate2(file, "tasks", H5T_NATIVE_INT, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    H5Sclose(space);
    H5Fclose(file);
  }
  expect_refused("tasksint.h5", "not a FastGPU results file (/tasks holds integers, not FastGPU's rows)");
}

TEST_F(DamagedResults, AnH5pyFile) {
  const std::string python = std::filesystem::exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
  if (exec({python, "-c", "import h5py"}).exit_code != 0) GTEST_SKIP() << "python3-h5py not installed";
  const CliRun made = exec({python, "-c",
                            "import h5py, numpy\n"
                            "with h5py.File('h5py.h5', 'w') as f:\n"
                            "    f['images'] = numpy.zeros((2, 8, 8))\n"
                            "    f.create_group('job').attrs['name'] = 'not ours'\n"
                            "    f['tasks'] = numpy.arange(10)\n"
                            "    f['attempts'] = [b'a', b'b']\n"});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  expect_refused("h5py.h5", "not a FastGPU results file (/tasks holds integers, not FastGPU's rows)");
}

TEST_F(DamagedResults, AnAttemptOfASubtaskTheFileDoesNotHave) {
  make_results("orphan.h5", 7);
  expect_refused("orphan.h5", "attempt 0 is of subtask row 7, but /tasks has 2 rows");
  make_results("negative.h5", -3);
  expect_refused("negative.h5", "attempt 0 is of subtask row -3, but /tasks has 2 rows");
}

}  // namespace
}  // namespace fastgpu::e2e
