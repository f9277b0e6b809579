// Small, owned wrappers around the OpenSSL 3 objects the PKI code uses, and
// the PEM conversions every part of rustiq shares.
//
// Every OpenSSL object is held by a std::unique_ptr with its own deleter, so
// no caller frees anything by hand. Every failure is an absl::Status whose
// message is one line; private key bytes never appear in a message.
#ifndef RUSTIQ_COMMON_PKI_OPENSSL_UTIL_H_
#define RUSTIQ_COMMON_PKI_OPENSSL_UTIL_H_

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace rustiq::pki {

// Deleter calling OpenSSL's `Free` for `T`.
template <typename T, void (*Free)(T*)>
struct OpenSslDeleter {
  void operator()(T* p) const { Free(p); }
};

using EvpPkeyPtr =
    std::unique_ptr<EVP_PKEY, OpenSslDeleter<EVP_PKEY, EVP_PKEY_free>>;
using EvpPkeyCtxPtr =
    std::unique_ptr<EVP_PKEY_CTX,
                    OpenSslDeleter<EVP_PKEY_CTX, EVP_PKEY_CTX_free>>;
using X509Ptr = std::unique_ptr<X509, OpenSslDeleter<X509, X509_free>>;
using X509NamePtr =
    std::unique_ptr<X509_NAME, OpenSslDeleter<X509_NAME, X509_NAME_free>>;
using X509ExtensionPtr =
    std::unique_ptr<X509_EXTENSION,
                    OpenSslDeleter<X509_EXTENSION, X509_EXTENSION_free>>;
using X509StorePtr =
    std::unique_ptr<X509_STORE, OpenSslDeleter<X509_STORE, X509_STORE_free>>;
using X509StoreCtxPtr =
    std::unique_ptr<X509_STORE_CTX,
                    OpenSslDeleter<X509_STORE_CTX, X509_STORE_CTX_free>>;
using BioPtr = std::unique_ptr<BIO, OpenSslDeleter<BIO, BIO_free_all>>;
using BignumPtr = std::unique_ptr<BIGNUM, OpenSslDeleter<BIGNUM, BN_free>>;
using GeneralNamesPtr =
    std::unique_ptr<GENERAL_NAMES,
                    OpenSslDeleter<GENERAL_NAMES, GENERAL_NAMES_free>>;
using GeneralNamePtr =
    std::unique_ptr<GENERAL_NAME,
                    OpenSslDeleter<GENERAL_NAME, GENERAL_NAME_free>>;

// Drains this thread's OpenSSL error queue into one short line (the last few
// reasons, "; "-separated), or "no OpenSSL error reported" when it is empty.
// Call it right after the failing OpenSSL call, before any other.
std::string OpenSslErrors();

// A fresh EC key on NIST P-256 (the curve of every rustiq identity and of the
// device CA).
absl::StatusOr<EvpPkeyPtr> GenerateP256Key();

// PKCS#8, unencrypted ("-----BEGIN PRIVATE KEY-----"). The result holds secret
// bytes: write it to a 0600 file and let it go; never log it.
absl::StatusOr<std::string> PrivateKeyToPem(const EVP_PKEY* key);
// Parses one PEM private key (PKCS#8 or traditional). An encrypted key is
// refused rather than prompting for a passphrase.
absl::StatusOr<EvpPkeyPtr> PrivateKeyFromPem(absl::string_view pem);

// Parses the first certificate of `pem`.
absl::StatusOr<X509Ptr> CertificateFromPem(absl::string_view pem);
absl::StatusOr<std::string> CertificateToPem(const X509* cert);

// The URI entries of the certificate's subjectAltName, in order, byte for
// byte. Empty when the extension is absent, appears more than once or does not
// parse, so a policy of "exactly one URI SAN" refuses all three.
std::vector<std::string> UriSans(const X509* cert);

// True when `key` is an EC key on P-256.
bool IsP256Key(const EVP_PKEY* key);

}  // namespace rustiq::pki

#endif  // RUSTIQ_COMMON_PKI_OPENSSL_UTIL_H_
