#include "common/keyclient/signature.h"

#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <array>
#include <cstring>
#include <memory>
#include <new>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/keyclient/provider_context.h"
#include "common/keyclient/remote_ec_key.h"
#include "common/pki/openssl_util.h"

namespace rustiq::keyclient::internal {
namespace {

using EvpMdCtxPtr =
    std::unique_ptr<EVP_MD_CTX,
                    pki::OpenSslDeleter<EVP_MD_CTX, EVP_MD_CTX_free>>;
using EvpMdPtr =
    std::unique_ptr<EVP_MD, pki::OpenSslDeleter<EVP_MD, EVP_MD_free>>;

constexpr size_t kSha256Size = 32;
// DER ECDSA-Sig-Value on P-256 at its longest: SEQUENCE { INTEGER (33),
// INTEGER (33) } = 2 + 2 * (2 + 33).
constexpr size_t kMaxSignatureSize = 72;
// AlgorithmIdentifier { ecdsa-with-SHA256 } (RFC 5758: no parameters), what
// X.509 and PKCS#10 signing ask the signature for.
constexpr unsigned char kEcdsaWithSha256AlgorithmId[] = {
    0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02};

enum class Operation { kNone, kSign, kVerify };

struct SignatureCtx {
  const ProviderContext* provider = nullptr;
  Operation operation = Operation::kNone;
  // References of our own: a duplicated context may outlive the EVP_PKEY
  // whose key object the operation started with.
  pki::EvpPkeyPtr public_key;
  std::shared_ptr<RemoteSigner> signer;
  // Digest-sign: the running SHA-256 of the message.
  EvpMdCtxPtr sha256;
  // Verification, by the default provider: digest-verify runs in
  // `verify_md`, verify in `verify_pkey`.
  EvpMdCtxPtr verify_md;
  pki::EvpPkeyCtxPtr verify_pkey;
};

SignatureCtx* AsCtx(void* ctx) { return static_cast<SignatureCtx*>(ctx); }

// The EVP_PKEY_CTX the default provider verifies with, whichever way the
// verification was started.
EVP_PKEY_CTX* VerifyPkeyCtx(const SignatureCtx* ctx) {
  if (ctx->verify_pkey != nullptr) return ctx->verify_pkey.get();
  if (ctx->verify_md != nullptr) {
    return EVP_MD_CTX_get_pkey_ctx(ctx->verify_md.get());
  }
  return nullptr;
}

EvpMdPtr FetchSha256() {
  return EvpMdPtr(EVP_MD_fetch(nullptr, "SHA2-256", nullptr));
}

bool IsSha256(const char* name) {
  EvpMdPtr md(EVP_MD_fetch(nullptr, name, nullptr));
  return md != nullptr && EVP_MD_is_a(md.get(), "SHA2-256");
}

// Starts an operation on `keydata`: clears what a previous one left and
// takes the key. Signing needs the signer, verifying only the public half.
bool StartOperation(SignatureCtx* ctx, void* keydata, Operation operation) {
  ctx->operation = Operation::kNone;
  ctx->sha256.reset();
  ctx->verify_md.reset();
  ctx->verify_pkey.reset();
  // A reinit without a key keeps the one of the previous operation.
  if (keydata != nullptr) {
    const auto* key = static_cast<const RemoteEcKey*>(keydata);
    if (key->public_key == nullptr ||
        EVP_PKEY_up_ref(key->public_key.get()) != 1) {
      RaiseError(ctx->provider, kReasonBadKey, "remote key not initialised");
      return false;
    }
    ctx->public_key.reset(key->public_key.get());
    ctx->signer = key->signer;
  }
  if (ctx->public_key == nullptr) {
    RaiseError(ctx->provider, kReasonBadKey, "no key for the operation");
    return false;
  }
  if (operation == Operation::kSign && ctx->signer == nullptr) {
    RaiseError(ctx->provider, kReasonNoSigner,
               "this remote key has no signer (public half only)");
    return false;
  }
  ctx->operation = operation;
  return true;
}

bool CheckSignDigestName(const SignatureCtx* ctx, const char* name) {
  if (name == nullptr || name[0] == '\0' || IsSha256(name)) return true;
  RaiseError(ctx->provider, kReasonUnsupportedDigest,
             absl::StrCat("remote keys sign SHA-256 digests only, not ",
                          absl::string_view(name).substr(0, 64)));
  return false;
}

bool VerifiesWith(EVP_PKEY* public_key, absl::string_view digest,
                  absl::string_view signature) {
  pki::EvpPkeyCtxPtr ctx(
      EVP_PKEY_CTX_new_from_pkey(nullptr, public_key, nullptr));
  return ctx != nullptr && EVP_PKEY_verify_init(ctx.get()) == 1 &&
         EVP_PKEY_verify(
             ctx.get(),
             reinterpret_cast<const unsigned char*>(signature.data()),
             signature.size(),
             reinterpret_cast<const unsigned char*>(digest.data()),
             digest.size()) == 1;
}

// The one place a private operation happens: the signer signs, and the
// result is checked against the public half before OpenSSL sees it. A
// signer that answers with another key's signature (keyd rotated the key
// after this signer was made) thus fails here, with a message that says so,
// rather than as an opaque handshake failure at the peer.
int RemoteSign(SignatureCtx* ctx, absl::string_view digest, unsigned char* sig,
               size_t* siglen, size_t sigsize) {
  // As OpenSSL's own providers do: a buffer that may not hold the longest
  // signature is refused before keyd is asked (and records a use).
  if (sigsize < kMaxSignatureSize) {
    RaiseError(
        ctx->provider, kReasonBadArgument,
        absl::StrCat("signature buffer of ", sigsize,
                     " bytes; a signature takes up to ", kMaxSignatureSize));
    return 0;
  }
  absl::StatusOr<std::string> der;
  try {
    der = ctx->signer->SignDigest(digest);
  } catch (...) {
    // Nothing may unwind through OpenSSL's C frames.
    der = absl::InternalError("remote signer threw an exception");
  }
  if (!der.ok()) {
    RaiseError(ctx->provider, kReasonRemoteSignFailed,
               absl::StrCat("remote signer failed: ", der.status().ToString()));
    return 0;
  }
  if (!VerifiesWith(ctx->public_key.get(), digest, *der)) {
    RaiseError(ctx->provider, kReasonRemoteSignFailed,
               "the remote signature does not verify with the key's public "
               "half (was the key rotated? a new signer is needed)");
    return 0;
  }
  if (der->size() > sigsize) {  // never, with the check above; kept for memcpy
    RaiseError(ctx->provider, kReasonBadArgument, "signature buffer too small");
    return 0;
  }
  std::memcpy(sig, der->data(), der->size());
  *siglen = der->size();
  return 1;
}

void* NewCtx(void* provctx, const char* /*propq*/) {
  auto* ctx = new (std::nothrow) SignatureCtx();
  if (ctx != nullptr) ctx->provider = static_cast<ProviderContext*>(provctx);
  return ctx;
}

void FreeCtx(void* ctx) { delete AsCtx(ctx); }

void* DupCtx(void* from_ptr) {
  const SignatureCtx* from = AsCtx(from_ptr);
  auto to = std::unique_ptr<SignatureCtx>(new (std::nothrow) SignatureCtx());
  if (to == nullptr) return nullptr;
  to->provider = from->provider;
  to->operation = from->operation;
  to->signer = from->signer;
  if (from->public_key != nullptr) {
    if (EVP_PKEY_up_ref(from->public_key.get()) != 1) return nullptr;
    to->public_key.reset(from->public_key.get());
  }
  for (auto [src, dst] : {std::pair{&from->sha256, &to->sha256},
                          std::pair{&from->verify_md, &to->verify_md}}) {
    if (*src == nullptr) continue;
    dst->reset(EVP_MD_CTX_new());
    if (*dst == nullptr || EVP_MD_CTX_copy_ex(dst->get(), src->get()) != 1) {
      return nullptr;
    }
  }
  if (from->verify_pkey != nullptr) {
    to->verify_pkey.reset(EVP_PKEY_CTX_dup(from->verify_pkey.get()));
    if (to->verify_pkey == nullptr) return nullptr;
  }
  return to.release();
}

int SetCtxParams(void* ctx_ptr, const OSSL_PARAM params[]);

int SignInit(void* ctx_ptr, void* keydata, const OSSL_PARAM params[]) {
  SignatureCtx* ctx = AsCtx(ctx_ptr);
  if (!StartOperation(ctx, keydata, Operation::kSign)) return 0;
  return SetCtxParams(ctx, params);
}

// EVP_PKEY_sign: `tbs` is the SHA-256 digest itself.
int Sign(void* ctx_ptr, unsigned char* sig, size_t* siglen, size_t sigsize,
         const unsigned char* tbs, size_t tbslen) {
  SignatureCtx* ctx = AsCtx(ctx_ptr);
  if (ctx->operation != Operation::kSign) return 0;
  if (sig == nullptr) {
    *siglen = kMaxSignatureSize;
    return 1;
  }
  if (tbslen != kSha256Size) {
    RaiseError(ctx->provider, kReasonUnsupportedDigest,
               absl::StrCat("remote keys sign 32-byte SHA-256 digests, not ",
                            tbslen, " bytes"));
    return 0;
  }
  return RemoteSign(
      ctx, absl::string_view(reinterpret_cast<const char*>(tbs), tbslen), sig,
      siglen, sigsize);
}

int DigestSignInit(void* ctx_ptr, const char* mdname, void* keydata,
                   const OSSL_PARAM params[]) {
  SignatureCtx* ctx = AsCtx(ctx_ptr);
  if (!StartOperation(ctx, keydata, Operation::kSign) ||
      !CheckSignDigestName(ctx, mdname)) {
    ctx->operation = Operation::kNone;
    return 0;
  }
  EvpMdPtr md = FetchSha256();
  ctx->sha256.reset(EVP_MD_CTX_new());
  if (md == nullptr || ctx->sha256 == nullptr ||
      EVP_DigestInit_ex2(ctx->sha256.get(), md.get(), nullptr) != 1) {
    RaiseError(ctx->provider, kReasonOpenSsl, "cannot start SHA-256");
    ctx->operation = Operation::kNone;
    return 0;
  }
  return SetCtxParams(ctx, params);
}

int DigestSignUpdate(void* ctx_ptr, const unsigned char* data, size_t len) {
  SignatureCtx* ctx = AsCtx(ctx_ptr);
  if (ctx->operation != Operation::kSign || ctx->sha256 == nullptr) return 0;
  return EVP_DigestUpdate(ctx->sha256.get(), data, len);
}

int DigestSignFinal(void* ctx_ptr, unsigned char* sig, size_t* siglen,
                    size_t sigsize) {
  SignatureCtx* ctx = AsCtx(ctx_ptr);
  if (ctx->operation != Operation::kSign || ctx->sha256 == nullptr) return 0;
  // A size query must leave the running digest alone: the real call follows.
  if (sig == nullptr) {
    *siglen = kMaxSignatureSize;
    return 1;
  }
  std::array<unsigned char, kSha256Size> digest;
  unsigned int digest_len = 0;
  if (EVP_DigestFinal_ex(ctx->sha256.get(), digest.data(), &digest_len) != 1 ||
      digest_len != digest.size()) {
    RaiseError(ctx->provider, kReasonOpenSsl, "SHA-256 failed");
    return 0;
  }
  return RemoteSign(
      ctx,
      absl::string_view(reinterpret_cast<const char*>(digest.data()),
                        digest.size()),
      sig, siglen, sigsize);
}

// EVP_DigestSign, which libssl uses for CertificateVerify: hash, then sign.
int DigestSign(void* ctx_ptr, unsigned char* sig, size_t* siglen,
               size_t sigsize, const unsigned char* tbs, size_t tbslen) {
  SignatureCtx* ctx = AsCtx(ctx_ptr);
  if (ctx->operation != Operation::kSign || ctx->sha256 == nullptr) return 0;
  if (sig == nullptr) {
    *siglen = kMaxSignatureSize;
    return 1;
  }
  return DigestSignUpdate(ctx, tbs, tbslen) &&
         DigestSignFinal(ctx, sig, siglen, sigsize);
}

int VerifyInit(void* ctx_ptr, void* keydata, const OSSL_PARAM params[]) {
  SignatureCtx* ctx = AsCtx(ctx_ptr);
  if (!StartOperation(ctx, keydata, Operation::kVerify)) return 0;
  ctx->verify_pkey.reset(
      EVP_PKEY_CTX_new_from_pkey(nullptr, ctx->public_key.get(), nullptr));
  if (ctx->verify_pkey == nullptr ||
      EVP_PKEY_verify_init_ex(ctx->verify_pkey.get(), params) != 1) {
    ctx->operation = Operation::kNone;
    return 0;
  }
  return 1;
}

int Verify(void* ctx_ptr, const unsigned char* sig, size_t siglen,
           const unsigned char* tbs, size_t tbslen) {
  SignatureCtx* ctx = AsCtx(ctx_ptr);
  if (ctx->operation != Operation::kVerify || ctx->verify_pkey == nullptr) {
    return 0;
  }
  return EVP_PKEY_verify(ctx->verify_pkey.get(), sig, siglen, tbs, tbslen) == 1
             ? 1
             : 0;
}

int DigestVerifyInit(void* ctx_ptr, const char* mdname, void* keydata,
                     const OSSL_PARAM params[]) {
  SignatureCtx* ctx = AsCtx(ctx_ptr);
  if (!StartOperation(ctx, keydata, Operation::kVerify)) return 0;
  ctx->verify_md.reset(EVP_MD_CTX_new());
  if (ctx->verify_md == nullptr ||
      EVP_DigestVerifyInit_ex(ctx->verify_md.get(), nullptr, mdname, nullptr,
                              nullptr, ctx->public_key.get(), params) != 1) {
    ctx->operation = Operation::kNone;
    return 0;
  }
  return 1;
}

int DigestVerifyUpdate(void* ctx_ptr, const unsigned char* data, size_t len) {
  SignatureCtx* ctx = AsCtx(ctx_ptr);
  if (ctx->operation != Operation::kVerify || ctx->verify_md == nullptr) {
    return 0;
  }
  return EVP_DigestVerifyUpdate(ctx->verify_md.get(), data, len);
}

int DigestVerifyFinal(void* ctx_ptr, const unsigned char* sig, size_t siglen) {
  SignatureCtx* ctx = AsCtx(ctx_ptr);
  if (ctx->operation != Operation::kVerify || ctx->verify_md == nullptr) {
    return 0;
  }
  return EVP_DigestVerifyFinal(ctx->verify_md.get(), sig, siglen) == 1 ? 1 : 0;
}

int GetCtxParams(void* ctx_ptr, OSSL_PARAM params[]) {
  SignatureCtx* ctx = AsCtx(ctx_ptr);
  if (params == nullptr) return 1;
  if (ctx->operation == Operation::kVerify) {
    EVP_PKEY_CTX* inner = VerifyPkeyCtx(ctx);
    return inner != nullptr && EVP_PKEY_CTX_get_params(inner, params) == 1;
  }
  OSSL_PARAM* p = OSSL_PARAM_locate(params, OSSL_SIGNATURE_PARAM_ALGORITHM_ID);
  if (p != nullptr &&
      !OSSL_PARAM_set_octet_string(p, kEcdsaWithSha256AlgorithmId,
                                   sizeof(kEcdsaWithSha256AlgorithmId))) {
    return 0;
  }
  p = OSSL_PARAM_locate(params, OSSL_SIGNATURE_PARAM_DIGEST);
  if (p != nullptr && !OSSL_PARAM_set_utf8_string(p, "SHA2-256")) return 0;
  p = OSSL_PARAM_locate(params, OSSL_SIGNATURE_PARAM_DIGEST_SIZE);
  if (p != nullptr && !OSSL_PARAM_set_size_t(p, kSha256Size)) return 0;
  return 1;
}

const OSSL_PARAM* GettableCtxParams(void* /*ctx*/, void* /*provctx*/) {
  static const OSSL_PARAM kGettable[] = {
      OSSL_PARAM_octet_string(OSSL_SIGNATURE_PARAM_ALGORITHM_ID, nullptr, 0),
      OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_DIGEST, nullptr, 0),
      OSSL_PARAM_size_t(OSSL_SIGNATURE_PARAM_DIGEST_SIZE, nullptr),
      OSSL_PARAM_END};
  return kGettable;
}

// Signing takes one setting, the digest, and it must be SHA-256
// (EVP_PKEY_CTX_set_signature_md lands here). Verification passes everything
// on to the default provider.
int SetCtxParams(void* ctx_ptr, const OSSL_PARAM params[]) {
  SignatureCtx* ctx = AsCtx(ctx_ptr);
  if (params == nullptr) return 1;
  if (ctx->operation == Operation::kVerify) {
    EVP_PKEY_CTX* inner = VerifyPkeyCtx(ctx);
    return inner != nullptr && EVP_PKEY_CTX_set_params(inner, params) == 1;
  }
  const OSSL_PARAM* p =
      OSSL_PARAM_locate_const(params, OSSL_SIGNATURE_PARAM_DIGEST);
  if (p != nullptr) {
    const char* name = nullptr;
    if (!OSSL_PARAM_get_utf8_string_ptr(p, &name)) return 0;
    if (!CheckSignDigestName(ctx, name)) return 0;
  }
  return 1;
}

const OSSL_PARAM* SettableCtxParams(void* /*ctx*/, void* /*provctx*/) {
  static const OSSL_PARAM kSettable[] = {
      OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_DIGEST, nullptr, 0),
      OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_PROPERTIES, nullptr, 0),
      OSSL_PARAM_END};
  return kSettable;
}

}  // namespace

const OSSL_DISPATCH kRemoteEcdsaSignatureFunctions[] = {
    DispatchEntry(OSSL_FUNC_SIGNATURE_NEWCTX, &NewCtx),
    DispatchEntry(OSSL_FUNC_SIGNATURE_FREECTX, &FreeCtx),
    DispatchEntry(OSSL_FUNC_SIGNATURE_DUPCTX, &DupCtx),
    DispatchEntry(OSSL_FUNC_SIGNATURE_SIGN_INIT, &SignInit),
    DispatchEntry(OSSL_FUNC_SIGNATURE_SIGN, &Sign),
    DispatchEntry(OSSL_FUNC_SIGNATURE_DIGEST_SIGN_INIT, &DigestSignInit),
    DispatchEntry(OSSL_FUNC_SIGNATURE_DIGEST_SIGN_UPDATE, &DigestSignUpdate),
    DispatchEntry(OSSL_FUNC_SIGNATURE_DIGEST_SIGN_FINAL, &DigestSignFinal),
    DispatchEntry(OSSL_FUNC_SIGNATURE_DIGEST_SIGN, &DigestSign),
    DispatchEntry(OSSL_FUNC_SIGNATURE_VERIFY_INIT, &VerifyInit),
    DispatchEntry(OSSL_FUNC_SIGNATURE_VERIFY, &Verify),
    DispatchEntry(OSSL_FUNC_SIGNATURE_DIGEST_VERIFY_INIT, &DigestVerifyInit),
    DispatchEntry(OSSL_FUNC_SIGNATURE_DIGEST_VERIFY_UPDATE,
                  &DigestVerifyUpdate),
    DispatchEntry(OSSL_FUNC_SIGNATURE_DIGEST_VERIFY_FINAL, &DigestVerifyFinal),
    DispatchEntry(OSSL_FUNC_SIGNATURE_GET_CTX_PARAMS, &GetCtxParams),
    DispatchEntry(OSSL_FUNC_SIGNATURE_GETTABLE_CTX_PARAMS, &GettableCtxParams),
    DispatchEntry(OSSL_FUNC_SIGNATURE_SET_CTX_PARAMS, &SetCtxParams),
    DispatchEntry(OSSL_FUNC_SIGNATURE_SETTABLE_CTX_PARAMS, &SettableCtxParams),
    {0, nullptr}};

}  // namespace rustiq::keyclient::internal
