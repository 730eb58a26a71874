#include "worker/output_capture.hpp"

#include <charconv>
#include <cstring>
#include <system_error>

namespace fastgpu::worker {

void TailBuffer::append(const char* data, std::size_t size) {
  total_ += size;
  if (capacity_ == 0 || size == 0) return;
  if (size >= capacity_) {
    buffer_.assign(data + (size - capacity_), capacity_);
    return;
  }
  // Let the buffer grow to twice the capacity before dropping its front: amortised O(1) per byte.
  if (buffer_.size() + size > 2 * capacity_) {
    const std::size_t keep = capacity_ - size;  // bytes of the old buffer still among the last capacity_
    buffer_.erase(0, buffer_.size() - keep);
  }
  buffer_.append(data, size);
}

std::string TailBuffer::take() {
  if (buffer_.size() > capacity_) buffer_.erase(0, buffer_.size() - capacity_);
  std::string out = std::move(buffer_);
  buffer_.clear();
  return out;
}

namespace {

constexpr std::string_view kMetricPrefix = "FASTGPU_METRIC";

bool is_blank(char c) { return c == ' ' || c == '\t'; }

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == ':' || c == '/' || c == '-';
}

}  // namespace

std::optional<Metric> parse_metric_line(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  while (!line.empty() && is_blank(line.front())) line.remove_prefix(1);
  while (!line.empty() && is_blank(line.back())) line.remove_suffix(1);
  if (!line.starts_with(kMetricPrefix)) return std::nullopt;
  line.remove_prefix(kMetricPrefix.size());
  if (line.empty() || !is_blank(line.front())) return std::nullopt;
  while (!line.empty() && is_blank(line.front())) line.remove_prefix(1);

  const std::size_t eq = line.find('=');
  if (eq == 0 || eq == std::string_view::npos) return std::nullopt;
  const std::string_view name = line.substr(0, eq);
  for (char c : name) {
    if (!is_name_char(c)) return std::nullopt;
  }
  std::string_view value = line.substr(eq + 1);
  if (value.size() > 1 && value.front() == '+' && value[1] != '-') value.remove_prefix(1);
  if (value.empty()) return std::nullopt;
  Metric metric{std::string(name), 0};
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), metric.value);
  if (ec != std::errc() || end != value.data() + value.size()) return std::nullopt;
  return metric;
}

void MetricLineParser::on_line(std::string_view line) {
  // Cheap reject before the full parse: most output lines are not metrics.
  std::size_t i = 0;
  while (i < line.size() && is_blank(line[i])) ++i;
  if (i >= line.size() || line[i] != 'F') return;
  if (auto metric = parse_metric_line(line)) metrics_.push_back(std::move(*metric));
}

void MetricLineParser::feed(const char* data, std::size_t size) {
  const char* const end = data + size;
  while (data < end) {
    const char* newline = static_cast<const char*>(std::memchr(data, '\n', static_cast<std::size_t>(end - data)));
    if (newline == nullptr) {
      // An unfinished line: keep it for the next feed(), unless it is already too long.
      const auto rest = static_cast<std::size_t>(end - data);
      if (!skipping_) {
        if (pending_.size() + rest > max_line_bytes_) {
          skipping_ = true;
          pending_.clear();
          pending_.shrink_to_fit();
        } else {
          pending_.append(data, rest);
        }
      }
      return;
    }
    const auto length = static_cast<std::size_t>(newline - data);
    if (skipping_) {
      skipping_ = false;
    } else if (pending_.empty()) {
      if (length <= max_line_bytes_) on_line(std::string_view(data, length));
    } else if (pending_.size() + length <= max_line_bytes_) {
      pending_.append(data, length);
      on_line(pending_);
    }
    pending_.clear();
    data = newline + 1;
  }
}

void MetricLineParser::finish() {
  if (!skipping_ && !pending_.empty()) on_line(pending_);
  pending_.clear();
  skipping_ = false;
}

}  // namespace fastgpu::worker
