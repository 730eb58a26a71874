#include "sim/workload.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <random>
#include <sstream>

#include "fastgpu/error.hpp"
#include "job/kernel_catalog.hpp"

namespace fastgpu::sim {
namespace {

bool parse_number(std::string_view text, double& value) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  if (text.size() >= 2 && text.front() == '"' && text.back() == '"') text = text.substr(1, text.size() - 2);
  if (text.empty()) return false;
  const auto result = std::from_chars(text.data(), text.data() + text.size(), value);
  return result.ec == std::errc() && result.ptr == text.data() + text.size() && std::isfinite(value);
}

std::vector<std::string> split_csv(const std::string& line) {
  std::vector<std::string> fields;
  std::string field;
  bool quoted = false;
  for (char c : line) {
    if (c == '"') {
      quoted = !quoted;
    } else if (c == ',' && !quoted) {
      fields.push_back(std::move(field));
      field.clear();
    } else if (c != '\r') {
      field += c;
    }
  }
  fields.push_back(std::move(field));
  return fields;
}

std::string lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// A column of a CSV header: by name (case-insensitive) or by 1-based number.
int find_column(const std::vector<std::string>& header, const std::string& name) {
  for (std::size_t i = 0; i < header.size(); ++i) {
    if (lower(header[i]) == lower(name)) return static_cast<int>(i);
  }
  double number = 0;
  if (parse_number(name, number) && number >= 1 && number <= static_cast<double>(header.size())) {
    return static_cast<int>(number) - 1;
  }
  return -1;
}

int guess_column(const std::vector<std::string>& header, std::initializer_list<const char*> names) {
  for (const char* name : names) {
    if (int column = find_column(header, name); column >= 0) return column;
  }
  return -1;
}

struct Row {
  double duration = 0;
  double submit = 0;
  int gpus = 1;
  std::size_t line = 0;
};

// Where a CSV/SWF value comes from: one column, or END-START of two.
struct Column {
  int a = -1, b = -1;  // value = field[a] - (b >= 0 ? field[b] : 0)
  bool get(const std::vector<std::string>& fields, double& value, bool timestamps) const {
    if (a < 0 || a >= static_cast<int>(fields.size())) return false;
    auto read = [&](int i, double& out) {
      return timestamps ? parse_timestamp(fields[static_cast<std::size_t>(i)], out)
                        : parse_number(fields[static_cast<std::size_t>(i)], out);
    };
    if (!read(a, value)) return false;
    if (b < 0) return true;
    double start = 0;
    if (b >= static_cast<int>(fields.size()) || !read(b, start)) return false;
    value -= start;
    return true;
  }
};

Column csv_column(const std::vector<std::string>& header, const std::string& spec, const std::string& what,
                  const std::string& path) {
  Column column;
  column.a = find_column(header, spec);
  if (column.a < 0) {
    if (const auto minus = spec.find('-'); minus != std::string::npos && minus > 0) {
      column.a = find_column(header, spec.substr(0, minus));
      column.b = find_column(header, spec.substr(minus + 1));
      if (column.a >= 0 && column.b >= 0) return column;
    }
    throw UsageError(path + ":1: no column '" + spec + "' for the " + what + " (columns: " + [&] {
      std::string all;
      for (const auto& h : header) all += (all.empty() ? "" : ", ") + h;
      return all;
    }() + ")");
  }
  return column;
}

std::vector<Row> read_csv(const std::string& path, std::istream& in, const TraceOptions& options, Workload& out) {
  std::string line;
  if (!std::getline(in, line)) throw UsageError(path + ": empty trace file");
  const auto header = split_csv(line);
  Column duration, submit, gpus;
  if (!options.duration_col.empty()) {
    duration = csv_column(header, options.duration_col, "duration", path);
  } else if ((duration.a = guess_column(header, {"duration", "duration_s", "run_time", "runtime", "run"})) < 0) {
    throw UsageError(path + ":1: no duration column found (looked for duration, run_time, runtime); name one with "
                            "--duration-col NAME or END-START, e.g. deletion_time-scheduled_time");
  }
  if (!options.submit_col.empty()) {
    submit = csv_column(header, options.submit_col, "submit time", path);
  } else {
    submit.a = guess_column(header, {"submit_time", "submit", "timestamp", "arrival_time", "arrival", "creation_time"});
  }
  if (!options.gpus_col.empty()) {
    gpus = csv_column(header, options.gpus_col, "GPU count", path);
  } else {
    gpus.a = guess_column(header, {"num_gpus", "num_gpu", "gpus", "gpu_num", "gpu"});
  }
  out.notes.push_back("columns: duration=" + header[static_cast<std::size_t>(duration.a)] +
                      (duration.b >= 0 ? "-" + header[static_cast<std::size_t>(duration.b)] : "") +
                      ", submit=" + (submit.a >= 0 ? header[static_cast<std::size_t>(submit.a)] : "(none: all at 0)") +
                      ", gpus=" + (gpus.a >= 0 ? header[static_cast<std::size_t>(gpus.a)] : "(none: 1 each)"));
  std::vector<Row> rows;
  std::size_t number = 1;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty() || line == "\r") continue;
    ++out.rows;
    const auto fields = split_csv(line);
    Row row;
    row.line = number;
    double g = 1;
    if (!duration.get(fields, row.duration, duration.b >= 0) || (submit.a >= 0 && !submit.get(fields, row.submit, true)) ||
        (gpus.a >= 0 && !gpus.get(fields, g, false))) {
      ++out.skipped_invalid;
      continue;
    }
    row.gpus = static_cast<int>(std::lround(g));
    rows.push_back(row);
  }
  return rows;
}

std::vector<Row> read_swf(const std::string& path, std::istream& in, const TraceOptions& options, Workload& out) {
  // Standard Workload Format: 18 whitespace-separated fields; 2 submit, 4 run time, 5 allocated
  // processors (8 requested, used when 5 is -1). ';' starts a comment line.
  auto field = [&](const std::string& spec, int fallback) {
    if (spec.empty()) return fallback;
    double number = 0;
    if (!parse_number(spec, number) || number < 1 || number > 18) {
      throw UsageError(path + ": SWF columns are field numbers 1-18, not '" + spec + "'");
    }
    return static_cast<int>(number);
  };
  const int duration = field(options.duration_col, 4), submit = field(options.submit_col, 2),
            gpus = field(options.gpus_col, 5);
  out.notes.push_back("SWF fields: run time=" + std::to_string(duration) + ", submit=" + std::to_string(submit) +
                      ", processors=" + std::to_string(gpus) + " (taken as GPUs)");
  std::vector<Row> rows;
  std::string line;
  std::size_t number = 0;
  std::vector<double> values;
  while (std::getline(in, line)) {
    ++number;
    const auto first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos || line[first] == ';') continue;
    ++out.rows;
    values.clear();
    std::istringstream fields(line);
    std::string token;
    bool ok = true;
    while (fields >> token) {
      double v = 0;
      ok = ok && parse_number(token, v);
      values.push_back(v);
    }
    if (!ok || values.size() < 8) {
      ++out.skipped_invalid;
      continue;
    }
    Row row;
    row.line = number;
    row.duration = values[static_cast<std::size_t>(duration - 1)];
    row.submit = values[static_cast<std::size_t>(submit - 1)];
    double g = values[static_cast<std::size_t>(gpus - 1)];
    if (g < 0 && options.gpus_col.empty()) g = values[7];  // requested processors
    row.gpus = static_cast<int>(std::lround(g));
    rows.push_back(row);
  }
  return rows;
}

std::string fmt(double value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

}  // namespace

bool Workload::has_arrivals() const {
  return std::any_of(arrival.begin(), arrival.end(), [](double a) { return a > 0; });
}

bool parse_timestamp(const std::string& text, double& seconds) {
  if (parse_number(text, seconds)) return true;
  std::tm tm{};
  int year = 0, month = 0, day = 0, hour = 0, minute = 0;
  double second = 0;
  char sep = 0;
  std::string t = text;
  if (t.size() >= 2 && t.front() == '"' && t.back() == '"') t = t.substr(1, t.size() - 2);
  if (std::sscanf(t.c_str(), "%d-%d-%d%c%d:%d:%lf", &year, &month, &day, &sep, &hour, &minute, &second) != 7 ||
      (sep != ' ' && sep != 'T')) {
    return false;
  }
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = 0;
  seconds = static_cast<double>(timegm(&tm)) + second;
  return true;
}

MultiGpu parse_multi_gpu(const std::string& text) {
  if (text == "skip") return MultiGpu::skip;
  if (text == "one") return MultiGpu::one;
  if (text == "gpu-time") return MultiGpu::gpu_time;
  if (text == "gang") return MultiGpu::gang;
  throw UsageError("--multi-gpu must be skip, gang, one or gpu-time, not '" + text + "'");
}

Workload load_job_workload(const std::string& path, const JobWorkloadOptions& options) {
  Workload out;
  out.job = load_job_file(path);
  if (out.job.output_dir.empty()) out.job.output_dir = default_output_dir(out.job.output);
  out.subtasks = expand_subtasks(out.job);
  out.source = "job file " + path;
  std::mt19937_64 rng(options.seed);
  std::lognormal_distribution<double> noise(0.0, options.duration_noise > 0 ? options.duration_noise : 1e-300);
  const std::string& kernel = out.job.task.kernel;
  const bool timed_kernel = kernel == "sleep" || kernel == "spin";
  for (const auto& subtask : out.subtasks) {
    double seconds = subtask.cost * options.cost_unit_s;
    if (kernel == "noop") {
      seconds = 0;
    } else if (timed_kernel) {
      const LaunchSpec launch = render_launch(out.job, subtask, 0);
      for (const auto& [name, value] : launch.args) {
        if (name == "seconds") seconds = job::kernel_arg_number(value);
      }
    }
    if (options.duration_noise > 0) seconds *= noise(rng);
    out.work.push_back(seconds);
    out.arrival.push_back(0);
  }
  out.notes.push_back(timed_kernel ? "durations: the " + kernel + " kernel's seconds"
                      : kernel == "noop" ? std::string("durations: 0 (noop kernel)")
                                         : "durations: cost x " + fmt(options.cost_unit_s) + " s");
  if (options.duration_noise > 0) out.notes.push_back("durations x lognormal(0, " + fmt(options.duration_noise) + ")");
  return out;
}

Workload load_trace_workload(const std::string& path, const TraceOptions& options) {
  std::ifstream in(path);
  if (!in) throw UsageError("cannot read trace file '" + path + "'");
  std::string format = options.format;
  if (format == "auto") {
    const std::string ext = lower(std::filesystem::path(path).extension().string());
    format = ext == ".swf" ? "swf" : "csv";
  }
  if (format != "csv" && format != "swf") throw UsageError("--format must be auto, csv or swf, not '" + format + "'");
  if (!(options.time_scale > 0)) throw UsageError("--time-scale must be positive");
  if (!(options.sample > 0 && options.sample <= 1)) throw UsageError("--sample must be in (0, 1]");

  Workload out;
  out.source = "trace " + path + " (" + format + ")";
  std::vector<Row> rows = format == "swf" ? read_swf(path, in, options, out) : read_csv(path, in, options, out);

  std::mt19937_64 rng(options.seed);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::vector<Row> kept;
  kept.reserve(rows.size());
  for (const Row& row : rows) {
    if (!(row.duration > 0) || row.gpus < 1) {
      ++out.skipped_invalid;
      continue;
    }
    if (options.sample < 1 && unit(rng) >= options.sample) continue;
    kept.push_back(row);
  }
  std::stable_sort(kept.begin(), kept.end(), [](const Row& a, const Row& b) { return a.submit < b.submit; });
  const double first_submit = kept.empty() ? 0 : kept.front().submit;

  out.job.name = std::filesystem::path(path).stem().string();
  out.job.output = out.job.name + ".h5";
  out.job.output_dir = default_output_dir(out.job.output);
  out.job.task.kernel = "noop";  // nothing to render: the decision cost is the scheduler's own
  out.job.task.retries = options.retries;
  std::lognormal_distribution<double> noise(0.0, options.estimate_noise > 0 ? options.estimate_noise : 1e-300);
  out.subtasks.reserve(kept.size());
  for (const Row& row : kept) {
    if (options.limit > 0 && out.subtasks.size() >= options.limit) break;
    double work = row.duration * options.time_scale;
    if (row.gpus > 1 && options.multi_gpu != MultiGpu::gang) {
      if (options.multi_gpu == MultiGpu::skip) {
        ++out.skipped_multi_gpu;
        continue;
      }
      ++out.multi_gpu_on_one;
      if (options.multi_gpu == MultiGpu::gpu_time) work *= row.gpus;
    }
    Subtask subtask;
    subtask.id = "line" + std::to_string(row.line);
    subtask.name = subtask.id;
    subtask.gpus = options.multi_gpu == MultiGpu::gang ? std::max(row.gpus, 1) : 1;
    subtask.retries = options.retries;
    subtask.cost = options.estimate_noise > 0 ? work * noise(rng) : work;
    const double arrival = options.arrivals ? (row.submit - first_submit) * options.time_scale : 0;
    subtask.params = {{"duration", work}, {"gpus", static_cast<std::int64_t>(row.gpus)}, {"submit", arrival}};
    out.subtasks.push_back(std::move(subtask));
    out.work.push_back(work);
    out.arrival.push_back(arrival);
  }
  if (out.skipped_multi_gpu > 0) {
    out.notes.push_back(std::to_string(out.skipped_multi_gpu) +
                        " jobs need more than one GPU and were skipped (--multi-gpu gang runs them on that many "
                        "GPUs at once, one on one GPU, gpu-time on one GPU for duration x GPUs)");
  }
  if (out.multi_gpu_on_one > 0) {
    out.notes.push_back(std::to_string(out.multi_gpu_on_one) + " multi-GPU jobs run on one GPU" +
                        (options.multi_gpu == MultiGpu::gpu_time ? " for duration x GPUs" : ""));
  }
  if (out.skipped_invalid > 0) {
    out.notes.push_back(std::to_string(out.skipped_invalid) + " rows skipped: no positive duration, no GPU or unreadable");
  }
  if (options.time_scale != 1) out.notes.push_back("times x " + fmt(options.time_scale));
  if (options.estimate_noise > 0) {
    out.notes.push_back("estimates (cost) = duration x lognormal(0, " + fmt(options.estimate_noise) + ")");
  } else {
    out.notes.push_back("estimates (cost) = the trace's durations (exact)");
  }
  return out;
}

Workload synthetic_workload(std::size_t count, double mean_s, double sigma, double estimate_noise, std::uint64_t seed) {
  Workload out;
  out.source = "synthetic: " + std::to_string(count) + " subtasks, lognormal(sigma " + fmt(sigma) + "), mean " +
               fmt(mean_s) + " s";
  out.job.name = "synthetic";
  out.job.output = "synthetic.h5";
  out.job.output_dir = "synthetic.outputs";
  out.job.task.kernel = "noop";
  std::mt19937_64 rng(seed);
  std::lognormal_distribution<double> duration(0.0, sigma), noise(0.0, estimate_noise > 0 ? estimate_noise : 1e-300);
  const double mean = std::exp(sigma * sigma / 2);
  out.subtasks.reserve(count);
  out.work.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    const double s = duration(rng) / mean * mean_s;
    Subtask t;
    t.id = "t" + std::to_string(i);
    t.name = t.id;
    t.cost = estimate_noise > 0 ? s * noise(rng) : s;
    out.subtasks.push_back(std::move(t));
    out.work.push_back(s);
  }
  out.arrival.assign(count, 0);
  return out;
}

}  // namespace fastgpu::sim
