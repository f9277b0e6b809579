#include "common/merkle/verify.h"

#include <bit>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace rustiq::merkle {
namespace {

bool IsPowerOfTwo(uint64_t n) { return std::has_single_bit(n); }

// Right-shifts fn and sn together until fn's lowest bit is set or fn is 0
// (RFC 9162 2.1.3.2 step 4 and 2.1.4.2 step 6).
void ShiftWhileEven(uint64_t& fn, uint64_t& sn) {
  while ((fn & 1) == 0 && fn != 0) {
    fn >>= 1;
    sn >>= 1;
  }
}

absl::Status WrongLength(const std::string& what, size_t got, size_t want) {
  return absl::DataLossError(absl::StrCat(
      what, " has ", got, got == 1 ? " hash" : " hashes", ", expected ", want));
}

absl::Status DoesNotFit(const std::string& what) {
  // Unreachable once the length matched; kept so that the RFC's own checks
  // stand on their own.
  return absl::DataLossError(
      absl::StrCat(what, " does not fit the shape of the tree"));
}

}  // namespace

size_t InclusionProofLength(uint64_t leaf_index, uint64_t tree_size) {
  if (leaf_index >= tree_size) return 0;
  // One hash per level of PATH's recursion.
  size_t length = 0;
  uint64_t begin = 0;
  uint64_t end = tree_size;
  while (end - begin > 1) {
    const uint64_t k = std::bit_floor(end - begin - 1);
    if (leaf_index < begin + k) {
      end = begin + k;
    } else {
      begin += k;
    }
    ++length;
  }
  return length;
}

size_t ConsistencyProofLength(uint64_t old_size, uint64_t new_size) {
  if (old_size == 0 || old_size >= new_size) return 0;
  // One hash per level of SUBPROOF's recursion, plus the old tree's last
  // subtree unless the old tree is itself the left edge of the new one.
  size_t length = 0;
  uint64_t begin = 0;
  uint64_t end = new_size;
  bool old_is_whole = true;
  while (old_size != end) {
    const uint64_t k = std::bit_floor(end - begin - 1);
    if (old_size <= begin + k) {
      end = begin + k;
    } else {
      begin += k;
      old_is_whole = false;
    }
    ++length;
  }
  return old_is_whole ? length : length + 1;
}

absl::Status VerifyInclusion(const Hash& leaf_hash, uint64_t leaf_index,
                             uint64_t tree_size, const std::vector<Hash>& proof,
                             const Hash& root) {
  // Step 1.
  if (leaf_index >= tree_size) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot verify inclusion of leaf ", leaf_index, " in a tree of size ",
        tree_size, ": the leaf index must be below the tree size"));
  }
  const std::string what = absl::StrCat("inclusion proof for leaf ", leaf_index,
                                        " of tree size ", tree_size);
  const size_t want = InclusionProofLength(leaf_index, tree_size);
  if (proof.size() != want) return WrongLength(what, proof.size(), want);

  // Steps 2 to 4.
  uint64_t fn = leaf_index;
  uint64_t sn = tree_size - 1;
  Hash r = leaf_hash;
  for (const Hash& p : proof) {
    if (sn == 0) return DoesNotFit(what);
    if ((fn & 1) == 1 || fn == sn) {
      r = NodeHash(p, r);
      if ((fn & 1) == 0) ShiftWhileEven(fn, sn);
    } else {
      r = NodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  // Step 5.
  if (sn != 0) return DoesNotFit(what);
  if (r != root) {
    return absl::DataLossError(absl::StrCat(what, " computes root ", ToHex(r),
                                            ", expected ", ToHex(root)));
  }
  return absl::OkStatus();
}

absl::Status VerifyConsistency(uint64_t old_size, uint64_t new_size,
                               const Hash& old_root, const Hash& new_root,
                               const std::vector<Hash>& proof) {
  if (old_size == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot verify consistency from tree size 0 to ", new_size,
        ": every tree extends the empty tree, and there is no proof for it"));
  }
  if (old_size > new_size) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot verify consistency from tree size ", old_size, " to ", new_size,
        ": the old size is larger than the new size"));
  }
  const std::string what = absl::StrCat("consistency proof from tree size ",
                                        old_size, " to ", new_size);
  if (old_size == new_size) {
    // PROOF(m, D[m]) is empty: the two roots must simply be the same.
    if (!proof.empty()) return WrongLength(what, proof.size(), 0);
    if (old_root != new_root) {
      return absl::DataLossError(
          absl::StrCat("two roots of the same tree size ", old_size,
                       " differ: ", ToHex(old_root), " and ", ToHex(new_root)));
    }
    return absl::OkStatus();
  }
  const size_t want = ConsistencyProofLength(old_size, new_size);
  // Step 1 (an empty proof) is covered: a proof between different sizes
  // always has at least one hash.
  if (proof.size() != want) return WrongLength(what, proof.size(), want);

  // Step 2: if the old tree is a complete subtree its root is the first
  // hash of the path; otherwise the proof carries it.
  const bool prepend_old_root = IsPowerOfTwo(old_size);
  auto path = [&](size_t i) -> const Hash& {
    if (prepend_old_root) return i == 0 ? old_root : proof[i - 1];
    return proof[i];
  };
  const size_t path_size = proof.size() + (prepend_old_root ? 1 : 0);

  // Steps 3 to 5.
  uint64_t fn = old_size - 1;
  uint64_t sn = new_size - 1;
  while ((fn & 1) == 1) {
    fn >>= 1;
    sn >>= 1;
  }
  Hash fr = path(0);
  Hash sr = path(0);
  // Step 6.
  for (size_t i = 1; i < path_size; ++i) {
    const Hash& c = path(i);
    if (sn == 0) return DoesNotFit(what);
    if ((fn & 1) == 1 || fn == sn) {
      fr = NodeHash(c, fr);
      sr = NodeHash(c, sr);
      if ((fn & 1) == 0) ShiftWhileEven(fn, sn);
    } else {
      sr = NodeHash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  // Step 7.
  if (sn != 0) return DoesNotFit(what);
  if (fr != old_root) {
    return absl::DataLossError(absl::StrCat(what, " computes old root ",
                                            ToHex(fr), ", expected ",
                                            ToHex(old_root)));
  }
  if (sr != new_root) {
    return absl::DataLossError(absl::StrCat(what, " computes new root ",
                                            ToHex(sr), ", expected ",
                                            ToHex(new_root)));
  }
  return absl::OkStatus();
}

}  // namespace rustiq::merkle
