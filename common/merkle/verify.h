// Verification of RFC 6962 inclusion and consistency proofs, following the
// algorithms of RFC 9162 sections 2.1.3.2 and 2.1.4.2. These need no access
// to the log: a client checks a proof against a root it trusts (one taken
// from a signed checkpoint).
//
// Errors:
//   InvalidArgument  the sizes or index name no proof at all (leaf_index >=
//                    tree_size, old_size 0, old_size > new_size);
//   DataLoss         the proof does not prove the claim: wrong number of
//                    hashes, or it computes a different root. The message
//                    gives the sizes, the index and both roots in hex.
#ifndef RUSTIQ_COMMON_MERKLE_VERIFY_H_
#define RUSTIQ_COMMON_MERKLE_VERIFY_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "common/merkle/hash.h"

namespace rustiq::merkle {

// That the leaf with hash `leaf_hash` (a LeafHash) is at `leaf_index` in the
// tree of `tree_size` leaves whose root is `root`.
absl::Status VerifyInclusion(const Hash& leaf_hash, uint64_t leaf_index,
                             uint64_t tree_size, const std::vector<Hash>& proof,
                             const Hash& root);

// That the tree of `old_size` leaves with root `old_root` is a prefix of the
// tree of `new_size` leaves with root `new_root`. Needs 1 <= old_size <=
// new_size; for old_size == new_size the proof is empty and the roots equal.
absl::Status VerifyConsistency(uint64_t old_size, uint64_t new_size,
                               const Hash& old_root, const Hash& new_root,
                               const std::vector<Hash>& proof);

// The number of hashes in a correct proof, so that a caller can refuse an
// oversized one before reading it. Both need valid arguments as above (0
// otherwise).
size_t InclusionProofLength(uint64_t leaf_index, uint64_t tree_size);
size_t ConsistencyProofLength(uint64_t old_size, uint64_t new_size);

}  // namespace rustiq::merkle

#endif  // RUSTIQ_COMMON_MERKLE_VERIFY_H_
