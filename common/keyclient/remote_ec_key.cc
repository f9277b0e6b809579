#include "common/keyclient/remote_ec_key.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace rustiq::keyclient::internal {

absl::StatusOr<pki::EvpPkeyPtr> P256PublicKeyFromParams(
    const OSSL_PARAM params[]) {
  const OSSL_PARAM* group =
      OSSL_PARAM_locate_const(params, OSSL_PKEY_PARAM_GROUP_NAME);
  const OSSL_PARAM* pub =
      OSSL_PARAM_locate_const(params, OSSL_PKEY_PARAM_PUB_KEY);
  const char* group_name = nullptr;
  const void* point = nullptr;
  size_t point_len = 0;
  if (group == nullptr || pub == nullptr ||
      !OSSL_PARAM_get_utf8_string_ptr(group, &group_name) ||
      !OSSL_PARAM_get_octet_string_ptr(pub, &point, &point_len)) {
    return absl::InvalidArgumentError(
        "a remote key needs a group name and a public point");
  }
  // Only these two go to the default provider: it validates the point (on
  // the curve, well encoded) and never sees anything else we were given.
  std::string group_copy(group_name);
  OSSL_PARAM pub_params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
                                       group_copy.data(), 0),
      OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY,
                                        const_cast<void*>(point), point_len),
      OSSL_PARAM_construct_end()};
  pki::EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  EVP_PKEY* raw = nullptr;
  if (ctx == nullptr || EVP_PKEY_fromdata_init(ctx.get()) <= 0 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, pub_params) <=
          0) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a valid EC public key: ", pki::OpenSslErrors()));
  }
  pki::EvpPkeyPtr key(raw);
  if (!pki::IsP256Key(key.get())) {
    return absl::InvalidArgumentError(
        absl::StrCat("remote keys are EC P-256 only, not group '",
                     group_copy.substr(0, 32), "'"));
  }
  return key;
}

}  // namespace rustiq::keyclient::internal
