// `fastgpu inspect OUT.h5 --gantt FILE.svg`: a timeline of a run as a standalone SVG, one lane per
// worker, one bar per attempt coloured by how it ended, readable from ten attempts to millions.
//
// The work is split in two so tests can check the geometry without parsing SVG: layout_gantt()
// decides lanes, bars, aggregated columns, markers and ticks (pixel coordinates); render_gantt_svg()
// only turns a layout into text.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fastgpu/results.hpp"

namespace fastgpu::app {

/// How attempts of one status are drawn. The table (gantt_status_styles()) is keyed by the status'
/// name (to_string(AttemptStatus)), so a status added to the enum needs one row there; until then
/// it is drawn with the fallback style "unknown" and still named in hover titles.
struct GanttStatusStyle {
  std::string_view status;   ///< to_string(AttemptStatus) of the status it draws
  std::string_view css;      ///< CSS class in the SVG
  std::string_view fill;     ///< colour
  std::string_view meaning;  ///< legend text
};

/// Every style, in legend order (the fallback "unknown" last).
std::span<const GanttStatusStyle> gantt_status_styles();
const GanttStatusStyle& gantt_style(AttemptStatus status);

/// How scheduler events (/events kind) are drawn as markers; other kinds are not drawn.
struct GanttMarkerStyle {
  std::string_view kind;     ///< /events kind
  std::string_view css;
  std::string_view colour;
  std::string_view meaning;  ///< legend text
};
std::span<const GanttMarkerStyle> gantt_marker_styles();

/// Axis ticks: multiples of a "nice" step (1-2-5 below a second; 1, 2, 5, 10, 15, 20, 30 s;
/// 1, 2, 5, 10, 15, 20, 30 min; 1, 2, 3, 4, 6, 12 h; then whole days).
struct TimeTicks {
  double step = 1;
  std::vector<double> values;  ///< in [t0, t1], ascending
};
TimeTicks nice_time_ticks(double t0, double t1, int target_count);
/// A tick's label, with a unit chosen by the step: "0", "0.25 s", "45 s", "1 h 15 min", "2 d".
std::string format_time_tick(double t, double step);

/// Text made safe for SVG/XML content and attribute values: & < > " ' escaped, bytes that are not
/// valid UTF-8 and control characters XML 1.0 forbids become U+FFFD (tab, LF and CR kept).
std::string xml_escape(std::string_view text);

struct GanttOptions {
  int width = 1400;  ///< pixels, the whole picture
  /// Attempts narrower than this many pixels are not drawn one by one but summed into pixel
  /// columns of their lane.
  double min_bar_px = 1.0;
  /// At most this many attempt bars (the widest); the rest are aggregated. Bounds the file size.
  std::size_t max_bars = 10000;
  /// At most this many aggregated runs of columns over all lanes; columns widen until they fit.
  std::size_t max_cells = 12000;
  /// At most this many event markers (after merging those that share a pixel).
  std::size_t max_markers = 2000;
  /// render_gantt_svg(results, options) halves the three budgets above until the SVG is smaller
  /// than this (long subtask ids and error texts make elements larger than usual).
  std::size_t max_bytes = 4u << 20;
};

/// Number of per-status slots in aggregated cells: statuses by enum value, the last slot for
/// values past the end.
inline constexpr std::size_t kGanttStatusSlots = 16;
inline std::size_t gantt_slot(AttemptStatus status) {
  const auto value = static_cast<std::size_t>(static_cast<std::uint8_t>(status));
  return value < kGanttStatusSlots - 1 ? value : kGanttStatusSlots - 1;
}

/// One attempt drawn as its own bar; x in picture pixels.
struct GanttBar {
  std::size_t attempt = 0;  ///< row in Results::attempts
  double x0 = 0, x1 = 0;    ///< x1 - x0 >= 1: a bar is at least one pixel wide
  bool unfinished = false;  ///< no end time (still running when the file was last flushed)
};

/// A run of pixel columns of one lane, summing its attempts (in a lane with attempts too narrow
/// for their own bar; the bars of the wide ones are drawn over the columns).
struct GanttCell {
  double x0 = 0, x1 = 0;                 ///< picture pixels
  double t0 = 0, t1 = 0;                 ///< the time it covers
  AttemptStatus dominant = AttemptStatus::done;  ///< status with the most busy time here
  int alert = -1;                        ///< most frequent problem status (not done/running) if any, else -1
  double busy_fraction = 0;              ///< (quantized) share of the time covered by attempts
  std::size_t attempts = 0;              ///< attempts that started here
  std::array<std::uint32_t, kGanttStatusSlots> counts{};  ///< of those, by status slot
};

struct GanttLane {
  std::int32_t rank = -1;
  std::string host, device, gpu_name;
  bool known = true;       ///< in /workers (false: only seen in /attempts)
  double y = 0, height = 0;
  double joined_x = -1;    ///< x of its worker_joined event, -1 if none
  std::size_t attempts = 0;
  double busy_s = 0;
  std::vector<GanttBar> bars;
  std::vector<GanttCell> cells;
};

/// A scheduler event (migrate, speculate) at one pixel; events sharing a pixel and lanes merge.
struct GanttMarker {
  std::size_t style = 0;     ///< index into gantt_marker_styles()
  double x = 0;
  double time = 0;           ///< of the first merged event
  int from_lane = -1, to_lane = -1;  ///< index into GanttLayout::lanes, -1 if none
  std::size_t count = 1;
  std::size_t event = 0;     ///< row in Results::events of the first merged event
};

struct GanttLayout {
  int width = 0;  ///< the height follows from the lanes and the legend (render_gantt_svg)
  double plot_x = 0, plot_w = 0;  ///< the time area
  double lanes_y = 0, lanes_h = 0;
  double t0 = 0, t1 = 0;          ///< time at plot_x and plot_x + plot_w
  TimeTicks ticks;
  std::vector<GanttLane> lanes;
  std::vector<GanttMarker> markers;
  std::size_t markers_dropped = 0;
  double bar_min_px = 1;      ///< attempts narrower than this were aggregated
  double cell_px = 1;         ///< column width of the aggregation
  std::size_t aggregated_attempts = 0;
  std::size_t unstarted_attempts = 0;  ///< no start time: not drawn
  std::array<std::size_t, kGanttStatusSlots> status_counts{};  ///< attempts by status slot
  double x_of(double t) const { return plot_x + (t - t0) / (t1 - t0) * plot_w; }
};

GanttLayout layout_gantt(const Results& results, const GanttOptions& options = {});
std::string render_gantt_svg(const Results& results, const GanttLayout& layout);
/// Layout and render, within options.max_bytes (as far as halving the budgets gets it); the
/// layout drawn goes to @p used when given.
std::string render_gantt_svg(const Results& results, const GanttOptions& options = {}, GanttLayout* used = nullptr);

}  // namespace fastgpu::app
