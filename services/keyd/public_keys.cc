#include "services/keyd/public_keys.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "absl/strings/str_cat.h"
#include "common/pki/openssl_util.h"

namespace rustiq::keyd {
namespace {

using pki::EvpPkeyCtxPtr;
using pki::EvpPkeyPtr;
using MdCtxPtr =
    std::unique_ptr<EVP_MD_CTX,
                    pki::OpenSslDeleter<EVP_MD_CTX, EVP_MD_CTX_free>>;

absl::StatusOr<EvpPkeyPtr> FromDer(absl::string_view der) {
  const auto* in = reinterpret_cast<const unsigned char*>(der.data());
  EvpPkeyPtr key(d2i_PUBKEY(nullptr, &in, static_cast<long>(der.size())));
  if (key == nullptr) {
    ERR_clear_error();
    return absl::DataLossError("stored public key does not parse");
  }
  return key;
}

}  // namespace

absl::StatusOr<bool> VerifySignature(absl::string_view public_key_der,
                                     SignatureScheme scheme,
                                     absl::string_view input,
                                     absl::string_view signature) {
  absl::StatusOr<EvpPkeyPtr> key = FromDer(public_key_der);
  if (!key.ok()) return key.status();
  const auto* sig = reinterpret_cast<const unsigned char*>(signature.data());
  const auto* in = reinterpret_cast<const unsigned char*>(input.data());
  int rc = 0;
  if (scheme == SignatureScheme::kEd25519) {
    MdCtxPtr ctx(EVP_MD_CTX_new());
    if (ctx == nullptr ||
        EVP_DigestVerifyInit_ex(ctx.get(), nullptr, nullptr, nullptr, nullptr,
                                key->get(), nullptr) != 1) {
      return absl::InternalError(
          absl::StrCat("cannot start verifying: ", pki::OpenSslErrors()));
    }
    rc = EVP_DigestVerify(ctx.get(), sig, signature.size(), in, input.size());
  } else {
    EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key->get(), nullptr));
    if (ctx == nullptr || EVP_PKEY_verify_init(ctx.get()) != 1 ||
        EVP_PKEY_CTX_set_signature_md(ctx.get(), EVP_sha256()) != 1) {
      return absl::InternalError(
          absl::StrCat("cannot start verifying: ", pki::OpenSslErrors()));
    }
    if (scheme == SignatureScheme::kRsaPssSha256 &&
        (EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PSS_PADDING) != 1 ||
         EVP_PKEY_CTX_set_rsa_mgf1_md(ctx.get(), EVP_sha256()) != 1 ||
         EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx.get(), 32) != 1)) {
      return absl::InternalError("cannot set RSA-PSS parameters");
    }
    if (scheme == SignatureScheme::kRsaPkcs1Sha256 &&
        EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PADDING) != 1) {
      return absl::InternalError("cannot set RSA PKCS#1 padding");
    }
    rc = EVP_PKEY_verify(ctx.get(), sig, signature.size(), in, input.size());
  }
  ERR_clear_error();
  return rc == 1;
}

absl::StatusOr<ParsedPublicKey> ParsePublicKeyPem(absl::string_view pem) {
  pki::BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  EvpPkeyPtr key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  if (key == nullptr) {
    ERR_clear_error();
    return absl::InvalidArgumentError(
        "not a PEM public key (expected -----BEGIN PUBLIC KEY-----)");
  }
  ParsedPublicKey out;
  if (pki::IsP256Key(key.get())) {
    out.algorithm = Algorithm::kEcP256;
  } else if (EVP_PKEY_is_a(key.get(), "ED25519") == 1) {
    out.algorithm = Algorithm::kEd25519;
  } else if (EVP_PKEY_is_a(key.get(), "RSA") == 1 &&
             EVP_PKEY_get_bits(key.get()) == 3072) {
    out.algorithm = Algorithm::kRsa3072;
  } else {
    return absl::InvalidArgumentError(
        "public key must be EC P-256, Ed25519 or RSA-3072");
  }
  int len = i2d_PUBKEY(key.get(), nullptr);
  if (len <= 0) return absl::InternalError("cannot encode the public key");
  out.der.resize(static_cast<size_t>(len));
  auto* p = reinterpret_cast<unsigned char*>(out.der.data());
  i2d_PUBKEY(key.get(), &p);
  return out;
}

absl::StatusOr<std::string> PublicKeyPem(absl::string_view der) {
  absl::StatusOr<EvpPkeyPtr> key = FromDer(der);
  if (!key.ok()) return key.status();
  pki::BioPtr bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr || PEM_write_bio_PUBKEY(bio.get(), key->get()) != 1) {
    return absl::InternalError("cannot write the public key as PEM");
  }
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

}  // namespace rustiq::keyd
