// Roots and proofs of an RFC 6962 Merkle tree, computed from the hashes of
// complete subtrees (a NodeSource), exactly as RFC 6962 section 2.1.1 (PATH)
// and 2.1.2 (PROOF / SUBPROOF) define them. Where the definition needs the
// hash of an incomplete right subtree, it is composed from the complete
// subtrees that make it up, so each function makes O(log n) Node() lookups
// (at most about 2 * 64) and never reads a leaf it does not need.
//
// Errors: InvalidArgument for sizes and indices that name no proof (the
// message gives the values); any error from the NodeSource is returned with
// its code (NotFound for pruned nodes, say) and the node it was reading.
#ifndef RUSTIQ_COMMON_MERKLE_PROOFS_H_
#define RUSTIQ_COMMON_MERKLE_PROOFS_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "common/merkle/hash.h"
#include "common/merkle/node_source.h"

namespace rustiq::merkle {

// MTH(D[0:size]); EmptyRoot() for size 0 (without any lookup).
absl::StatusOr<Hash> RootAt(const NodeSource& source, uint64_t size);

// PATH(leaf_index, D[0:tree_size]): the sibling hashes from the leaf up to
// the root. Needs leaf_index < tree_size.
absl::StatusOr<std::vector<Hash>> InclusionProof(const NodeSource& source,
                                                 uint64_t leaf_index,
                                                 uint64_t tree_size);

// PROOF(old_size, D[0:new_size]). Needs 1 <= old_size <= new_size; the proof
// for old_size == new_size is empty. (Every tree extends the empty tree, and
// RFC 6962 defines no proof for it, so old_size 0 is refused.)
absl::StatusOr<std::vector<Hash>> ConsistencyProof(const NodeSource& source,
                                                   uint64_t old_size,
                                                   uint64_t new_size);

}  // namespace rustiq::merkle

#endif  // RUSTIQ_COMMON_MERKLE_PROOFS_H_
