#include "common/keyclient/provider.h"

#include <openssl/core_dispatch.h>
#include <openssl/provider.h>

#include <new>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/keyclient/keymgmt.h"
#include "common/keyclient/provider_context.h"
#include "common/keyclient/signature.h"
#include "common/pki/openssl_util.h"

namespace rustiq::keyclient::internal {
namespace {

const OSSL_ALGORITHM kKeymgmtAlgorithms[] = {
    {kEcKeyNames, kProviderProperty, kRemoteEcKeymgmtFunctions,
     "EC P-256 key whose private half is held by a remote signer"},
    {nullptr, nullptr, nullptr, nullptr}};

const OSSL_ALGORITHM kSignatureAlgorithms[] = {
    {kSignatureAlgorithmName, kProviderProperty, kRemoteEcdsaSignatureFunctions,
     "ECDSA P-256 SHA-256 signed by a remote signer"},
    {nullptr, nullptr, nullptr, nullptr}};

// OSSL_ITEM holds a non-const pointer; OpenSSL only reads these strings.
const OSSL_ITEM kReasonStrings[] = {
    {kReasonRemoteSignFailed, const_cast<char*>("remote signing failed")},
    {kReasonUnsupportedDigest, const_cast<char*>("unsupported digest")},
    {kReasonBadKey, const_cast<char*>("bad remote key")},
    {kReasonBadArgument, const_cast<char*>("bad argument")},
    {kReasonNoSigner, const_cast<char*>("remote key has no signer")},
    {kReasonOpenSsl, const_cast<char*>("OpenSSL call failed")},
    {0, nullptr}};

const OSSL_ALGORITHM* QueryOperation(void* /*provctx*/, int operation_id,
                                     int* no_cache) {
  *no_cache = 0;
  switch (operation_id) {
    case OSSL_OP_KEYMGMT:
      return kKeymgmtAlgorithms;
    case OSSL_OP_SIGNATURE:
      return kSignatureAlgorithms;
    default:
      return nullptr;
  }
}

const OSSL_ITEM* GetReasonStrings(void* /*provctx*/) { return kReasonStrings; }

void Teardown(void* provctx) { delete static_cast<ProviderContext*>(provctx); }

const OSSL_DISPATCH kProviderFunctions[] = {
    DispatchEntry(OSSL_FUNC_PROVIDER_TEARDOWN, &Teardown),
    DispatchEntry(OSSL_FUNC_PROVIDER_QUERY_OPERATION, &QueryOperation),
    DispatchEntry(OSSL_FUNC_PROVIDER_GET_REASON_STRINGS, &GetReasonStrings),
    {0, nullptr}};

absl::StatusOr<OSSL_LIB_CTX*> CreateLibraryContext() {
  OSSL_LIB_CTX* libctx = OSSL_LIB_CTX_new();
  if (libctx == nullptr) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "cannot create an OpenSSL library context: ", pki::OpenSslErrors()));
  }
  // Loading a provider explicitly turns off the automatic "default" one in
  // this context, which is what we want: only our algorithms live here.
  if (OSSL_PROVIDER_add_builtin(libctx, kProviderName, &ProviderInit) != 1 ||
      OSSL_PROVIDER_load(libctx, kProviderName) == nullptr ||
      OSSL_PROVIDER_load(libctx, "base") == nullptr) {
    std::string errors = pki::OpenSslErrors();
    OSSL_LIB_CTX_free(libctx);
    return absl::InternalError(
        absl::StrCat("cannot load the remote-key provider: ", errors));
  }
  return libctx;
}

}  // namespace

int ProviderInit(const OSSL_CORE_HANDLE* handle, const OSSL_DISPATCH* in,
                 const OSSL_DISPATCH** out, void** provctx) {
  auto* ctx = new (std::nothrow) ProviderContext();
  if (ctx == nullptr) return 0;
  ctx->handle = handle;
  for (; in != nullptr && in->function_id != 0; ++in) {
    switch (in->function_id) {
      case OSSL_FUNC_CORE_NEW_ERROR:
        ctx->new_error = OSSL_FUNC_core_new_error(in);
        break;
      case OSSL_FUNC_CORE_SET_ERROR_DEBUG:
        ctx->set_error_debug = OSSL_FUNC_core_set_error_debug(in);
        break;
      case OSSL_FUNC_CORE_VSET_ERROR:
        ctx->vset_error = OSSL_FUNC_core_vset_error(in);
        break;
      default:
        break;
    }
  }
  *out = kProviderFunctions;
  *provctx = ctx;
  return 1;
}

absl::StatusOr<OSSL_LIB_CTX*> RemoteKeyLibraryContext() {
  // Created once (C++ guarantees the initialisation runs once even with
  // concurrent callers) and never freed: keys made in it may live until exit.
  static const auto* const kContext =
      new absl::StatusOr<OSSL_LIB_CTX*>(CreateLibraryContext());
  return *kContext;
}

}  // namespace rustiq::keyclient::internal
