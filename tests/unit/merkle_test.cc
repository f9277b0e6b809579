// Tests of common/merkle: hashing, the compact range, proofs and their
// verification, against a reference implementation written here directly
// from the definitions of RFC 6962 section 2.1 (with its own SHA-256 calls),
// and against the known answers of the certificate-transparency test leaves
// (transparency-dev/merkle testonly/constants.go and proof/verify_test.go).
#include <openssl/evp.h>

#include <algorithm>
#include <bit>
#include <cctype>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "common/merkle/compact_range.h"
#include "common/merkle/hash.h"
#include "common/merkle/memory_node_source.h"
#include "common/merkle/node_source.h"
#include "common/merkle/proofs.h"
#include "common/merkle/verify.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace rustiq::merkle {
namespace {

using ::testing::ElementsAreArray;
using ::testing::HasSubstr;

// ---------------------------------------------------------------------------
// Reference implementation, RFC 6962 section 2.1, deliberately naive.

Hash RefSha256(const std::string& data) {
  Hash out;
  unsigned int length = 0;
  EXPECT_EQ(EVP_Digest(data.data(), data.size(), out.data(), &length,
                       EVP_sha256(), nullptr),
            1);
  return out;
}

std::string Bytes(const Hash& h) {
  return std::string(reinterpret_cast<const char*>(h.data()), h.size());
}

Hash RefLeaf(const std::string& entry) {
  return RefSha256(std::string(1, '\x00') + entry);
}

Hash RefNode(const Hash& left, const Hash& right) {
  return RefSha256(std::string(1, '\x01') + Bytes(left) + Bytes(right));
}

using Entries = absl::Span<const std::string>;

// k, the largest power of two smaller than n (n > 1).
uint64_t RefSplit(uint64_t n) {
  uint64_t k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

// MTH(D[n]).
Hash RefMth(Entries d) {
  if (d.empty()) return RefSha256("");
  if (d.size() == 1) return RefLeaf(d[0]);
  const uint64_t k = RefSplit(d.size());
  return RefNode(RefMth(d.subspan(0, k)), RefMth(d.subspan(k)));
}

// PATH(m, D[n]).
std::vector<Hash> RefPath(uint64_t m, Entries d) {
  if (d.size() == 1) return {};
  const uint64_t k = RefSplit(d.size());
  std::vector<Hash> path;
  if (m < k) {
    path = RefPath(m, d.subspan(0, k));
    path.push_back(RefMth(d.subspan(k)));
  } else {
    path = RefPath(m - k, d.subspan(k));
    path.push_back(RefMth(d.subspan(0, k)));
  }
  return path;
}

// SUBPROOF(m, D[n], b).
std::vector<Hash> RefSubproof(uint64_t m, Entries d, bool b) {
  if (m == d.size()) {
    if (b) return {};
    return {RefMth(d)};
  }
  const uint64_t k = RefSplit(d.size());
  std::vector<Hash> proof;
  if (m <= k) {
    proof = RefSubproof(m, d.subspan(0, k), b);
    proof.push_back(RefMth(d.subspan(k)));
  } else {
    proof = RefSubproof(m - k, d.subspan(k), false);
    proof.push_back(RefMth(d.subspan(0, k)));
  }
  return proof;
}

// PROOF(m, D[n]).
std::vector<Hash> RefProof(uint64_t m, Entries d) {
  return RefSubproof(m, d, true);
}

// Reference verifiers: undo PATH's and SUBPROOF's recursions, consuming the
// proof from its end (the top-level sibling is the last element). They accept
// exactly the proofs whose hashes, combined the way the definitions combine
// them for the claimed index and sizes, give the claimed roots.

std::optional<Hash> RefRootFromPath(uint64_t m, uint64_t n, const Hash& leaf,
                                    std::vector<Hash>& proof) {
  if (n == 1) return leaf;
  if (proof.empty()) return std::nullopt;
  const Hash sibling = proof.back();
  proof.pop_back();
  const uint64_t k = RefSplit(n);
  if (m < k) {
    std::optional<Hash> left = RefRootFromPath(m, k, leaf, proof);
    if (!left) return std::nullopt;
    return RefNode(*left, sibling);
  }
  std::optional<Hash> right = RefRootFromPath(m - k, n - k, leaf, proof);
  if (!right) return std::nullopt;
  return RefNode(sibling, *right);
}

bool RefVerifyInclusion(const Hash& leaf, uint64_t m, uint64_t n,
                        std::vector<Hash> proof, const Hash& root) {
  if (m >= n) return false;
  std::optional<Hash> got = RefRootFromPath(m, n, leaf, proof);
  return got && proof.empty() && *got == root;
}

// Returns (old root, new root) as the proof claims them.
std::optional<std::pair<Hash, Hash>> RefRootsFromSubproof(
    uint64_t m, uint64_t n, bool b, const Hash& old_root,
    std::vector<Hash>& proof) {
  if (m == n) {
    if (b) return std::make_pair(old_root, old_root);
    if (proof.empty()) return std::nullopt;
    const Hash x = proof.back();
    proof.pop_back();
    return std::make_pair(x, x);
  }
  if (proof.empty()) return std::nullopt;
  const Hash sibling = proof.back();
  proof.pop_back();
  const uint64_t k = RefSplit(n);
  if (m <= k) {
    auto sub = RefRootsFromSubproof(m, k, b, old_root, proof);
    if (!sub) return std::nullopt;
    return std::make_pair(sub->first, RefNode(sub->second, sibling));
  }
  auto sub = RefRootsFromSubproof(m - k, n - k, false, old_root, proof);
  if (!sub) return std::nullopt;
  return std::make_pair(RefNode(sibling, sub->first),
                        RefNode(sibling, sub->second));
}

bool RefVerifyConsistency(uint64_t m, uint64_t n, const Hash& old_root,
                          const Hash& new_root, std::vector<Hash> proof) {
  if (m == 0 || m > n) return false;
  if (m == n) return proof.empty() && old_root == new_root;
  auto roots = RefRootsFromSubproof(m, n, true, old_root, proof);
  return roots && proof.empty() && roots->first == old_root &&
         roots->second == new_root;
}

// ---------------------------------------------------------------------------
// Test data.

Hash H(absl::string_view hex) {
  absl::StatusOr<Hash> h = HashFromHex(hex);
  EXPECT_TRUE(h.ok()) << h.status();
  return h.ok() ? *h : Hash{};
}

std::vector<Hash> Hashes(std::initializer_list<absl::string_view> hexes) {
  std::vector<Hash> out;
  for (absl::string_view hex : hexes) out.push_back(H(hex));
  return out;
}

// The certificate-transparency test leaves (transparency-dev/merkle
// testonly.LeafInputs) and their known answers.
std::vector<std::string> CtLeaves() {
  std::vector<std::string> out;
  for (const char* hex :
       {"", "00", "10", "2021", "3031", "40414243", "5051525354555657",
        "606162636465666768696a6b6c6d6e6f"}) {
    out.push_back(absl::HexStringToBytes(hex));
  }
  return out;
}

// testonly.NodeHashes: [level][index].
std::vector<std::vector<Hash>> CtNodeHashes() {
  return {
      Hashes(
          {"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
           "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
           "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
           "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
           "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
           "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
           "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
           "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1"}),
      Hashes(
          {"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
           "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
           "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
           "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"}),
      Hashes(
          {"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
           "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}),
      Hashes(
          {"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"}),
  };
}

// testonly.RootHashes: the root at every size 0..8.
std::vector<Hash> CtRoots() {
  return Hashes(
      {"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
       "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
       "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
       "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
       "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
       "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
       "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
       "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
       "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"});
}

// The sizes every property is checked at.
std::vector<uint64_t> TestSizes() {
  std::vector<uint64_t> sizes;
  for (uint64_t n = 1; n <= 70; ++n) sizes.push_back(n);
  for (uint64_t n : {127, 128, 129, 255, 256, 257, 1023, 1024, 1025}) {
    sizes.push_back(n);
  }
  return sizes;
}

constexpr uint64_t kAllPairsUpTo = 70;
constexpr uint64_t kMaxTestSize = 1025;

// Leaf indices to prove in a tree of n: all of them in small trees, else 0,
// the last, powers of two and their neighbours, and the middle.
std::vector<uint64_t> SampleIndices(uint64_t n) {
  std::set<uint64_t> out;
  if (n <= kAllPairsUpTo) {
    for (uint64_t i = 0; i < n; ++i) out.insert(i);
  } else {
    for (uint64_t i : {uint64_t{0}, uint64_t{1}, n / 2, n - 2, n - 1}) {
      out.insert(i);
    }
    for (uint64_t p = 1; p < n; p *= 2) {
      for (uint64_t i : {p - 1, p, p + 1}) {
        if (i < n) out.insert(i);
      }
    }
  }
  return {out.begin(), out.end()};
}

// Old sizes to prove consistency from, for a new size n.
std::vector<uint64_t> SampleOldSizes(uint64_t n) {
  std::set<uint64_t> out;
  if (n <= kAllPairsUpTo) {
    for (uint64_t m = 1; m <= n; ++m) out.insert(m);
  } else {
    for (uint64_t m :
         {uint64_t{1}, uint64_t{2}, uint64_t{3}, n / 2, n - 1, n}) {
      out.insert(m);
    }
    for (uint64_t p = 1; p <= n; p *= 2) {
      for (uint64_t m : {p - 1, p, p + 1}) {
        if (m >= 1 && m <= n) out.insert(m);
      }
    }
    for (uint64_t m : TestSizes()) {
      if (m < n) out.insert(m);
    }
  }
  return {out.begin(), out.end()};
}

std::vector<std::string> MakeEntries(uint64_t n) {
  std::vector<std::string> entries;
  for (uint64_t i = 0; i < n; ++i) {
    entries.push_back(absl::StrCat("security event #", i));
  }
  return entries;
}

// A log of kMaxTestSize entries, built once for every test.
struct TestLog {
  std::vector<std::string> entries;
  InMemoryNodeSource source;
  std::vector<Hash> roots;  // reference MTH at every size 0..kMaxTestSize
};

const TestLog& Log() {
  static const TestLog* const log = [] {
    auto* l = new TestLog;
    l->entries = MakeEntries(kMaxTestSize);
    for (const std::string& e : l->entries) l->source.Append(LeafHash(e));
    for (uint64_t n = 0; n <= kMaxTestSize; ++n) {
      l->roots.push_back(RefMth(Entries(l->entries).subspan(0, n)));
    }
    return l;
  }();
  return *log;
}

Entries Prefix(uint64_t n) { return Entries(Log().entries).subspan(0, n); }

Hash FlipBit(Hash h, size_t bit) {
  h[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
  return h;
}

// A NodeSource wrapper that counts lookups and remembers what was read.
class RecordingSource final : public NodeSource {
 public:
  explicit RecordingSource(const NodeSource& inner) : inner_(inner) {}
  absl::StatusOr<Hash> Node(uint32_t level, uint64_t index) const override {
    reads_.push_back(NodeId{level, index});
    return inner_.Node(level, index);
  }
  const std::vector<NodeId>& reads() const { return reads_; }
  void Clear() { reads_.clear(); }

 private:
  const NodeSource& inner_;
  mutable std::vector<NodeId> reads_;
};

// Fails with `error` when asked for `failing`, else asks `inner`.
class FailingSource final : public NodeSource {
 public:
  FailingSource(const NodeSource& inner, NodeId failing, absl::Status error)
      : inner_(inner), failing_(failing), error_(std::move(error)) {}
  absl::StatusOr<Hash> Node(uint32_t level, uint64_t index) const override {
    if (NodeId{level, index} == failing_) return error_;
    return inner_.Node(level, index);
  }

 private:
  const NodeSource& inner_;
  NodeId failing_;
  absl::Status error_;
};

// A real tree of any size up to 2^64 - 1 in which every leaf is the same
// entry, so every node of a level has the same hash: lets the proofs run at
// sizes no test could store.
class UniformTreeSource final : public NodeSource {
 public:
  UniformTreeSource() {
    level_hashes_.push_back(LeafHash("the same event"));
    for (uint32_t level = 1; level <= kMaxLevel; ++level) {
      level_hashes_.push_back(
          NodeHash(level_hashes_.back(), level_hashes_.back()));
    }
  }
  absl::StatusOr<Hash> Node(uint32_t level, uint64_t index) const override {
    ++lookups_;
    if (level > kMaxLevel) return absl::NotFoundError("no such level");
    (void)index;
    return level_hashes_[level];
  }
  mutable int lookups_ = 0;

 private:
  std::vector<Hash> level_hashes_;
};

// ---------------------------------------------------------------------------
// Hashing and encodings.

TEST(MerkleHash, EmptyRootIsSha256OfNothing) {
  EXPECT_EQ(ToHex(EmptyRoot()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(CompactRange().Root(), EmptyRoot());
  InMemoryNodeSource empty;
  absl::StatusOr<Hash> root = RootAt(empty, 0);
  ASSERT_TRUE(root.ok()) << root.status();
  EXPECT_EQ(*root, EmptyRoot());
}

TEST(MerkleHash, LeafAndNodeHashesMatchCertificateTransparencyVectors) {
  const std::vector<std::string> leaves = CtLeaves();
  const std::vector<std::vector<Hash>> nodes = CtNodeHashes();
  InMemoryNodeSource source;
  for (size_t i = 0; i < leaves.size(); ++i) {
    EXPECT_EQ(LeafHash(leaves[i]), nodes[0][i]) << "leaf " << i;
    EXPECT_EQ(LeafHash(leaves[i]), RefLeaf(leaves[i]));
    source.Append(LeafHash(leaves[i]));
  }
  for (uint32_t level = 0; level < nodes.size(); ++level) {
    for (uint64_t index = 0; index < nodes[level].size(); ++index) {
      absl::StatusOr<Hash> got = source.Node(level, index);
      ASSERT_TRUE(got.ok()) << got.status();
      EXPECT_EQ(*got, nodes[level][index]) << level << "," << index;
      if (level > 0) {
        EXPECT_EQ(NodeHash(nodes[level - 1][2 * index],
                           nodes[level - 1][2 * index + 1]),
                  nodes[level][index]);
      }
    }
  }
  EXPECT_EQ(source.Node(0, 8).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(source.Node(4, 0).status().code(), absl::StatusCode::kNotFound);
}

TEST(MerkleHash, HexAndBytesRoundTripAndRefuseWrongLengths) {
  const Hash h = LeafHash("x");
  EXPECT_EQ(*HashFromHex(ToHex(h)), h);
  std::string upper = ToHex(h);
  std::transform(upper.begin(), upper.end(), upper.begin(),
                 [](char c) { return static_cast<char>(std::toupper(c)); });
  EXPECT_EQ(*HashFromHex(upper), h);
  EXPECT_EQ(*HashFromBytes(AsBytes(h)), h);
  EXPECT_THAT(std::string(HashFromBytes("short").status().message()),
              HasSubstr("32 bytes, got 5"));
  EXPECT_THAT(std::string(HashFromHex(ToHex(h).substr(2)).status().message()),
              HasSubstr("64 characters, this one is 62"));
  std::string bad = ToHex(h);
  bad[10] = 'g';
  EXPECT_THAT(std::string(HashFromHex(bad).status().message()),
              HasSubstr("character 10 of a hex hash is not a hex digit"));
}

TEST(MerkleBase64, RoundTripsEveryLength) {
  std::string bytes;
  for (int length = 0; length <= 40; ++length) {
    std::string encoded = Base64Encode(bytes);
    EXPECT_EQ(encoded.size(), 4 * ((bytes.size() + 2) / 3));
    absl::StatusOr<std::string> decoded = Base64DecodeStrict(encoded);
    ASSERT_TRUE(decoded.ok()) << encoded << ": " << decoded.status();
    EXPECT_EQ(*decoded, bytes);
    bytes.push_back(static_cast<char>(length * 37 + 200));
  }
  EXPECT_EQ(Base64Encode("\xff\xfe\xfd"), "//79");
  EXPECT_EQ(Base64Encode("\xfb\xef"), "++8=");
}

TEST(MerkleBase64, RefusesAnythingButTheCanonicalEncoding) {
  struct Case {
    const char* input;
    const char* message;
  };
  for (const Case& c : {
           Case{"QUJD\n", "not a multiple of 4"},
           Case{"QUI", "not a multiple of 4"},
           Case{"QU I", "character 2 (' ') is not in the standard alphabet"},
           Case{"QU-_", "character 2 ('-') is not in the standard alphabet"},
           Case{"Q=JD", "character 1 ('=') is not in the standard alphabet"},
           Case{"Q===", "character 1 ('=') is not in the standard alphabet"},
           Case{"====", "character 0 ('=') is not in the standard alphabet"},
           Case{"QUJ=QUJD", "character 3 ('=')"},
           Case{"QR==", "not canonical base64"},  // "QQ==" is canonical
           Case{"QUI=", ""},                      // canonical: "AB"
           Case{"QUJ=", "not canonical base64"},
           Case{"QUK=", "not canonical base64"},
       }) {
    absl::StatusOr<std::string> decoded = Base64DecodeStrict(c.input);
    if (std::string(c.message).empty()) {
      EXPECT_TRUE(decoded.ok()) << c.input << ": " << decoded.status();
      continue;
    }
    ASSERT_FALSE(decoded.ok()) << c.input;
    EXPECT_EQ(decoded.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(decoded.status().message()), HasSubstr(c.message))
        << c.input;
  }
  EXPECT_EQ(*Base64DecodeStrict("QQ=="), "A");
  EXPECT_EQ(*Base64DecodeStrict(""), "");
}

// ---------------------------------------------------------------------------
// Known answers.

TEST(MerkleKnownAnswer, RootsOfTheEightTestLeaves) {
  const std::vector<std::string> leaves = CtLeaves();
  const std::vector<Hash> roots = CtRoots();
  CompactRange range;
  InMemoryNodeSource source;
  EXPECT_EQ(range.Root(), roots[0]);
  for (size_t n = 1; n <= leaves.size(); ++n) {
    range.Append(LeafHash(leaves[n - 1]));
    source.Append(LeafHash(leaves[n - 1]));
    EXPECT_EQ(range.Root(), roots[n]) << "size " << n;
    EXPECT_EQ(*RootAt(source, n), roots[n]) << "size " << n;
    EXPECT_EQ(RefMth(Entries(leaves).subspan(0, n)), roots[n]) << "size " << n;
  }
}

TEST(MerkleKnownAnswer, InclusionProofsOfTheEightTestLeaves) {
  const std::vector<std::string> leaves = CtLeaves();
  const std::vector<Hash> roots = CtRoots();
  InMemoryNodeSource source;
  for (const std::string& leaf : leaves) source.Append(LeafHash(leaf));
  struct Vector {
    uint64_t leaf_index;  // 0-based (the Go vectors count from 1)
    uint64_t tree_size;
    std::vector<Hash> proof;
  };
  const std::vector<Vector> vectors = {
      {0, 8,
       Hashes(
           {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e"
            "4"})},
      {5, 8,
       Hashes(
           {"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b"
            "7"})},
      {2, 3,
       Hashes({"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c12"
               "5"})},
      {1, 5,
       Hashes(
           {"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6"
            "b"})},
      {0, 1, {}},
  };
  for (const Vector& v : vectors) {
    absl::StatusOr<std::vector<Hash>> proof =
        InclusionProof(source, v.leaf_index, v.tree_size);
    ASSERT_TRUE(proof.ok()) << proof.status();
    EXPECT_THAT(*proof, ElementsAreArray(v.proof))
        << v.leaf_index << " in " << v.tree_size;
    EXPECT_TRUE(VerifyInclusion(LeafHash(leaves[v.leaf_index]), v.leaf_index,
                                v.tree_size, v.proof, roots[v.tree_size])
                    .ok());
  }
}

TEST(MerkleKnownAnswer, ConsistencyProofsOfTheEightTestLeaves) {
  const std::vector<std::string> leaves = CtLeaves();
  const std::vector<Hash> roots = CtRoots();
  InMemoryNodeSource source;
  for (const std::string& leaf : leaves) source.Append(LeafHash(leaf));
  struct Vector {
    uint64_t old_size;
    uint64_t new_size;
    std::vector<Hash> proof;
  };
  const std::vector<Vector> vectors = {
      {1, 1, {}},
      {1, 8,
       Hashes(
           {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e"
            "4"})},
      {6, 8,
       Hashes(
           {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b"
            "7"})},
      {2, 5,
       Hashes(
           {"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6"
            "b"})},
      {6, 7,
       Hashes(
           {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b"
            "7"})},
  };
  for (const Vector& v : vectors) {
    absl::StatusOr<std::vector<Hash>> proof =
        ConsistencyProof(source, v.old_size, v.new_size);
    ASSERT_TRUE(proof.ok()) << proof.status();
    EXPECT_THAT(*proof, ElementsAreArray(v.proof))
        << v.old_size << " to " << v.new_size;
    absl::Status verified = VerifyConsistency(
        v.old_size, v.new_size, roots[v.old_size], roots[v.new_size], v.proof);
    EXPECT_TRUE(verified.ok()) << verified;
  }
}

// ---------------------------------------------------------------------------
// CompactRange.

TEST(MerkleCompactRange, RootMatchesReferenceAtEverySize) {
  const TestLog& log = Log();
  CompactRange range;
  EXPECT_EQ(range.Root(), log.roots[0]);
  for (uint64_t n = 1; n <= kMaxTestSize; ++n) {
    range.Append(LeafHash(log.entries[n - 1]));
    ASSERT_EQ(range.size(), n);
    ASSERT_EQ(range.Frontier().size(), static_cast<size_t>(std::popcount(n)));
    ASSERT_EQ(range.Root(), log.roots[n]) << "size " << n;
  }
}

TEST(MerkleCompactRange, AppendReportsEveryCompleteSubtreeOnceWithItsHash) {
  const TestLog& log = Log();
  CompactRange range;
  std::set<std::pair<uint32_t, uint64_t>> seen;
  for (uint64_t n = 1; n <= kMaxTestSize; ++n) {
    const Hash leaf = LeafHash(log.entries[n - 1]);
    std::vector<CompleteNode> completed = range.Append(leaf);
    ASSERT_FALSE(completed.empty());
    EXPECT_EQ(completed[0], (CompleteNode{0, n - 1, leaf}));
    // Appending leaf n-1 closes one subtree per trailing one bit of n-1.
    EXPECT_EQ(completed.size(), 1u + std::countr_one(n - 1)) << "size " << n;
    for (size_t j = 0; j < completed.size(); ++j) {
      const CompleteNode& node = completed[j];
      EXPECT_EQ(node.level, j);
      const uint64_t begin = node.index << node.level;
      const uint64_t width = uint64_t{1} << node.level;
      ASSERT_EQ(begin + width, n) << "a node completes with its last leaf";
      EXPECT_EQ(node.hash, RefMth(Entries(log.entries).subspan(begin, width)))
          << "node (" << node.level << ", " << node.index << ")";
      EXPECT_TRUE(seen.insert({node.level, node.index}).second);
    }
  }
  // Exactly the complete subtrees of the final tree were reported.
  size_t complete = 0;
  for (uint32_t level = 0; (uint64_t{1} << level) <= kMaxTestSize; ++level) {
    complete += kMaxTestSize >> level;
  }
  EXPECT_EQ(seen.size(), complete);
}

TEST(MerkleCompactRange, RebuildsFromNodeSourceOrFrontier) {
  const TestLog& log = Log();
  std::map<uint64_t, std::vector<Hash>> frontiers;
  CompactRange range;
  frontiers[0] = range.Frontier();
  for (uint64_t n = 1; n <= kMaxTestSize; ++n) {
    range.Append(LeafHash(log.entries[n - 1]));
    frontiers[n] = range.Frontier();
  }
  std::vector<uint64_t> sizes = TestSizes();
  sizes.insert(sizes.begin(), 0);
  for (uint64_t n : sizes) {
    RecordingSource recording(log.source);
    absl::StatusOr<CompactRange> rebuilt =
        CompactRange::FromNodeSource(recording, n);
    ASSERT_TRUE(rebuilt.ok()) << rebuilt.status();
    EXPECT_EQ(recording.reads().size(), static_cast<size_t>(std::popcount(n)));
    EXPECT_EQ(rebuilt->size(), n);
    EXPECT_EQ(rebuilt->Frontier(), frontiers[n]);
    EXPECT_EQ(rebuilt->Root(), log.roots[n]) << "size " << n;
    absl::StatusOr<CompactRange> from_frontier =
        CompactRange::FromFrontier(n, frontiers[n]);
    ASSERT_TRUE(from_frontier.ok()) << from_frontier.status();
    EXPECT_EQ(from_frontier->Root(), log.roots[n]);
    // Appending continues as if the range had never been closed.
    for (uint64_t next = n + 1; next <= std::min(n + 9, kMaxTestSize); ++next) {
      rebuilt->Append(LeafHash(log.entries[next - 1]));
      EXPECT_EQ(rebuilt->Root(), log.roots[next]) << n << " then " << next;
    }
  }
}

TEST(MerkleCompactRange, FromFrontierRefusesTheWrongNumberOfHashes) {
  absl::StatusOr<CompactRange> range =
      CompactRange::FromFrontier(7, {EmptyRoot(), EmptyRoot()});
  ASSERT_FALSE(range.ok());
  EXPECT_EQ(range.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(range.status().message()),
              HasSubstr("a tree of 7 leaves has 3 frontier hashes"));
  EXPECT_FALSE(CompactRange::FromFrontier(0, {EmptyRoot()}).ok());
  EXPECT_TRUE(CompactRange::FromFrontier(0, {}).ok());
}

TEST(MerkleCompactRange, FrontierIdsCoverTheTreeLeftToRight) {
  EXPECT_THAT(FrontierIds(0), ElementsAreArray(std::vector<NodeId>{}));
  EXPECT_THAT(FrontierIds(13),
              ElementsAreArray({NodeId{3, 0}, NodeId{2, 2}, NodeId{0, 12}}));
  const std::vector<NodeId> max_ids =
      FrontierIds(std::numeric_limits<uint64_t>::max());
  ASSERT_EQ(max_ids.size(), 64u);
  EXPECT_EQ(max_ids.front(), (NodeId{63, 0}));
  EXPECT_EQ(max_ids.back(),
            (NodeId{0, std::numeric_limits<uint64_t>::max() - 1}));
  for (size_t i = 1; i < max_ids.size(); ++i) {
    EXPECT_EQ(max_ids[i].BeginLeaf(), max_ids[i - 1].EndLeaf());
  }
}

// ---------------------------------------------------------------------------
// Proofs and their verification, against the reference.

TEST(MerkleProofs, RootAtMatchesReference) {
  const TestLog& log = Log();
  for (uint64_t n : TestSizes()) {
    absl::StatusOr<Hash> root = RootAt(log.source, n);
    ASSERT_TRUE(root.ok()) << root.status();
    EXPECT_EQ(*root, log.roots[n]) << "size " << n;
  }
}

// Checks that every way of spoiling a valid inclusion proof fails, except
// the other claims that the reference verifier also accepts.
void ExpectSpoiledInclusionProofsFail(const Hash& leaf, uint64_t index,
                                      uint64_t size,
                                      const std::vector<Hash>& proof,
                                      const Hash& root) {
  const std::string claim = absl::StrCat("leaf ", index, " of size ", size);
  // One flipped bit in each proof hash, in the root and in the leaf.
  for (size_t i = 0; i < proof.size(); ++i) {
    std::vector<Hash> spoiled = proof;
    spoiled[i] = FlipBit(spoiled[i], (i * 31 + index * 7 + 5) % 256);
    absl::Status s = VerifyInclusion(leaf, index, size, spoiled, root);
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << claim << " hash " << i;
  }
  EXPECT_EQ(VerifyInclusion(leaf, index, size, proof,
                            FlipBit(root, (index * 13) % 256))
                .code(),
            absl::StatusCode::kDataLoss)
      << claim;
  EXPECT_EQ(VerifyInclusion(FlipBit(leaf, (size * 11) % 256), index, size,
                            proof, root)
                .code(),
            absl::StatusCode::kDataLoss)
      << claim;
  // Wrong lengths.
  std::vector<std::vector<Hash>> wrong_lengths;
  wrong_lengths.push_back(proof);
  wrong_lengths.back().push_back(root);
  wrong_lengths.push_back(proof);
  wrong_lengths.back().insert(wrong_lengths.back().begin(), leaf);
  if (!proof.empty()) {
    wrong_lengths.emplace_back(proof.begin(), proof.end() - 1);
    wrong_lengths.emplace_back(proof.begin() + 1, proof.end());
  }
  for (const std::vector<Hash>& spoiled : wrong_lengths) {
    absl::Status s = VerifyInclusion(leaf, index, size, spoiled, root);
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << claim;
    EXPECT_THAT(std::string(s.message()),
                HasSubstr(absl::StrCat("expected ", proof.size())));
  }
  // Other indices and sizes: verification must agree with the reference,
  // which accepts a different claim only where the definition combines the
  // same hashes the same way (a proof for leaf 0 of size 4 also proves leaf
  // 0 of size 3 against the same root: proofs do not bind the size, the
  // signed checkpoint does).
  std::vector<std::pair<uint64_t, uint64_t>> claims = {
      {index + 1, size}, {index ^ 2, size},    {index, size + 1},
      {index, size * 2}, {index, size / 2},    {index + 1, size + 1},
      {size, size},      {index, size - index}};
  if (index > 0) claims.push_back({index - 1, size});
  if (size > 1) claims.push_back({index, size - 1});
  for (const auto& [other_index, other_size] : claims) {
    if (other_index == index && other_size == size) continue;
    absl::Status s =
        VerifyInclusion(leaf, other_index, other_size, proof, root);
    const bool want =
        RefVerifyInclusion(leaf, other_index, other_size, proof, root);
    EXPECT_EQ(s.ok(), want) << claim << " claimed as leaf " << other_index
                            << " of size " << other_size << ": " << s;
    if (other_size == size && other_index < size) {
      EXPECT_FALSE(s.ok()) << "another leaf of the same tree";
    }
  }
}

TEST(MerkleProofs, InclusionProofsMatchReferenceAndVerify) {
  const TestLog& log = Log();
  int proofs = 0;
  for (uint64_t n : TestSizes()) {
    for (uint64_t i : SampleIndices(n)) {
      absl::StatusOr<std::vector<Hash>> proof =
          InclusionProof(log.source, i, n);
      ASSERT_TRUE(proof.ok()) << proof.status();
      ASSERT_EQ(*proof, RefPath(i, Prefix(n))) << "leaf " << i << " of " << n;
      EXPECT_EQ(proof->size(), InclusionProofLength(i, n));
      const Hash leaf = LeafHash(log.entries[i]);
      absl::Status verified = VerifyInclusion(leaf, i, n, *proof, log.roots[n]);
      ASSERT_TRUE(verified.ok()) << verified;
      EXPECT_TRUE(RefVerifyInclusion(leaf, i, n, *proof, log.roots[n]));
      ExpectSpoiledInclusionProofsFail(leaf, i, n, *proof, log.roots[n]);
      ++proofs;
    }
  }
  EXPECT_GT(proofs, 2485);  // every leaf of sizes 1..70, and the samples
}

void ExpectSpoiledConsistencyProofsFail(uint64_t m, uint64_t n,
                                        const Hash& old_root,
                                        const Hash& new_root,
                                        const std::vector<Hash>& proof) {
  const std::string claim = absl::StrCat(m, " to ", n);
  for (size_t i = 0; i < proof.size(); ++i) {
    std::vector<Hash> spoiled = proof;
    spoiled[i] = FlipBit(spoiled[i], (i * 29 + m * 3 + n) % 256);
    EXPECT_EQ(VerifyConsistency(m, n, old_root, new_root, spoiled).code(),
              absl::StatusCode::kDataLoss)
        << claim << " hash " << i;
  }
  EXPECT_EQ(
      VerifyConsistency(m, n, FlipBit(old_root, (m * 5) % 256), new_root, proof)
          .code(),
      absl::StatusCode::kDataLoss)
      << claim;
  EXPECT_EQ(
      VerifyConsistency(m, n, old_root, FlipBit(new_root, (n * 7) % 256), proof)
          .code(),
      absl::StatusCode::kDataLoss)
      << claim;
  std::vector<std::vector<Hash>> wrong_lengths;
  wrong_lengths.push_back(proof);
  wrong_lengths.back().push_back(new_root);
  wrong_lengths.push_back(proof);
  wrong_lengths.back().insert(wrong_lengths.back().begin(), old_root);
  if (!proof.empty()) {
    wrong_lengths.emplace_back(proof.begin(), proof.end() - 1);
    wrong_lengths.emplace_back(proof.begin() + 1, proof.end());
    wrong_lengths.emplace_back();
  }
  for (const std::vector<Hash>& spoiled : wrong_lengths) {
    absl::Status s = VerifyConsistency(m, n, old_root, new_root, spoiled);
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << claim;
    EXPECT_THAT(std::string(s.message()),
                HasSubstr(absl::StrCat("expected ", proof.size())))
        << claim;
  }
  if (old_root != new_root) {
    EXPECT_FALSE(VerifyConsistency(m, n, new_root, old_root, proof).ok())
        << claim << " with swapped roots";
  }
  std::vector<std::pair<uint64_t, uint64_t>> claims = {
      {m + 1, n}, {m ^ 2, n},     {m, n + 1},     {m, n * 2},
      {m, n / 2}, {m + 1, n + 1}, {m - 1, n - 1}, {m - 1, n}};
  if (n > 1) claims.push_back({m, n - 1});
  for (const auto& [other_m, other_n] : claims) {
    if (other_m == m && other_n == n) continue;
    absl::Status s =
        VerifyConsistency(other_m, other_n, old_root, new_root, proof);
    const bool want =
        RefVerifyConsistency(other_m, other_n, old_root, new_root, proof);
    EXPECT_EQ(s.ok(), want)
        << claim << " claimed as " << other_m << " to " << other_n << ": " << s;
  }
}

TEST(MerkleProofs, ConsistencyProofsMatchReferenceAndVerify) {
  const TestLog& log = Log();
  int proofs = 0;
  for (uint64_t n : TestSizes()) {
    for (uint64_t m : SampleOldSizes(n)) {
      absl::StatusOr<std::vector<Hash>> proof =
          ConsistencyProof(log.source, m, n);
      ASSERT_TRUE(proof.ok()) << proof.status();
      ASSERT_EQ(*proof, RefProof(m, Prefix(n))) << m << " to " << n;
      EXPECT_EQ(proof->size(), ConsistencyProofLength(m, n));
      absl::Status verified =
          VerifyConsistency(m, n, log.roots[m], log.roots[n], *proof);
      ASSERT_TRUE(verified.ok()) << verified;
      EXPECT_TRUE(
          RefVerifyConsistency(m, n, log.roots[m], log.roots[n], *proof));
      ExpectSpoiledConsistencyProofsFail(m, n, log.roots[m], log.roots[n],
                                         *proof);
      ++proofs;
    }
  }
  EXPECT_GT(proofs, 2485);  // every pair of sizes up to 70, and the samples
}

// Every bit of every input matters, for a few proofs of different shapes.
TEST(MerkleProofs, EveryFlippedBitFailsVerification) {
  const TestLog& log = Log();
  for (const auto& [i, n] : std::vector<std::pair<uint64_t, uint64_t>>{
           {5, 9}, {6, 13}, {0, 1}, {1024, 1025}}) {
    const std::vector<Hash> proof = *InclusionProof(log.source, i, n);
    const Hash leaf = LeafHash(log.entries[i]);
    for (size_t bit = 0; bit < 256; ++bit) {
      for (size_t j = 0; j < proof.size(); ++j) {
        std::vector<Hash> spoiled = proof;
        spoiled[j] = FlipBit(spoiled[j], bit);
        ASSERT_FALSE(VerifyInclusion(leaf, i, n, spoiled, log.roots[n]).ok());
      }
      ASSERT_FALSE(
          VerifyInclusion(FlipBit(leaf, bit), i, n, proof, log.roots[n]).ok());
      ASSERT_FALSE(
          VerifyInclusion(leaf, i, n, proof, FlipBit(log.roots[n], bit)).ok());
    }
  }
  for (const auto& [m, n] : std::vector<std::pair<uint64_t, uint64_t>>{
           {6, 13}, {4, 13}, {5, 8}, {1, 2}, {7, 7}, {1000, 1025}}) {
    const std::vector<Hash> proof = *ConsistencyProof(log.source, m, n);
    const Hash& old_root = log.roots[m];
    const Hash& new_root = log.roots[n];
    for (size_t bit = 0; bit < 256; ++bit) {
      for (size_t j = 0; j < proof.size(); ++j) {
        std::vector<Hash> spoiled = proof;
        spoiled[j] = FlipBit(spoiled[j], bit);
        ASSERT_FALSE(VerifyConsistency(m, n, old_root, new_root, spoiled).ok());
      }
      ASSERT_FALSE(
          VerifyConsistency(m, n, FlipBit(old_root, bit), new_root, proof)
              .ok());
      ASSERT_FALSE(
          VerifyConsistency(m, n, old_root, FlipBit(new_root, bit), proof)
              .ok());
    }
  }
}

TEST(MerkleProofs, VerificationFailuresSayWhatDidNotMatch) {
  const TestLog& log = Log();
  const std::vector<Hash> proof = *InclusionProof(log.source, 5, 9);
  ASSERT_EQ(proof.size(), 4u);
  const Hash leaf = LeafHash(log.entries[5]);
  const Hash wrong_root = log.roots[8];
  absl::Status s = VerifyInclusion(leaf, 5, 9, proof, wrong_root);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(
      s.message(),
      absl::StrCat("inclusion proof for leaf 5 of tree size 9 computes "
                   "root ",
                   ToHex(log.roots[9]), ", expected ", ToHex(wrong_root)));
  s = VerifyInclusion(leaf, 5, 9, {proof[0], proof[1], proof[2]}, log.roots[9]);
  EXPECT_EQ(s.message(),
            "inclusion proof for leaf 5 of tree size 9 has 3 hashes, "
            "expected 4");

  const std::vector<Hash> consistency = *ConsistencyProof(log.source, 6, 13);
  s = VerifyConsistency(6, 13, log.roots[5], log.roots[13], consistency);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("consistency proof from tree size 6 to 13 computes "
                        "old root "));
  EXPECT_THAT(std::string(s.message()),
              HasSubstr(absl::StrCat("expected ", ToHex(log.roots[5]))));
  s = VerifyConsistency(6, 13, log.roots[6], log.roots[12], consistency);
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("consistency proof from tree size 6 to 13 computes "
                        "new root "));
  s = VerifyConsistency(6, 13, log.roots[6], log.roots[13], {});
  EXPECT_THAT(std::string(s.message()), HasSubstr("has 0 hashes, expected 4"));
  s = VerifyConsistency(6, 6, log.roots[6], log.roots[7], {});
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("two roots of the same tree size 6"));
  s = VerifyConsistency(6, 6, log.roots[6], log.roots[6], {log.roots[6]});
  EXPECT_THAT(std::string(s.message()), HasSubstr("has 1 hash, expected 0"));
  EXPECT_TRUE(VerifyConsistency(6, 6, log.roots[6], log.roots[6], {}).ok());
}

TEST(MerkleProofs, RefusesArgumentsThatNameNoProof) {
  const TestLog& log = Log();
  struct Case {
    absl::Status status;
    const char* message;
  };
  for (const Case& c : {
           Case{InclusionProof(log.source, 9, 9).status(),
                "no inclusion proof for leaf 9 in a tree of size 9: its "
                "leaves are 0 to 8"},
           Case{InclusionProof(log.source, 0, 0).status(),
                "the tree of size 0 is empty"},
           Case{ConsistencyProof(log.source, 0, 5).status(),
                "no consistency proof from tree size 0 to 5"},
           Case{ConsistencyProof(log.source, 6, 5).status(),
                "from tree size 6 to 5: the old size is larger"},
           Case{VerifyInclusion(EmptyRoot(), 3, 3, {}, EmptyRoot()),
                "cannot verify inclusion of leaf 3 in a tree of size 3"},
           Case{VerifyConsistency(0, 3, EmptyRoot(), EmptyRoot(), {}),
                "cannot verify consistency from tree size 0 to 3"},
           Case{VerifyConsistency(4, 3, EmptyRoot(), EmptyRoot(), {}),
                "from tree size 4 to 3: the old size is larger"},
       }) {
    EXPECT_EQ(c.status.code(), absl::StatusCode::kInvalidArgument) << c.status;
    EXPECT_THAT(std::string(c.status.message()), HasSubstr(c.message));
  }
  absl::StatusOr<std::vector<Hash>> same = ConsistencyProof(log.source, 9, 9);
  ASSERT_TRUE(same.ok());
  EXPECT_TRUE(same->empty());
  EXPECT_EQ(InclusionProofLength(3, 3), 0u);
  EXPECT_EQ(ConsistencyProofLength(0, 3), 0u);
}

// A store that pruned or lost a node: every function that needs it returns
// the store's error, with its code, and names the node.
TEST(MerkleProofs, PassesEveryNodeSourceErrorThrough) {
  const TestLog& log = Log();
  struct Call {
    std::string name;
    std::function<absl::Status(const NodeSource&)> run;
  };
  std::vector<Call> calls;
  for (uint64_t n : {1, 2, 7, 8, 13, 129}) {
    calls.push_back({absl::StrCat("RootAt ", n), [n](const NodeSource& s) {
                       return RootAt(s, n).status();
                     }});
    calls.push_back(
        {absl::StrCat("FromNodeSource ", n), [n](const NodeSource& s) {
           return CompactRange::FromNodeSource(s, n).status();
         }});
    for (uint64_t i : SampleIndices(n)) {
      calls.push_back({absl::StrCat("InclusionProof ", i, " of ", n),
                       [i, n](const NodeSource& s) {
                         return InclusionProof(s, i, n).status();
                       }});
    }
    for (uint64_t m : SampleOldSizes(n)) {
      calls.push_back({absl::StrCat("ConsistencyProof ", m, " to ", n),
                       [m, n](const NodeSource& s) {
                         return ConsistencyProof(s, m, n).status();
                       }});
    }
  }
  for (const Call& call : calls) {
    RecordingSource recording(log.source);
    ASSERT_TRUE(call.run(recording).ok()) << call.name;
    for (const NodeId& read : recording.reads()) {
      const std::string node =
          absl::StrCat("(level ", read.level, ", index ", read.index, ")");
      for (const absl::Status& error :
           {absl::NotFoundError(absl::StrCat("node ", node, " was pruned")),
            absl::DataLossError("checksum mismatch in segment 4"),
            absl::UnavailableError("disk went away")}) {
        FailingSource failing(log.source, read, error);
        absl::Status s = call.run(failing);
        EXPECT_EQ(s.code(), error.code()) << call.name << " " << node;
        EXPECT_THAT(std::string(s.message()), HasSubstr(error.message()));
        EXPECT_THAT(std::string(s.message()), HasSubstr(node)) << call.name;
      }
    }
  }
}

TEST(MerkleProofs, LookupsAreLogarithmic) {
  const TestLog& log = Log();
  RecordingSource recording(log.source);
  for (uint64_t n : TestSizes()) {
    const size_t bound = 2 * static_cast<size_t>(std::bit_width(n));
    for (uint64_t i : SampleIndices(n)) {
      recording.Clear();
      ASSERT_TRUE(InclusionProof(recording, i, n).ok());
      EXPECT_LE(recording.reads().size(), bound) << i << " of " << n;
    }
    for (uint64_t m : SampleOldSizes(n)) {
      recording.Clear();
      ASSERT_TRUE(ConsistencyProof(recording, m, n).ok());
      EXPECT_LE(recording.reads().size(), bound) << m << " to " << n;
    }
  }
}

// Sizes near 2^64: no overflow, at most about 2 * 64 lookups, and the proofs
// verify (the uniform tree is a real tree, all of whose leaves are equal).
TEST(MerkleProofs, WorkAtTheLargestTreeSizes) {
  UniformTreeSource source;
  const uint64_t max = std::numeric_limits<uint64_t>::max();
  const Hash leaf = LeafHash("the same event");
  for (uint64_t n : {max, max - 1, uint64_t{1} << 63, (uint64_t{1} << 63) + 1,
                     (uint64_t{1} << 63) - 1, uint64_t{0x5555555555555555}}) {
    source.lookups_ = 0;
    absl::StatusOr<Hash> root = RootAt(source, n);
    ASSERT_TRUE(root.ok()) << root.status();
    EXPECT_EQ(source.lookups_, std::popcount(n));
    absl::StatusOr<CompactRange> range =
        CompactRange::FromNodeSource(source, n);
    ASSERT_TRUE(range.ok());
    EXPECT_EQ(range->Root(), *root);
    for (uint64_t i : {uint64_t{0}, n / 3, n / 2, n - 2, n - 1}) {
      source.lookups_ = 0;
      absl::StatusOr<std::vector<Hash>> proof = InclusionProof(source, i, n);
      ASSERT_TRUE(proof.ok()) << proof.status();
      EXPECT_LE(source.lookups_, 128);
      EXPECT_EQ(proof->size(), InclusionProofLength(i, n));
      absl::Status verified = VerifyInclusion(leaf, i, n, *proof, *root);
      EXPECT_TRUE(verified.ok()) << i << " of " << n << ": " << verified;
    }
    for (uint64_t m : {uint64_t{1}, uint64_t{3}, n / 2, n - 1, n}) {
      source.lookups_ = 0;
      absl::StatusOr<std::vector<Hash>> proof = ConsistencyProof(source, m, n);
      ASSERT_TRUE(proof.ok()) << proof.status();
      EXPECT_LE(source.lookups_, 128);
      EXPECT_EQ(proof->size(), ConsistencyProofLength(m, n));
      absl::Status verified =
          VerifyConsistency(m, n, *RootAt(source, m), *root, *proof);
      EXPECT_TRUE(verified.ok()) << m << " to " << n << ": " << verified;
    }
  }
}

}  // namespace
}  // namespace rustiq::merkle
