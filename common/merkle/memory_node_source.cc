#include "common/merkle/memory_node_source.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace rustiq::merkle {

InMemoryNodeSource::InMemoryNodeSource(const std::vector<Hash>& leaf_hashes) {
  for (const Hash& leaf : leaf_hashes) Append(leaf);
}

void InMemoryNodeSource::Append(const Hash& leaf_hash) {
  if (levels_.empty()) levels_.emplace_back();
  levels_[0].push_back(leaf_hash);
  // Each level gains a node whenever the level below completes a pair.
  for (size_t level = 0; levels_[level].size() % 2 == 0; ++level) {
    if (level + 1 == levels_.size()) levels_.emplace_back();
    const std::vector<Hash>& below = levels_[level];
    Hash parent = NodeHash(below[below.size() - 2], below.back());
    levels_[level + 1].push_back(parent);
  }
}

uint64_t InMemoryNodeSource::size() const {
  return levels_.empty() ? 0 : levels_[0].size();
}

absl::StatusOr<Hash> InMemoryNodeSource::Node(uint32_t level,
                                              uint64_t index) const {
  if (level >= levels_.size() || index >= levels_[level].size()) {
    return absl::NotFoundError(
        absl::StrCat("node (level ", level, ", index ", index,
                     ") is not a complete subtree of the ", size(),
                     " leaves held in memory"));
  }
  return levels_[level][index];
}

}  // namespace rustiq::merkle
