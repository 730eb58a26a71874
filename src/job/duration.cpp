// parse_duration: "90", "1.5s", "250ms", "10m", "1h30m", "2d", and Slurm's "[D-]HH:MM:SS" / "MM:SS".
#include <algorithm>
#include <charconv>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "fastgpu/job_spec.hpp"

namespace fastgpu {

namespace {

[[noreturn]] void bad_duration(std::string_view text) {
  // Quote at most 40 characters: the message is for a person, the location says where the rest is.
  const std::string shown = text.size() > 40 ? std::string(text.substr(0, 40)) + "..." : std::string(text);
  std::string hint;
  if (std::any_of(text.begin(), text.end(), [](char c) { return c >= 'A' && c <= 'Z'; })) {
    hint = "; units are lower case: ms, s, m, h, d";
  }
  throw std::invalid_argument("cannot parse duration '" + shown + "' (examples: 90, 30s, 10m, 1h30m, 2:00:00" +
                              hint + ")");
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

/// Reads "12" or "1.5" at text[pos]; advances pos. Returns false when no number starts there.
bool read_number(std::string_view text, std::size_t& pos, double& value) {
  const std::size_t start = pos;
  while (pos < text.size() && is_digit(text[pos])) ++pos;
  if (pos == start) return false;
  if (pos < text.size() && text[pos] == '.') {
    const std::size_t fraction = ++pos;
    while (pos < text.size() && is_digit(text[pos])) ++pos;
    if (pos == fraction) return false;
  }
  const auto result = std::from_chars(text.data() + start, text.data() + pos, value);
  return result.ec == std::errc() && result.ptr == text.data() + pos;
}

/// A field of the colon form: digits only.
bool read_field(std::string_view field, double& value) {
  std::size_t pos = 0;
  if (field.empty() || field.find('.') != std::string_view::npos) return false;
  return read_number(field, pos, value) && pos == field.size();
}

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> fields;
  std::size_t start = 0;
  while (true) {
    const std::size_t end = text.find(separator, start);
    fields.push_back(text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) return fields;
    start = end + 1;
  }
}

/// Slurm's forms: MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS.
double parse_clock(std::string_view text, std::string_view original) {
  double days = 0;
  std::string_view clock = text;
  const std::size_t dash = text.find('-');
  if (dash != std::string_view::npos) {
    if (!read_field(text.substr(0, dash), days)) bad_duration(original);
    clock = text.substr(dash + 1);
  }
  const std::vector<std::string_view> fields = split(clock, ':');
  if (fields.size() > 3) bad_duration(original);
  std::vector<double> values(fields.size());
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (!read_field(fields[i], values[i])) bad_duration(original);
    // Every field after the leading one is minutes or seconds of a clock.
    if (i > 0 && values[i] >= 60) bad_duration(original);
  }
  double hours = 0, minutes = 0, seconds = 0;
  if (dash != std::string_view::npos) {
    hours = values[0];  // D-HH[:MM[:SS]]
    if (fields.size() > 1) minutes = values[1];
    if (fields.size() > 2) seconds = values[2];
  } else if (fields.size() == 3) {
    hours = values[0];
    minutes = values[1];
    seconds = values[2];
  } else {
    minutes = values[0];  // MM:SS
    seconds = values[1];
  }
  return days * 86400 + hours * 3600 + minutes * 60 + seconds;
}

/// A sequence of <number><unit>, optionally separated by spaces: "1h30m", "1.5h", "2d 4h".
double parse_units(std::string_view text, std::string_view original) {
  double total = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    double value = 0;
    const std::size_t number_start = pos;
    if (!read_number(text, pos, value)) bad_duration(original);
    const std::size_t unit_start = pos;
    while (pos < text.size() && ((text[pos] >= 'a' && text[pos] <= 'z') || (text[pos] >= 'A' && text[pos] <= 'Z'))) {
      ++pos;
    }
    const std::string_view unit = text.substr(unit_start, pos - unit_start);
    if (unit == "ms") {
      total += value / 1000;
    } else if (unit == "s") {
      total += value;
    } else if (unit == "m") {
      total += value * 60;
    } else if (unit == "h") {
      total += value * 3600;
    } else if (unit == "d") {
      total += value * 86400;
    } else if (unit.empty() && number_start == 0 && pos == text.size()) {
      total += value;  // a bare number: seconds
    } else {
      bad_duration(original);
    }
    while (pos < text.size() && text[pos] == ' ') ++pos;
  }
  return total;
}

}  // namespace

double parse_duration(std::string_view text) {
  const std::string_view original = text;
  const auto space = [](char c) { return c == ' ' || c == '\t'; };
  while (!text.empty() && space(text.front())) text.remove_prefix(1);
  while (!text.empty() && space(text.back())) text.remove_suffix(1);
  if (text.empty()) bad_duration(original);
  if (text.front() == '-') {
    throw std::invalid_argument("duration '" + std::string(text.substr(0, 40)) +
                                "' is negative; it must be greater than zero");
  }
  const bool clock = text.find(':') != std::string_view::npos ||
                     (text.find('-') != std::string_view::npos && text.front() != '-');
  const double seconds = clock ? parse_clock(text, original) : parse_units(text, original);
  if (!std::isfinite(seconds)) bad_duration(original);
  return seconds;
}

}  // namespace fastgpu
