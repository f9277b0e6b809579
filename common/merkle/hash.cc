#include "common/merkle/hash.h"

#include <openssl/evp.h>

#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <memory>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace rustiq::merkle {
namespace {

constexpr uint8_t kLeafPrefix = 0x00;
constexpr uint8_t kNodePrefix = 0x01;

[[noreturn]] void DieOnDigestFailure() {
  std::fputs("rustiq::merkle: OpenSSL could not compute a SHA-256 digest\n",
             stderr);
  std::abort();
}

// The SHA-256 implementation, fetched once: an implicit fetch on every
// digest (EVP_sha256()) costs a provider lookup each time.
const EVP_MD* Sha256() {
  static const EVP_MD* const md = [] {
    EVP_MD* fetched = EVP_MD_fetch(nullptr, "SHA2-256", nullptr);
    if (fetched == nullptr) DieOnDigestFailure();
    return fetched;
  }();
  return md;
}

struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

// One digest context per thread, reused for every hash that thread computes.
EVP_MD_CTX* ThreadContext() {
  thread_local std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx(EVP_MD_CTX_new());
  if (ctx == nullptr) DieOnDigestFailure();
  return ctx.get();
}

// SHA-256 over the concatenation of `parts`.
Hash Sha256Of(std::initializer_list<absl::string_view> parts) {
  EVP_MD_CTX* ctx = ThreadContext();
  if (EVP_DigestInit_ex2(ctx, Sha256(), nullptr) != 1) DieOnDigestFailure();
  for (absl::string_view part : parts) {
    if (EVP_DigestUpdate(ctx, part.data(), part.size()) != 1) {
      DieOnDigestFailure();
    }
  }
  Hash out;
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx, out.data(), &len) != 1 || len != kHashSize) {
    DieOnDigestFailure();
  }
  return out;
}

absl::string_view ByteView(const uint8_t& byte) {
  return absl::string_view(reinterpret_cast<const char*>(&byte), 1);
}

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

}  // namespace

Hash Sha256Digest(absl::string_view data) { return Sha256Of({data}); }

Hash LeafHash(absl::string_view entry) {
  return Sha256Of({ByteView(kLeafPrefix), entry});
}

Hash NodeHash(const Hash& left, const Hash& right) {
  return Sha256Of({ByteView(kNodePrefix), AsBytes(left), AsBytes(right)});
}

Hash EmptyRoot() { return Sha256Of({}); }

absl::string_view AsBytes(const Hash& hash) {
  return absl::string_view(reinterpret_cast<const char*>(hash.data()),
                           hash.size());
}

std::string ToHex(const Hash& hash) {
  return absl::BytesToHexString(AsBytes(hash));
}

absl::StatusOr<Hash> HashFromHex(absl::string_view hex) {
  if (hex.size() != 2 * kHashSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("a SHA-256 hash in hex is ", 2 * kHashSize,
                     " characters, this one is ", hex.size()));
  }
  for (size_t i = 0; i < hex.size(); ++i) {
    if (!absl::ascii_isxdigit(static_cast<unsigned char>(hex[i]))) {
      return absl::InvalidArgumentError(
          absl::StrCat("character ", i, " of a hex hash is not a hex digit: '",
                       absl::CHexEscape(hex.substr(i, 1)), "'"));
    }
  }
  return HashFromBytes(absl::HexStringToBytes(hex));
}

absl::StatusOr<Hash> HashFromBytes(absl::string_view bytes) {
  if (bytes.size() != kHashSize) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a SHA-256 hash is ", kHashSize, " bytes, got ", bytes.size()));
  }
  Hash out;
  for (size_t i = 0; i < kHashSize; ++i) {
    out[i] = static_cast<uint8_t>(bytes[i]);
  }
  return out;
}

std::string Base64Encode(absl::string_view bytes) {
  // EVP_EncodeBlock writes 4 characters per 3 bytes (rounded up) and a NUL.
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int written =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                      reinterpret_cast<const unsigned char*>(bytes.data()),
                      static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(written));
  return out;
}

absl::StatusOr<std::string> Base64DecodeStrict(absl::string_view base64) {
  if (base64.size() % 4 != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "not base64: its length ", base64.size(), " is not a multiple of 4"));
  }
  size_t padding = 0;
  if (!base64.empty() && base64.back() == '=') ++padding;
  if (base64.size() >= 2 && base64[base64.size() - 2] == '=') ++padding;
  for (size_t i = 0; i < base64.size() - padding; ++i) {
    if (Base64Value(base64[i]) < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "not base64: character ", i, " ('",
          absl::CHexEscape(base64.substr(i, 1)),
          "') is not in the standard alphabet A-Z a-z 0-9 + / (with '=' "
          "padding only at the end)"));
    }
  }
  if (padding > 0) {
    // The last character before the padding may not carry bits that the
    // decoded length has no room for (otherwise two encodings would decode
    // to the same bytes).
    int last = Base64Value(base64[base64.size() - padding - 1]);
    int unused_bits_mask = padding == 1 ? 0x03 : 0x0f;
    if ((last & unused_bits_mask) != 0) {
      return absl::InvalidArgumentError(
          "not canonical base64: the character before the '=' padding has "
          "bits set that encode no byte");
    }
  }
  std::string out(base64.size() / 4 * 3, '\0');
  if (!base64.empty()) {
    int n =
        EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                        reinterpret_cast<const unsigned char*>(base64.data()),
                        static_cast<int>(base64.size()));
    if (n < 0 || static_cast<size_t>(n) != out.size()) {
      return absl::InvalidArgumentError("not base64 (OpenSSL refused it)");
    }
  }
  // EVP_DecodeBlock counts the padding as zero bytes.
  out.resize(out.size() - padding);
  return out;
}

}  // namespace rustiq::merkle
