#include "common/merkle/compact_range.h"

#include <bit>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace rustiq::merkle {

absl::StatusOr<CompactRange> CompactRange::FromFrontier(
    uint64_t size, std::vector<Hash> frontier) {
  const size_t want = static_cast<size_t>(std::popcount(size));
  if (frontier.size() != want) {
    return absl::InvalidArgumentError(
        absl::StrCat("a tree of ", size, " leaves has ", want,
                     " frontier hashes (one per bit set in the size), got ",
                     frontier.size()));
  }
  return CompactRange(size, std::move(frontier));
}

absl::StatusOr<CompactRange> CompactRange::FromNodeSource(
    const NodeSource& source, uint64_t size) {
  std::vector<Hash> frontier;
  for (const NodeId& id : FrontierIds(size)) {
    absl::StatusOr<Hash> hash = source.Node(id.level, id.index);
    if (!hash.ok()) {
      return absl::Status(
          hash.status().code(),
          absl::StrCat("rebuilding the compact range of a tree of ", size,
                       " leaves: node (level ", id.level, ", index ", id.index,
                       "): ", hash.status().message()));
    }
    frontier.push_back(*hash);
  }
  return CompactRange(size, std::move(frontier));
}

std::vector<CompleteNode> CompactRange::Append(const Hash& leaf_hash) {
  if (size_ == std::numeric_limits<uint64_t>::max()) {
    std::fputs(
        "rustiq::merkle: CompactRange::Append on a tree of 2^64 - 1 "
        "leaves\n",
        stderr);
    std::abort();
  }
  const uint64_t index = size_;
  std::vector<CompleteNode> completed;
  completed.push_back(CompleteNode{0, index, leaf_hash});
  // Appending leaf `index` closes one subtree per trailing one bit of
  // `index`: each merges the smallest frontier entry with the new node.
  Hash hash = leaf_hash;
  const int merges = std::countr_one(index);
  for (int level = 1; level <= merges; ++level) {
    hash = NodeHash(frontier_.back(), hash);
    frontier_.pop_back();
    completed.push_back(
        CompleteNode{static_cast<uint32_t>(level), index >> level, hash});
  }
  frontier_.push_back(hash);
  ++size_;
  return completed;
}

Hash CompactRange::Root() const {
  if (frontier_.empty()) return EmptyRoot();
  // RFC 6962 splits at the largest power of two below the size, so the root
  // nests the frontier from the right: H(f0, H(f1, ... H(fk-1, fk))).
  Hash root = frontier_.back();
  for (size_t i = frontier_.size() - 1; i-- > 0;) {
    root = NodeHash(frontier_[i], root);
  }
  return root;
}

}  // namespace rustiq::merkle
