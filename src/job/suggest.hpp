// "Did you mean ...?" suggestions for misspelt keys and placeholders.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace fastgpu::job {

/// `text` with ASCII letters in lower case, for comparing names whatever their case.
std::string lowercase(std::string_view text);

/// Levenshtein distance (insertions, deletions, substitutions each cost 1).
std::size_t edit_distance(std::string_view a, std::string_view b);

/// The candidate closest to `word` (compared case-insensitively), or "" when none is close:
/// close means a distance of at most 2 or at most a third of the word's length, and not a
/// complete rewrite. Ties go to the earlier candidate.
std::string closest_match(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace fastgpu::job
