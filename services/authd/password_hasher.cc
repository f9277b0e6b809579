#include "services/authd/password_hasher.h"

#include <argon2.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <array>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace rustiq::authd {
namespace {

constexpr size_t kSaltBytes = 16;
constexpr size_t kHashBytes = 32;
// Bounds of what Verify accepts from storage; ours are 16 and 32 bytes.
constexpr size_t kMinStoredSaltBytes = 8;
constexpr size_t kMaxStoredSaltBytes = 64;
constexpr size_t kMinStoredHashBytes = 16;
constexpr size_t kMaxStoredHashBytes = 64;
constexpr size_t kMaxEncodedChars = 256;

constexpr uint32_t kMinMemoryKib = 8 * 1024;
constexpr uint32_t kMaxMemoryKib = 1024 * 1024;
constexpr uint32_t kMaxIterations = 10;
constexpr uint32_t kMaxParallelism = 4;

// Wipes a string's bytes before it goes away (a hash, a copy of one).
void Cleanse(std::string* s) {
  if (!s->empty()) OPENSSL_cleanse(s->data(), s->size());
}

// What a stored PHC string says about itself (not the salt or hash bytes:
// libargon2 decodes those itself in argon2id_verify).
struct PhcInfo {
  Argon2Params params;
  size_t salt_bytes = 0;
  size_t hash_bytes = 0;
};

absl::Status Malformed(absl::string_view what) {
  return absl::DataLossError(
      absl::StrCat("the stored password hash is malformed: ", what,
                   " (expected $argon2id$v=19$m=<KiB>,t=<iterations>,"
                   "p=<lanes>$<salt>$<hash>)"));
}

// A decimal without sign, spaces or leading zeros that fits in 32 bits.
bool ParseDecimal(absl::string_view text, uint32_t* out) {
  if (text.empty() || text.size() > 10 || (text.size() > 1 && text[0] == '0')) {
    return false;
  }
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  if (value > UINT32_MAX) return false;
  *out = static_cast<uint32_t>(value);
  return true;
}

bool IsBase64Char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= '0' && c <= '9') || c == '+' || c == '/';
}

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  return c == '+' ? 62 : 63;
}

// Unpadded standard base64, canonical (unused trailing bits zero), as the
// PHC format and libargon2 write it. Returns the decoded length.
bool Base64Length(absl::string_view text, size_t* bytes) {
  if (text.empty() || text.size() % 4 == 1) return false;
  for (char c : text) {
    if (!IsBase64Char(c)) return false;
  }
  const int last = Base64Value(text.back());
  if (text.size() % 4 == 2 && (last & 0x0f) != 0) return false;
  if (text.size() % 4 == 3 && (last & 0x03) != 0) return false;
  *bytes =
      text.size() / 4 * 3 + (text.size() % 4 == 0 ? 0 : text.size() % 4 - 1);
  return true;
}

absl::StatusOr<PhcInfo> ParsePhc(absl::string_view encoded) {
  if (encoded.empty()) return Malformed("it is empty");
  if (encoded.size() > kMaxEncodedChars) {
    return Malformed(
        absl::StrCat("it is longer than ", kMaxEncodedChars, " characters"));
  }
  std::vector<absl::string_view> parts = absl::StrSplit(encoded, '$');
  if (parts.size() != 6 || !parts[0].empty()) {
    return Malformed("it does not have the six $-separated fields");
  }
  if (parts[1] != "argon2id") return Malformed("it is not an argon2id hash");
  if (parts[2] != "v=19") return Malformed("it is not argon2 version 19");
  std::vector<absl::string_view> costs = absl::StrSplit(parts[3], ',');
  PhcInfo info;
  if (costs.size() != 3 || !absl::ConsumePrefix(&costs[0], "m=") ||
      !absl::ConsumePrefix(&costs[1], "t=") ||
      !absl::ConsumePrefix(&costs[2], "p=") ||
      !ParseDecimal(costs[0], &info.params.memory_kib) ||
      !ParseDecimal(costs[1], &info.params.iterations) ||
      !ParseDecimal(costs[2], &info.params.parallelism)) {
    return Malformed("its parameters are not m=<n>,t=<n>,p=<n>");
  }
  // A tampered record must not make a login allocate gigabytes or spin.
  if (!ValidateParams(info.params).ok()) {
    return Malformed(absl::StrCat("its parameters are out of bounds (m ",
                                  kMinMemoryKib, "..", kMaxMemoryKib, ", t 1..",
                                  kMaxIterations, ", p 1..", kMaxParallelism,
                                  ")"));
  }
  if (!Base64Length(parts[4], &info.salt_bytes) ||
      info.salt_bytes < kMinStoredSaltBytes ||
      info.salt_bytes > kMaxStoredSaltBytes) {
    return Malformed(absl::StrCat("its salt is not base64 of ",
                                  kMinStoredSaltBytes, "-", kMaxStoredSaltBytes,
                                  " bytes"));
  }
  if (!Base64Length(parts[5], &info.hash_bytes) ||
      info.hash_bytes < kMinStoredHashBytes ||
      info.hash_bytes > kMaxStoredHashBytes) {
    return Malformed(absl::StrCat("its hash is not base64 of ",
                                  kMinStoredHashBytes, "-", kMaxStoredHashBytes,
                                  " bytes"));
  }
  return info;
}

// argon2id_verify on a NUL-terminated copy (wiped afterwards).
int RunVerify(absl::string_view encoded, absl::string_view password) {
  std::string copy(encoded);
  const int rc =
      argon2id_verify(copy.c_str(), password.data(), password.size());
  Cleanse(&copy);
  return rc;
}

absl::StatusOr<std::string> HashWith(const Argon2Params& params,
                                     const void* password, size_t size) {
  std::array<unsigned char, kSaltBytes> salt;
  if (RAND_bytes(salt.data(), static_cast<int>(salt.size())) != 1) {
    return absl::InternalError("the random generator failed to make a salt");
  }
  const size_t length =
      argon2_encodedlen(params.iterations, params.memory_kib,
                        params.parallelism, kSaltBytes, kHashBytes, Argon2_id);
  std::string encoded(length, '\0');
  const int rc = argon2id_hash_encoded(
      params.iterations, params.memory_kib, params.parallelism, password, size,
      salt.data(), salt.size(), kHashBytes, encoded.data(), encoded.size());
  OPENSSL_cleanse(salt.data(), salt.size());
  if (rc != ARGON2_OK) {
    Cleanse(&encoded);
    if (rc == ARGON2_MEMORY_ALLOCATION_ERROR) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "argon2id could not allocate ", params.memory_kib, " KiB"));
    }
    return absl::InternalError(
        absl::StrCat("argon2id failed: ", argon2_error_message(rc)));
  }
  encoded.resize(std::strlen(encoded.c_str()));
  return encoded;
}

}  // namespace

absl::Status ValidateParams(const Argon2Params& params) {
  if (params.memory_kib < kMinMemoryKib || params.memory_kib > kMaxMemoryKib) {
    return absl::InvalidArgumentError(absl::StrCat(
        "authd.argon2_memory_kib is ", params.memory_kib, "; it must be ",
        kMinMemoryKib, "..", kMaxMemoryKib, " (8 MiB..1 GiB)"));
  }
  if (params.iterations < 1 || params.iterations > kMaxIterations) {
    return absl::InvalidArgumentError(
        absl::StrCat("authd.argon2_iterations is ", params.iterations,
                     "; it must be 1..", kMaxIterations));
  }
  if (params.parallelism < 1 || params.parallelism > kMaxParallelism) {
    return absl::InvalidArgumentError(
        absl::StrCat("authd.argon2_parallelism is ", params.parallelism,
                     "; it must be 1..", kMaxParallelism));
  }
  // argon2 needs 8 KiB per lane at least; the bounds above imply it.
  return absl::OkStatus();
}

absl::StatusOr<PasswordHasher> PasswordHasher::Create(
    const Argon2Params& params) {
  if (absl::Status s = ValidateParams(params); !s.ok()) return s;
  // The dummy's password is random and thrown away: nothing verifies
  // against it, which is the point.
  std::array<unsigned char, 32> secret;
  if (RAND_bytes(secret.data(), static_cast<int>(secret.size())) != 1) {
    return absl::InternalError("the random generator failed");
  }
  absl::StatusOr<std::string> dummy =
      HashWith(params, secret.data(), secret.size());
  OPENSSL_cleanse(secret.data(), secret.size());
  if (!dummy.ok()) return dummy.status();
  return PasswordHasher(params, *std::move(dummy));
}

absl::StatusOr<std::string> PasswordHasher::Hash(
    absl::string_view password) const {
  if (password.empty()) {
    return absl::InvalidArgumentError("the password is empty");
  }
  if (password.size() > kMaxPasswordBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the password is longer than ", kMaxPasswordBytes, " bytes"));
  }
  return HashWith(params_, password.data(), password.size());
}

absl::StatusOr<bool> PasswordHasher::Verify(absl::string_view encoded,
                                            absl::string_view password) const {
  absl::StatusOr<PhcInfo> info = ParsePhc(encoded);
  if (!info.ok()) return info.status();
  if (password.size() > kMaxPasswordBytes) return false;
  const int rc = RunVerify(encoded, password);
  switch (rc) {
    case ARGON2_OK:
      return true;
    case ARGON2_VERIFY_MISMATCH:
      return false;
    case ARGON2_MEMORY_ALLOCATION_ERROR:
      return absl::ResourceExhaustedError(
          absl::StrCat("argon2id could not allocate ", info->params.memory_kib,
                       " KiB to verify a password"));
    case ARGON2_DECODING_FAIL:
    case ARGON2_DECODING_LENGTH_FAIL:
    case ARGON2_INCORRECT_TYPE:
    case ARGON2_INCORRECT_PARAMETER:
    case ARGON2_SALT_TOO_SHORT:
    case ARGON2_OUTPUT_TOO_SHORT:
      return Malformed(argon2_error_message(rc));
    default:
      return absl::InternalError(absl::StrCat(
          "argon2id failed to verify a password: ", argon2_error_message(rc)));
  }
}

bool PasswordHasher::NeedsRehash(absl::string_view encoded) const {
  absl::StatusOr<PhcInfo> info = ParsePhc(encoded);
  if (!info.ok()) return true;
  return info->params.memory_kib != params_.memory_kib ||
         info->params.iterations != params_.iterations ||
         info->params.parallelism != params_.parallelism ||
         info->salt_bytes != kSaltBytes || info->hash_bytes != kHashBytes;
}

void PasswordHasher::VerifyDummy(absl::string_view password) const {
  // As Verify: an over-long password costs nothing, known user or not.
  if (password.size() > kMaxPasswordBytes) return;
  RunVerify(dummy_encoded_, password);
}

}  // namespace rustiq::authd
