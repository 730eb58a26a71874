// Subtask ids and names. Ids are stable: the same job file always gives the same ids, which is
// what --resume matches on.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fastgpu/job_spec.hpp"

namespace fastgpu::job {

/// The longest id made by joining parameters; longer ones use the hash form.
inline constexpr std::size_t kMaxReadableIdLength = 80;

/// An explicit task name: [A-Za-z0-9_.=+,-]+, and not "." or "..".
bool is_valid_task_name(std::string_view name);

/// FNV-1a, 64 bits.
std::uint64_t fnv1a64(std::string_view text);

/// "lr=0.1,seed=3" when every value reads as [A-Za-z0-9_.+-]+ and the whole fits in 80
/// characters; else "p" and 16 hex digits of fnv1a64(params_json); `fallback` (the job name)
/// when there are no parameters.
std::string derive_id(const std::vector<Param>& params, const std::string& fallback);

/// "lr=0.1 seed=3", or `fallback` when there are no parameters.
std::string derive_name(const std::vector<Param>& params, const std::string& fallback);

}  // namespace fastgpu::job
