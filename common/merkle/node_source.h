// Where the proof functions get the hashes of complete subtrees from.
//
// Node addressing: a complete subtree is (level L, index i) and covers the
// leaves [i * 2^L, (i + 1) * 2^L). Level 0 holds the leaf hashes themselves;
// (L, i) is NodeHash((L-1, 2i), (L-1, 2i+1)). A complete subtree's hash never
// changes once the tree has (i + 1) * 2^L leaves, so a store can persist each
// one when it becomes complete (CompactRange::Append reports them) and never
// rewrite it.
#ifndef RUSTIQ_COMMON_MERKLE_NODE_SOURCE_H_
#define RUSTIQ_COMMON_MERKLE_NODE_SOURCE_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "common/merkle/hash.h"

namespace rustiq::merkle {

// A tree of at most 2^64 - 1 leaves has no complete subtree above level 63.
inline constexpr uint32_t kMaxLevel = 63;

struct NodeId {
  uint32_t level = 0;
  uint64_t index = 0;

  // The first leaf the subtree covers, and one past the last.
  uint64_t BeginLeaf() const { return index << level; }
  uint64_t EndLeaf() const { return (index + 1) << level; }

  bool operator==(const NodeId&) const = default;
};

// The maximal complete subtrees that make up a tree of `size` leaves, left
// (largest) to right (smallest): one per bit set in `size`.
std::vector<NodeId> FrontierIds(uint64_t size);

// Read access to complete subtree hashes.
class NodeSource {
 public:
  virtual ~NodeSource() = default;

  // The hash of the complete subtree (level, index). Implementations return
  // NotFound for a node they do not hold (pruned, or beyond the tree) and may
  // return any other error (I/O, corruption); callers pass errors on with
  // their code. May be called concurrently if the implementation says so.
  virtual absl::StatusOr<Hash> Node(uint32_t level, uint64_t index) const = 0;
};

}  // namespace rustiq::merkle

#endif  // RUSTIQ_COMMON_MERKLE_NODE_SOURCE_H_
