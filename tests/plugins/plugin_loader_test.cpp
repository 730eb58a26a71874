// `[job] plugin = "..."`: shared libraries of user kernels, loaded while the job file is read
// (src/job/plugin_loader.hpp). The plugins are built by tests/plugins/CMakeLists.txt.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <unistd.h>

#include "fastgpu/job_spec.hpp"
#include "fastgpu/kernel.hpp"
#include "job/kernel_catalog.hpp"
#include "job/plugin_loader.hpp"

namespace fastgpu {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::StartsWith;

/// A fresh directory for one test's job files, removed afterwards.
class PluginTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("fastgpu_plugin_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path write(const std::string& name, const std::string& text) const {
    const fs::path path = dir_ / name;
    std::ofstream(path) << text;
    return path;
  }
  /// The error load_job_file gives for `text` written to dir/job.toml, or "no error".
  std::string error_of(const std::string& text) const {
    try {
      load_job_file(write("job.toml", text));
    } catch (const JobFileError& error) {
      return error.what();
    }
    return "no error";
  }
  std::string job_file() const { return (dir_ / "job.toml").string(); }

  fs::path dir_;
};

/// A [job] with `plugin_line`, then a [task] running kernel test_scale with `args`.
std::string scale_job(const std::string& plugin_line, const std::string& args = "factor = 2") {
  return "[job]\nname = \"p\"\n" + plugin_line + "\n[task]\nkernel = \"test_scale\"\n[task.args]\n" + args + "\n";
}

std::string quoted(const fs::path& path) { return "\"" + path.string() + "\""; }

TEST_F(PluginTest, MissingFile) {
  const std::string error = error_of(scale_job("plugin = \"build/libnothere.so\""));
  EXPECT_THAT(error, StartsWith(job_file() + ":3:10: cannot load plugin 'build/libnothere.so' ("));
  EXPECT_THAT(error, HasSubstr((dir_ / "build/libnothere.so").string()));
  EXPECT_THAT(error, HasSubstr("file not found"));
}

TEST_F(PluginTest, NotASharedLibrary) {
  write("libfake.so", "This is a text file, not a shared library: dlopen reads its first bytes and refuses it.\n");
  const std::string error = error_of(scale_job("plugin = \"libfake.so\""));
  EXPECT_THAT(error, StartsWith(job_file() + ":3:10: cannot load plugin 'libfake.so'"));
  // dlerror()'s text names the file and what is wrong with it.
  EXPECT_THAT(error, HasSubstr("libfake.so: invalid ELF header"));
  // A directory is not one either.
  fs::create_directories(dir_ / "plugins");
  EXPECT_THAT(error_of(scale_job("plugin = \"plugins\"")), HasSubstr("it is a directory, not a shared library"));
}

TEST_F(PluginTest, LibraryWithoutEntry) {
  const std::string error = error_of(scale_job("plugin = " + quoted(FASTGPU_TEST_PLUGIN_NO_ENTRY)));
  EXPECT_THAT(error, StartsWith(job_file() + ":3:10: cannot load plugin '"));
  EXPECT_THAT(error, HasSubstr("it has no FASTGPU_PLUGIN entry (no symbol 'fastgpu_register_kernels')"));
}

TEST_F(PluginTest, DuplicateKernelName) {
  const std::string error = error_of(scale_job("plugin = " + quoted(FASTGPU_TEST_PLUGIN_DUPLICATE)));
  EXPECT_THAT(error, StartsWith(job_file() + ":3:10: cannot load plugin '"));
  EXPECT_THAT(error, HasSubstr("kernel 'sleep' is registered twice"));
  // Asked again, the same answer (and still only the built-in 'sleep').
  EXPECT_THAT(error_of(scale_job("plugin = " + quoted(FASTGPU_TEST_PLUGIN_DUPLICATE))),
              HasSubstr("kernel 'sleep' is registered twice"));
  int sleeps = 0;
  for (const KernelSpec& kernel : job::known_kernels()) sleeps += kernel.name == "sleep" ? 1 : 0;
  EXPECT_EQ(sleeps, 1);
}

TEST_F(PluginTest, WrongTypes) {
  EXPECT_EQ(error_of(scale_job("plugin = 3")),
            job_file() + ":3:10: 'plugin' must be a string or an array of strings (paths of shared libraries, "
                         "relative to the job file), not an integer");
  EXPECT_EQ(error_of(scale_job("plugin = [\"a.so\", 1]")),
            job_file() + ":3:19: 'plugin' entries must be strings (paths of shared libraries), not an integer");
  EXPECT_EQ(error_of(scale_job("plugin = \"\"")),
            job_file() + ":3:10: 'plugin' must not be empty (the path of a shared library)");
}

/// A kernel's view of one attempt, recording its metrics.
class RecordingContext final : public Context {
 public:
  explicit RecordingContext(KernelArgs args) : args_(std::move(args)) {}
  Device& device() override { throw KernelError("no device in this test"); }
  const KernelArgs& args() const override { return args_; }
  std::int64_t task_id() const override { return 0; }
  int attempt() const override { return 0; }
  void metric(std::string_view name, double value) override { metrics[std::string(name)] = value; }
  void output(std::string_view, std::span<const double>) override {}
  ReductionSlot& reduction(std::string_view) override { throw KernelError("no reductions"); }
  void reduce(std::string_view, std::span<const double>, double) override {}
  std::span<const double> input(std::string_view) override { return {}; }
  Communicator& communicator() override { throw KernelError("no communicator"); }
  bool stop_requested() const override { return false; }

  std::map<std::string, double> metrics;

 private:
  KernelArgs args_;
};

TEST_F(PluginTest, GoodPluginRegistersItsKernel) {
  // Linked next to the job file, so the relative path is taken from the job file's directory,
  // whatever the current directory is. (A link, not a copy: a copy would be another library
  // registering test_scale again, when the tests run in one process.)
  fs::create_directories(dir_ / "build");
  fs::create_symlink(FASTGPU_TEST_PLUGIN, dir_ / "build/libtest_scale.so");
  const JobSpec job =
      load_job_file(write("job.toml", scale_job("plugin = \"build/libtest_scale.so\"", "factor = 2.5\nx = \"{x}\"") +
                                          "[sweep]\nx = [1, 4]\n"));
  EXPECT_EQ(job.task.kernel, "test_scale");
  ASSERT_EQ(job.plugins.size(), 1u);
  EXPECT_EQ(job.plugins[0], fs::canonical(FASTGPU_TEST_PLUGIN).string());
  EXPECT_TRUE(fs::path(job.plugins[0]).is_absolute());

  const auto subtasks = expand_subtasks(job);
  ASSERT_EQ(subtasks.size(), 2u);
  const LaunchSpec launch = render_launch(job, subtasks[1], 0);
  EXPECT_EQ(launch.kernel, "test_scale");

  // The registered kernel runs: made by the plugin, called through the public Context.
  const KernelSpec* kernel = job::find_kernel("test_scale");
  ASSERT_NE(kernel, nullptr);
  EXPECT_EQ(kernel->help, "multiplies x by factor (a test plugin)");
  ASSERT_TRUE(kernel->make);
  RecordingContext context{KernelArgs(launch.args)};
  kernel->make()->run(context);
  EXPECT_DOUBLE_EQ(context.metrics.at("scaled"), 10.0);

  // A second job naming the same library (another path to it, or twice) loads nothing again.
  const std::size_t kernels = job::known_kernels().size();
  const JobSpec again = load_job_file(write(
      "job.toml", scale_job("plugin = [\"build/libtest_scale.so\", \"./build/../build/libtest_scale.so\"]")));
  EXPECT_EQ(again.plugins, job.plugins);
  EXPECT_EQ(job::known_kernels().size(), kernels);
}

TEST_F(PluginTest, PluginArgsAreChecked) {
  const std::string plugin = "plugin = " + quoted(FASTGPU_TEST_PLUGIN);
  EXPECT_EQ(error_of(scale_job(plugin, "factor = 2\nfactr = 3")),
            job_file() + ":8:1: unknown arg 'factr' for kernel 'test_scale' (did you mean 'factor'?)");
  EXPECT_THAT(error_of(scale_job(plugin, "factor = \"abc\"")), StartsWith(job_file() + ":7:10: "));
  EXPECT_EQ(error_of(scale_job(plugin, "x = 1")),
            job_file() + ":6:7: kernel 'test_scale' needs arg 'factor' (what x is multiplied by): add it to "
                         "[task.args], e.g. factor = 2");
  EXPECT_EQ(error_of(scale_job(plugin)), "no error");
}

TEST_F(PluginTest, KernelNamedBeforeItsPluginIsLoadedIsUnknown) {
  // Without the plugin line a fresh name is unknown (test_scale may be loaded by another test:
  // use a name no plugin registers).
  EXPECT_THAT(error_of("[job]\nname = \"p\"\n[task]\nkernel = \"test_scalr_x\"\n"),
              HasSubstr(":4:10: unknown kernel 'test_scalr_x'"));
}

TEST(PluginPath, RelativeToTheJobFile) {
  const fs::path cwd = fs::current_path();
  EXPECT_EQ(job::resolve_plugin_path("build/libk.so", "jobs/x.toml"), cwd / "jobs/build/libk.so");
  EXPECT_EQ(job::resolve_plugin_path("../lib/libk.so", "jobs/x.toml"), cwd / "lib/libk.so");
  EXPECT_EQ(job::resolve_plugin_path("libk.so", "x.toml"), cwd / "libk.so");
  EXPECT_EQ(job::resolve_plugin_path("/opt/k/libk.so", "jobs/x.toml"), fs::path("/opt/k/libk.so"));
  EXPECT_EQ(job::resolve_plugin_path("k.so", "/srv/jobs/x.toml"), fs::path("/srv/jobs/k.so"));
}

}  // namespace
}  // namespace fastgpu
