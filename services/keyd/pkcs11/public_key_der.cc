#include "services/keyd/pkcs11/public_key_der.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>

#include <memory>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/pki/openssl_util.h"

namespace rustiq::keyd::pkcs11 {
namespace {

using ParamBldPtr =
    std::unique_ptr<OSSL_PARAM_BLD,
                    pki::OpenSslDeleter<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>>;
using ParamsPtr =
    std::unique_ptr<OSSL_PARAM,
                    pki::OpenSslDeleter<OSSL_PARAM, OSSL_PARAM_free>>;

absl::Status Crypto(absl::string_view what) {
  return absl::InternalError(absl::StrCat(what, ": ", pki::OpenSslErrors()));
}

// EVP_PKEY_fromdata for a public key of `type` ("EC", "ED25519", "RSA"),
// then i2d_PUBKEY.
absl::StatusOr<std::string> SpkiFromParams(const char* type,
                                           OSSL_PARAM_BLD* builder) {
  ParamsPtr params(OSSL_PARAM_BLD_to_param(builder));
  if (params == nullptr) return Crypto("cannot build key parameters");
  pki::EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  if (ctx == nullptr || EVP_PKEY_fromdata_init(ctx.get()) != 1) {
    return Crypto("cannot import the token's public key");
  }
  EVP_PKEY* raw = nullptr;
  if (EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) !=
      1) {
    return Crypto("the token's public key does not import");
  }
  pki::EvpPkeyPtr key(raw);
  int len = i2d_PUBKEY(key.get(), nullptr);
  if (len <= 0) return Crypto("cannot encode the public key");
  std::string der(static_cast<size_t>(len), '\0');
  unsigned char* out = reinterpret_cast<unsigned char*>(der.data());
  if (i2d_PUBKEY(key.get(), &out) != len) {
    return Crypto("cannot encode the public key");
  }
  return der;
}

absl::StatusOr<std::string> PointKeyDer(const char* type, const char* group,
                                        absl::string_view point) {
  ParamBldPtr builder(OSSL_PARAM_BLD_new());
  if (builder == nullptr) return Crypto("out of memory");
  if ((group != nullptr &&
       OSSL_PARAM_BLD_push_utf8_string(
           builder.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, 0) != 1) ||
      OSSL_PARAM_BLD_push_octet_string(builder.get(), OSSL_PKEY_PARAM_PUB_KEY,
                                       point.data(), point.size()) != 1) {
    return Crypto("cannot build key parameters");
  }
  return SpkiFromParams(type, builder.get());
}

}  // namespace

absl::StatusOr<std::string> UnwrapEcPoint(absl::string_view attribute,
                                          size_t point_bytes) {
  // DER: 0x04, a length, then the point. Short form up to 127 bytes, else
  // 0x81 nn; both forms cover every point this backend makes.
  if (attribute.size() >= 2 && static_cast<uint8_t>(attribute[0]) == 0x04) {
    size_t header = 2;
    size_t length = static_cast<uint8_t>(attribute[1]);
    if (length == 0x81 && attribute.size() >= 3) {
      header = 3;
      length = static_cast<uint8_t>(attribute[2]);
    }
    if (length == point_bytes && attribute.size() == header + length) {
      return std::string(attribute.substr(header));
    }
  }
  if (attribute.size() == point_bytes) return std::string(attribute);
  return absl::DataLossError(absl::StrCat(
      "the token's CKA_EC_POINT is ", attribute.size(), " bytes; expected a ",
      point_bytes, "-byte point, bare or DER-wrapped"));
}

absl::StatusOr<std::string> P256PublicKeyDer(absl::string_view point) {
  return PointKeyDer("EC", "prime256v1", point);
}

absl::StatusOr<std::string> Ed25519PublicKeyDer(absl::string_view point) {
  return PointKeyDer("ED25519", nullptr, point);
}

absl::StatusOr<std::string> RsaPublicKeyDer(absl::string_view modulus,
                                            absl::string_view exponent) {
  pki::BignumPtr n(
      BN_bin2bn(reinterpret_cast<const unsigned char*>(modulus.data()),
                static_cast<int>(modulus.size()), nullptr));
  pki::BignumPtr e(
      BN_bin2bn(reinterpret_cast<const unsigned char*>(exponent.data()),
                static_cast<int>(exponent.size()), nullptr));
  ParamBldPtr builder(OSSL_PARAM_BLD_new());
  if (n == nullptr || e == nullptr || builder == nullptr ||
      OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) !=
          1 ||
      OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_E, e.get()) !=
          1) {
    return Crypto("cannot build key parameters");
  }
  return SpkiFromParams("RSA", builder.get());
}

}  // namespace rustiq::keyd::pkcs11
