#include "common/keyclient/keymgmt.h"

#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <memory>
#include <new>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/keyclient/provider.h"
#include "common/keyclient/provider_context.h"
#include "common/keyclient/remote_ec_key.h"

namespace rustiq::keyclient::internal {
namespace {

using SignerPtr = std::shared_ptr<RemoteSigner>;

const RemoteEcKey* AsKey(const void* keydata) {
  return static_cast<const RemoteEcKey*>(keydata);
}

void* NewKey(void* provctx) {
  auto* key = new (std::nothrow) RemoteEcKey();
  if (key != nullptr) key->provider = static_cast<ProviderContext*>(provctx);
  return key;
}

void FreeKey(void* keydata) { delete static_cast<RemoteEcKey*>(keydata); }

// The public half and the parameters are there once imported; the private
// half "is there" when a signer stands in for it. libssl asks for the
// private half before it accepts a key for signing.
int HasKey(const void* keydata, int selection) {
  const RemoteEcKey* key = AsKey(keydata);
  if (key == nullptr || key->public_key == nullptr) return 0;
  if ((selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY) != 0 &&
      key->signer == nullptr) {
    return 0;
  }
  return 1;
}

// Two remote keys, or a remote key and another provider's key exported into
// ours, are the same key when their public halves are: the private half of a
// remote key cannot be compared, and is determined by the public one.
int MatchKeys(const void* keydata1, const void* keydata2, int selection) {
  const RemoteEcKey* a = AsKey(keydata1);
  const RemoteEcKey* b = AsKey(keydata2);
  if (a == nullptr || b == nullptr || a->public_key == nullptr ||
      b->public_key == nullptr) {
    return 0;
  }
  if ((selection & OSSL_KEYMGMT_SELECT_KEYPAIR) != 0) {
    return EVP_PKEY_eq(a->public_key.get(), b->public_key.get()) == 1 ? 1 : 0;
  }
  if ((selection & OSSL_KEYMGMT_SELECT_ALL_PARAMETERS) != 0) {
    return EVP_PKEY_parameters_eq(a->public_key.get(), b->public_key.get()) == 1
               ? 1
               : 0;
  }
  return 1;
}

// From MakeRemoteKey (group, point and the signer) or from another
// provider's export (group and point; a private key, if it sends one, is
// ignored: a remote key never holds private key bytes).
int ImportKey(void* keydata, int selection, const OSSL_PARAM params[]) {
  auto* key = static_cast<RemoteEcKey*>(keydata);
  if (key == nullptr) return 0;
  if (key->public_key != nullptr) {
    RaiseError(key->provider, kReasonBadKey, "remote key imported twice");
    return 0;
  }
  if ((selection & OSSL_KEYMGMT_SELECT_PUBLIC_KEY) == 0) {
    RaiseError(key->provider, kReasonBadKey,
               "a remote key is imported with its public half");
    return 0;
  }
  absl::StatusOr<pki::EvpPkeyPtr> pub = P256PublicKeyFromParams(params);
  if (!pub.ok()) {
    RaiseError(key->provider, kReasonBadKey, pub.status().message());
    return 0;
  }
  SignerPtr signer;
  const OSSL_PARAM* p = OSSL_PARAM_locate_const(params, kSignerParam);
  if (p != nullptr && (selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY) != 0) {
    const void* ptr = nullptr;
    size_t size = 0;
    if (!OSSL_PARAM_get_octet_ptr(p, &ptr, &size) || ptr == nullptr ||
        size != sizeof(SignerPtr)) {
      RaiseError(key->provider, kReasonBadArgument, "bad signer parameter");
      return 0;
    }
    signer = *static_cast<const SignerPtr*>(ptr);
  }
  key->public_key = *std::move(pub);
  key->signer = std::move(signer);
  return 1;
}

const OSSL_PARAM* ImportTypes(int /*selection*/) {
  static const OSSL_PARAM kTypes[] = {
      OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, nullptr, 0),
      OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, nullptr, 0),
      OSSL_PARAM_octet_ptr(kSignerParam, nullptr, 0), OSSL_PARAM_END};
  return kTypes;
}

// Only the public half and the parameters, by the default provider (which
// holds them): that is what lets OpenSSL compare our key with the one in the
// certificate, and encode it. A request for the private half exports what
// there is rather than failing, because OpenSSL's cross-provider comparison
// asks for "everything" and needs the public half.
int ExportKey(void* keydata, int selection, OSSL_CALLBACK* callback,
              void* cbarg) {
  const RemoteEcKey* key = AsKey(keydata);
  if (key == nullptr || key->public_key == nullptr) return 0;
  int wanted;
  if ((selection & OSSL_KEYMGMT_SELECT_PUBLIC_KEY) != 0) {
    wanted = EVP_PKEY_PUBLIC_KEY;
  } else if ((selection & OSSL_KEYMGMT_SELECT_ALL_PARAMETERS) != 0) {
    wanted = EVP_PKEY_KEY_PARAMETERS;
  } else {
    RaiseError(key->provider, kReasonBadArgument,
               "a remote key cannot export its private half");
    return 0;
  }
  OSSL_PARAM* params = nullptr;
  if (EVP_PKEY_todata(key->public_key.get(), wanted, &params) <= 0) {
    RaiseError(key->provider, kReasonOpenSsl,
               "cannot export the remote key's public half");
    return 0;
  }
  int ok = callback(params, cbarg);
  OSSL_PARAM_free(params);
  return ok;
}

const OSSL_PARAM* ExportTypes(int /*selection*/) {
  static const OSSL_PARAM kTypes[] = {
      OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, nullptr, 0),
      OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_EC_ENCODING, nullptr, 0),
      OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT,
                             nullptr, 0),
      OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, nullptr, 0),
      OSSL_PARAM_END};
  return kTypes;
}

// Size, strength, curve, point and default digest are the public key's, so
// the default provider answers (libssl reads the group name and the point
// format of a certificate key; EVP_PKEY_get_size and friends read the rest).
int GetParams(void* keydata, OSSL_PARAM params[]) {
  const RemoteEcKey* key = AsKey(keydata);
  if (key == nullptr || key->public_key == nullptr) return 0;
  return EVP_PKEY_get_params(key->public_key.get(), params);
}

const OSSL_PARAM* GettableParams(void* /*provctx*/) {
  static const OSSL_PARAM kGettable[] = {
      OSSL_PARAM_int(OSSL_PKEY_PARAM_BITS, nullptr),
      OSSL_PARAM_int(OSSL_PKEY_PARAM_SECURITY_BITS, nullptr),
      OSSL_PARAM_int(OSSL_PKEY_PARAM_MAX_SIZE, nullptr),
      OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_DEFAULT_DIGEST, nullptr, 0),
      OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, nullptr, 0),
      OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_EC_ENCODING, nullptr, 0),
      OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT,
                             nullptr, 0),
      OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, nullptr, 0),
      OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, nullptr, 0),
      OSSL_PARAM_BN(OSSL_PKEY_PARAM_EC_PUB_X, nullptr, 0),
      OSSL_PARAM_BN(OSSL_PKEY_PARAM_EC_PUB_Y, nullptr, 0),
      OSSL_PARAM_END};
  return kGettable;
}

void* DupKey(const void* keydata, int selection) {
  const RemoteEcKey* from = AsKey(keydata);
  if (from == nullptr || from->public_key == nullptr) return nullptr;
  auto* to = new (std::nothrow) RemoteEcKey();
  if (to == nullptr) return nullptr;
  to->provider = from->provider;
  if (EVP_PKEY_up_ref(from->public_key.get()) != 1) {
    delete to;
    return nullptr;
  }
  to->public_key.reset(from->public_key.get());
  if ((selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY) != 0) {
    to->signer = from->signer;
  }
  return to;
}

// See kSignatureAlgorithmName for why signing is not "ECDSA". Other
// operations (key exchange, ...) get the key's name, "EC", which no provider
// offers as an operation: they fail, as they must without a private key.
const char* QueryOperationName(int operation_id) {
  return operation_id == OSSL_OP_SIGNATURE ? kSignatureAlgorithmName : nullptr;
}

}  // namespace

const OSSL_DISPATCH kRemoteEcKeymgmtFunctions[] = {
    DispatchEntry(OSSL_FUNC_KEYMGMT_NEW, &NewKey),
    DispatchEntry(OSSL_FUNC_KEYMGMT_FREE, &FreeKey),
    DispatchEntry(OSSL_FUNC_KEYMGMT_HAS, &HasKey),
    DispatchEntry(OSSL_FUNC_KEYMGMT_MATCH, &MatchKeys),
    DispatchEntry(OSSL_FUNC_KEYMGMT_IMPORT, &ImportKey),
    DispatchEntry(OSSL_FUNC_KEYMGMT_IMPORT_TYPES, &ImportTypes),
    DispatchEntry(OSSL_FUNC_KEYMGMT_EXPORT, &ExportKey),
    DispatchEntry(OSSL_FUNC_KEYMGMT_EXPORT_TYPES, &ExportTypes),
    DispatchEntry(OSSL_FUNC_KEYMGMT_GET_PARAMS, &GetParams),
    DispatchEntry(OSSL_FUNC_KEYMGMT_GETTABLE_PARAMS, &GettableParams),
    DispatchEntry(OSSL_FUNC_KEYMGMT_DUP, &DupKey),
    DispatchEntry(OSSL_FUNC_KEYMGMT_QUERY_OPERATION_NAME, &QueryOperationName),
    {0, nullptr}};

}  // namespace rustiq::keyclient::internal
