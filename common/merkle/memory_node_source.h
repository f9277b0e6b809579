// A NodeSource over leaf hashes held in memory, for tests and for a verifier
// that has all the entries (e.g. one replaying an exported log).
#ifndef RUSTIQ_COMMON_MERKLE_MEMORY_NODE_SOURCE_H_
#define RUSTIQ_COMMON_MERKLE_MEMORY_NODE_SOURCE_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "common/merkle/hash.h"
#include "common/merkle/node_source.h"

namespace rustiq::merkle {

// Keeps every level of the tree (about 2n hashes for n leaves), so Node() is
// a lookup and Append() costs O(1) amortized. Not thread-safe to Append()
// while another thread reads; concurrent Node() calls are fine.
class InMemoryNodeSource final : public NodeSource {
 public:
  InMemoryNodeSource() = default;
  explicit InMemoryNodeSource(const std::vector<Hash>& leaf_hashes);

  // Adds a leaf (its LeafHash) at index size().
  void Append(const Hash& leaf_hash);
  uint64_t size() const;

  // NotFound for a node that is not a complete subtree of the held leaves.
  absl::StatusOr<Hash> Node(uint32_t level, uint64_t index) const override;

 private:
  // levels_[L][i] is the hash of the complete subtree (L, i).
  std::vector<std::vector<Hash>> levels_;
};

}  // namespace rustiq::merkle

#endif  // RUSTIQ_COMMON_MERKLE_MEMORY_NODE_SOURCE_H_
