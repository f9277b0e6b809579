#include "common/auth/paseto.h"

#include <openssl/err.h>
#include <openssl/evp.h>

#include <array>
#include <cstdint>
#include <memory>

#include "absl/strings/str_cat.h"

namespace rustiq::auth::paseto {
namespace {

constexpr char kAlphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// 0-63 for a base64url character, -1 for anything else.
constexpr std::array<int8_t, 256> MakeDecodeTable() {
  std::array<int8_t, 256> table{};
  for (int8_t& v : table) v = -1;
  for (int i = 0; i < 64; ++i) {
    table[static_cast<unsigned char>(kAlphabet[i])] = static_cast<int8_t>(i);
  }
  return table;
}
constexpr std::array<int8_t, 256> kDecodeTable = MakeDecodeTable();

void AppendLe64(uint64_t n, std::string* out) {
  n &= ~(uint64_t{1} << 63);  // the spec clears the top bit
  for (int i = 0; i < 8; ++i) {
    out->push_back(static_cast<char>(n & 0xff));
    n >>= 8;
  }
}

struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;

const unsigned char* Bytes(absl::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

absl::Status CheckEd25519(EVP_PKEY* key) {
  if (key == nullptr || EVP_PKEY_get_base_id(key) != EVP_PKEY_ED25519) {
    return absl::FailedPreconditionError(
        "the token verification key is not an Ed25519 key");
  }
  return absl::OkStatus();
}

// "v3.public", "v4.local", ... when `token` starts with another PASETO
// header; empty otherwise. Only these fixed names are ever quoted back.
std::string OtherHeader(absl::string_view token) {
  for (absl::string_view version : {"v1", "v2", "v3", "v4"}) {
    for (absl::string_view purpose : {"local", "public"}) {
      std::string header = absl::StrCat(version, ".", purpose, ".");
      if (token.substr(0, header.size()) == header) {
        return absl::StrCat(version, ".", purpose);
      }
    }
  }
  return "";
}

}  // namespace

std::string Base64UrlEncode(absl::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() * 4 + 2) / 3);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t n = (uint32_t{static_cast<unsigned char>(bytes[i])} << 16) |
                 (uint32_t{static_cast<unsigned char>(bytes[i + 1])} << 8) |
                 uint32_t{static_cast<unsigned char>(bytes[i + 2])};
    out.push_back(kAlphabet[(n >> 18) & 63]);
    out.push_back(kAlphabet[(n >> 12) & 63]);
    out.push_back(kAlphabet[(n >> 6) & 63]);
    out.push_back(kAlphabet[n & 63]);
  }
  size_t rest = bytes.size() - i;
  if (rest == 1) {
    uint32_t n = uint32_t{static_cast<unsigned char>(bytes[i])} << 16;
    out.push_back(kAlphabet[(n >> 18) & 63]);
    out.push_back(kAlphabet[(n >> 12) & 63]);
  } else if (rest == 2) {
    uint32_t n = (uint32_t{static_cast<unsigned char>(bytes[i])} << 16) |
                 (uint32_t{static_cast<unsigned char>(bytes[i + 1])} << 8);
    out.push_back(kAlphabet[(n >> 18) & 63]);
    out.push_back(kAlphabet[(n >> 12) & 63]);
    out.push_back(kAlphabet[(n >> 6) & 63]);
  }
  return out;
}

absl::StatusOr<std::string> Base64UrlDecode(absl::string_view text) {
  if (text.size() % 4 == 1) {
    return absl::InvalidArgumentError(
        "base64url text has an impossible length");
  }
  std::string out;
  out.reserve(text.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    int8_t v = kDecodeTable[static_cast<unsigned char>(c)];
    if (v < 0) {
      return absl::InvalidArgumentError(
          "base64url text has a character outside [A-Za-z0-9_-]");
    }
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  // The bits left over (2 or 4) must be zero, or two spellings would decode
  // to the same bytes.
  if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) {
    return absl::InvalidArgumentError(
        "base64url text is not canonical (unused bits are set)");
  }
  return out;
}

std::string PreAuthEncode(absl::Span<const absl::string_view> pieces) {
  size_t total = 8;
  for (absl::string_view p : pieces) total += 8 + p.size();
  std::string out;
  out.reserve(total);
  AppendLe64(pieces.size(), &out);
  for (absl::string_view p : pieces) {
    AppendLe64(p.size(), &out);
    out.append(p.data(), p.size());
  }
  return out;
}

std::string SigningInput(absl::string_view m, absl::string_view footer,
                         absl::string_view implicit) {
  return PreAuthEncode({kV4PublicHeader, m, footer, implicit});
}

absl::StatusOr<std::string> Assemble(absl::string_view m, absl::string_view sig,
                                     absl::string_view footer) {
  if (sig.size() != kEd25519SignatureBytes) {
    return absl::InvalidArgumentError(absl::StrCat("an Ed25519 signature is ",
                                                   kEd25519SignatureBytes,
                                                   " bytes, not ", sig.size()));
  }
  std::string token =
      absl::StrCat(kV4PublicHeader, Base64UrlEncode(absl::StrCat(m, sig)));
  if (!footer.empty()) absl::StrAppend(&token, ".", Base64UrlEncode(footer));
  return token;
}

absl::StatusOr<V4PublicParts> Parse(absl::string_view token) {
  if (token.substr(0, kV4PublicHeader.size()) != kV4PublicHeader) {
    std::string other = OtherHeader(token);
    if (!other.empty()) {
      return absl::UnauthenticatedError(
          absl::StrCat("token is not a v4.public PASETO (it is ", other, ")"));
    }
    return absl::UnauthenticatedError("token is not a v4.public PASETO");
  }
  absl::string_view rest = token.substr(kV4PublicHeader.size());
  absl::string_view payload = rest;
  absl::string_view footer_text;
  bool has_footer = false;
  if (size_t dot = rest.find('.'); dot != absl::string_view::npos) {
    payload = rest.substr(0, dot);
    footer_text = rest.substr(dot + 1);
    has_footer = true;
    if (size_t more = footer_text.find('.'); more != absl::string_view::npos) {
      size_t parts = 4;
      for (char c : footer_text) parts += c == '.' ? 1 : 0;
      return absl::UnauthenticatedError(
          absl::StrCat("token is not a v4.public PASETO: it has ", parts,
                       " dot-separated parts, not 3 or 4"));
    }
  }
  if (has_footer && footer_text.empty()) {
    // The spec omits the last '.' with an empty footer: one spelling only.
    return absl::UnauthenticatedError(
        "token is not a v4.public PASETO: it ends with '.' and no footer");
  }
  absl::StatusOr<std::string> decoded = Base64UrlDecode(payload);
  if (!decoded.ok()) {
    return absl::UnauthenticatedError(absl::StrCat(
        "token payload is not valid base64url: ", decoded.status().message()));
  }
  if (decoded->size() < kEd25519SignatureBytes) {
    return absl::UnauthenticatedError(
        "token payload is too short to hold a signature");
  }
  V4PublicParts parts;
  size_t m_size = decoded->size() - kEd25519SignatureBytes;
  parts.signature = decoded->substr(m_size);
  decoded->resize(m_size);
  parts.message = *std::move(decoded);
  if (has_footer) {
    absl::StatusOr<std::string> footer = Base64UrlDecode(footer_text);
    if (!footer.ok()) {
      return absl::UnauthenticatedError(absl::StrCat(
          "token footer is not valid base64url: ", footer.status().message()));
    }
    parts.footer = *std::move(footer);
  }
  return parts;
}

absl::Status VerifyParts(const V4PublicParts& parts, EVP_PKEY* ed25519,
                         absl::string_view implicit) {
  if (absl::Status s = CheckEd25519(ed25519); !s.ok()) return s;
  if (parts.signature.size() != kEd25519SignatureBytes) {
    return absl::UnauthenticatedError("token signature does not verify");
  }
  std::string input = SigningInput(parts.message, parts.footer, implicit);
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (ctx == nullptr || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr,
                                             nullptr, ed25519) != 1) {
    ERR_clear_error();
    return absl::InternalError("cannot set up Ed25519 verification");
  }
  int ok = EVP_DigestVerify(ctx.get(), Bytes(parts.signature),
                            parts.signature.size(), Bytes(input), input.size());
  if (ok != 1) {
    // A bad signature leaves reasons on the thread's queue; they say nothing
    // a person could use, and must not confuse the next OpenSSL caller.
    ERR_clear_error();
    return absl::UnauthenticatedError("token signature does not verify");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> VerifyV4Public(absl::string_view token,
                                           EVP_PKEY* ed25519,
                                           absl::string_view implicit) {
  absl::StatusOr<V4PublicParts> parts = Parse(token);
  if (!parts.ok()) return parts.status();
  if (absl::Status s = VerifyParts(*parts, ed25519, implicit); !s.ok()) {
    return s;
  }
  return std::move(parts->message);
}

absl::StatusOr<std::string> SignEd25519(EVP_PKEY* ed25519,
                                        absl::string_view message) {
  if (absl::Status s = CheckEd25519(ed25519); !s.ok()) return s;
  MdCtxPtr ctx(EVP_MD_CTX_new());
  std::string sig(kEd25519SignatureBytes, '\0');
  size_t len = sig.size();
  if (ctx == nullptr ||
      EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, ed25519) != 1 ||
      EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()),
                     &len, Bytes(message), message.size()) != 1 ||
      len != kEd25519SignatureBytes) {
    ERR_clear_error();
    return absl::InternalError(
        "Ed25519 signing failed (is this a private key?)");
  }
  return sig;
}

absl::StatusOr<std::string> SignV4Public(absl::string_view m,
                                         absl::string_view footer,
                                         absl::string_view implicit,
                                         EVP_PKEY* ed25519) {
  absl::StatusOr<std::string> sig =
      SignEd25519(ed25519, SigningInput(m, footer, implicit));
  if (!sig.ok()) return sig.status();
  return Assemble(m, *sig, footer);
}

}  // namespace rustiq::auth::paseto
