// Checks the arguments of Collectives::subgroup and of the state transfers the same way for every
// backend.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include "comm/collectives.hpp"
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

/// Throws CommError unless `peer` is a rank of a group of `size` and `tag` a state-transfer tag.
inline void check_state_transfer(int peer, int tag, int size) {
  if (peer < 0 || peer >= size) throw CommError("state transfer: rank " + std::to_string(peer) + " is not a member");
  if (tag < 0 || tag >= Collectives::kStateTags)
    throw CommError("state transfer: tag " + std::to_string(tag) + " is outside 0.." +
                    std::to_string(Collectives::kStateTags - 1));
}

}  // namespace fastgpu::comm
