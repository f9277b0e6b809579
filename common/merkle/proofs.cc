#include "common/merkle/proofs.h"

#include <algorithm>
#include <bit>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace rustiq::merkle {
namespace {

// The largest power of two strictly below `size` (size >= 2): RFC 6962's k.
uint64_t SplitPoint(uint64_t size) { return std::bit_floor(size - 1); }

// Reads one complete subtree, saying which one and why on failure.
absl::StatusOr<Hash> ReadNode(const NodeSource& source, uint32_t level,
                              uint64_t index, absl::string_view what) {
  absl::StatusOr<Hash> hash = source.Node(level, index);
  if (!hash.ok()) {
    return absl::Status(
        hash.status().code(),
        absl::StrCat(what, ": reading node (level ", level, ", index ", index,
                     "): ", hash.status().message()));
  }
  return hash;
}

// MTH(D[begin:end]) for a non-empty range that RFC 6962's recursion can
// produce: `begin` is a multiple of the smallest power of two >= end - begin.
// Composed from one complete subtree per bit set in end - begin, largest
// first, nested from the right like the root of a tree of that size.
absl::StatusOr<Hash> RangeHash(const NodeSource& source, uint64_t begin,
                               uint64_t end, absl::string_view what) {
  const uint64_t size = end - begin;
  std::vector<Hash> parts;
  uint64_t position = begin;
  for (int level = std::bit_width(size) - 1; level >= 0; --level) {
    const uint64_t width = uint64_t{1} << level;
    if ((size & width) == 0) continue;
    absl::StatusOr<Hash> part =
        ReadNode(source, static_cast<uint32_t>(level), position >> level, what);
    if (!part.ok()) return part.status();
    parts.push_back(*part);
    position += width;
  }
  Hash hash = parts.back();
  for (size_t i = parts.size() - 1; i-- > 0;) {
    hash = NodeHash(parts[i], hash);
  }
  return hash;
}

}  // namespace

absl::StatusOr<Hash> RootAt(const NodeSource& source, uint64_t size) {
  if (size == 0) return EmptyRoot();
  return RangeHash(source, 0, size,
                   absl::StrCat("root of the tree of size ", size));
}

absl::StatusOr<std::vector<Hash>> InclusionProof(const NodeSource& source,
                                                 uint64_t leaf_index,
                                                 uint64_t tree_size) {
  if (leaf_index >= tree_size) {
    return absl::InvalidArgumentError(
        tree_size == 0
            ? absl::StrCat("no inclusion proof for leaf ", leaf_index,
                           ": the tree of size 0 is empty")
            : absl::StrCat("no inclusion proof for leaf ", leaf_index,
                           " in a tree of size ", tree_size,
                           ": its leaves are 0 to ", tree_size - 1));
  }
  const std::string what = absl::StrCat("inclusion proof for leaf ", leaf_index,
                                        " of tree size ", tree_size);
  // Walks PATH's recursion from the root down over D[begin:end]; each step
  // yields the sibling of the half holding the leaf. Only the first step
  // that goes left can meet an incomplete sibling; every other one is a
  // single complete subtree.
  std::vector<Hash> proof;
  uint64_t begin = 0;
  uint64_t end = tree_size;
  while (end - begin > 1) {
    const uint64_t k = SplitPoint(end - begin);
    absl::StatusOr<Hash> sibling;
    if (leaf_index < begin + k) {
      sibling = RangeHash(source, begin + k, end, what);  // MTH(D[k:n])
      end = begin + k;
    } else {
      sibling = RangeHash(source, begin, begin + k, what);  // MTH(D[0:k])
      begin += k;
    }
    if (!sibling.ok()) return sibling.status();
    proof.push_back(*sibling);
  }
  // PATH lists the deepest sibling first.
  std::reverse(proof.begin(), proof.end());
  return proof;
}

absl::StatusOr<std::vector<Hash>> ConsistencyProof(const NodeSource& source,
                                                   uint64_t old_size,
                                                   uint64_t new_size) {
  if (old_size == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "no consistency proof from tree size 0 to ", new_size,
        ": every tree extends the empty tree, and RFC 6962 defines no proof "
        "for it; ask from size 1 or more"));
  }
  if (old_size > new_size) {
    return absl::InvalidArgumentError(
        absl::StrCat("no consistency proof from tree size ", old_size, " to ",
                     new_size, ": the old size is larger than the new size"));
  }
  std::vector<Hash> proof;
  if (old_size == new_size) return proof;
  const std::string what = absl::StrCat("consistency proof from tree size ",
                                        old_size, " to ", new_size);
  // Walks SUBPROOF(m, D[begin:end], b) from the top; `old_is_whole` is b,
  // true while D[begin:end]'s left part is still all of the old tree.
  uint64_t begin = 0;
  uint64_t end = new_size;
  bool old_is_whole = true;
  while (true) {
    if (old_size == end) {
      // SUBPROOF(m, D[m], b): nothing if the verifier knows this hash (it is
      // the old root), else MTH(D[begin:end]), a complete subtree here.
      if (!old_is_whole) {
        absl::StatusOr<Hash> hash = RangeHash(source, begin, end, what);
        if (!hash.ok()) return hash.status();
        proof.push_back(*hash);
      }
      break;
    }
    const uint64_t k = SplitPoint(end - begin);
    absl::StatusOr<Hash> sibling;
    if (old_size <= begin + k) {
      sibling = RangeHash(source, begin + k, end, what);  // MTH(D[k:n])
      end = begin + k;
    } else {
      sibling = RangeHash(source, begin, begin + k, what);  // MTH(D[0:k])
      begin += k;
      old_is_whole = false;
    }
    if (!sibling.ok()) return sibling.status();
    proof.push_back(*sibling);
  }
  std::reverse(proof.begin(), proof.end());
  return proof;
}

}  // namespace rustiq::merkle
