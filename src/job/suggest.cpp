#include "job/suggest.hpp"

#include <algorithm>
#include <cctype>
#include <limits>
#include <numeric>

namespace fastgpu::job {

std::string lowercase(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  // One row of the classic dynamic program.
  std::vector<std::size_t> row(b.size() + 1);
  std::iota(row.begin(), row.end(), std::size_t{0});
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      const std::size_t substitute = diagonal + (a[i - 1] == b[j - 1] ? 0 : 1);
      row[j] = std::min({above + 1, row[j - 1] + 1, substitute});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string closest_match(std::string_view word, const std::vector<std::string>& candidates) {
  const std::string lowered = lowercase(word);
  std::size_t best = std::numeric_limits<std::size_t>::max();
  std::string match;
  for (const std::string& candidate : candidates) {
    const std::string other = lowercase(candidate);
    const std::size_t distance = edit_distance(lowered, other);
    // A shared start of four letters or more makes three edits close too: 'retry' -> 'retries'.
    const std::size_t prefix = static_cast<std::size_t>(
        std::mismatch(lowered.begin(), lowered.end(), other.begin(), other.end()).first - lowered.begin());
    const bool close = distance <= 2 || distance * 3 <= word.size() || (prefix >= 4 && distance <= 3);
    const bool rewrite = distance >= std::max(word.size(), candidate.size());
    if (close && !rewrite && distance < best) {
      best = distance;
      match = candidate;
    }
  }
  return match;
}

}  // namespace fastgpu::job
