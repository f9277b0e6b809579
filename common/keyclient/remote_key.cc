#include "common/keyclient/remote_key.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/x509.h>

#include <array>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/keyclient/provider.h"
#include "common/keyclient/remote_ec_key.h"

namespace rustiq::keyclient {
namespace {

// The signer's SubjectPublicKeyInfo, parsed by the default provider. Must be
// EC P-256 and nothing but the DER.
absl::StatusOr<pki::EvpPkeyPtr> ParsePublicKey(const std::string& der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  pki::EvpPkeyPtr key(d2i_PUBKEY_ex(nullptr, &p, static_cast<long>(der.size()),
                                    nullptr, nullptr));
  if (key == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("remote signer's public key is not a DER "
                     "SubjectPublicKeyInfo: ",
                     pki::OpenSslErrors()));
  }
  if (p != reinterpret_cast<const unsigned char*>(der.data()) + der.size()) {
    return absl::InvalidArgumentError(
        "remote signer's public key has bytes after the DER");
  }
  if (!pki::IsP256Key(key.get())) {
    const char* type = EVP_PKEY_get0_type_name(key.get());
    return absl::InvalidArgumentError(
        absl::StrCat("remote keys are EC P-256 only; the signer's key is ",
                     type != nullptr ? type : "of an unknown type"));
  }
  return key;
}

}  // namespace

absl::StatusOr<pki::EvpPkeyPtr> MakeRemoteKey(
    std::shared_ptr<RemoteSigner> signer) {
  if (signer == nullptr) {
    return absl::InvalidArgumentError("MakeRemoteKey needs a signer");
  }
  absl::StatusOr<pki::EvpPkeyPtr> pub =
      ParsePublicKey(signer->public_key_der());
  if (!pub.ok()) return pub.status();

  std::array<char, 64> group{};
  std::string point(133, '\0');  // the longest encoded point OpenSSL knows
  size_t point_len = 0;
  if (EVP_PKEY_get_utf8_string_param(pub->get(), OSSL_PKEY_PARAM_GROUP_NAME,
                                     group.data(), group.size(),
                                     nullptr) != 1 ||
      EVP_PKEY_get_octet_string_param(
          pub->get(), OSSL_PKEY_PARAM_PUB_KEY,
          reinterpret_cast<unsigned char*>(point.data()), point.size(),
          &point_len) != 1) {
    return absl::InternalError(absl::StrCat(
        "cannot read the signer's public key: ", pki::OpenSslErrors()));
  }

  absl::StatusOr<OSSL_LIB_CTX*> libctx = internal::RemoteKeyLibraryContext();
  if (!libctx.ok()) return libctx.status();
  // The property makes sure the key management is ours (it is the only one
  // in that context today; the query keeps it so).
  pki::EvpPkeyCtxPtr ctx(
      EVP_PKEY_CTX_new_from_name(*libctx, "EC", internal::kProviderProperty));
  // The signer travels by address: the import takes its own reference before
  // EVP_PKEY_fromdata returns (see internal::kSignerParam).
  void* signer_address = &signer;
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group.data(),
                                       0),
      OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                        point_len),
      OSSL_PARAM_construct_octet_ptr(internal::kSignerParam, &signer_address,
                                     sizeof(signer)),
      OSSL_PARAM_construct_end()};
  EVP_PKEY* raw = nullptr;
  if (ctx == nullptr || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_KEYPAIR, params) != 1) {
    return absl::InternalError(
        absl::StrCat("cannot make the remote key: ", pki::OpenSslErrors()));
  }
  return pki::EvpPkeyPtr(raw);
}

}  // namespace rustiq::keyclient
