#include "app/gantt_svg.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <map>
#include <numeric>
#include <tuple>

#include "app/run_statistics.hpp"

namespace fastgpu::app {
namespace {

// Colours: Tableau 10, distinguishable for most colour-blind viewers and on a grey lane.
constexpr GanttStatusStyle kStatusStyles[] = {
    {"done", "s-done", "#59a14f", "done"},
    {"failed", "s-failed", "#e15759", "failed"},
    {"timed_out", "s-timed_out", "#f28e2b", "timed out"},
    {"spawn_failed", "s-spawn_failed", "#b07aa1", "could not start"},
    {"lost", "s-lost", "#9c755f", "worker lost"},
    {"cancelled", "s-cancelled", "#8c8c8c", "cancelled"},
    {"superseded", "s-superseded", "#76b7b2", "superseded (a copy won)"},
    {"interrupted", "s-interrupted", "#edc948", "interrupted"},
    {"running", "s-running", "#4e79a7", "unfinished"},
    {"unknown", "s-unknown", "#1b1b1b", "other"},
};

constexpr GanttMarkerStyle kMarkerStyles[] = {
    {"migrate", "m-migrate", "#6a3d9a", "migrated"},
    {"speculate", "m-speculate", "#d6336c", "speculative copy"},
};

constexpr const char* kLaneFill = "#e9e9e9";
constexpr const char* kLaneFillAlt = "#e1e1e1";

// ---------------------------------------------------------------------------------------------
// Text helpers.

std::string fixed(double value, int decimals) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return text;
}

// A pixel coordinate: one decimal, no trailing ".0".
void append_px(std::string& out, double value) {
  const double rounded = std::round(value * 10) / 10;
  char text[32];
  auto [end, ec] = std::to_chars(text, text + sizeof text, rounded, std::chars_format::fixed, 1);
  if (ec != std::errc()) return;
  std::string_view view(text, static_cast<std::size_t>(end - text));
  if (view.ends_with(".0")) view.remove_suffix(2);
  if (view == "-0") view = "0";
  out.append(view);
}

std::string px(double value) {
  std::string out;
  append_px(out, value);
  return out;
}

// 12345 -> "12,345".
std::string thousands(std::size_t n) {
  std::string digits = std::to_string(n), out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string seconds(double s) {
  if (std::isnan(s)) return "?";
  if (std::abs(s) >= 1000) return fixed(s, 1) + " s";
  return fixed(s, 3) + " s";
}

// Cuts @p text to at most @p max code points, ending in "…" when cut.
std::string truncate_utf8(const std::string& text, std::size_t max) {
  std::size_t points = 0, i = 0, cut = std::string::npos;
  for (; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) continue;
    if (points == max - 1) cut = i;
    if (++points > max) return text.substr(0, cut) + "…";
  }
  return text;
}

// "12.34 s", "5 min 3 s", "2 h 5 min".
std::string duration_text(double s) {
  if (!std::isfinite(s)) return "?";
  if (s < 60) return fixed(s, s < 10 ? 3 : 2) + " s";
  const auto whole = static_cast<long long>(std::llround(s));
  if (whole < 3600) return std::to_string(whole / 60) + " min " + std::to_string(whole % 60) + " s";
  return std::to_string(whole / 3600) + " h " + std::to_string(whole % 3600 / 60) + " min";
}

// ---------------------------------------------------------------------------------------------
// Layout.

struct Frame {
  double label_w;
  double header_h = 62;
};

// Lane pitch (pixels per lane) and the gap between lanes' bars.
std::pair<double, double> lane_geometry(std::size_t lanes) {
  const double pitch = std::clamp(640.0 / static_cast<double>(std::max<std::size_t>(lanes, 1)), 2.0, 34.0);
  const double gap = pitch >= 12 ? 4 : pitch >= 5 ? 1 : 0;
  return {pitch, gap};
}

struct Interval {
  std::size_t attempt;
  std::size_t lane;
  double x0, x1;  // x1 >= x0
  bool unfinished;
};

// Sums the attempts of one lane too narrow to draw into columns of `cell_px`, then merges
// neighbouring columns that look the same.
std::vector<GanttCell> aggregate_lane(const Results& results, const GanttLayout& layout,
                                      const std::vector<const Interval*>& items, double cell_px) {
  const auto columns = static_cast<std::size_t>(std::ceil(layout.plot_w / cell_px));
  std::vector<std::array<double, kGanttStatusSlots>> busy(columns);
  std::vector<std::array<std::uint32_t, kGanttStatusSlots>> counts(columns);
  std::vector<bool> used(columns, false);
  for (const Interval* item : items) {
    const auto slot = gantt_slot(results.attempts[item->attempt].status);
    const double c0 = (item->x0 - layout.plot_x) / cell_px, c1 = (item->x1 - layout.plot_x) / cell_px;
    const auto first = static_cast<std::size_t>(std::clamp(std::floor(c0), 0.0, double(columns - 1)));
    const auto last = static_cast<std::size_t>(std::clamp(std::ceil(c1) - 1, double(first), double(columns - 1)));
    ++counts[first][slot];
    used[first] = true;
    for (auto c = first; c <= last; ++c) {
      const double overlap = std::min(c1, double(c + 1)) - std::max(c0, double(c));
      if (overlap > 0) {
        busy[c][slot] += overlap;
        used[c] = true;
      }
    }
  }
  std::vector<GanttCell> cells;
  const double span = layout.t1 - layout.t0;
  for (std::size_t c = 0; c < columns; ++c) {
    if (!used[c]) continue;
    GanttCell cell;
    const double total = std::accumulate(busy[c].begin(), busy[c].end(), 0.0);
    std::size_t dominant = 0, alert = kGanttStatusSlots;
    for (std::size_t s = 0; s < kGanttStatusSlots; ++s) {
      const bool better = total > 0 ? busy[c][s] > busy[c][dominant] : counts[c][s] > counts[c][dominant];
      if (better) dominant = s;
      cell.attempts += counts[c][s];
      const bool problem = s != gantt_slot(AttemptStatus::done) && s != gantt_slot(AttemptStatus::running);
      if (problem && (counts[c][s] > 0 || busy[c][s] > 0) &&
          (alert == kGanttStatusSlots || counts[c][s] > counts[c][alert])) {
        alert = s;
      }
    }
    cell.counts = counts[c];
    cell.dominant = static_cast<AttemptStatus>(dominant == kGanttStatusSlots - 1 ? 127 : dominant);
    cell.alert = alert == kGanttStatusSlots || alert == dominant ? -1 : static_cast<int>(alert);
    // Four shades: a cell with anything in it shows at least a quarter.
    cell.busy_fraction = std::clamp(std::ceil(std::min(total, 1.0) * 4) / 4, 0.25, 1.0);
    cell.x0 = layout.plot_x + double(c) * cell_px;
    cell.x1 = std::min(layout.plot_x + double(c + 1) * cell_px, layout.plot_x + layout.plot_w);
    cell.t0 = layout.t0 + (cell.x0 - layout.plot_x) / layout.plot_w * span;
    cell.t1 = layout.t0 + (cell.x1 - layout.plot_x) / layout.plot_w * span;
    if (!cells.empty()) {
      auto& prev = cells.back();
      if (prev.x1 == cell.x0 && prev.dominant == cell.dominant && prev.alert == cell.alert &&
          prev.busy_fraction == cell.busy_fraction) {
        prev.x1 = cell.x1;
        prev.t1 = cell.t1;
        prev.attempts += cell.attempts;
        for (std::size_t s = 0; s < kGanttStatusSlots; ++s) prev.counts[s] += cell.counts[s];
        continue;
      }
    }
    cells.push_back(cell);
  }
  return cells;
}

}  // namespace

std::span<const GanttStatusStyle> gantt_status_styles() { return kStatusStyles; }

const GanttStatusStyle& gantt_style(AttemptStatus status) {
  const std::string_view name = to_string(status);
  for (const auto& style : kStatusStyles) {
    if (style.status == name) return style;
  }
  return kStatusStyles[std::size(kStatusStyles) - 1];
}

std::span<const GanttMarkerStyle> gantt_marker_styles() { return kMarkerStyles; }

TimeTicks nice_time_ticks(double t0, double t1, int target_count) {
  TimeTicks ticks;
  if (!(t1 > t0) || !std::isfinite(t0) || !std::isfinite(t1)) {
    ticks.values = {std::isfinite(t0) ? t0 : 0};
    return ticks;
  }
  const double raw = (t1 - t0) / std::max(1, target_count);
  static constexpr double kSteps[] = {1,    2,    5,    10,   15,    20,    30,    60,    120,   300,  600,
                                      900,  1200, 1800, 3600, 7200,  10800, 14400, 21600, 43200, 86400};
  double step = 0;
  if (raw < 1) {
    const double decade = std::pow(10.0, std::floor(std::log10(raw)));
    for (double m : {1.0, 2.0, 5.0, 10.0}) {
      if (m * decade >= raw * (1 - 1e-9)) {
        step = m * decade;
        break;
      }
    }
  } else if (raw <= kSteps[std::size(kSteps) - 1]) {
    step = *std::lower_bound(std::begin(kSteps), std::end(kSteps), raw * (1 - 1e-9));
  } else {  // whole days, 1-2-5
    const double days = raw / 86400, decade = std::pow(10.0, std::floor(std::log10(days)));
    for (double m : {1.0, 2.0, 5.0, 10.0}) {
      if (m * decade >= days * (1 - 1e-9)) {
        step = std::max(1.0, m * decade) * 86400;
        break;
      }
    }
  }
  ticks.step = step;
  const double first = std::ceil(t0 / step - 1e-9);
  for (double k = first;; k += 1) {
    const double t = k * step;
    if (t > t1 + step * 1e-9) break;
    ticks.values.push_back(std::abs(t) < step * 1e-9 ? 0.0 : t);
  }
  return ticks;
}

std::string format_time_tick(double t, double step) {
  if (t == 0) return "0";
  const double magnitude = std::abs(t);
  const std::string sign = t < 0 ? "-" : "";
  if (step < 1) {
    const int decimals = std::clamp(static_cast<int>(std::ceil(-std::log10(step) - 1e-9)), 1, 9);
    return fixed(t, decimals) + " s";
  }
  const auto whole = static_cast<long long>(std::llround(magnitude));
  if (step < 60) return sign + std::to_string(whole) + " s";
  const long long days = whole / 86400, hours = whole % 86400 / 3600, minutes = whole % 3600 / 60;
  std::string out;
  auto part = [&](long long n, const char* unit) {
    if (n == 0) return;
    if (!out.empty()) out += ' ';
    out += std::to_string(n) + ' ' + unit;
  };
  if (step < 3600 && whole < 3600) return sign + std::to_string(whole / 60) + " min";
  part(days, "d");
  part(hours, "h");
  if (step < 3600) part(minutes, "min");
  return sign + (out.empty() ? "0" : out);
}

std::string xml_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  for (std::size_t i = 0; i < n;) {
    const unsigned char c = bytes[i];
    if (c < 0x80) {
      switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        case '\'': out += "&apos;"; break;
        case '\t': case '\n': case '\r': out += static_cast<char>(c); break;
        default:
          if (c < 0x20 || c == 0x7F) {
            out += "\xEF\xBF\xBD";
          } else {
            out += static_cast<char>(c);
          }
      }
      ++i;
      continue;
    }
    // A multi-byte UTF-8 sequence (RFC 3629), or U+FFFD for each byte that does not start one.
    std::size_t length = 0;
    unsigned lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
      length = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      length = 3;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;  // no surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
      length = 4;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    }
    bool valid = length > 0 && i + length <= n;
    for (std::size_t k = 1; valid && k < length; ++k) {
      const unsigned b = bytes[i + k];
      valid = k == 1 ? (b >= lo && b <= hi) : (b >= 0x80 && b <= 0xBF);
    }
    // U+FFFE and U+FFFF are not XML characters either.
    if (valid && length == 3 && c == 0xEF && bytes[i + 1] == 0xBF && bytes[i + 2] >= 0xBE) valid = false;
    if (valid) {
      out.append(text.substr(i, length));
      i += length;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
}

GanttLayout layout_gantt(const Results& results, const GanttOptions& options) {
  GanttLayout layout;
  layout.width = std::max(options.width, 400);
  const Frame frame{std::clamp(layout.width * 0.2, 150.0, 280.0)};
  layout.plot_x = frame.label_w + 14;
  layout.plot_w = layout.width - layout.plot_x - 28;

  // Lanes: every worker of /workers by rank, then any rank only /attempts or /events mention.
  std::map<std::int32_t, std::size_t> lane_of;
  auto lane_for = [&](std::int32_t rank) -> std::size_t {
    auto [it, added] = lane_of.try_emplace(rank, layout.lanes.size());
    if (added) {
      GanttLane lane;
      lane.rank = rank;
      lane.known = false;
      layout.lanes.push_back(lane);
    }
    return it->second;
  };
  {
    std::vector<const WorkerRecord*> workers;
    for (const auto& w : results.workers) workers.push_back(&w);
    std::stable_sort(workers.begin(), workers.end(), [](auto* a, auto* b) { return a->rank < b->rank; });
    for (const auto* w : workers) {
      if (lane_of.count(w->rank)) continue;
      lane_of[w->rank] = layout.lanes.size();
      GanttLane lane;
      lane.rank = w->rank;
      lane.host = w->host;
      lane.device = w->device;
      lane.gpu_name = w->gpu_name;
      layout.lanes.push_back(lane);
    }
  }
  for (const auto& a : results.attempts) {
    if (!lane_of.count(a.worker)) {
      auto& lane = layout.lanes[lane_for(a.worker)];
      lane.host = a.host;
      lane.device = a.device;
    }
  }
  // Unknown ranks go after the known ones, in rank order.
  std::stable_sort(layout.lanes.begin(), layout.lanes.end(), [](const GanttLane& a, const GanttLane& b) {
    return std::tie(b.known, a.rank) < std::tie(a.known, b.rank);
  });
  lane_of.clear();
  for (std::size_t i = 0; i < layout.lanes.size(); ++i) lane_of[layout.lanes[i].rank] = i;

  // Time domain: from the job's start (0) to the last thing known to have happened.
  double t0 = 0, t1 = 0;
  auto extend = [&](double t) {
    if (std::isfinite(t)) {
      t0 = std::min(t0, t);
      t1 = std::max(t1, t);
    }
  };
  for (const auto& a : results.attempts) {
    extend(a.start);
    extend(a.end);
  }
  for (const auto& t : results.tasks) {
    extend(t.start);
    extend(t.end);
  }
  for (const auto& e : results.events) extend(e.time);
  if (!(t1 > t0)) t1 = t0 + 1;
  const int target_ticks = std::max(2, static_cast<int>(layout.plot_w / 110));
  layout.ticks = nice_time_ticks(t0, t1, target_ticks);
  // End the axis on a tick, so the last label shows where the picture ends.
  const double axis_end = std::ceil(t1 / layout.ticks.step - 1e-9) * layout.ticks.step;
  if (axis_end > t1) {
    t1 = axis_end;
    layout.ticks = nice_time_ticks(t0, t1, target_ticks);
  }
  layout.t0 = t0;
  layout.t1 = t1;

  // Vertical geometry.
  const auto [pitch, gap] = lane_geometry(layout.lanes.size());
  layout.lanes_y = frame.header_h;
  layout.lanes_h = pitch * static_cast<double>(layout.lanes.size());
  for (std::size_t i = 0; i < layout.lanes.size(); ++i) {
    layout.lanes[i].y = layout.lanes_y + pitch * static_cast<double>(i) + gap / 2;
    layout.lanes[i].height = pitch - gap;
  }

  // Attempts as intervals in pixels.
  std::vector<Interval> intervals;
  intervals.reserve(results.attempts.size());
  for (std::size_t row = 0; row < results.attempts.size(); ++row) {
    const auto& a = results.attempts[row];
    ++layout.status_counts[gantt_slot(a.status)];
    if (!std::isfinite(a.start)) {
      ++layout.unstarted_attempts;
      continue;
    }
    const bool unfinished = !std::isfinite(a.end);
    const double end = unfinished ? t1 : std::max(a.end, a.start);
    const std::size_t lane = lane_of.at(a.worker);
    layout.lanes[lane].attempts += 1;
    layout.lanes[lane].busy_s += end - a.start;
    intervals.push_back({row, lane, layout.x_of(a.start), layout.x_of(end), unfinished});
  }

  // The widest attempts (at most max_bars) get their own bar: those at least min_bar_px wide,
  // and every attempt of a lane with few enough of them that each can have a pixel (a small run
  // is drawn exactly; bars narrower than a pixel are drawn one pixel wide).
  const double sparse_lane = layout.plot_w / 4;
  auto width = [&](std::size_t i) { return intervals[i].x1 - intervals[i].x0; };
  auto eligible = [&](std::size_t i) {
    return width(i) >= options.min_bar_px || double(layout.lanes[intervals[i].lane].attempts) <= sparse_lane;
  };
  std::vector<std::size_t> order;
  for (std::size_t i = 0; i < intervals.size(); ++i) {
    if (eligible(i)) order.push_back(i);
  }
  std::vector<bool> as_bar(intervals.size(), false);
  layout.bar_min_px = options.min_bar_px;
  if (order.size() <= options.max_bars) {
    for (auto i : order) as_bar[i] = true;
  } else {
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return width(a) > width(b); });
    // Attempts as wide as the widest one that did not fit are aggregated too, so the rule
    // stays "narrower than X pixels".
    const double cut = width(order[options.max_bars]);
    for (std::size_t k = 0; k < options.max_bars; ++k) as_bar[order[k]] = width(order[k]) > cut;
    layout.bar_min_px = std::max(options.min_bar_px, cut);
  }

  // A lane with attempts too narrow to draw gets columns summing all its attempts (the bars are
  // drawn over them): the columns under a bar then match their neighbours and merge with them.
  std::vector<std::vector<const Interval*>> by_lane(layout.lanes.size());
  std::vector<bool> lane_aggregates(layout.lanes.size(), false);
  for (std::size_t i = 0; i < intervals.size(); ++i) {
    const auto& item = intervals[i];
    by_lane[item.lane].push_back(&item);
    if (as_bar[i]) {
      layout.lanes[item.lane].bars.push_back({item.attempt, item.x0, std::max(item.x1, item.x0 + 1), item.unfinished});
    } else {
      lane_aggregates[item.lane] = true;
      ++layout.aggregated_attempts;
    }
  }
  for (auto& lane : layout.lanes) {
    std::sort(lane.bars.begin(), lane.bars.end(), [](const GanttBar& a, const GanttBar& b) { return a.x0 < b.x0; });
  }

  // Aggregate the rest into pixel columns, widening the columns until the runs fit the budget.
  if (layout.aggregated_attempts > 0) {
    for (double cell_px = 1;; cell_px *= 2) {
      std::size_t total = 0;
      for (std::size_t i = 0; i < layout.lanes.size(); ++i) {
        layout.lanes[i].cells = lane_aggregates[i] ? aggregate_lane(results, layout, by_lane[i], cell_px)
                                                   : std::vector<GanttCell>{};
        total += layout.lanes[i].cells.size();
      }
      layout.cell_px = cell_px;
      if (total <= options.max_cells || cell_px >= layout.plot_w) break;
    }
  }

  // Markers for migrate/speculate events (and the join time of each worker).
  std::map<std::tuple<std::size_t, long, int, int>, std::size_t> marker_at;
  for (std::size_t row = 0; row < results.events.size(); ++row) {
    const auto& e = results.events[row];
    if (!std::isfinite(e.time)) continue;
    auto lane_index = [&](std::int32_t rank) {
      auto it = lane_of.find(rank);
      return rank >= 0 && it != lane_of.end() ? static_cast<int>(it->second) : -1;
    };
    if (e.kind == "worker_joined") {
      if (int lane = lane_index(e.to); lane >= 0 && layout.lanes[lane].joined_x < 0) {
        layout.lanes[lane].joined_x = layout.x_of(e.time);
      }
      continue;
    }
    const auto styles = gantt_marker_styles();
    auto style = std::find_if(styles.begin(), styles.end(), [&](const auto& s) { return s.kind == e.kind; });
    if (style == styles.end()) continue;
    const int from = lane_index(e.from), to = lane_index(e.to);
    if (from < 0 && to < 0) continue;
    const double x = layout.x_of(e.time);
    const auto key = std::make_tuple(static_cast<std::size_t>(style - styles.begin()), std::lround(x), from, to);
    if (auto it = marker_at.find(key); it != marker_at.end()) {
      ++layout.markers[it->second].count;
      continue;
    }
    if (layout.markers.size() >= options.max_markers) {
      ++layout.markers_dropped;
      continue;
    }
    marker_at[key] = layout.markers.size();
    layout.markers.push_back({std::get<0>(key), x, e.time, from, to, 1, row});
  }

  return layout;
}

// ---------------------------------------------------------------------------------------------
// Rendering.

namespace {

struct LegendItem {
  std::string swatch_class;  // CSS class of the swatch (status or marker), or "" with fill
  std::string fill;
  std::string text;
  bool marker = false;
};

std::string lane_label(const GanttLane& lane) {
  if (lane.rank < 0) return "no worker";
  std::string text = "rank " + std::to_string(lane.rank);
  if (!lane.host.empty()) text += " · " + lane.host;
  return text;
}

std::string lane_device(const GanttLane& lane) {
  std::string text = lane.device;
  if (!lane.gpu_name.empty()) text += (text.empty() ? "" : " · ") + lane.gpu_name;
  return text;
}

// Whether a subtask's name says no more than its id: empty, or the same but for separators (a
// sweep's "lr=3 seed=1" beside its id "lr=3,seed=1").
bool same_words(const std::string& name, const std::string& id) {
  auto words = [](const std::string& text) {
    std::string out;
    for (char c : text) {
      if (c != ' ' && c != ',') out += c;
    }
    return out;
  };
  return name.empty() || words(name) == words(id);
}

// White on dark fills, near-black on light ones (relative luminance of an sRGB "#rrggbb").
std::string_view text_colour(std::string_view fill) {
  if (fill.size() != 7 || fill[0] != '#') return "#fff";
  auto channel = [&](std::size_t at) {
    const double c = std::stoi(std::string(fill.substr(at, 2)), nullptr, 16) / 255.0;
    return c <= 0.04045 ? c / 12.92 : std::pow((c + 0.055) / 1.055, 2.4);
  };
  const double luminance = 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5);
  return luminance > 0.3 ? "#1b1b1b" : "#fff";
}

std::string status_counts_text(const std::array<std::uint32_t, kGanttStatusSlots>& counts) {
  std::vector<std::pair<std::uint32_t, std::size_t>> present;
  for (std::size_t s = 0; s < kGanttStatusSlots; ++s) {
    if (counts[s]) present.push_back({counts[s], s});
  }
  std::sort(present.begin(), present.end(), std::greater<>());
  std::string out;
  for (const auto& [n, slot] : present) {
    if (!out.empty()) out += ", ";
    out += thousands(n) + " " + std::string(to_string(static_cast<AttemptStatus>(slot)));
  }
  return out;
}

}  // namespace

std::string render_gantt_svg(const Results& results, const GanttLayout& layout) {
  const RunStatistics stats = compute_statistics(results);
  std::string svg;
  std::size_t bars = 0, cells = 0;
  for (const auto& lane : layout.lanes) {
    bars += lane.bars.size();
    cells += lane.cells.size();
  }
  svg.reserve(4096 + bars * 190 + cells * 170 + layout.markers.size() * 200);

  // Legend first (its height decides the picture's).
  std::vector<LegendItem> legend;
  const auto styles = gantt_status_styles();
  for (const auto& style : styles) {
    std::size_t n = 0;
    for (std::size_t s = 0; s < kGanttStatusSlots; ++s) {
      if (layout.status_counts[s] && &gantt_style(static_cast<AttemptStatus>(s == kGanttStatusSlots - 1 ? 127 : s)) == &style) {
        n += layout.status_counts[s];
      }
    }
    if (n > 0 || style.status == "done") {
      legend.push_back({std::string(style.css), "", std::string(style.meaning) + " (" + thousands(n) + ")"});
    }
  }
  legend.push_back({"", kLaneFill, "idle"});
  if (std::any_of(layout.lanes.begin(), layout.lanes.end(),
                  [&](const GanttLane& lane) { return lane.joined_x >= layout.plot_x + 3; })) {
    legend.push_back({"", "#fff", "not joined yet"});
  }
  std::vector<std::size_t> marker_counts(gantt_marker_styles().size(), 0);
  for (const auto& m : layout.markers) marker_counts[m.style] += m.count;
  for (std::size_t i = 0; i < marker_counts.size(); ++i) {
    if (marker_counts[i]) {
      const auto& style = gantt_marker_styles()[i];
      legend.push_back({std::string(style.css), "", std::string(style.meaning) + " (" + thousands(marker_counts[i]) + ")", true});
    }
  }
  std::vector<std::string> notes;
  if (layout.aggregated_attempts > 0) {
    notes.push_back(thousands(layout.aggregated_attempts) + " of " + thousands(results.attempts.size()) +
                    " attempts, in crowded lanes, are narrower than " +
                    fixed(layout.bar_min_px, layout.bar_min_px < 10 ? 1 : 0) + " px and are summed per " +
                    px(layout.cell_px) +
                    " px column: colour = the status with the most busy time, shade = busy fraction, "
                    "bottom strip = the most frequent problem status");
  }
  if (layout.unstarted_attempts > 0) {
    notes.push_back(thousands(layout.unstarted_attempts) + " attempts never started (not drawn)");
  }
  if (layout.markers_dropped > 0) {
    notes.push_back(thousands(layout.markers_dropped) + " more event markers not drawn");
  }
  // Flow the legend items into rows.
  const double legend_top = layout.lanes_y + std::max(layout.lanes_h, 24.0) + 44;
  std::vector<std::pair<double, double>> item_pos;  // x, y of each swatch
  {
    double x = layout.plot_x, y = legend_top;
    for (const auto& item : legend) {
      const double w = 22 + 6.3 * static_cast<double>(item.text.size()) + 18;
      if (x + w > layout.width - 10 && x > layout.plot_x) {
        x = layout.plot_x;
        y += 18;
      }
      item_pos.push_back({x, y});
      x += w;
    }
  }
  {  // Wrap the notes at the picture's width.
    const auto columns = static_cast<std::size_t>(std::max(40.0, (layout.width - layout.plot_x - 10) / 6.2));
    std::vector<std::string> lines;
    for (const auto& note : notes) {
      std::string line;
      std::size_t length = 0;  // in code points, roughly the width
      std::size_t start = 0;
      while (start <= note.size()) {
        auto space = note.find(' ', start);
        if (space == std::string::npos) space = note.size();
        const std::string word = note.substr(start, space - start);
        std::size_t points = 0;
        for (char c : word) points += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
        if (length > 0 && length + 1 + points > columns) {
          lines.push_back(line);
          line.clear();
          length = 0;
        }
        line += (length ? " " : "") + word;
        length += (length ? 1 : 0) + points;
        start = space + 1;
      }
      if (!line.empty()) lines.push_back(line);
    }
    notes = std::move(lines);
  }
  const double notes_top = (item_pos.empty() ? legend_top : item_pos.back().second) + 22;
  const int height = static_cast<int>(std::ceil(notes_top + 16.0 * static_cast<double>(notes.size()))) + 6;
  const int width = layout.width;

  auto out = [&](std::string_view text) { svg.append(text); };
  out("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
  out("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + std::to_string(width) + "\" height=\"" +
      std::to_string(height) + "\" viewBox=\"0 0 " + std::to_string(width) + " " + std::to_string(height) +
      "\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\" font-size=\"11\">\n");
  out("<title>" + xml_escape("fastgpu timeline: job '" + results.job.name + "'") + "</title>\n<style>\n");
  out("text{fill:#222}.sub{fill:#555}.lane{fill:" + std::string(kLaneFill) + "}.lane2{fill:" + kLaneFillAlt +
      "}.grid{stroke:#fff;stroke-width:1}.axis{stroke:#444;stroke-width:1;fill:none}"
      ".unf{stroke:#1b1b1b;stroke-dasharray:3 2;stroke-width:1}\n");
  for (const auto& style : styles) out("." + std::string(style.css) + "{fill:" + std::string(style.fill) + "}");
  for (const auto& style : gantt_marker_styles()) {
    out("." + std::string(style.css) + "{stroke:" + std::string(style.colour) + ";fill:" + std::string(style.colour) +
        ";stroke-width:1.2}");
  }
  out("\n</style>\n<defs>");
  for (const auto& style : gantt_marker_styles()) {
    out("<marker id=\"a-" + std::string(style.kind) +
        "\" viewBox=\"0 0 8 8\" refX=\"7\" refY=\"4\" markerWidth=\"6\" markerHeight=\"6\" orient=\"auto\">"
        "<path d=\"M0,0L8,4L0,8z\" fill=\"" + std::string(style.colour) + "\"/></marker>");
  }
  out("</defs>\n<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n");

  // Header: what the picture is of.
  std::size_t shown_workers = 0;
  for (const auto& lane : layout.lanes) shown_workers += lane.known ? 1 : 0;
  double busy = 0;
  for (const auto& usage : stats.workers) busy += usage.busy_fraction;
  std::string title = "job '" + results.job.name + "'";
  if (!results.job.status.empty()) title += " — " + results.job.status;
  out("<text x=\"12\" y=\"22\" font-size=\"15\" font-weight=\"bold\">" + xml_escape(title) + "</text>\n");
  std::string sub = thousands(results.tasks.size()) + " subtasks · " + thousands(results.attempts.size()) +
                    " attempts · " + thousands(shown_workers) + " workers · makespan " + duration_text(stats.makespan_s);
  if (!stats.workers.empty()) sub += " · mean busy " + fixed(100 * busy / double(stats.workers.size()), 0) + "%";
  if (!results.job.started.empty()) sub += " · started " + results.job.started;
  out("<text class=\"sub\" x=\"12\" y=\"42\">" + xml_escape(sub) + "</text>\n");

  if (layout.lanes.empty()) {
    out("<text class=\"sub\" x=\"" + px(layout.plot_x) + "\" y=\"" + px(layout.lanes_y + 16) +
        "\">no attempts recorded</text>\n");
  }

  // Lanes: background (idle), with the worker's description as hover text.
  const double plot_end = layout.plot_x + layout.plot_w;
  out("<g>\n");
  for (std::size_t i = 0; i < layout.lanes.size(); ++i) {
    const auto& lane = layout.lanes[i];
    const double x0 = lane.joined_x > layout.plot_x ? lane.joined_x : layout.plot_x;
    std::string hover = lane_label(lane);
    if (auto device = lane_device(lane); !device.empty()) hover += " · " + device;
    if (!lane.known && lane.rank >= 0) hover += " (not in /workers)";
    hover += "\n" + thousands(lane.attempts) + " attempts, busy " + seconds(lane.busy_s);
    if (lane.joined_x > layout.plot_x) hover += "\njoined at " + seconds(layout.t0 + (lane.joined_x - layout.plot_x) / layout.plot_w * (layout.t1 - layout.t0));
    out("<rect class=\"" + std::string(i % 2 ? "lane2" : "lane") + "\" x=\"" + px(x0) + "\" y=\"" + px(lane.y) +
        "\" width=\"" + px(plot_end - x0) + "\" height=\"" + px(lane.height) + "\"><title>" + xml_escape(hover) +
        "</title></rect>\n");
  }
  out("</g>\n<g>");
  for (double t : layout.ticks.values) {
    const double x = layout.x_of(t);
    out("<line class=\"grid\" x1=\"" + px(x) + "\" x2=\"" + px(x) + "\" y1=\"" + px(layout.lanes_y) + "\" y2=\"" +
        px(layout.lanes_y + layout.lanes_h) + "\"/>");
  }
  out("</g>\n");

  // Lane labels, left of the lanes.
  const double pitch = layout.lanes.size() > 1 ? layout.lanes[1].y - layout.lanes[0].y
                                               : (layout.lanes.empty() ? 0 : layout.lanes[0].height + 4);
  const double label_right = layout.plot_x - 8;
  const auto max_chars = static_cast<std::size_t>(std::max(8.0, (label_right - 12) / 6.4));
  const std::size_t label_every = pitch >= 10 ? 1 : static_cast<std::size_t>(std::ceil(11 / std::max(pitch, 0.5)));
  out("<g text-anchor=\"end\">\n");
  for (std::size_t i = 0; i < layout.lanes.size(); i += label_every) {
    const auto& lane = layout.lanes[i];
    const double mid = lane.y + lane.height / 2;
    std::string first = lane_label(lane), second = lane_device(lane);
    if (pitch >= 24) {
      out("<text x=\"" + px(label_right) + "\" y=\"" + px(mid - 2) + "\">" + xml_escape(truncate_utf8(first, max_chars)) +
          "</text><text class=\"sub\" font-size=\"10\" x=\"" + px(label_right) + "\" y=\"" + px(mid + 10) + "\">" +
          xml_escape(truncate_utf8(second, max_chars + 4)) + "</text>\n");
    } else if (pitch >= 10) {
      if (!second.empty()) first += " · " + second;
      const double size = std::min(11.0, pitch - 1);
      out("<text font-size=\"" + px(size) + "\" x=\"" + px(label_right) + "\" y=\"" + px(mid + size * 0.35) + "\">" +
          xml_escape(truncate_utf8(first, static_cast<std::size_t>(double(max_chars) * 11 / size))) + "</text>\n");
    } else {
      out("<text font-size=\"9\" x=\"" + px(label_right) + "\" y=\"" + px(mid + 3) + "\">" +
          xml_escape(lane.rank < 0 ? std::string("no worker") : "rank " + std::to_string(lane.rank)) + "</text>\n");
    }
  }
  out("</g>\n");

  // Aggregated columns, then their problem strips.
  out("<g>\n");
  for (const auto& lane : layout.lanes) {
    for (const auto& cell : lane.cells) {
      out("<rect class=\"");
      out(gantt_style(cell.dominant).css);
      out("\" x=\"");
      append_px(svg, cell.x0);
      out("\" y=\"");
      append_px(svg, lane.y);
      out("\" width=\"");
      append_px(svg, cell.x1 - cell.x0);
      out("\" height=\"");
      append_px(svg, lane.height);
      if (cell.busy_fraction < 1) {
        out("\" fill-opacity=\"");
        out(fixed(cell.busy_fraction, 2));
      }
      out("\"><title>");
      out(lane.rank < 0 ? std::string("no worker") : "rank " + std::to_string(lane.rank));
      out(", " + fixed(cell.t0, 1) + "–" + fixed(cell.t1, 1) + " s: " + thousands(cell.attempts) + " started");
      if (cell.attempts) out(" (" + status_counts_text(cell.counts) + ")");
      out(", busy ≈ " + fixed(100 * cell.busy_fraction, 0) + "%</title></rect>\n");
    }
  }
  for (const auto& lane : layout.lanes) {
    const double strip = std::max(1.0, std::round(lane.height / 3));
    for (const auto& cell : lane.cells) {
      if (cell.alert < 0) continue;
      out("<rect class=\"");
      out(gantt_style(static_cast<AttemptStatus>(cell.alert == kGanttStatusSlots - 1 ? 127 : cell.alert)).css);
      out("\" x=\"");
      append_px(svg, cell.x0);
      out("\" y=\"");
      append_px(svg, lane.y + lane.height - strip);
      out("\" width=\"");
      append_px(svg, cell.x1 - cell.x0);
      out("\" height=\"");
      append_px(svg, strip);
      out("\"/>\n");
    }
  }
  out("</g>\n");

  // One bar per attempt wide enough to see.
  out("<g>\n");
  // A white edge separates back-to-back bars of one colour; in a crowded lane it is only noise.
  for (const auto& lane : layout.lanes) {
    const bool outline = pitch >= 8 && lane.cells.empty() && double(lane.bars.size()) * 8 <= layout.plot_w;
    for (const auto& bar : lane.bars) {
      const auto& a = results.attempts[bar.attempt];
      const auto& style = gantt_style(a.status);
      out("<rect class=\"");
      out(style.css);
      if (bar.unfinished) out(" unf");
      out("\" x=\"");
      append_px(svg, bar.x0);
      out("\" y=\"");
      append_px(svg, lane.y);
      out("\" width=\"");
      append_px(svg, bar.x1 - bar.x0);
      out("\" height=\"");
      append_px(svg, lane.height);
      if (outline && bar.x1 - bar.x0 >= 4 && !bar.unfinished) out("\" stroke=\"#fff\" stroke-width=\"0.6");
      out("\"><title>");
      const bool known_task = a.task >= 0 && static_cast<std::size_t>(a.task) < results.tasks.size();
      std::string hover = known_task ? truncate_utf8(results.tasks[static_cast<std::size_t>(a.task)].id, 100)
                                     : "task row " + std::to_string(a.task);
      if (known_task && !same_words(results.tasks[static_cast<std::size_t>(a.task)].name, hover)) {
        hover += " (" + truncate_utf8(results.tasks[static_cast<std::size_t>(a.task)].name, 60) + ")";
      }
      hover += " · attempt " + std::to_string(a.attempt) + " · rank " + std::to_string(a.worker);
      if (a.migrated) hover += " · migrated";
      hover += "\n" + seconds(a.start) + " → " + (bar.unfinished ? std::string("(unfinished)") : seconds(a.end));
      if (!bar.unfinished) hover += " (" + seconds(a.end - a.start) + ")";
      hover += "\n" + std::string(to_string(a.status));
      if (a.status != AttemptStatus::done && a.status != AttemptStatus::running) {
        if (!a.error.empty()) hover += ": " + truncate_utf8(a.error, 120);
        else if (a.exit_code >= 0) hover += ", exit code " + std::to_string(a.exit_code);
      }
      out(xml_escape(hover));
      out("</title></rect>\n");
    }
  }
  out("</g>\n");

  // Task ids written on bars wide enough to hold them (a small run's picture reads without
  // hovering). Hover still reaches the bar: the text ignores the pointer.
  if (pitch >= 14 && bars <= 3000) {
    out("<g font-size=\"10\" pointer-events=\"none\">\n");
    for (const auto& lane : layout.lanes) {
      for (const auto& bar : lane.bars) {
        const auto& a = results.attempts[bar.attempt];
        if (a.task < 0 || static_cast<std::size_t>(a.task) >= results.tasks.size()) continue;
        const auto fits = static_cast<std::size_t>((bar.x1 - bar.x0 - 6) / 6.1);
        if (fits < 4) continue;
        const std::string& id = results.tasks[static_cast<std::size_t>(a.task)].id;
        std::string text = truncate_utf8(id, fits);
        if (a.attempt > 0 && text == id && id.size() + 4 <= fits) text += " #" + std::to_string(a.attempt);
        out("<text x=\"" + px(bar.x0 + 3) + "\" y=\"" + px(lane.y + lane.height / 2 + 3.5) + "\" fill=\"" +
            std::string(text_colour(gantt_style(a.status).fill)) + "\">" + xml_escape(text) + "</text>\n");
      }
    }
    out("</g>\n");
  }

  // Event markers.
  if (!layout.markers.empty()) {
    // Many arrows across lanes hide the bars: past a few hundred, only the arriving end is drawn.
    const bool crowded = layout.markers.size() > 200;
    out("<g opacity=\"0.85\">\n");
    for (const auto& m : layout.markers) {
      const auto& style = gantt_marker_styles()[m.style];
      const auto& e = results.events[m.event];
      std::string hover = std::string(style.kind);
      if (e.task >= 0 && static_cast<std::size_t>(e.task) < results.tasks.size()) {
        hover += " " + results.tasks[static_cast<std::size_t>(e.task)].id;
      }
      if (e.from >= 0) hover += " from rank " + std::to_string(e.from);
      if (e.to >= 0) hover += " to rank " + std::to_string(e.to);
      hover += " at " + seconds(e.time);
      if (!e.detail.empty()) hover += ": " + truncate_utf8(e.detail, 120);
      if (m.count > 1) hover += " (and " + thousands(m.count - 1) + " more here)";
      const std::string cls = std::string(style.css);
      const std::string title = "<title>" + xml_escape(hover) + "</title>";
      if (!crowded && m.from_lane >= 0 && m.to_lane >= 0 && m.from_lane != m.to_lane) {
        const auto& from = layout.lanes[m.from_lane];
        const auto& to = layout.lanes[m.to_lane];
        const double y0 = from.y + from.height / 2;
        const double y1 = m.to_lane > m.from_lane ? to.y + 1 : to.y + to.height - 1;
        out("<g class=\"" + cls + "\"><circle cx=\"" + px(m.x) + "\" cy=\"" + px(y0) + "\" r=\"2\"/><line x1=\"" +
            px(m.x) + "\" y1=\"" + px(y0) + "\" x2=\"" + px(m.x) + "\" y2=\"" + px(y1) + "\" marker-end=\"url(#a-" +
            std::string(style.kind) + ")\"/>" + title + "</g>\n");
      } else {
        // A downward triangle on the top edge of the lane it went to (or concerns).
        const auto& lane = layout.lanes[m.to_lane >= 0 ? m.to_lane : m.from_lane];
        const double size = std::clamp(lane.height / 3, 2.5, 5.0);
        out("<path class=\"" + cls + "\" d=\"M" + px(m.x - size) + "," + px(lane.y - 1) + "L" + px(m.x + size) + "," +
            px(lane.y - 1) + "L" + px(m.x) + "," + px(lane.y - 1 + size * 1.5) + "z\">" + title + "</path>\n");
      }
    }
    out("</g>\n");
  }

  // Time axis.
  const double axis_y = layout.lanes_y + std::max(layout.lanes_h, 24.0) + 2;
  out("<g>\n<path class=\"axis\" d=\"M" + px(layout.plot_x) + "," + px(axis_y) + "H" + px(plot_end) + "\"/>\n");
  for (double t : layout.ticks.values) {
    const double x = layout.x_of(t);
    out("<path class=\"axis\" d=\"M" + px(x) + "," + px(axis_y) + "v5\"/><text x=\"" + px(x) + "\" y=\"" +
        px(axis_y + 17) + "\" text-anchor=\"middle\">" + xml_escape(format_time_tick(t, layout.ticks.step)) +
        "</text>\n");
  }
  out("<text class=\"sub\" x=\"" + px(layout.plot_x - 8) + "\" y=\"" + px(axis_y + 17) +
      "\" text-anchor=\"end\">time since job start</text>\n</g>\n");

  // Legend and notes.
  out("<g>\n");
  for (std::size_t i = 0; i < legend.size(); ++i) {
    const auto& item = legend[i];
    const auto [x, y] = item_pos[i];
    if (item.marker) {
      out("<path class=\"" + item.swatch_class + "\" d=\"M" + px(x) + "," + px(y) + "H" + px(x + 14) + "L" + px(x + 7) +
          "," + px(y + 11) + "z\"/>");
    } else if (!item.swatch_class.empty()) {
      out("<rect class=\"" + item.swatch_class + "\" x=\"" + px(x) + "\" y=\"" + px(y) +
          "\" width=\"14\" height=\"12\"/>");
    } else {
      out("<rect fill=\"" + item.fill + "\" stroke=\"#bbb\" x=\"" + px(x) + "\" y=\"" + px(y) +
          "\" width=\"14\" height=\"12\"/>");
    }
    out("<text x=\"" + px(x + 20) + "\" y=\"" + px(y + 10) + "\">" + xml_escape(item.text) + "</text>\n");
  }
  for (std::size_t i = 0; i < notes.size(); ++i) {
    out("<text class=\"sub\" x=\"" + px(layout.plot_x) + "\" y=\"" + px(notes_top + 16.0 * double(i) + 8) + "\">" +
        xml_escape(notes[i]) + "</text>\n");
  }
  out("</g>\n</svg>\n");
  return svg;
}

std::string render_gantt_svg(const Results& results, const GanttOptions& options, GanttLayout* used) {
  GanttOptions budget = options;
  for (int round = 0;; ++round) {
    GanttLayout layout = layout_gantt(results, budget);
    std::string svg = render_gantt_svg(results, layout);
    if (svg.size() < options.max_bytes || round == 6) {
      if (used) *used = std::move(layout);
      return svg;
    }
    budget.max_bars = std::max<std::size_t>(budget.max_bars / 2, 100);
    budget.max_cells = std::max<std::size_t>(budget.max_cells / 2, 100);
    budget.max_markers = std::max<std::size_t>(budget.max_markers / 2, 50);
  }
}

}  // namespace fastgpu::app
