// The compact range of a Merkle tree: the hashes of the maximal complete
// subtrees that make up a tree of n leaves (one per bit set in n, so at most
// 64). It is all the state an append-only log needs in memory to compute the
// root after every append.
#ifndef RUSTIQ_COMMON_MERKLE_COMPACT_RANGE_H_
#define RUSTIQ_COMMON_MERKLE_COMPACT_RANGE_H_

#include <cstdint>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "common/merkle/hash.h"
#include "common/merkle/node_source.h"

namespace rustiq::merkle {

// A complete subtree (see node_source.h for the addressing) and its hash.
struct CompleteNode {
  uint32_t level = 0;
  uint64_t index = 0;
  Hash hash{};

  bool operator==(const CompleteNode&) const = default;
};

// Not thread-safe; the owner (the event store) serializes appends.
class CompactRange {
 public:
  // The empty tree.
  CompactRange() = default;

  // A tree of `size` leaves whose frontier hashes are `frontier`, ordered as
  // FrontierIds(size). InvalidArgument if there are not popcount(size).
  static absl::StatusOr<CompactRange> FromFrontier(uint64_t size,
                                                   std::vector<Hash> frontier);
  // Rebuilds the range of a tree of `size` leaves by reading its
  // FrontierIds(size) from `source` (popcount(size) lookups), e.g. when the
  // store reopens. Errors from `source` come back with their code.
  static absl::StatusOr<CompactRange> FromNodeSource(const NodeSource& source,
                                                     uint64_t size);

  // Appends the leaf with hash `leaf_hash` (a LeafHash) at index size() and
  // returns the nodes that became complete by it, lowest level first: the
  // leaf itself (level 0, index size()-1), then one node per level the append
  // closed. A store persists exactly these to answer proofs later. Aborts if
  // the tree already has 2^64 - 1 leaves (an impossibility in practice).
  std::vector<CompleteNode> Append(const Hash& leaf_hash);

  // The RFC 6962 Merkle tree hash of the current tree; EmptyRoot() when empty.
  Hash Root() const;
  uint64_t size() const { return size_; }
  // Ordered as FrontierIds(size()).
  const std::vector<Hash>& Frontier() const { return frontier_; }

 private:
  CompactRange(uint64_t size, std::vector<Hash> frontier)
      : size_(size), frontier_(std::move(frontier)) {}

  uint64_t size_ = 0;
  std::vector<Hash> frontier_;
};

}  // namespace rustiq::merkle

#endif  // RUSTIQ_COMMON_MERKLE_COMPACT_RANGE_H_
