#include "common/pki/openssl_util.h"

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include <climits>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace rustiq::pki {
namespace {

// The most reasons OpenSslErrors() keeps: the first ones of the queue name
// the root cause; the rest repeat it in the words of each calling layer.
constexpr int kMaxReportedErrors = 3;

// Passphrase callback that refuses: an encrypted PEM fails instead of making
// OpenSSL prompt on the terminal (its default with a null callback).
int RefusePassphrase(char* /*buf*/, int /*size*/, int /*rwflag*/,
                     void* /*userdata*/) {
  return -1;
}

absl::StatusOr<BioPtr> MemoryBioOver(absl::string_view data) {
  if (data.size() > static_cast<size_t>(INT_MAX)) {
    return absl::InvalidArgumentError("PEM input is too large");
  }
  BioPtr bio(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
  if (bio == nullptr) {
    return absl::ResourceExhaustedError(
        absl::StrCat("cannot allocate a memory BIO: ", OpenSslErrors()));
  }
  return bio;
}

std::string BioContents(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  if (len <= 0 || data == nullptr) return "";
  return std::string(data, static_cast<size_t>(len));
}

}  // namespace

std::string OpenSslErrors() {
  std::vector<std::string> reasons;
  const char* data = nullptr;
  int flags = 0;
  unsigned long code;
  while ((code = ERR_get_error_all(nullptr, nullptr, nullptr, &data, &flags)) !=
         0) {
    if (static_cast<int>(reasons.size()) >= kMaxReportedErrors) continue;
    const char* lib = ERR_lib_error_string(code);
    const char* reason = ERR_reason_error_string(code);
    std::string text = absl::StrCat(
        lib != nullptr ? lib : "OpenSSL", ": ",
        reason != nullptr ? reason
                          : absl::StrCat("error ", ERR_GET_REASON(code)));
    if ((flags & ERR_TXT_STRING) != 0 && data != nullptr && *data != '\0') {
      absl::StrAppend(&text, " (", data, ")");
    }
    reasons.push_back(std::move(text));
  }
  if (reasons.empty()) return "no OpenSSL error reported";
  return absl::StrJoin(reasons, "; ");
}

absl::StatusOr<EvpPkeyPtr> GenerateP256Key() {
  EvpPkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (key == nullptr) {
    return absl::InternalError(
        absl::StrCat("cannot generate a P-256 key: ", OpenSslErrors()));
  }
  return key;
}

absl::StatusOr<std::string> PrivateKeyToPem(const EVP_PKEY* key) {
  if (key == nullptr) {
    return absl::InvalidArgumentError("no private key to encode");
  }
  // Secure-heap memory for the encoded key where the heap is enabled.
  BioPtr bio(BIO_new(BIO_s_secmem()));
  if (bio == nullptr) {
    return absl::ResourceExhaustedError(
        absl::StrCat("cannot allocate a memory BIO: ", OpenSslErrors()));
  }
  if (PEM_write_bio_PKCS8PrivateKey(bio.get(), key, nullptr, nullptr, 0,
                                    nullptr, nullptr) != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot encode the private key as PKCS#8: ", OpenSslErrors()));
  }
  return BioContents(bio.get());
}

absl::StatusOr<EvpPkeyPtr> PrivateKeyFromPem(absl::string_view pem) {
  absl::StatusOr<BioPtr> bio = MemoryBioOver(pem);
  if (!bio.ok()) return bio.status();
  EvpPkeyPtr key(
      PEM_read_bio_PrivateKey(bio->get(), nullptr, RefusePassphrase, nullptr));
  if (key == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("not an unencrypted PEM private key: ", OpenSslErrors()));
  }
  return key;
}

absl::StatusOr<X509Ptr> CertificateFromPem(absl::string_view pem) {
  absl::StatusOr<BioPtr> bio = MemoryBioOver(pem);
  if (!bio.ok()) return bio.status();
  X509Ptr cert(
      PEM_read_bio_X509(bio->get(), nullptr, RefusePassphrase, nullptr));
  if (cert == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a PEM certificate: ", OpenSslErrors()));
  }
  return cert;
}

absl::StatusOr<std::string> CertificateToPem(const X509* cert) {
  if (cert == nullptr) {
    return absl::InvalidArgumentError("no certificate to encode");
  }
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr) {
    return absl::ResourceExhaustedError(
        absl::StrCat("cannot allocate a memory BIO: ", OpenSslErrors()));
  }
  if (PEM_write_bio_X509(bio.get(), cert) != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot encode the certificate as PEM: ", OpenSslErrors()));
  }
  return BioContents(bio.get());
}

std::vector<std::string> UriSans(const X509* cert) {
  std::vector<std::string> uris;
  if (cert == nullptr) return uris;
  int critical = 0;
  GeneralNamesPtr names(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert, NID_subject_alt_name, &critical, nullptr)));
  // A null result with critical == -2 means several SAN extensions: which one
  // a peer would read is ambiguous, so none is reported.
  if (names == nullptr) {
    ERR_clear_error();
    return uris;
  }
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
    if (name->type != GEN_URI) continue;
    const ASN1_IA5STRING* uri = name->d.uniformResourceIdentifier;
    uris.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(uri)),
                      static_cast<size_t>(ASN1_STRING_length(uri)));
  }
  return uris;
}

bool IsP256Key(const EVP_PKEY* key) {
  if (key == nullptr || EVP_PKEY_is_a(key, "EC") != 1) return false;
  char group[64] = {};
  size_t len = 0;
  if (EVP_PKEY_get_group_name(key, group, sizeof(group), &len) != 1) {
    ERR_clear_error();
    return false;
  }
  absl::string_view name(group, len);
  return name == "prime256v1" || name == "P-256";
}

}  // namespace rustiq::pki
