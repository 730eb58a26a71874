#include "app/plan.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <regex>
#include <sstream>

#include "app/progress_line.hpp"
#include "fastgpu/error.hpp"

namespace fastgpu::app::plan {

PlanRow make_row(int gpus, double makespan_s, double total_work_s) {
  PlanRow row;
  row.gpus = gpus;
  row.makespan_s = makespan_s;
  row.gpu_hours = gpus * makespan_s / 3600.0;
  // Nothing to do at all (noop kernels): no GPU idles.
  row.efficiency = makespan_s > 0 ? std::min(1.0, total_work_s / (gpus * makespan_s)) : 1.0;
  return row;
}

std::vector<int> sampled_counts(int max_gpus, int min_gpus) {
  std::vector<int> counts;
  for (int n = 1; n <= std::min(max_gpus, 16); ++n) counts.push_back(n);
  // 24, 32, 48, 64, 96, ...: each power of two and 1.5 times it.
  for (long long power = 16; power <= max_gpus; power *= 2) {
    for (long long n : {power * 3 / 2, power * 2}) {
      if (n > 16 && n < max_gpus) counts.push_back(static_cast<int>(n));
    }
  }
  if (max_gpus > 16) counts.push_back(max_gpus);
  std::erase_if(counts, [&](int n) { return n < min_gpus; });
  if (min_gpus <= max_gpus) counts.push_back(min_gpus);
  std::sort(counts.begin(), counts.end());
  counts.erase(std::unique(counts.begin(), counts.end()), counts.end());
  return counts;
}

std::vector<PlanRow> explore(int max_gpus, std::optional<double> deadline_s,
                             const std::function<PlanRow(int gpus)>& simulate, int min_gpus) {
  std::map<int, PlanRow> rows;
  for (int n : sampled_counts(max_gpus, min_gpus)) rows[n] = simulate(n);
  if (deadline_s) {
    // The smallest sampled count that meets the deadline, and the sampled one before it.
    int below = 0, meets = 0;
    for (const auto& [n, row] : rows) {
      if (row.makespan_s <= *deadline_s) {
        meets = n;
        break;
      }
      below = n;
    }
    while (meets > 0 && below > 0 && meets - below > 1) {
      const int mid = below + (meets - below) / 2;
      PlanRow row = simulate(mid);
      row.bisected = true;
      const bool ok = row.makespan_s <= *deadline_s;
      rows[mid] = row;
      (ok ? meets : below) = mid;
    }
  }
  std::vector<PlanRow> out;
  out.reserve(rows.size());
  for (auto& [n, row] : rows) out.push_back(row);
  return out;
}

namespace {

std::string hours_text(double h) {
  char text[64];
  std::snprintf(text, sizeof text, h < 10 ? "%.3g" : "%.1f", h);
  return text;
}

std::string seconds_text(double s) { return format_short_duration(s); }

// GPU-hours within this fraction of the fewest count as equal (simulated makespans carry noise of
// their own: rebalance rounds, speculation); of those, the fewest GPUs (easier to get from the queue).
constexpr double kCostTolerance = 0.01;

// The row with the fewest GPU-hours among those that qualify (ties: fewer GPUs).
template <typename Qualifies>
std::optional<std::size_t> cheapest(const std::vector<PlanRow>& rows, Qualifies qualifies) {
  std::optional<double> fewest;
  for (const auto& row : rows) {
    if (qualifies(row) && (!fewest || row.gpu_hours < *fewest)) fewest = row.gpu_hours;
  }
  if (!fewest) return std::nullopt;
  std::optional<std::size_t> pick;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (!qualifies(rows[i]) || rows[i].gpu_hours > *fewest * (1 + kCostTolerance)) continue;
    if (!pick || rows[i].gpus < rows[*pick].gpus) pick = i;
  }
  return pick;
}

}  // namespace

Recommendation recommend(const std::vector<PlanRow>& rows, std::optional<double> deadline_s, double min_efficiency) {
  Recommendation rec;
  if (rows.empty()) {
    rec.why = "nothing was simulated";
    return rec;
  }
  auto best = [&](auto&& qualifies, auto&& better) -> std::optional<std::size_t> {
    std::optional<std::size_t> pick;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      if (!qualifies(rows[i])) continue;
      if (!pick || better(rows[i], rows[*pick])) pick = i;
    }
    return pick;
  };
  auto faster = [](const PlanRow& a, const PlanRow& b) {
    return a.makespan_s < b.makespan_s || (a.makespan_s == b.makespan_s && a.gpus < b.gpus);
  };
  if (deadline_s) {
    rec.row = cheapest(rows, [&](const PlanRow& r) { return r.makespan_s <= *deadline_s; });
    if (rec.row) {
      rec.deadline_met = true;
      rec.why = "meets the deadline of " + seconds_text(*deadline_s) + " with the fewest GPU-hours";
    } else {
      const auto fastest = *best([](const PlanRow&) { return true; }, faster);
      rec.why = "no allocation of up to " + std::to_string(rows.back().gpus) + " GPUs meets the deadline of " +
                seconds_text(*deadline_s) + ": the fastest is " + std::to_string(rows[fastest].gpus) + " GPUs at " +
                seconds_text(rows[fastest].makespan_s);
    }
    return rec;
  }
  rec.row = best([&](const PlanRow& r) { return r.efficiency >= min_efficiency; }, faster);
  if (rec.row) {
    char pct[32];
    std::snprintf(pct, sizeof pct, "%.0f %%", min_efficiency * 100);
    rec.why = std::string("no deadline given: the fastest allocation that keeps efficiency at or above ") + pct;
  } else {
    rec.row = cheapest(rows, [](const PlanRow&) { return true; });
    rec.why = "no deadline given and no allocation reaches the efficiency floor: the fewest GPU-hours (" +
              hours_text(rows[*rec.row].gpu_hours) + ")";
  }
  return rec;
}

NodeLayout layout(int gpus, int max_per_node) {
  NodeLayout out;
  max_per_node = std::max(1, max_per_node);
  gpus = std::max(1, gpus);
  out.nodes = (gpus + max_per_node - 1) / max_per_node;
  out.gpus_per_node = (gpus + out.nodes - 1) / out.nodes;
  return out;
}

double time_limit_s(double makespan_s, double margin_fraction, double min_margin_s, double lead_s) {
  const double margin = std::max(margin_fraction * makespan_s, min_margin_s);
  return std::ceil((makespan_s + margin + lead_s) / 60.0 - 1e-9) * 60.0;
}

std::string slurm_time(double seconds) {
  const auto total = static_cast<long long>(std::ceil(std::max(0.0, seconds) - 1e-9));
  const long long days = total / 86400, hours = total / 3600 % 24, minutes = total / 60 % 60, secs = total % 60;
  char text[64];
  if (days > 0) {
    std::snprintf(text, sizeof text, "%lld-%02lld:%02lld:%02lld", days, hours, minutes, secs);
  } else {
    std::snprintf(text, sizeof text, "%02lld:%02lld:%02lld", hours, minutes, secs);
  }
  return text;
}

double signal_lead_s(const std::string& script, double fallback) {
  static const std::regex signal(R"(^#SBATCH\s+--signal=(?:[A-Z]+:)?(?:SIG)?USR1@(\d+))", std::regex::multiline);
  std::smatch match;
  if (std::regex_search(script, match, signal)) return std::stod(match[1].str());
  return fallback;
}

int template_gpus_per_node(const std::string& script, int fallback) {
  static const std::regex gpus(R"(^#SBATCH\s+--gpus-per-node=(?:[A-Za-z0-9_]+:)?(\d+))", std::regex::multiline);
  std::smatch match;
  if (std::regex_search(script, match, gpus)) return std::max(1, std::stoi(match[1].str()));
  return fallback;
}

std::string shell_quote(const std::string& word) {
  const bool plain = !word.empty() && std::all_of(word.begin(), word.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || std::string_view("/._-+=:,@%").find(c) != std::string_view::npos;
  });
  if (plain) return word;
  std::string out = "'";
  for (char c : word) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string render_sbatch(const std::string& template_text, const SbatchSettings& settings) {
  std::vector<std::string> lines;
  {
    std::istringstream in(template_text);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
  }
  const std::vector<std::pair<std::string, std::string>> values = {
      {"job-name", settings.job_name},
      {"nodes", std::to_string(settings.layout.nodes)},
      {"gpus-per-node", std::to_string(settings.layout.gpus_per_node)},
      {"ntasks-per-node", std::to_string(settings.layout.gpus_per_node + 1)},
      {"time", settings.time},
  };
  std::ptrdiff_t last_directive = -1;
  std::ptrdiff_t set_line = -1;
  std::vector<bool> done(values.size(), false);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    std::string& line = lines[i];
    if (line.rfind("#SBATCH", 0) == 0) {
      last_directive = static_cast<std::ptrdiff_t>(i);
      for (std::size_t k = 0; k < values.size(); ++k) {
        if (values[k].second.empty()) continue;
        const std::string key = "--" + values[k].first + "=";
        const auto at = line.find(key);
        if (at == std::string::npos || line.find_first_not_of(" \t", 7) != at) continue;
        const auto value_start = at + key.size();
        const auto value_end = std::min(line.find_first_of(" \t", value_start), line.size());
        std::string head = line.substr(0, value_start) + values[k].second;
        std::string rest = line.substr(value_end);  // spaces and a comment, or nothing
        if (const auto comment = rest.find_first_not_of(" \t"); comment == std::string::npos) {
          rest.clear();
        } else {  // keep the comment in its column where the new value leaves room
          const std::size_t column = value_end + comment;
          rest = std::string(column > head.size() ? column - head.size() : 1, ' ') + rest.substr(comment);
        }
        line = head + rest;
        done[k] = true;
      }
    } else if (set_line < 0 && line.rfind("set -euo pipefail", 0) == 0) {
      set_line = static_cast<std::ptrdiff_t>(i);
    }
  }
  if (last_directive < 0) throw UsageError("the sbatch template has no #SBATCH line");
  std::vector<std::string> added;
  for (std::size_t k = 0; k < values.size(); ++k) {
    if (!done[k] && !values[k].second.empty()) added.push_back("#SBATCH --" + values[k].first + "=" + values[k].second);
  }
  std::vector<std::string> setup = {
      "# Written by `fastgpu plan`: without arguments, run the planned job (arguments given to sbatch",
      "# after the script name replace these); $FASTGPU picks another fastgpu binary.",
  };
  {
    std::string set = "if [ $# -eq 0 ]; then set --";
    for (const auto& argument : settings.arguments) set += " " + shell_quote(argument);
    setup.push_back(set + "; fi");
  }
  if (!settings.fastgpu.empty()) setup.push_back("export FASTGPU=${FASTGPU:-" + shell_quote(settings.fastgpu) + "}");

  std::vector<std::string> out;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    out.push_back(lines[i]);
    if (i == 0) {
      for (const auto& comment : settings.comments) out.push_back(comment.empty() ? "#" : "# " + comment);
    }
    if (static_cast<std::ptrdiff_t>(i) == last_directive) out.insert(out.end(), added.begin(), added.end());
    if (static_cast<std::ptrdiff_t>(i) == (set_line >= 0 ? set_line : last_directive)) {
      if (set_line < 0) out.push_back("set -euo pipefail");
      out.insert(out.end(), setup.begin(), setup.end());
    }
  }
  std::string text;
  for (const auto& line : out) text += line + "\n";
  return text;
}

}  // namespace fastgpu::app::plan
