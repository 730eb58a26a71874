// The --gantt timeline's layout (lanes, bars, aggregation, markers, ticks) and text (escaping,
// size), from Results built in memory.
#include "app/gantt_svg.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <numeric>

#include "support/synthetic_results.hpp"

namespace fastgpu::app {
namespace {

using ::fastgpu::test::synthetic_results;
using ::fastgpu::test::SyntheticRun;

// Attempt bars (and aggregated columns) of a status: rects with a hover title.
std::size_t bars_of(const std::string& svg, const std::string& status) {
  std::size_t n = 0;
  const std::string head = "<rect class=\"s-" + status + "\"";
  for (auto at = svg.find(head); at != std::string::npos; at = svg.find(head, at + 1)) {
    const auto end = svg.find('>', at);
    n += svg.compare(end + 1, 7, "<title>") == 0;
  }
  return n;
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) ++n;
  return n;
}

WorkerRecord worker(std::int32_t rank, std::string host) {
  WorkerRecord w;
  w.rank = rank;
  w.host = std::move(host);
  w.device = "cuda:" + std::to_string(rank - 1);
  w.gpu_name = "NVIDIA A100-SXM4-40GB";
  return w;
}

AttemptRecord attempt(std::int64_t task, std::int32_t rank, double start, double end,
                      AttemptStatus status = AttemptStatus::done) {
  AttemptRecord a;
  a.task = task;
  a.worker = rank;
  a.host = "h";
  a.start = start;
  a.end = end;
  a.status = status;
  return a;
}

Results small_run() {
  Results r;
  r.job.name = "small";
  r.job.status = "failed";
  r.workers = {worker(2, "node-b"), worker(1, "node-a")};  // out of order on purpose
  for (int i = 0; i < 4; ++i) {
    TaskRecord t;
    t.id = "t" + std::to_string(i);
    r.tasks.push_back(t);
  }
  r.attempts = {attempt(0, 1, 0.5, 4.0), attempt(1, 2, 0.5, 3.0, AttemptStatus::failed),
                attempt(1, 2, 3.1, 6.0), attempt(2, 1, 4.1, 9.5, AttemptStatus::timed_out)};
  r.attempts[2].attempt = 1;
  return r;
}

// --- ticks ---------------------------------------------------------------------------------

TEST(GanttTicks, AreMultiplesOfANiceStepCoveringTheRange) {
  auto ticks = nice_time_ticks(0, 10, 8);
  EXPECT_EQ(ticks.step, 2);
  EXPECT_EQ(ticks.values, (std::vector<double>{0, 2, 4, 6, 8, 10}));

  ticks = nice_time_ticks(0, 97, 10);
  EXPECT_EQ(ticks.step, 10);
  EXPECT_EQ(ticks.values.size(), 10u);  // 0 .. 90
  EXPECT_EQ(ticks.values.back(), 90);

  ticks = nice_time_ticks(0, 0.37, 5);
  EXPECT_DOUBLE_EQ(ticks.step, 0.1);
  ASSERT_EQ(ticks.values.size(), 4u);
  EXPECT_NEAR(ticks.values[3], 0.3, 1e-12);
}

TEST(GanttTicks, UseClockStepsForMinutesHoursAndDays) {
  EXPECT_EQ(nice_time_ticks(0, 7200, 8).step, 900);      // 15 min
  EXPECT_EQ(nice_time_ticks(0, 7200, 8).values.size(), 9u);
  EXPECT_EQ(nice_time_ticks(0, 400, 10).step, 60);       // 40 s would be odd: 1 min
  EXPECT_EQ(nice_time_ticks(0, 3 * 86400.0, 6).step, 43200);  // 12 h
  EXPECT_EQ(nice_time_ticks(0, 40 * 86400.0, 4).step, 10 * 86400.0);
  EXPECT_EQ(nice_time_ticks(0, 170, 10).step, 20);
}

TEST(GanttTicks, DegenerateRangesGiveOneTick) {
  EXPECT_EQ(nice_time_ticks(5, 5, 10).values, std::vector<double>{5});
  EXPECT_EQ(nice_time_ticks(0, NAN, 10).values, std::vector<double>{0});
}

TEST(GanttTicks, LabelsPickAUnitFromTheStep) {
  EXPECT_EQ(format_time_tick(0, 10), "0");
  EXPECT_EQ(format_time_tick(0.25, 0.05), "0.25 s");
  EXPECT_EQ(format_time_tick(0.3, 0.1), "0.3 s");
  EXPECT_EQ(format_time_tick(45, 5), "45 s");
  EXPECT_EQ(format_time_tick(120, 20), "120 s");
  EXPECT_EQ(format_time_tick(1800, 900), "30 min");
  EXPECT_EQ(format_time_tick(4500, 900), "1 h 15 min");
  EXPECT_EQ(format_time_tick(7200, 3600), "2 h");
  EXPECT_EQ(format_time_tick(172800, 86400), "2 d");
  EXPECT_EQ(format_time_tick(129600, 43200), "1 d 12 h");
}

// --- escaping ------------------------------------------------------------------------------

TEST(GanttText, EscapesXmlSpecialCharacters) {
  EXPECT_EQ(xml_escape(R"(<node&1 "a" 'b'>)"), "&lt;node&amp;1 &quot;a&quot; &apos;b&apos;&gt;");
  EXPECT_EQ(xml_escape("plain λ text\tok\n"), "plain λ text\tok\n");
}

TEST(GanttText, ReplacesWhatXmlCannotHold) {
  EXPECT_EQ(xml_escape(std::string("a\x01" "b", 3)), "a\xEF\xBF\xBD" "b");       // control character
  EXPECT_EQ(xml_escape(std::string("a\0b", 3)), "a\xEF\xBF\xBD" "b");            // NUL
  EXPECT_EQ(xml_escape("\xff" "x"), "\xEF\xBF\xBD" "x");                          // not UTF-8
  EXPECT_EQ(xml_escape("\xC3"), "\xEF\xBF\xBD");                                  // cut sequence
  EXPECT_EQ(xml_escape("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // a surrogate
  EXPECT_EQ(xml_escape("\xEF\xBF\xBF"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // U+FFFF
  EXPECT_EQ(xml_escape("\xF0\x9F\x9A\x80"), "\xF0\x9F\x9A\x80");                  // 🚀 stays
}

TEST(GanttText, IdsAndHostsAreEscapedInTheSvg) {
  Results r = small_run();
  r.workers[0].host = "<evil&host>";
  r.tasks[0].id = "lr=\"0.1\"&<b>";
  r.job.name = "a<b";
  const std::string svg = render_gantt_svg(r);
  EXPECT_EQ(svg.find("<evil"), std::string::npos);
  EXPECT_NE(svg.find("&lt;evil&amp;host&gt;"), std::string::npos);
  EXPECT_NE(svg.find("lr=&quot;0.1&quot;&amp;&lt;b&gt;"), std::string::npos);
  EXPECT_EQ(svg.find("a<b"), std::string::npos);
  // Every element that opens a title closes it.
  EXPECT_EQ(count(svg, "<title>"), count(svg, "</title>"));
}

// --- styles --------------------------------------------------------------------------------

TEST(GanttStyles, EveryNamedAttemptStatusHasItsOwnStyle) {
  // A status added to AttemptStatus and to_string() needs a row in the style table.
  for (int value = 0; value < 127; ++value) {
    const auto status = static_cast<AttemptStatus>(value);
    const std::string_view name = to_string(status);
    if (name == "unknown") continue;
    EXPECT_EQ(gantt_style(status).status, name) << "no Gantt style for attempt status " << name;
  }
  EXPECT_EQ(gantt_style(static_cast<AttemptStatus>(99)).status, "unknown");
  for (std::string_view later : {"superseded", "interrupted"}) {
    bool found = false;
    for (const auto& style : gantt_status_styles()) found = found || style.status == later;
    EXPECT_TRUE(found) << later;
  }
}

// --- layout --------------------------------------------------------------------------------

TEST(GanttLayout, OneLanePerWorkerByRankAndOneBarPerAttempt) {
  const Results r = small_run();
  const auto layout = layout_gantt(r);
  ASSERT_EQ(layout.lanes.size(), 2u);
  EXPECT_EQ(layout.lanes[0].rank, 1);
  EXPECT_EQ(layout.lanes[0].host, "node-a");
  EXPECT_EQ(layout.lanes[1].rank, 2);
  EXPECT_LT(layout.lanes[0].y + layout.lanes[0].height, layout.lanes[1].y + 0.01);
  EXPECT_EQ(layout.lanes[0].bars.size(), 2u);
  EXPECT_EQ(layout.lanes[1].bars.size(), 2u);
  EXPECT_EQ(layout.aggregated_attempts, 0u);
  EXPECT_EQ(layout.t0, 0);
  EXPECT_GE(layout.t1, 9.5);
  EXPECT_EQ(layout.t1, layout.ticks.values.back());  // the axis ends on a tick
  for (const auto& lane : layout.lanes) {
    for (const auto& bar : lane.bars) {
      EXPECT_GE(bar.x0, layout.plot_x);
      EXPECT_LE(bar.x1, layout.plot_x + layout.plot_w + 1e-9);
      EXPECT_GE(bar.x1 - bar.x0, 1);
    }
  }
  const auto& bar = layout.lanes[0].bars[1];  // t2 on rank 1: 4.1 .. 9.5
  EXPECT_NEAR(bar.x0, layout.x_of(4.1), 1e-9);
  EXPECT_NEAR(bar.x1, layout.x_of(9.5), 1e-9);
  const std::string svg = render_gantt_svg(r, layout);
  EXPECT_EQ(bars_of(svg, "done"), 2u);
  EXPECT_EQ(bars_of(svg, "failed"), 1u);
  EXPECT_EQ(bars_of(svg, "timed_out"), 1u);
  EXPECT_NE(svg.find("t1 · attempt 1 · rank 2"), std::string::npos);
  EXPECT_NE(svg.find("rank 1 · node-a"), std::string::npos);
  EXPECT_NE(svg.find("NVIDIA A100-SXM4-40GB"), std::string::npos);
  EXPECT_NE(svg.find("timed out (1)"), std::string::npos);
}

TEST(GanttLayout, RanksMissingFromWorkersGetTheirOwnLaneLast) {
  Results r = small_run();
  r.attempts.push_back(attempt(3, 7, 1, 2));
  r.attempts.back().host = "ghost";
  const auto layout = layout_gantt(r);
  ASSERT_EQ(layout.lanes.size(), 3u);
  EXPECT_EQ(layout.lanes[2].rank, 7);
  EXPECT_FALSE(layout.lanes[2].known);
  EXPECT_EQ(layout.lanes[2].host, "ghost");
  EXPECT_EQ(layout.lanes[2].bars.size(), 1u);
}

TEST(GanttLayout, UnfinishedAttemptsRunToTheEndAndUnstartedOnesAreCounted) {
  Results r = small_run();
  r.attempts.push_back(attempt(3, 1, 9.6, NAN, AttemptStatus::running));
  r.attempts.push_back(attempt(3, 2, NAN, NAN, AttemptStatus::spawn_failed));
  const auto layout = layout_gantt(r);
  EXPECT_EQ(layout.unstarted_attempts, 1u);
  const auto& last = layout.lanes[0].bars.back();
  EXPECT_TRUE(last.unfinished);
  EXPECT_NEAR(last.x1, layout.plot_x + layout.plot_w, 1e-9);
  EXPECT_NE(render_gantt_svg(r, layout).find("1 attempts never started"), std::string::npos);
}

TEST(GanttLayout, WorkerJoinTimesStartTheLane) {
  Results r = small_run();
  r.events.push_back({0.25, "worker_joined", -1, -1, 2, "node-b"});
  const auto layout = layout_gantt(r);
  EXPECT_LT(layout.lanes[0].joined_x, 0);
  EXPECT_NEAR(layout.lanes[1].joined_x, layout.x_of(0.25), 1e-9);
}

TEST(GanttLayout, ThinAttemptsAreSummedIntoColumnsWithTheDominantStatus) {
  Results r;
  r.workers = {worker(1, "n")};
  r.tasks.resize(1);
  // 10,000 attempts of 9 ms back to back over 100 s: far thinner than a pixel. 50 s..60 s fail.
  for (int i = 0; i < 10000; ++i) {
    const double start = 0.01 * i;
    r.attempts.push_back(attempt(0, 1, start, start + 0.009,
                                 start >= 50 && start < 60 ? AttemptStatus::failed : AttemptStatus::done));
  }
  const auto layout = layout_gantt(r);
  const auto& lane = layout.lanes.at(0);
  EXPECT_TRUE(lane.bars.empty());
  EXPECT_EQ(layout.aggregated_attempts, 10000u);
  ASSERT_FALSE(lane.cells.empty());
  std::size_t started = 0, failed = 0;
  bool saw_failed_region = false;
  for (const auto& cell : lane.cells) {
    started += cell.attempts;
    failed += cell.counts[gantt_slot(AttemptStatus::failed)];
    EXPECT_GE(cell.x0, layout.plot_x);
    EXPECT_LE(cell.x1, layout.plot_x + layout.plot_w + 1e-9);
    if (cell.t0 <= 55 && cell.t1 >= 55) {
      EXPECT_EQ(cell.dominant, AttemptStatus::failed);
      saw_failed_region = true;
    }
    if (cell.t1 <= 49) {
      EXPECT_EQ(cell.dominant, AttemptStatus::done);
      EXPECT_EQ(cell.busy_fraction, 1.0);  // 90% busy: top shade
    }
  }
  EXPECT_TRUE(saw_failed_region);
  EXPECT_EQ(started, 10000u);
  EXPECT_EQ(failed, 1000u);
  // Neighbouring columns that look the same are one run: done, failed, done (+ edge cells).
  EXPECT_LE(lane.cells.size(), 8u);
}

TEST(GanttLayout, AFewThinAttemptsStillGetTheirOwnOnePixelBars) {
  Results r;
  r.workers = {worker(1, "n")};
  r.tasks.resize(1);
  for (int i = 0; i < 20; ++i) r.attempts.push_back(attempt(0, 1, 5.0 * i, 5.0 * i + 0.001));
  const auto layout = layout_gantt(r);
  EXPECT_EQ(layout.aggregated_attempts, 0u);
  ASSERT_EQ(layout.lanes[0].bars.size(), 20u);
  for (const auto& bar : layout.lanes[0].bars) EXPECT_NEAR(bar.x1 - bar.x0, 1.0, 1e-9);
  EXPECT_TRUE(layout.lanes[0].cells.empty());
}

TEST(GanttLayout, RareProblemsInABusyColumnShowAsAStrip) {
  Results r;
  r.workers = {worker(1, "n")};
  r.tasks.resize(1);
  for (int i = 0; i < 5000; ++i) {
    const double start = 0.02 * i;
    r.attempts.push_back(attempt(0, 1, start, start + 0.019, i % 100 == 7 ? AttemptStatus::lost : AttemptStatus::done));
  }
  const auto layout = layout_gantt(r);
  bool strip = false;
  for (const auto& cell : layout.lanes[0].cells) {
    EXPECT_EQ(cell.dominant, AttemptStatus::done);
    strip = strip || cell.alert == static_cast<int>(gantt_slot(AttemptStatus::lost));
  }
  EXPECT_TRUE(strip);
}

TEST(GanttLayout, BarsBeyondTheBudgetAreAggregatedWidestFirst) {
  SyntheticRun run;
  run.workers = 4;
  run.attempts = 3000;
  run.mean_s = 30;
  const Results r = synthetic_results(run);
  GanttOptions options;
  options.max_bars = 500;
  const auto layout = layout_gantt(r, options);
  std::size_t bars = 0;
  double narrowest_bar = 1e9;
  for (const auto& lane : layout.lanes) {
    bars += lane.bars.size();
    for (const auto& bar : lane.bars) narrowest_bar = std::min(narrowest_bar, bar.x1 - bar.x0);
  }
  EXPECT_LE(bars, 500u);
  EXPECT_GT(bars, 0u);
  EXPECT_EQ(bars + layout.aggregated_attempts, 3000u);
  EXPECT_GT(layout.bar_min_px, 1.0);
  EXPECT_GE(narrowest_bar, layout.bar_min_px);
}

TEST(GanttLayout, ColumnsWidenUntilTheCellBudgetFits) {
  SyntheticRun run;
  run.workers = 200;
  run.attempts = 60000;
  run.spread = 1.5;
  run.problem_rate = 0.3;  // noisy: little to merge
  const Results r = synthetic_results(run);
  GanttOptions options;
  options.max_cells = 5000;
  const auto layout = layout_gantt(r, options);
  std::size_t cells = 0;
  for (const auto& lane : layout.lanes) cells += lane.cells.size();
  EXPECT_LE(cells, 5000u);
  EXPECT_GT(layout.cell_px, 1);
}

TEST(GanttLayout, MigrateAndSpeculateEventsBecomeMarkers) {
  Results r = small_run();
  r.events.push_back({2.0, "migrate", 0, 2, 1, "rebalance"});
  r.events.push_back({2.0, "migrate", 1, 2, 1, "rebalance"});  // same pixel and lanes: merged
  r.events.push_back({5.0, "speculate", 2, -1, 2, ""});
  r.events.push_back({5.0, "assign", 2, -1, 2, ""});         // not drawn
  r.events.push_back({6.0, "migrate", 2, 9, 8, ""});         // ranks without lanes: skipped
  const auto layout = layout_gantt(r);
  ASSERT_EQ(layout.markers.size(), 2u);
  const auto& migrate = layout.markers[0];
  EXPECT_EQ(gantt_marker_styles()[migrate.style].kind, "migrate");
  EXPECT_EQ(migrate.from_lane, 1);
  EXPECT_EQ(migrate.to_lane, 0);
  EXPECT_EQ(migrate.count, 2u);
  EXPECT_NEAR(migrate.x, layout.x_of(2.0), 1e-9);
  const auto& speculate = layout.markers[1];
  EXPECT_EQ(gantt_marker_styles()[speculate.style].kind, "speculate");
  EXPECT_EQ(speculate.from_lane, -1);
  EXPECT_EQ(speculate.to_lane, 1);
  const std::string svg = render_gantt_svg(r, layout);
  EXPECT_NE(svg.find("marker-end=\"url(#a-migrate)\""), std::string::npos);
  EXPECT_NE(svg.find("migrated (2)"), std::string::npos);
  EXPECT_NE(svg.find("speculative copy (1)"), std::string::npos);
}

TEST(GanttLayout, AnEmptyRunStillRenders) {
  Results r;
  r.job.name = "empty";
  const std::string svg = render_gantt_svg(r);
  EXPECT_NE(svg.find("no attempts recorded"), std::string::npos);
  EXPECT_NE(svg.find("</svg>"), std::string::npos);
}

// --- scale ---------------------------------------------------------------------------------

std::string timed_render(const Results& r, double& seconds) {
  const auto begin = std::chrono::steady_clock::now();
  std::string svg = render_gantt_svg(r);
  seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
  return svg;
}

TEST(GanttScale, HundredThousandAttemptsStayUnderFiveMegabytes) {
  for (std::size_t workers : {16, 64, 1000}) {
    SyntheticRun run;
    run.workers = workers;
    run.attempts = 100000;
    run.spread = 1.0;
    run.problem_rate = 0.05;
    run.migrate_rate = 0.01;
    run.speculate_rate = 0.005;
    const Results r = synthetic_results(run);
    double seconds = 0;
    const std::string svg = timed_render(r, seconds);
    EXPECT_LT(svg.size(), 5u << 20) << workers << " workers";
    EXPECT_EQ(count(svg, "<title>"), count(svg, "</title>"));
    std::cout << "[ gantt ] 100,000 attempts on " << workers << " workers: " << svg.size() / 1024 << " KiB in "
              << seconds << " s" << std::endl;
    if (const char* dir = std::getenv("FASTGPU_KEEP_SVG")) {
      std::ofstream(std::string(dir) + "/synthetic-" + std::to_string(workers) + ".svg") << svg;
    }
  }
}

TEST(GanttScale, ManyLongAttemptsAreBoundedByTheBarBudget) {
  // 100,000 attempts on 2,000 workers: each ~20 px wide, too many to draw one by one.
  SyntheticRun run;
  run.workers = 2000;
  run.attempts = 100000;
  run.spread = 0.2;
  run.problem_rate = 0.1;
  const Results r = synthetic_results(run);
  double seconds = 0;
  const std::string svg = timed_render(r, seconds);
  EXPECT_LT(svg.size(), 5u << 20);
  std::cout << "[ gantt ] 100,000 attempts on 2,000 workers: " << svg.size() / 1024 << " KiB in " << seconds << " s"
            << std::endl;
}

TEST(GanttScale, LongIdsAndErrorsStillFitTheByteBudget) {
  SyntheticRun run;
  run.workers = 500;
  run.attempts = 60000;
  run.spread = 0.2;
  run.problem_rate = 0.5;
  Results r = synthetic_results(run);
  for (auto& t : r.tasks) t.id = std::string(150, 'x') + t.id;  // long ids: every title is long
  for (auto& a : r.attempts) {
    if (!a.error.empty()) a.error = std::string(300, 'e');
  }
  GanttLayout used;
  const std::string svg = render_gantt_svg(r, GanttOptions{}, &used);
  EXPECT_LT(svg.size(), GanttOptions{}.max_bytes);
  std::size_t bars = 0;
  for (const auto& lane : used.lanes) bars += lane.bars.size();
  EXPECT_LT(bars, GanttOptions{}.max_bars);  // the budget was halved at least once
}

}  // namespace
}  // namespace fastgpu::app
