// End-to-end: `fastgpu inspect --tasks-csv` and `--gantt` on the file of a real run (and on a
// synthetic 100,000-attempt file), the SVG drawn by headless Chromium and its pixels checked.
#include <chrono>
#include <fstream>
#include <sstream>

#include "e2e/cli_harness.hpp"
#include "io/results_reader.hpp"
#include "io/results_writer.hpp"
#include "support/synthetic_results.hpp"

namespace fastgpu::e2e {
namespace {

// 12 subtasks (lr 1..3 x seed 0..3) of 10..330 ms; lr=3,seed=3 fails both of its attempts.
constexpr const char* kSweepJob = R"(
[job]
name = "viz"
[task]
command = ["sh", "-c", "sleep 0.$1$0; echo FASTGPU_METRIC loss=$1.$0; if [ $0$1 = 33 ]; then echo broke >&2; exit 3; fi",
           "{lr}", "{seed}"]
retries = 1
[sweep]
lr = [1, 2, 3]
seed = { range = [0, 4] }
)";

const std::string kPython = std::filesystem::exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::string> split_lines(const std::string& text, const std::string& end) {
  std::vector<std::string> lines;
  std::size_t at = 0;
  for (auto next = text.find(end); next != std::string::npos; next = text.find(end, at)) {
    lines.push_back(text.substr(at, next - at));
    at = next + end.size();
  }
  if (at < text.size()) lines.push_back(text.substr(at));
  return lines;
}

// Rects with a hover title of one status (the attempt bars; legend swatches have no title).
std::size_t bars_of(const std::string& svg, const std::string& status) {
  std::size_t n = 0;
  const std::string head = "<rect class=\"s-" + status + "\"";
  for (auto at = svg.find(head); at != std::string::npos; at = svg.find(head, at + 1)) {
    n += svg.compare(svg.find('>', at) + 1, 7, "<title>") == 0;
  }
  return n;
}

// Draws SVGs with headless Chromium and measures the screenshot's pixels.
class SvgRenderTest : public CliTest {
 protected:
  bool has_chromium() { return exec({"sh", "-c", "command -v chromium"}).exit_code == 0; }

  /// Headless Chromium's screenshot of `svg` (a file in the scratch directory) as `png`.
  void screenshot(const std::string& svg, const std::string& png, int width, int height) {
    std::filesystem::remove(path(png));
    std::filesystem::create_directories(path("chromium-profile"));
    auto run = exec({"chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--hide-scrollbars", "--user-data-dir=" + path("chromium-profile").string(),
                     "--screenshot=" + path(png).string(),
                     "--window-size=" + std::to_string(width) + "," + std::to_string(height),
                     "file://" + path(svg).string()});
    ASSERT_TRUE(std::filesystem::exists(path(png))) << "chromium wrote no screenshot: " << run.err;
  }

  struct Ink {
    double share = 0;          ///< of pixels that are not white
    std::vector<long> counts;  ///< pixels near each colour asked for
  };

  /// The ink of `png` and the pixels near each colour (hex, no '#').
  Ink ink(const std::string& png, const std::vector<std::string>& colours) {
    std::vector<std::string> argv = {kPython, std::string(FASTGPU_SOURCE_DIR) + "/tests/e2e/png_ink.py",
                                     path(png).string()};
    argv.insert(argv.end(), colours.begin(), colours.end());
    auto run = exec(argv);
    EXPECT_EQ(run.exit_code, 0) << run.err;
    std::istringstream words(run.out);
    std::string word, size;
    Ink result;
    words >> word >> size >> word >> result.share;  // "size WxH ink F"
    for (std::size_t i = 0; i < colours.size(); ++i) {
      long n = 0;
      words >> word >> n;
      result.counts.push_back(n);
    }
    std::cout << "[ png ] " << png << ": " << run.out;
    return result;
  }

  /// Screenshot and ink; a second screenshot if the first looks blank (a loaded machine can
  /// make Chromium capture before it painted).
  Ink render(const std::string& svg, const std::string& png, int width, int height,
             const std::vector<std::string>& colours, double min_share) {
    Ink result;
    for (int attempt = 0; attempt < 2 && result.share < min_share; ++attempt) {
      screenshot(svg, png, width, height);
      if (HasFatalFailure()) return result;
      result = ink(png, colours);
    }
    return result;
  }
};

class InspectExportTest : public SvgRenderTest {
 protected:
  void SetUp() override {
    SvgRenderTest::SetUp();
    auto run = fastgpu({"run", write("viz.toml", kSweepJob), "--workers", "2", "-o", "viz.h5"});
    ASSERT_EQ(run.exit_code, 1) << run.out << run.err;  // one subtask fails for good
  }
};

// --- --tasks-csv --------------------------------------------------------------------------

TEST_F(InspectExportTest, TasksCsvHasOneRowPerSubtaskWithParametersAndMetrics) {
  auto run = fastgpu({"inspect", "viz.h5", "--tasks-csv", "tasks.csv"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("wrote tasks.csv: 12 subtasks, 2 parameter and 1 metric columns"), std::string::npos)
      << run.out;
  EXPECT_EQ(run.out.find("makespan"), std::string::npos) << "no summary with an export";
  const auto lines = split_lines(read_file(path("tasks.csv")), "\r\n");
  ASSERT_EQ(lines.size(), 13u);
  EXPECT_EQ(lines[0], "id,name,status,attempts,worker,start,end,duration,exit_code,lr,seed,loss");
  std::size_t failed = 0;
  for (std::size_t i = 1; i < lines.size(); ++i) {
    EXPECT_EQ(lines[i].front(), '"') << "ids hold a comma, so they are quoted: " << lines[i];
    if (lines[i].find(",failed,") != std::string::npos) {
      ++failed;
      EXPECT_EQ(lines[i].rfind("\"lr=3,seed=3\",", 0), 0u) << lines[i];
      EXPECT_NE(lines[i].find(",failed,2,"), std::string::npos) << "two attempts: " << lines[i];
      EXPECT_EQ(lines[i].substr(lines[i].size() - 5), ",3,3,") << "no metric without a success: " << lines[i];
    }
  }
  EXPECT_EQ(failed, 1u);
  EXPECT_NE(read_file(path("tasks.csv")).find("\"lr=2,seed=1\",lr=2 seed=1,done,1,"), std::string::npos);
}

TEST_F(InspectExportTest, TasksCsvReadsBackWithPythonsCsvModule) {
  auto run = fastgpu({"inspect", "viz.h5", "--tasks-csv", "tasks.csv"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const auto script = write("read.py", R"(
import csv, math
with open("tasks.csv", newline="") as f:
    rows = list(csv.DictReader(f))
assert len(rows) == 12, len(rows)
for r in rows:
    assert r["id"] == f"lr={r['lr']},seed={r['seed']}", r
    if r["status"] == "done":
        assert float(r["loss"]) == float(f"{r['seed']}.{r['lr']}"), r
        assert math.isclose(float(r["end"]) - float(r["start"]), float(r["duration"]), abs_tol=1e-9), r
        assert r["exit_code"] == "0"
    else:
        assert r["loss"] == "" and r["exit_code"] == "3", r
print("csv ok")
)");
  auto check = exec({kPython, script});
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
  EXPECT_EQ(check.out, "csv ok\n");
}

TEST_F(InspectExportTest, TasksCsvGoesToStdoutWithADash) {
  auto run = fastgpu({"inspect", "viz.h5", "--tasks-csv", "-"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out.rfind("id,name,status,", 0), 0u) << run.out;
  EXPECT_EQ(split_lines(run.out, "\r\n").size(), 13u);
}

TEST_F(InspectExportTest, OnlyOneOutputMayUseStdoutAndUnwritableFilesAreUsageErrors) {
  auto both = fastgpu({"inspect", "viz.h5", "--json", "--tasks-csv", "-"});
  EXPECT_EQ(both.exit_code, 2);
  EXPECT_NE(both.err.find("stdout"), std::string::npos) << both.err;
  auto nowhere = fastgpu({"inspect", "viz.h5", "--gantt", path("no/such/dir/g.svg").string()});
  EXPECT_EQ(nowhere.exit_code, 2);
  EXPECT_NE(nowhere.err.find("cannot write"), std::string::npos) << nowhere.err;
  auto json_and_file = fastgpu({"inspect", "viz.h5", "--json", "--tasks-csv", "t.csv"});
  ASSERT_EQ(json_and_file.exit_code, 0) << json_and_file.err;
  EXPECT_EQ(json_and_file.out.front(), '{') << "JSON stays alone on stdout";
  EXPECT_NE(json_and_file.err.find("wrote t.csv"), std::string::npos);
}

// --- --gantt ------------------------------------------------------------------------------

TEST_F(InspectExportTest, GanttDrawsEveryAttemptOfARealRun) {
  auto run = fastgpu({"inspect", "viz.h5", "--gantt", "viz.svg"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("wrote viz.svg: 2 workers, 13 attempts (13 drawn as bars"), std::string::npos) << run.out;
  const std::string svg = read_file(path("viz.svg"));
  ASSERT_EQ(svg.rfind("<?xml", 0), 0u);
  EXPECT_EQ(bars_of(svg, "done"), 11u);
  EXPECT_EQ(bars_of(svg, "failed"), 2u);
  EXPECT_NE(svg.find("rank 1 · "), std::string::npos);
  EXPECT_NE(svg.find("rank 2 · "), std::string::npos);
  EXPECT_NE(svg.find("lr=3,seed=3 · attempt 1 · rank"), std::string::npos);
  EXPECT_NE(svg.find("job &apos;viz&apos; — failed"), std::string::npos);

  if (exec({kPython, "-c", "import xml.dom.minidom"}).exit_code == 0) {
    auto parse = exec({kPython, "-c", "import sys, xml.dom.minidom as m; d = m.parse(sys.argv[1]); "
                                      "print(d.documentElement.tagName, len(d.getElementsByTagName('rect')))",
                       path("viz.svg").string()});
    EXPECT_EQ(parse.exit_code, 0) << "not well-formed XML: " << parse.err;
    EXPECT_EQ(parse.out.rfind("svg ", 0), 0u) << parse.out;
  }

  if (!has_chromium()) GTEST_SKIP() << "chromium not installed: the picture is not rendered";
  const Ink drawn = render("viz.svg", "viz.png", 1400, 320, {"59a14f", "e15759"}, 0.05);
  ASSERT_EQ(drawn.counts.size(), 2u);
  EXPECT_GT(drawn.share, 0.05) << "the picture is (nearly) blank";
  EXPECT_GT(drawn.counts[0], 2000) << "no 'done' bars visible";
  EXPECT_GT(drawn.counts[1], 50) << "no 'failed' bars visible";
}

TEST_F(SvgRenderTest, GanttOfAHundredThousandAttemptsStaysSmallAndRenders) {
  test::SyntheticRun spec;
  spec.workers = 64;
  spec.attempts = 100000;
  spec.problem_rate = 0.03;
  const Results synthetic = test::synthetic_results(spec);
  {
    auto writer = io::ResultsWriter::create(path("big.h5"), synthetic.job, synthetic.tasks, false);
    for (const auto& w : synthetic.workers) writer->add_worker(w);
    for (const auto& a : synthetic.attempts) writer->add_attempt(a);
    for (const auto& e : synthetic.events) writer->add_event(e);
    for (std::size_t i = 0; i < synthetic.tasks.size(); ++i) writer->update_task(i, synthetic.tasks[i]);
    writer->finish("done", "2024-05-01T13:00:00Z");
  }
  const auto begin = std::chrono::steady_clock::now();
  auto run = fastgpu({"inspect", "big.h5", "--gantt", "big.svg"});
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const auto size = std::filesystem::file_size(path("big.svg"));
  std::cout << "[ gantt ] inspect --gantt of 100,000 attempts on 64 workers: " << size / 1024 << " KiB in " << seconds
            << " s (reading the file included)\n"
            << run.out;
  EXPECT_LT(size, 5u << 20);  // how long it took is printed above, not asserted (a benchmark's job)

  if (!has_chromium()) GTEST_SKIP() << "chromium not installed: the picture is not rendered";
  const Ink drawn = render("big.svg", "big.png", 1400, 900, {"59a14f"}, 0.3);
  ASSERT_EQ(drawn.counts.size(), 1u);
  EXPECT_GT(drawn.share, 0.3) << "the picture is (nearly) blank";
  EXPECT_GT(drawn.counts[0], 100000) << "the lanes are not mostly 'done' green";
}

}  // namespace
}  // namespace fastgpu::e2e
