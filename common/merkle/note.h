// C2SP signed notes (https://c2sp.org/signed-note) with Ed25519 signatures:
//
//   <text, ending in a newline>
//   <blank line>
//   — <key name> <base64(4-byte big-endian key ID || signature)>
//   ... more signature lines ...
//
// The signature is over the text only (up to and including its final
// newline, not the blank line). The key ID of an Ed25519 key is the first 4
// bytes of SHA-256(key name || 0x0A || 0x01 || 32-byte public key). Verifier
// keys use Go's sumdb/note "vkey" spelling: <name>+<key ID hex>+base64(0x01
// || public key).
//
// Parsing is strict: valid UTF-8, no control characters but newline, key
// names without spaces or '+', canonical base64. Errors are InvalidArgument
// saying where the note is malformed; VerifySignedNote returns NotFound when
// the note has no signature by the key and DataLoss when one does not verify.
#ifndef RUSTIQ_COMMON_MERKLE_NOTE_H_
#define RUSTIQ_COMMON_MERKLE_NOTE_H_

#include <openssl/types.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace rustiq::merkle {

inline constexpr uint8_t kNoteSignatureTypeEd25519 = 0x01;
inline constexpr size_t kEd25519PublicKeySize = 32;
inline constexpr size_t kEd25519SignatureSize = 64;
// The spec asks verifiers to accept at least 16; Go's implementation refuses
// more than 100.
inline constexpr size_t kMaxNoteSignatures = 100;

using Ed25519PublicKey = std::array<uint8_t, kEd25519PublicKeySize>;

struct NoteSignature {
  std::string key_name;
  uint32_t key_id = 0;
  std::string signature;  // raw bytes after the key ID

  bool operator==(const NoteSignature&) const = default;
};

struct SignedNote {
  std::string text;  // ends in a newline
  std::vector<NoteSignature> signatures;

  bool operator==(const SignedNote&) const = default;
};

// Valid UTF-8 with no control character except newline (a signed note's
// whole content must be).
absl::Status ValidateNoteCharacters(absl::string_view text);
// Non-empty, valid UTF-8 without control characters, Unicode spaces or '+'.
absl::Status ValidateNoteKeyName(absl::string_view key_name);

// The key ID the spec recommends for an Ed25519 key.
uint32_t Ed25519NoteKeyId(absl::string_view key_name,
                          const Ed25519PublicKey& public_key);
// The same for an OpenSSL Ed25519 key (public or private; not owned).
absl::StatusOr<uint32_t> Ed25519NoteKeyIdOf(absl::string_view key_name,
                                            EVP_PKEY* key);

// Go-style verifier key, "PeterNeumann+c74f20a3+ARpc...".
struct Ed25519VerifierKey {
  std::string key_name;
  uint32_t key_id = 0;
  Ed25519PublicKey public_key{};

  bool operator==(const Ed25519VerifierKey&) const = default;
};
std::string FormatEd25519VerifierKey(absl::string_view key_name,
                                     const Ed25519PublicKey& public_key);
// Refuses a key whose key ID does not match its name and public key.
absl::StatusOr<Ed25519VerifierKey> ParseEd25519VerifierKey(
    absl::string_view vkey);

// text + "\n" + "— <key_name> <base64(key_id || signature)>\n". `text` must
// be non-empty, end in a newline and satisfy ValidateNoteCharacters;
// `key_name` must satisfy ValidateNoteKeyName (callers validate these once,
// e.g. when reading the configuration).
std::string FormatSignedNote(absl::string_view text, absl::string_view key_name,
                             uint32_t key_id, absl::string_view signature);
// The same for a note with any number of signatures, in order.
std::string FormatSignedNote(const SignedNote& note);

// Splits a note at its last blank line into text and signature lines; every
// line after the blank line must be a well-formed signature line. Does not
// verify anything.
absl::StatusOr<SignedNote> ParseSignedNote(absl::string_view note);

// Verifies that `note` carries a valid Ed25519 signature by the key named
// `key_name` whose public key is `ed25519_public_key` (not owned): the
// signatures whose name and key ID match the key must all verify over the
// text, and there must be at least one. Signatures by other keys are ignored,
// as the spec requires.
absl::Status VerifySignedNote(const SignedNote& note,
                              absl::string_view key_name,
                              EVP_PKEY* ed25519_public_key);

}  // namespace rustiq::merkle

#endif  // RUSTIQ_COMMON_MERKLE_NOTE_H_
