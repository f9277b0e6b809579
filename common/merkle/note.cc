#include "common/merkle/note.h"

#include <openssl/err.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/merkle/hash.h"

namespace rustiq::merkle {
namespace {

// U+2014 EM DASH and a space: how every signature line starts.
constexpr absl::string_view kSignaturePrefix = "\xE2\x80\x94 ";
constexpr size_t kKeyIdSize = 4;

struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

// A hostile string made printable for an error message, and kept short.
std::string Quote(absl::string_view s) {
  constexpr size_t kMaxQuoted = 80;
  std::string escaped = absl::CHexEscape(s.substr(0, kMaxQuoted));
  return absl::StrCat("\"", escaped, s.size() > kMaxQuoted ? "\"..." : "\"");
}

std::string KeyIdHex(uint32_t key_id) {
  return absl::StrCat(absl::Hex(key_id, absl::kZeroPad8));
}

std::string DescribeKey(absl::string_view key_name, uint32_t key_id) {
  return absl::StrCat("key ", Quote(key_name), " (key ID ", KeyIdHex(key_id),
                      ")");
}

// Decodes the UTF-8 sequence at s[i] into *code_point and returns its length,
// or 0 if it is not valid UTF-8 (overlong forms, surrogates and code points
// above U+10FFFF are not).
size_t DecodeUtf8(absl::string_view s, size_t i, uint32_t* code_point) {
  const auto byte = [&](size_t j) -> uint32_t {
    return j < s.size() ? static_cast<uint8_t>(s[j]) : 0x100;
  };
  const auto continuation = [](uint32_t b, uint32_t low, uint32_t high) {
    return b >= low && b <= high;
  };
  const uint32_t b0 = byte(i);
  if (b0 < 0x80) {
    *code_point = b0;
    return 1;
  }
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    if (!continuation(byte(i + 1), 0x80, 0xBF)) return 0;
    *code_point = ((b0 & 0x1F) << 6) | (byte(i + 1) & 0x3F);
    return 2;
  }
  if (b0 >= 0xE0 && b0 <= 0xEF) {
    const uint32_t low = b0 == 0xE0 ? 0xA0 : 0x80;
    const uint32_t high = b0 == 0xED ? 0x9F : 0xBF;
    if (!continuation(byte(i + 1), low, high) ||
        !continuation(byte(i + 2), 0x80, 0xBF)) {
      return 0;
    }
    *code_point = ((b0 & 0x0F) << 12) | ((byte(i + 1) & 0x3F) << 6) |
                  (byte(i + 2) & 0x3F);
    return 3;
  }
  if (b0 >= 0xF0 && b0 <= 0xF4) {
    const uint32_t low = b0 == 0xF0 ? 0x90 : 0x80;
    const uint32_t high = b0 == 0xF4 ? 0x8F : 0xBF;
    if (!continuation(byte(i + 1), low, high) ||
        !continuation(byte(i + 2), 0x80, 0xBF) ||
        !continuation(byte(i + 3), 0x80, 0xBF)) {
      return 0;
    }
    *code_point = ((b0 & 0x07) << 18) | ((byte(i + 1) & 0x3F) << 12) |
                  ((byte(i + 2) & 0x3F) << 6) | (byte(i + 3) & 0x3F);
    return 4;
  }
  return 0;
}

// Unicode White_Space, as Go's unicode.IsSpace (which the reference
// implementation uses to refuse key names).
bool IsUnicodeSpace(uint32_t c) {
  return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 ||
         c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 ||
         c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

void AppendBigEndian32(uint32_t value, std::string& out) {
  for (int shift = 24; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>((value >> shift) & 0xFF));
  }
}

uint32_t ReadBigEndian32(absl::string_view bytes) {
  uint32_t value = 0;
  for (size_t i = 0; i < kKeyIdSize; ++i) {
    value = (value << 8) | static_cast<uint8_t>(bytes[i]);
  }
  return value;
}

std::string SignatureLine(const NoteSignature& signature) {
  std::string blob;
  AppendBigEndian32(signature.key_id, blob);
  blob.append(signature.signature);
  return absl::StrCat(kSignaturePrefix, signature.key_name, " ",
                      Base64Encode(blob), "\n");
}

}  // namespace

absl::Status ValidateNoteCharacters(absl::string_view text) {
  for (size_t i = 0; i < text.size();) {
    uint32_t c = 0;
    const size_t length = DecodeUtf8(text, i, &c);
    if (length == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("is not valid UTF-8 at byte ", i));
    }
    if (c < 0x20 && c != '\n') {
      return absl::InvalidArgumentError(
          absl::StrCat("has the control character ", Quote(text.substr(i, 1)),
                       " at byte ", i, "; newline is the only one allowed"));
    }
    i += length;
  }
  return absl::OkStatus();
}

absl::Status ValidateNoteKeyName(absl::string_view key_name) {
  if (key_name.empty()) {
    return absl::InvalidArgumentError("note key name is empty");
  }
  for (size_t i = 0; i < key_name.size();) {
    uint32_t c = 0;
    const size_t length = DecodeUtf8(key_name, i, &c);
    if (length == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("note key name ", Quote(key_name),
                       " is not valid UTF-8 at byte ", i));
    }
    if (c == '+' || IsUnicodeSpace(c) || c < 0x20) {
      return absl::InvalidArgumentError(
          absl::StrCat("note key name ", Quote(key_name),
                       " has a space, '+' or control character at byte ", i,
                       "; names like \"example.com/log\" are fine"));
    }
    i += length;
  }
  return absl::OkStatus();
}

uint32_t Ed25519NoteKeyId(absl::string_view key_name,
                          const Ed25519PublicKey& public_key) {
  std::string input(key_name);
  input.push_back('\n');
  input.push_back(static_cast<char>(kNoteSignatureTypeEd25519));
  input.append(reinterpret_cast<const char*>(public_key.data()),
               public_key.size());
  // LeafHash would prefix 0x00; the key ID is a plain SHA-256.
  const Hash digest = Sha256Digest(input);
  return ReadBigEndian32(AsBytes(digest).substr(0, kKeyIdSize));
}

absl::StatusOr<uint32_t> Ed25519NoteKeyIdOf(absl::string_view key_name,
                                            EVP_PKEY* key) {
  if (key == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("no public key given for note key ", Quote(key_name)));
  }
  if (EVP_PKEY_is_a(key, "ED25519") != 1) {
    const char* type = EVP_PKEY_get0_type_name(key);
    return absl::InvalidArgumentError(absl::StrCat(
        "note key ", Quote(key_name), " is a ", type ? type : "unknown",
        " key; checkpoints are signed with Ed25519"));
  }
  Ed25519PublicKey raw{};
  size_t length = raw.size();
  if (EVP_PKEY_get_raw_public_key(key, raw.data(), &length) != 1 ||
      length != raw.size()) {
    ERR_clear_error();
    return absl::InternalError(
        absl::StrCat("cannot read the raw Ed25519 public key of note key ",
                     Quote(key_name)));
  }
  return Ed25519NoteKeyId(key_name, raw);
}

std::string FormatEd25519VerifierKey(absl::string_view key_name,
                                     const Ed25519PublicKey& public_key) {
  std::string typed_key(1, static_cast<char>(kNoteSignatureTypeEd25519));
  typed_key.append(reinterpret_cast<const char*>(public_key.data()),
                   public_key.size());
  return absl::StrCat(key_name, "+",
                      KeyIdHex(Ed25519NoteKeyId(key_name, public_key)), "+",
                      Base64Encode(typed_key));
}

absl::StatusOr<Ed25519VerifierKey> ParseEd25519VerifierKey(
    absl::string_view vkey) {
  const auto malformed = [&](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("verifier key ", Quote(vkey), " is malformed (", why,
                     "); expected <name>+<8 hex digits key ID>+<base64 of "
                     "0x01 and the 32-byte Ed25519 public key>"));
  };
  const size_t first_plus = vkey.find('+');
  if (first_plus == absl::string_view::npos)
    return malformed("no '+' after the name");
  const absl::string_view name = vkey.substr(0, first_plus);
  if (absl::Status s = ValidateNoteKeyName(name); !s.ok()) {
    return malformed(s.message());
  }
  const absl::string_view rest = vkey.substr(first_plus + 1);
  if (rest.size() < kKeyIdSize * 2 + 1 || rest[kKeyIdSize * 2] != '+') {
    return malformed("no 8 hex digits and '+' after the name");
  }
  const absl::string_view hex = rest.substr(0, kKeyIdSize * 2);
  for (char c : hex) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return malformed("the key ID is not 8 lowercase hex digits");
    }
  }
  absl::StatusOr<std::string> typed_key =
      Base64DecodeStrict(rest.substr(kKeyIdSize * 2 + 1));
  if (!typed_key.ok()) return malformed(typed_key.status().message());
  if (typed_key->size() != 1 + kEd25519PublicKeySize ||
      static_cast<uint8_t>((*typed_key)[0]) != kNoteSignatureTypeEd25519) {
    return malformed(
        "not an Ed25519 key: that is the type byte 0x01 and 32 key bytes");
  }
  Ed25519VerifierKey key;
  key.key_name = std::string(name);
  key.key_id = ReadBigEndian32(absl::HexStringToBytes(hex));
  for (size_t i = 0; i < kEd25519PublicKeySize; ++i) {
    key.public_key[i] = static_cast<uint8_t>((*typed_key)[i + 1]);
  }
  const uint32_t derived = Ed25519NoteKeyId(key.key_name, key.public_key);
  if (derived != key.key_id) {
    return absl::InvalidArgumentError(absl::StrCat(
        "verifier key ", Quote(vkey), " says key ID ", KeyIdHex(key.key_id),
        " but its name and public key give ", KeyIdHex(derived)));
  }
  return key;
}

std::string FormatSignedNote(absl::string_view text, absl::string_view key_name,
                             uint32_t key_id, absl::string_view signature) {
  return absl::StrCat(text, "\n",
                      SignatureLine(NoteSignature{std::string(key_name), key_id,
                                                  std::string(signature)}));
}

std::string FormatSignedNote(const SignedNote& note) {
  std::string out = absl::StrCat(note.text, "\n");
  for (const NoteSignature& signature : note.signatures) {
    out.append(SignatureLine(signature));
  }
  return out;
}

absl::StatusOr<SignedNote> ParseSignedNote(absl::string_view note) {
  if (absl::Status s = ValidateNoteCharacters(note); !s.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("signed note ", s.message()));
  }
  if (note.empty() || note.back() != '\n') {
    return absl::InvalidArgumentError(
        "signed note does not end with a newline");
  }
  // The text ends at the last blank line; the text keeps its final newline.
  const size_t split = note.rfind("\n\n");
  if (split == absl::string_view::npos) {
    return absl::InvalidArgumentError(
        "signed note has no blank line between its text and its signatures");
  }
  SignedNote parsed;
  parsed.text = std::string(note.substr(0, split + 1));
  absl::string_view block = note.substr(split + 2);
  if (block.empty()) {
    return absl::InvalidArgumentError(
        "signed note has no signature lines after its last blank line");
  }
  block.remove_suffix(1);  // the final newline
  // 1-based line number of the first signature line, for messages.
  size_t line_number = static_cast<size_t>(std::count(
                           parsed.text.begin(), parsed.text.end(), '\n')) +
                       2;
  for (absl::string_view line : absl::StrSplit(block, '\n')) {
    const std::string where = absl::StrCat("signed note line ", line_number);
    ++line_number;
    if (parsed.signatures.size() == kMaxNoteSignatures) {
      return absl::InvalidArgumentError(absl::StrCat(
          "signed note has more than ", kMaxNoteSignatures, " signatures"));
    }
    if (!absl::ConsumePrefix(&line, kSignaturePrefix)) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, " ", Quote(line),
          " is not a signature line (\"\xE2\x80\x94 <key name> <base64>\", "
          "starting with U+2014 EM DASH and a space); only signature lines "
          "may follow the note's last blank line"));
    }
    const size_t space = line.find(' ');
    if (space == absl::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, " has no space between the key name and the signature"));
    }
    NoteSignature signature;
    signature.key_name = std::string(line.substr(0, space));
    if (absl::Status s = ValidateNoteKeyName(signature.key_name); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": ", s.message()));
    }
    absl::StatusOr<std::string> blob =
        Base64DecodeStrict(line.substr(space + 1));
    if (!blob.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": signature of ", Quote(signature.key_name),
                       " is ", blob.status().message()));
    }
    if (blob->size() <= kKeyIdSize) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, ": signature of ", Quote(signature.key_name), " is ",
          blob->size(),
          " bytes; it needs a 4-byte key ID and at least one byte of "
          "signature"));
    }
    signature.key_id = ReadBigEndian32(*blob);
    signature.signature = blob->substr(kKeyIdSize);
    parsed.signatures.push_back(std::move(signature));
  }
  return parsed;
}

absl::Status VerifySignedNote(const SignedNote& note,
                              absl::string_view key_name,
                              EVP_PKEY* ed25519_public_key) {
  absl::StatusOr<uint32_t> key_id =
      Ed25519NoteKeyIdOf(key_name, ed25519_public_key);
  if (!key_id.ok()) return key_id.status();
  const std::string key = DescribeKey(key_name, *key_id);
  size_t verified = 0;
  std::vector<std::string> others;
  for (const NoteSignature& signature : note.signatures) {
    if (signature.key_name != key_name || signature.key_id != *key_id) {
      others.push_back(DescribeKey(signature.key_name, signature.key_id));
      continue;
    }
    if (signature.signature.size() != kEd25519SignatureSize) {
      return absl::DataLossError(absl::StrCat(
          "the signature by ", key, " is ", signature.signature.size(),
          " bytes; an Ed25519 signature is ", kEd25519SignatureSize));
    }
    std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx(EVP_MD_CTX_new());
    if (ctx == nullptr ||
        EVP_DigestVerifyInit_ex(ctx.get(), nullptr, nullptr, nullptr, nullptr,
                                ed25519_public_key, nullptr) != 1) {
      ERR_clear_error();
      return absl::InternalError(
          absl::StrCat("cannot start verifying the signature by ", key));
    }
    const int rc = EVP_DigestVerify(
        ctx.get(),
        reinterpret_cast<const unsigned char*>(signature.signature.data()),
        signature.signature.size(),
        reinterpret_cast<const unsigned char*>(note.text.data()),
        note.text.size());
    if (rc != 1) {
      ERR_clear_error();
      return absl::DataLossError(absl::StrCat(
          "the Ed25519 signature by ", key, " does not verify over the ",
          note.text.size(),
          "-byte note text: the text or the signature was altered, or it was "
          "signed by another key with the same name and key ID"));
    }
    ++verified;
  }
  if (verified == 0) {
    return absl::NotFoundError(absl::StrCat(
        "the note has no signature by ", key,
        others.empty()
            ? "; it has no signatures"
            : absl::StrCat("; it is signed by ", absl::StrJoin(others, ", "))));
  }
  return absl::OkStatus();
}

}  // namespace rustiq::merkle
