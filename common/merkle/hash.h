// RFC 6962 Merkle tree hashing with SHA-256, and the encodings the event log
// uses for hashes (hex for people, base64 for checkpoints).
//
//   LeafHash(entry)        = SHA-256(0x00 || entry)
//   NodeHash(left, right)  = SHA-256(0x01 || left || right)
//   EmptyRoot()            = SHA-256("")
//
// The 0x00/0x01 prefixes keep a leaf from ever being mistaken for an interior
// node (RFC 6962 section 2.1, second preimage resistance).
//
// The hash functions cannot fail in practice; if OpenSSL cannot compute a
// SHA-256 (out of memory) the process aborts rather than return a hash that is
// not one. All functions are thread-safe.
#ifndef RUSTIQ_COMMON_MERKLE_HASH_H_
#define RUSTIQ_COMMON_MERKLE_HASH_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace rustiq::merkle {

inline constexpr size_t kHashSize = 32;
using Hash = std::array<uint8_t, kHashSize>;

Hash LeafHash(absl::string_view entry);
// SHA-256(data), without a prefix: a plain checksum (the event spool).
Hash Sha256Digest(absl::string_view data);
Hash NodeHash(const Hash& left, const Hash& right);
Hash EmptyRoot();

// The 32 raw bytes of `hash`, viewed (valid as long as `hash` is).
absl::string_view AsBytes(const Hash& hash);

// Lowercase hex, 64 characters.
std::string ToHex(const Hash& hash);
// Exactly 64 hex digits (either case).
absl::StatusOr<Hash> HashFromHex(absl::string_view hex);
// Exactly 32 raw bytes.
absl::StatusOr<Hash> HashFromBytes(absl::string_view bytes);

// Standard base64 (RFC 4648 section 4) with padding, no line breaks.
std::string Base64Encode(absl::string_view bytes);
// Strict inverse of Base64Encode: the length is a multiple of 4, only the
// standard alphabet, '=' only as the final one or two characters, and no
// non-zero bits after the last byte; so every byte string has exactly one
// accepted encoding. Errors are InvalidArgument saying what is wrong.
absl::StatusOr<std::string> Base64DecodeStrict(absl::string_view base64);

}  // namespace rustiq::merkle

#endif  // RUSTIQ_COMMON_MERKLE_HASH_H_
