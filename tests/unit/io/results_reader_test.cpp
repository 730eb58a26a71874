// read_results on files that are not (complete) results files.
#include "io/results_reader.hpp"

#include <gtest/gtest.h>
#include <hdf5.h>

#include <fstream>

#include "fastgpu/error.hpp"
#include "io/results_writer.hpp"
#include "io_test_util.hpp"

namespace fastgpu::io {
namespace {

class Reader : public test::ScratchDir {};

std::string read_error(const std::filesystem::path& path) {
  try {
    read_results(path);
  } catch (const IoError& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected IoError reading " << path;
  return "";
}

TEST_F(Reader, MissingFile) {
  const auto path = dir() / "nope.h5";
  EXPECT_EQ(read_error(path), "results file '" + path.string() + "': cannot read it: no such file");
}

TEST_F(Reader, Directory) {
  EXPECT_EQ(read_error(dir()), "results file '" + dir().string() + "': cannot read it: it is a directory");
}

TEST_F(Reader, NotHdf5) {
  const auto path = dir() / "text.h5";
  { std::ofstream(path) << "this is not HDF5\n"; }
  EXPECT_EQ(read_error(path), "results file '" + path.string() + "': not an HDF5 file");
  const auto empty = dir() / "empty.h5";
  { std::ofstream touch(empty); }
  EXPECT_EQ(read_error(empty), "results file '" + empty.string() + "': not an HDF5 file");
}

TEST_F(Reader, Hdf5FileThatIsNotAResultsFile) {
  const auto path = dir() / "other.h5";
  hid_t file = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  ASSERT_GE(file, 0);
  H5Fclose(file);
  EXPECT_EQ(read_error(path),
            "results file '" + path.string() + "': not a FastGPU results file (it has no /job group)");
}

TEST_F(Reader, TruncatedFileIsAnIoErrorNotACrash) {
  const auto path = dir() / "results.h5";
  {
    auto writer = ResultsWriter::create(path, test::sample_job(), test::sample_tasks(50), false);
    for (int i = 0; i < 200; ++i) writer->add_attempt(test::sample_attempt(i % 50, 0));
    writer->finish("done", "t");
  }
  const auto size = std::filesystem::file_size(path);
  std::filesystem::resize_file(path, size / 2);
  const std::string what = read_error(path);
  EXPECT_EQ(what.rfind("results file '" + path.string() + "': ", 0), 0u) << what;
}

TEST_F(Reader, KilledRunWithOnlyTheInitialFlush) {
  const auto path = dir() / "results.h5";
  const auto copy = dir() / "killed.h5";
  auto writer = ResultsWriter::create(path, test::sample_job(), test::sample_tasks(3), false);
  writer->add_attempt(test::sample_attempt(0, 0));  // buffered, never flushed
  std::filesystem::copy_file(path, copy);
  const Results got = read_results(copy);
  EXPECT_EQ(got.job.status, "running");
  EXPECT_EQ(got.job.finished, "");
  EXPECT_EQ(got.tasks.size(), 3u);
  EXPECT_TRUE(got.attempts.empty());
}

}  // namespace
}  // namespace fastgpu::io
