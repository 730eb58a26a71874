// Helpers of the command runner: a bounded tail of a byte stream, and the parser of
// "FASTGPU_METRIC name=value" lines that sees the whole stream.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fastgpu/results.hpp"

namespace fastgpu::worker {

/// Keeps the last `capacity` bytes of what is appended. Raw bytes: a multi-byte character may be
/// cut at the start of the tail.
class TailBuffer {
 public:
  explicit TailBuffer(std::size_t capacity = 0) : capacity_(capacity) {}

  void append(const char* data, std::size_t size);
  void append(std::string_view text) { append(text.data(), text.size()); }
  /// Total bytes appended so far, kept or not.
  std::size_t total_bytes() const { return total_; }
  /// The last min(capacity, total_bytes()) bytes; leaves the buffer empty.
  std::string take();

 private:
  std::size_t capacity_;
  std::size_t total_ = 0;
  std::string buffer_;  // up to 2 * capacity_ bytes; trimmed to the last capacity_ when it grows past that
};

/// Parses one line (without its newline) of the form "FASTGPU_METRIC name=value": spaces, tabs and
/// a trailing '\r' around it are allowed, name is [A-Za-z0-9_.:/-]+, value a whole double.
/// Returns nothing for any other line.
std::optional<Metric> parse_metric_line(std::string_view line);

/// Splits a stream into lines and collects the metric lines. Lines longer than max_line_bytes
/// are skipped without being stored, so a huge line without a newline cannot eat memory.
class MetricLineParser {
 public:
  static constexpr std::size_t kDefaultMaxLineBytes = 4096;

  explicit MetricLineParser(std::size_t max_line_bytes = kDefaultMaxLineBytes)
      : max_line_bytes_(max_line_bytes) {}

  void feed(const char* data, std::size_t size);
  void feed(std::string_view text) { feed(text.data(), text.size()); }
  /// End of stream: a last line without a newline counts too.
  void finish();
  std::vector<Metric>& metrics() { return metrics_; }

 private:
  void on_line(std::string_view line);

  std::size_t max_line_bytes_;
  std::string pending_;       // start of the current line, seen in an earlier feed()
  bool skipping_ = false;     // the current line is too long: ignore it up to its newline
  std::vector<Metric> metrics_;
};

}  // namespace fastgpu::worker
