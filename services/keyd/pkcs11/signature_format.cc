#include "services/keyd/pkcs11/signature_format.h"

#include <openssl/bn.h>
#include <openssl/ecdsa.h>

#include <memory>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/pki/openssl_util.h"

namespace rustiq::keyd::pkcs11 {
namespace {

using EcdsaSigPtr =
    std::unique_ptr<ECDSA_SIG, pki::OpenSslDeleter<ECDSA_SIG, ECDSA_SIG_free>>;

// DER of SEQUENCE { SEQUENCE { OID sha256, NULL }, OCTET STRING (32) }
// without the digest (RFC 8017, section 9.2, note 1).
constexpr unsigned char kSha256DigestInfoPrefix[] = {
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
    0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20};

}  // namespace

absl::StatusOr<std::string> EcdsaRawToDer(absl::string_view raw) {
  if (raw.empty() || raw.size() % 2 != 0) {
    return absl::InternalError(absl::StrCat("the token returned a ", raw.size(),
                                            "-byte ECDSA signature"));
  }
  const auto* bytes = reinterpret_cast<const unsigned char*>(raw.data());
  int half = static_cast<int>(raw.size() / 2);
  pki::BignumPtr r(BN_bin2bn(bytes, half, nullptr));
  pki::BignumPtr s(BN_bin2bn(bytes + half, half, nullptr));
  EcdsaSigPtr sig(ECDSA_SIG_new());
  if (r == nullptr || s == nullptr || sig == nullptr ||
      ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) {
    return absl::InternalError(absl::StrCat(
        "cannot encode the ECDSA signature: ", pki::OpenSslErrors()));
  }
  // ECDSA_SIG_set0 took ownership.
  r.release();
  s.release();
  int len = i2d_ECDSA_SIG(sig.get(), nullptr);
  if (len <= 0) {
    return absl::InternalError(absl::StrCat(
        "cannot encode the ECDSA signature: ", pki::OpenSslErrors()));
  }
  std::string der(static_cast<size_t>(len), '\0');
  unsigned char* out = reinterpret_cast<unsigned char*>(der.data());
  i2d_ECDSA_SIG(sig.get(), &out);
  return der;
}

std::string Sha256DigestInfo(absl::string_view digest) {
  std::string info(reinterpret_cast<const char*>(kSha256DigestInfoPrefix),
                   sizeof(kSha256DigestInfoPrefix));
  info.append(digest.data(), digest.size());
  return info;
}

}  // namespace rustiq::keyd::pkcs11
