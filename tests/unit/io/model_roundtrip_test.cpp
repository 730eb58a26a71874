// /model: the cost model written by ResultsWriter::write_model and read back by read_model.
#include <gtest/gtest.h>
#include <hdf5.h>

#include <fstream>
#include <string>

#include "fastgpu/cost_model.hpp"
#include "fastgpu/error.hpp"
#include "io/results_reader.hpp"
#include "io/results_writer.hpp"
#include "io_test_util.hpp"

namespace fastgpu::io {
namespace {

class ModelFile : public test::ScratchDir {
 protected:
  std::unique_ptr<ResultsWriter> create(const std::string& name) {
    return ResultsWriter::create(dir() / name, test::sample_job(), test::sample_tasks(3), false);
  }
};

CostModelSnapshot sample_model() {
  CostModelSnapshot model;
  model.classes.push_back(CostClassParams{"command", 0.25, 1.5, 40});
  model.classes.push_back(CostClassParams{"gemm-λ", 0, 3e-9, 7});
  model.workers.push_back(CostWorkerParams{1, "node-1", "cuda:0", 1.0, 0.05, 30});
  model.workers.push_back(CostWorkerParams{2, "node-1", "cuda:1", 2.125, 0.5, 17});
  model.workers.push_back(CostWorkerParams{7, "", "cpu", 0.9, 0, 0});  // never reported: borrowed
  return model;
}

void expect_same(const CostModelSnapshot& want, const CostModelSnapshot& got) {
  ASSERT_EQ(want.classes.size(), got.classes.size());
  for (std::size_t i = 0; i < want.classes.size(); ++i) {
    EXPECT_EQ(want.classes[i].task_class, got.classes[i].task_class);
    EXPECT_EQ(want.classes[i].intercept_s, got.classes[i].intercept_s);
    EXPECT_EQ(want.classes[i].seconds_per_cost, got.classes[i].seconds_per_cost);
    EXPECT_EQ(want.classes[i].samples, got.classes[i].samples);
  }
  ASSERT_EQ(want.workers.size(), got.workers.size());
  for (std::size_t i = 0; i < want.workers.size(); ++i) {
    EXPECT_EQ(want.workers[i].rank, got.workers[i].rank);
    EXPECT_EQ(want.workers[i].host, got.workers[i].host);
    EXPECT_EQ(want.workers[i].device, got.workers[i].device);
    EXPECT_EQ(want.workers[i].speed_factor, got.workers[i].speed_factor);
    EXPECT_EQ(want.workers[i].sigma_log, got.workers[i].sigma_log);
    EXPECT_EQ(want.workers[i].samples, got.workers[i].samples);
  }
}

std::string model_error(const std::filesystem::path& path) {
  try {
    read_model(path);
  } catch (const IoError& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected IoError reading the model of " << path;
  return "";
}

TEST_F(ModelFile, EveryFieldComesBack) {
  auto writer = create("r.h5");
  writer->write_model(sample_model());
  writer->finish("done", "2024-05-01T12:01:00Z");
  const auto model = read_model(dir() / "r.h5");
  ASSERT_TRUE(model.has_value());
  expect_same(sample_model(), *model);
  // The rest of the file is untouched.
  const Results results = read_results(dir() / "r.h5");
  EXPECT_EQ(results.tasks.size(), 3u);
  EXPECT_EQ(results.job.status, "done");
}

TEST_F(ModelFile, WritingAgainReplacesIt) {
  auto writer = create("r.h5");
  writer->write_model(sample_model());
  writer->flush();
  CostModelSnapshot smaller;
  smaller.workers.push_back(CostWorkerParams{3, "node-2", "cuda:0", 1.25, 0.1, 4});
  writer->write_model(smaller);
  writer->finish("done", "");
  const auto model = read_model(dir() / "r.h5");
  ASSERT_TRUE(model.has_value());
  expect_same(smaller, *model);

  auto again = ResultsWriter::create(dir() / "r2.h5", test::sample_job(), {}, false);
  again->write_model(smaller);
  again->write_model(sample_model());
  again->finish("done", "");
  expect_same(sample_model(), *read_model(dir() / "r2.h5"));
}

TEST_F(ModelFile, AnEmptyModelIsEmptyTables) {
  auto writer = create("r.h5");
  writer->write_model(CostModelSnapshot{});
  writer->finish("done", "");
  const auto model = read_model(dir() / "r.h5");
  ASSERT_TRUE(model.has_value());
  EXPECT_TRUE(model->classes.empty());
  EXPECT_TRUE(model->workers.empty());
}

TEST_F(ModelFile, AFileWithoutAModelHasNone) {
  auto writer = create("r.h5");
  writer->flush();  // a run still going (or killed) has no /model yet
  EXPECT_FALSE(read_model(dir() / "r.h5").has_value());
  writer->finish("done", "");
  EXPECT_FALSE(read_model(dir() / "r.h5").has_value());
}

TEST_F(ModelFile, StringsAreStoredAsUtf8) {
  CostModelSnapshot model;
  model.classes.push_back(CostClassParams{std::string("bad\xff") + "name", 0, 1, 1});
  model.workers.push_back(CostWorkerParams{1, std::string("h\0st", 4), "cuda:0", 1, 0, 1});
  auto writer = create("r.h5");
  writer->write_model(model);
  writer->finish("done", "");
  const auto back = read_model(dir() / "r.h5");
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->classes[0].task_class, "bad\xEF\xBF\xBDname");
  EXPECT_EQ(back->workers[0].host, "h\xEF\xBF\xBDst");
}

TEST_F(ModelFile, WritingAfterFinishIsAnError) {
  auto writer = create("r.h5");
  writer->finish("done", "");
  EXPECT_THROW(writer->write_model(sample_model()), IoError);
}

TEST_F(ModelFile, MissingAndForeignFilesAreErrors) {
  const auto missing = dir() / "nope.h5";
  EXPECT_EQ(model_error(missing), "results file '" + missing.string() + "': cannot read it: no such file");

  const auto text = dir() / "text.h5";
  { std::ofstream(text) << "not HDF5\n"; }
  EXPECT_EQ(model_error(text), "results file '" + text.string() + "': not an HDF5 file");

  const auto foreign = dir() / "foreign.h5";
  {
    const hid_t f = H5Fcreate(foreign.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    ASSERT_GE(f, 0);
    const hid_t g = H5Gcreate2(f, "model", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Gclose(g);
    H5Fclose(f);
  }
  EXPECT_NE(model_error(foreign).find("not a FastGPU results file"), std::string::npos);
}

TEST_F(ModelFile, AModelThatIsNotOursIsAnError) {
  auto writer = create("r.h5");
  writer->finish("done", "");
  const auto path = dir() / "r.h5";
  {
    const hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    ASSERT_GE(f, 0);
    const hsize_t n = 3;
    const hid_t space = H5Screate_simple(1, &n, nullptr);
    const hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    const hid_t d = H5Dcreate2(f, "model/classes", H5T_NATIVE_DOUBLE, space, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    H5Dclose(d);
    H5Pclose(lcpl);
    H5Sclose(space);
    H5Fclose(f);
  }
  EXPECT_NE(model_error(path).find("/model/classes"), std::string::npos);
}

TEST_F(ModelFile, H5dumpShowsTheTables) {
  if (test::run_command("h5dump --version >/dev/null 2>&1") != 0) GTEST_SKIP() << "h5dump not installed";
  auto writer = create("r.h5");
  writer->write_model(sample_model());
  writer->finish("done", "");
  std::string out;
  ASSERT_EQ(test::run_command("h5dump -g /model " + test::quote(dir() / "r.h5") + " 2>&1", &out), 0) << out;
  for (const char* field : {"\"task_class\"", "\"intercept_s\"", "\"seconds_per_cost\"", "\"samples\"", "\"rank\"",
                            "\"host\"", "\"device\"", "\"speed_factor\"", "\"sigma_log\"", "\"node-1\"", "2.125"}) {
    EXPECT_NE(out.find(field), std::string::npos) << field << " in\n" << out;
  }
}

TEST_F(ModelFile, H5pyReadsTheTablesByFieldName) {
  std::string python;
  for (const char* candidate : {"python3", "/usr/bin/python3"}) {
    if (test::run_command(std::string(candidate) + " -c 'import h5py' >/dev/null 2>&1") == 0) {
      python = candidate;
      break;
    }
  }
  if (python.empty()) GTEST_SKIP() << "no python3 with h5py";
  auto writer = create("r.h5");
  writer->write_model(sample_model());
  writer->finish("done", "");
  const auto script = dir() / "check.py";
  std::ofstream(script) << R"(
import sys
import h5py
with h5py.File(sys.argv[1], "r") as f:
    classes = f["model/classes"][...]
    workers = f["model/workers"][...]
    assert [c.decode() for c in classes["task_class"]] == ["command", "gemm-λ"], classes
    assert list(classes["samples"]) == [40, 7]
    line = {c["task_class"].decode(): (c["intercept_s"], c["seconds_per_cost"]) for c in classes}
    w = workers[workers["rank"] == 2][0]
    assert w["host"].decode() == "node-1" and w["speed_factor"] == 2.125
    a, b = line["command"]
    assert abs(w["speed_factor"] * (a + b * 4) - 2.125 * 6.25) < 1e-12
    assert "description" in f["model"].attrs
print("ok")
)";
  std::string out;
  EXPECT_EQ(test::run_command(python + " " + test::quote(script) + " " + test::quote(dir() / "r.h5") + " 2>&1", &out),
            0)
      << out;
  EXPECT_NE(out.find("ok"), std::string::npos) << out;
}

}  // namespace
}  // namespace fastgpu::io
