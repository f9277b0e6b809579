#include "common/merkle/checkpoint.h"

#include <limits>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace rustiq::merkle {
namespace {

std::string Quote(absl::string_view s) {
  constexpr size_t kMaxQuoted = 80;
  return absl::StrCat("\"", absl::CHexEscape(s.substr(0, kMaxQuoted)),
                      s.size() > kMaxQuoted ? "\"..." : "\"");
}

absl::StatusOr<uint64_t> ParseTreeSize(absl::string_view line) {
  const auto refuse = [&](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("checkpoint tree size (line 2) ", Quote(line), " ", why));
  };
  if (line.empty()) return refuse("is empty");
  for (char c : line) {
    if (c < '0' || c > '9') {
      return refuse("is not a decimal number (only the digits 0-9)");
    }
  }
  if (line.size() > 1 && line[0] == '0') {
    return refuse("has a leading zero");
  }
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  uint64_t value = 0;
  for (char c : line) {
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (value > (kMax - digit) / 10) return refuse("does not fit in 64 bits");
    value = value * 10 + digit;
  }
  return value;
}

}  // namespace

absl::Status ValidateOrigin(absl::string_view origin) {
  if (origin.empty()) {
    return absl::InvalidArgumentError("checkpoint origin is empty");
  }
  if (origin.find('\n') != absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("checkpoint origin ", Quote(origin), " has a newline"));
  }
  if (absl::Status s = ValidateNoteCharacters(origin); !s.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("checkpoint origin ", Quote(origin), " ", s.message()));
  }
  return absl::OkStatus();
}

std::string CheckpointBody(absl::string_view origin, uint64_t size,
                           const Hash& root) {
  return absl::StrCat(origin, "\n", size, "\n", Base64Encode(AsBytes(root)),
                      "\n");
}

std::string CheckpointBody(const Checkpoint& checkpoint) {
  std::string body =
      CheckpointBody(checkpoint.origin, checkpoint.size, checkpoint.root);
  for (const std::string& extension : checkpoint.extensions) {
    absl::StrAppend(&body, extension, "\n");
  }
  return body;
}

absl::StatusOr<Checkpoint> ParseCheckpointBody(absl::string_view body) {
  if (absl::Status s = ValidateNoteCharacters(body); !s.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("checkpoint body ", s.message()));
  }
  if (body.empty() || body.back() != '\n') {
    return absl::InvalidArgumentError(
        "checkpoint body does not end with a newline");
  }
  body.remove_suffix(1);
  std::vector<absl::string_view> lines = absl::StrSplit(body, '\n');
  if (lines.size() < 3) {
    return absl::InvalidArgumentError(
        absl::StrCat("checkpoint body has ", lines.size(),
                     lines.size() == 1 ? " line" : " lines",
                     "; it needs at least 3 (origin, tree size, root hash)"));
  }
  Checkpoint checkpoint;
  if (lines[0].empty()) {
    return absl::InvalidArgumentError("checkpoint origin (line 1) is empty");
  }
  checkpoint.origin = std::string(lines[0]);

  absl::StatusOr<uint64_t> size = ParseTreeSize(lines[1]);
  if (!size.ok()) return size.status();
  checkpoint.size = *size;

  absl::StatusOr<std::string> root = Base64DecodeStrict(lines[2]);
  if (!root.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("checkpoint root hash (line 3) ", Quote(lines[2]), " is ",
                     root.status().message()));
  }
  if (root->size() != kHashSize) {
    return absl::InvalidArgumentError(absl::StrCat(
        "checkpoint root hash (line 3) ", Quote(lines[2]), " decodes to ",
        root->size(), " bytes; an RFC 6962 SHA-256 root is ", kHashSize));
  }
  checkpoint.root = *HashFromBytes(*root);

  for (size_t i = 3; i < lines.size(); ++i) {
    if (lines[i].empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("checkpoint extension line ", i + 1,
                       " is empty; extension lines must not be"));
    }
    checkpoint.extensions.emplace_back(lines[i]);
  }
  return checkpoint;
}

absl::StatusOr<Checkpoint> OpenSignedCheckpoint(absl::string_view signed_note,
                                                absl::string_view key_name,
                                                EVP_PKEY* ed25519_public_key) {
  absl::StatusOr<SignedNote> note = ParseSignedNote(signed_note);
  if (!note.ok()) return note.status();
  if (absl::Status s = VerifySignedNote(*note, key_name, ed25519_public_key);
      !s.ok()) {
    return s;
  }
  return ParseCheckpointBody(note->text);
}

}  // namespace rustiq::merkle
