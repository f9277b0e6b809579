// C2SP transparency log checkpoints (https://c2sp.org/tlog-checkpoint): the
// text of a signed note (note.h) that states a log's tree head.
//
//   <origin>\n
//   <tree size, decimal, no leading zero>\n
//   <base64 of the 32-byte RFC 6962 root>\n
//   [<extension line>\n ...]
//
// Parsing is strict (each refusal is InvalidArgument saying which line is
// wrong and how), so a checkpoint has exactly one spelling.
#ifndef RUSTIQ_COMMON_MERKLE_CHECKPOINT_H_
#define RUSTIQ_COMMON_MERKLE_CHECKPOINT_H_

#include <openssl/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/merkle/hash.h"
#include "common/merkle/note.h"

namespace rustiq::merkle {

struct Checkpoint {
  std::string origin;
  uint64_t size = 0;
  Hash root{};
  // Opaque, non-empty lines after the root, without their newlines. The spec
  // does not recommend them (monitors cannot audit them); eventd writes none.
  std::vector<std::string> extensions;

  bool operator==(const Checkpoint&) const = default;
};

// Non-empty, one line, valid UTF-8 without control characters. (The spec
// recommends, without requiring, a schema-less URL such as
// "example.com/log42" with no spaces or '+'.)
absl::Status ValidateOrigin(absl::string_view origin);

// "<origin>\n<size>\n<base64 root>\n". `origin` must satisfy ValidateOrigin.
std::string CheckpointBody(absl::string_view origin, uint64_t size,
                           const Hash& root);
// The same with the checkpoint's extension lines appended (each must be
// non-empty and satisfy the note's character rules).
std::string CheckpointBody(const Checkpoint& checkpoint);

absl::StatusOr<Checkpoint> ParseCheckpointBody(absl::string_view body);

// Parses a signed checkpoint, verifies it with VerifySignedNote (see there
// for the errors) and parses its text. The signer's key name is usually the
// origin, but that is the caller's policy to check.
absl::StatusOr<Checkpoint> OpenSignedCheckpoint(absl::string_view signed_note,
                                                absl::string_view key_name,
                                                EVP_PKEY* ed25519_public_key);

}  // namespace rustiq::merkle

#endif  // RUSTIQ_COMMON_MERKLE_CHECKPOINT_H_
