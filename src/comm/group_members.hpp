// Checks the member list of Collectives::subgroup the same way for every backend.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include "fastgpu/error.hpp"

namespace fastgpu::comm {

/// Position of `self` in `members` (its rank in the subgroup). Throws CommError when the list is
/// empty, names a rank outside 0 .. size-1 or twice, or leaves out the caller: a subgroup is made
/// by its members only, so a caller outside it is a bug, not a no-op.
inline int position_in_group(const std::vector<int>& members, int size, int self) {
  if (members.empty()) throw CommError("subgroup: no members");
  std::vector<int> sorted = members;
  std::sort(sorted.begin(), sorted.end());
  if (sorted.front() < 0 || sorted.back() >= size)
    throw CommError("subgroup: member rank outside 0.." + std::to_string(size - 1));
  if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end())
    throw CommError("subgroup: a rank is listed twice");
  const auto it = std::find(members.begin(), members.end(), self);
  if (it == members.end())
    throw CommError("subgroup: rank " + std::to_string(self) + " is not one of the members");
  return static_cast<int>(it - members.begin());
}

}  // namespace fastgpu::comm
