#include "common/pki/certificate_authority.h"

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <array>
#include <ctime>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/identity/spiffe_id.h"

namespace rustiq::pki {
namespace {

constexpr absl::string_view kSpiffeScheme = "spiffe://";
// ub-common-name in RFC 5280.
constexpr size_t kMaxCommonNameBytes = 64;
constexpr size_t kSerialBytes = 16;

absl::Status OpenSslFailure(absl::string_view what) {
  return absl::InternalError(absl::StrCat(what, ": ", OpenSslErrors()));
}

std::string FormatTimeForMessage(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

// A positive, non-zero serial of 126 random bits in a fixed 16-byte encoding
// (top bit clear so DER keeps it positive without a padding byte).
absl::Status SetRandomSerial(X509* cert) {
  std::array<unsigned char, kSerialBytes> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    return OpenSslFailure("cannot draw a random certificate serial");
  }
  bytes[0] = static_cast<unsigned char>((bytes[0] & 0x7f) | 0x40);
  BignumPtr serial(
      BN_bin2bn(bytes.data(), static_cast<int>(bytes.size()), nullptr));
  if (serial == nullptr ||
      BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert)) ==
          nullptr) {
    return OpenSslFailure("cannot set the certificate serial");
  }
  return absl::OkStatus();
}

absl::Status SetValidity(X509* cert, absl::Time not_before,
                         absl::Time not_after) {
  if (not_before == absl::InfinitePast() ||
      not_before == absl::InfiniteFuture() ||
      not_after == absl::InfinitePast() ||
      not_after == absl::InfiniteFuture()) {
    return absl::InvalidArgumentError(
        "certificate validity must have finite notBefore and notAfter");
  }
  if (not_before >= not_after) {
    return absl::InvalidArgumentError(absl::StrCat(
        "certificate validity is empty: notBefore ",
        FormatTimeForMessage(not_before), " is not before notAfter ",
        FormatTimeForMessage(not_after)));
  }
  if (ASN1_TIME_set(X509_getm_notBefore(cert), absl::ToTimeT(not_before)) ==
          nullptr ||
      ASN1_TIME_set(X509_getm_notAfter(cert), absl::ToTimeT(not_after)) ==
          nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("certificate validity ", FormatTimeForMessage(not_before),
                     " to ", FormatTimeForMessage(not_after),
                     " cannot be encoded in X.509: ", OpenSslErrors()));
  }
  return absl::OkStatus();
}

absl::StatusOr<absl::Time> ToAbslTime(const ASN1_TIME* t) {
  struct tm tm {};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "certificate has an unreadable validity time: ", OpenSslErrors()));
  }
  return absl::FromTimeT(timegm(&tm));
}

absl::Status SetSubjectCommonName(X509* cert, absl::string_view common_name) {
  X509NamePtr name(X509_NAME_new());
  if (name == nullptr) return OpenSslFailure("cannot allocate a subject name");
  if (!common_name.empty()) {
    if (common_name.size() > kMaxCommonNameBytes) {
      return absl::InvalidArgumentError(
          absl::StrCat("common name is ", common_name.size(),
                       " bytes; X.509 allows at most ", kMaxCommonNameBytes));
    }
    if (X509_NAME_add_entry_by_NID(
            name.get(), NID_commonName, MBSTRING_UTF8,
            reinterpret_cast<const unsigned char*>(common_name.data()),
            static_cast<int>(common_name.size()), -1, 0) != 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "cannot use the common name in a certificate: ", OpenSslErrors()));
    }
  }
  if (X509_set_subject_name(cert, name.get()) != 1) {
    return OpenSslFailure("cannot set the certificate subject");
  }
  return absl::OkStatus();
}

// Adds an extension written in OpenSSL's configuration syntax. Only fixed
// strings go through here; anything taken from a caller (URIs) is encoded
// directly by AddUriSans, never parsed as configuration.
absl::Status AddConfExtension(X509* cert, X509V3_CTX* ctx, int nid,
                              const char* value) {
  X509ExtensionPtr ext(X509V3_EXT_nconf_nid(nullptr, ctx, nid, value));
  if (ext == nullptr || X509_add_ext(cert, ext.get(), -1) != 1) {
    return OpenSslFailure(
        absl::StrCat("cannot add the ", OBJ_nid2sn(nid), " extension"));
  }
  return absl::OkStatus();
}

absl::Status AddUriSans(X509* cert, const std::vector<std::string>& uris) {
  if (uris.empty()) return absl::OkStatus();
  GeneralNamesPtr names(sk_GENERAL_NAME_new_null());
  if (names == nullptr) return OpenSslFailure("cannot allocate the SAN list");
  for (const std::string& uri : uris) {
    GeneralNamePtr name(GENERAL_NAME_new());
    ASN1_IA5STRING* ia5 = ASN1_IA5STRING_new();
    if (name == nullptr || ia5 == nullptr ||
        ASN1_STRING_set(ia5, uri.data(), static_cast<int>(uri.size())) != 1) {
      ASN1_IA5STRING_free(ia5);
      return OpenSslFailure("cannot encode a URI SAN");
    }
    GENERAL_NAME_set0_value(name.get(), GEN_URI, ia5);  // takes ia5
    if (sk_GENERAL_NAME_push(names.get(), name.get()) == 0) {
      return OpenSslFailure("cannot encode a URI SAN");
    }
    static_cast<void>(name.release());  // now owned by `names`
  }
  if (X509_add1_ext_i2d(cert, NID_subject_alt_name, names.get(), 0,
                        X509V3_ADD_DEFAULT) != 1) {
    return OpenSslFailure("cannot add the subjectAltName extension");
  }
  return absl::OkStatus();
}

// A copy holding the public half only, so that the certificate being built
// never references a caller's private key.
absl::StatusOr<EvpPkeyPtr> PublicKeyCopy(const EVP_PKEY* key) {
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(key, &der);
  if (len <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot encode the subject public key: ", OpenSslErrors()));
  }
  const unsigned char* p = der;
  EvpPkeyPtr copy(d2i_PUBKEY(nullptr, &p, len));
  OPENSSL_free(der);
  if (copy == nullptr) {
    return OpenSslFailure("cannot decode the subject public key");
  }
  return copy;
}

// The trust domain named by a CA certificate's one URI SAN "spiffe://<td>".
absl::StatusOr<std::string> CaTrustDomain(const X509* cert) {
  std::vector<std::string> uris = UriSans(cert);
  if (uris.size() != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "CA certificate has ", uris.size(),
        " URI SANs; it needs exactly one, spiffe://<trust-domain>"));
  }
  if (!absl::StartsWith(uris[0], kSpiffeScheme)) {
    return absl::InvalidArgumentError(
        "CA certificate's URI SAN is not of the form spiffe://<trust-domain>");
  }
  std::string td = uris[0].substr(kSpiffeScheme.size());
  if (absl::Status s = identity::ValidateTrustDomain(td); !s.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("CA certificate's URI SAN does not name a trust domain: ",
                     s.message()));
  }
  return td;
}

}  // namespace

CertificateAuthority::CertificateAuthority(EvpPkeyPtr key, X509Ptr cert,
                                           std::string cert_pem,
                                           std::string trust_domain,
                                           absl::Time not_before,
                                           absl::Time not_after)
    : key_(std::move(key)),
      cert_(std::move(cert)),
      cert_pem_(std::move(cert_pem)),
      trust_domain_(std::move(trust_domain)),
      not_before_(not_before),
      not_after_(not_after) {}

absl::StatusOr<CertificateAuthority> CertificateAuthority::Create(
    absl::string_view trust_domain, absl::Duration validity) {
  // CreateWithKey validates the rest.
  absl::StatusOr<EvpPkeyPtr> key = GenerateP256Key();
  if (!key.ok()) return key.status();
  return CreateWithKey(*std::move(key), trust_domain, validity);
}

absl::StatusOr<CertificateAuthority> CertificateAuthority::CreateWithKey(
    EvpPkeyPtr signing_key, absl::string_view trust_domain,
    absl::Duration validity) {
  if (absl::Status s = identity::ValidateTrustDomain(trust_domain); !s.ok()) {
    return s;
  }
  if (validity <= absl::ZeroDuration() ||
      validity == absl::InfiniteDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("CA validity must be positive and finite, not ",
                     absl::FormatDuration(validity)));
  }
  if (signing_key == nullptr || !IsP256Key(signing_key.get())) {
    return absl::InvalidArgumentError("CA key is not an EC P-256 key");
  }
  const EvpPkeyPtr& key = signing_key;

  X509Ptr cert(X509_new());
  if (cert == nullptr) return OpenSslFailure("cannot allocate a certificate");
  X509* c = cert.get();
  if (X509_set_version(c, X509_VERSION_3) != 1) {
    return OpenSslFailure("cannot set the certificate version");
  }
  if (absl::Status s = SetRandomSerial(c); !s.ok()) return s;
  // Subject and issuer are the same name: this is a self-signed root.
  const std::string domain(trust_domain);
  std::string cn =
      absl::StrCat("rustiq device CA ", domain).substr(0, kMaxCommonNameBytes);
  if (absl::Status s = SetSubjectCommonName(c, cn); !s.ok()) return s;
  if (X509_set_issuer_name(c, X509_get_subject_name(c)) != 1) {
    return OpenSslFailure("cannot set the CA issuer name");
  }
  absl::Time now = absl::Now();
  if (absl::Status s =
          SetValidity(c, now - kClockSkewAllowance, now + validity);
      !s.ok()) {
    return s;
  }
  if (X509_set_pubkey(c, key.get()) != 1) {
    return OpenSslFailure("cannot set the CA public key");
  }

  X509V3_CTX ctx{};
  X509V3_set_ctx(&ctx, c, c, nullptr, nullptr, 0);
  for (auto [nid, value] : {
           std::pair{NID_basic_constraints, "critical,CA:TRUE,pathlen:0"},
           std::pair{NID_key_usage, "critical,keyCertSign,cRLSign"},
           std::pair{NID_subject_key_identifier, "hash"},
       }) {
    if (absl::Status s = AddConfExtension(c, &ctx, nid, value); !s.ok()) {
      return s;
    }
  }
  if (absl::Status s = AddUriSans(c, {absl::StrCat(kSpiffeScheme, domain)});
      !s.ok()) {
    return s;
  }
  if (X509_sign(c, key.get(), EVP_sha256()) <= 0) {
    return OpenSslFailure("cannot sign the CA certificate");
  }

  absl::StatusOr<std::string> pem = CertificateToPem(c);
  if (!pem.ok()) return pem.status();
  absl::StatusOr<absl::Time> not_before = ToAbslTime(X509_get0_notBefore(c));
  if (!not_before.ok()) return not_before.status();
  absl::StatusOr<absl::Time> not_after = ToAbslTime(X509_get0_notAfter(c));
  if (!not_after.ok()) return not_after.status();
  return CertificateAuthority(std::move(signing_key), std::move(cert), *std::move(pem),
                              domain, *not_before, *not_after);
}

absl::StatusOr<CertificateAuthority> CertificateAuthority::FromPem(
    absl::string_view key_pem, absl::string_view cert_pem) {
  absl::StatusOr<EvpPkeyPtr> key = PrivateKeyFromPem(key_pem);
  if (!key.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("CA key: ", key.status().message()));
  }
  return FromKeyAndCert(*std::move(key), cert_pem);
}

absl::StatusOr<CertificateAuthority> CertificateAuthority::FromKeyAndCert(
    EvpPkeyPtr signing_key, absl::string_view cert_pem) {
  absl::StatusOr<X509Ptr> cert = CertificateFromPem(cert_pem);
  if (!cert.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("CA certificate: ", cert.status().message()));
  }
  const EvpPkeyPtr& key = signing_key;
  if (key == nullptr) return absl::InvalidArgumentError("no CA key");
  X509* c = cert->get();
  if (!IsP256Key(key.get())) {
    return absl::InvalidArgumentError("CA key is not an EC P-256 key");
  }
  if (X509_check_private_key(c, key.get()) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError(
        "CA key does not match the CA certificate (they are from different "
        "CAs)");
  }
  // X509_get_extension_flags also computes the cached flags X509_check_ca and
  // X509_get_key_usage read.
  uint32_t flags = X509_get_extension_flags(c);
  if ((flags & EXFLAG_INVALID) != 0) {
    return absl::InvalidArgumentError(
        "CA certificate has malformed or duplicate extensions");
  }
  if ((flags & EXFLAG_BCONS) == 0 || (flags & EXFLAG_CA) == 0) {
    return absl::InvalidArgumentError(
        "certificate is not a CA: it lacks basicConstraints CA:TRUE");
  }
  if ((flags & EXFLAG_KUSAGE) != 0 &&
      (X509_get_key_usage(c) & KU_KEY_CERT_SIGN) == 0) {
    return absl::InvalidArgumentError(
        "certificate is not a CA: its keyUsage lacks keyCertSign");
  }
  if (X509_self_signed(c, /*verify_signature=*/1) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError(
        "CA certificate is not a self-signed root (bad or foreign signature)");
  }
  absl::StatusOr<std::string> trust_domain = CaTrustDomain(c);
  if (!trust_domain.ok()) return trust_domain.status();
  absl::StatusOr<absl::Time> not_before = ToAbslTime(X509_get0_notBefore(c));
  if (!not_before.ok()) return not_before.status();
  absl::StatusOr<absl::Time> not_after = ToAbslTime(X509_get0_notAfter(c));
  if (!not_after.ok()) return not_after.status();
  // Re-encode rather than keep the input, so cert_pem() is exactly one
  // certificate whatever else the file held.
  absl::StatusOr<std::string> pem = CertificateToPem(c);
  if (!pem.ok()) return pem.status();
  return CertificateAuthority(std::move(signing_key), *std::move(cert),
                              *std::move(pem), *std::move(trust_domain),
                              *not_before, *not_after);
}

absl::StatusOr<std::string> CertificateAuthority::key_pem() const {
  return PrivateKeyToPem(key_.get());
}

absl::StatusOr<std::string> CertificateAuthority::IssueLeaf(
    const EVP_PKEY* subject_public_key, const LeafSpec& spec) const {
  if (subject_public_key == nullptr) {
    return absl::InvalidArgumentError("no subject public key to certify");
  }
  absl::StatusOr<EvpPkeyPtr> public_key = PublicKeyCopy(subject_public_key);
  if (!public_key.ok()) return public_key.status();

  X509Ptr cert(X509_new());
  if (cert == nullptr) return OpenSslFailure("cannot allocate a certificate");
  X509* c = cert.get();
  if (X509_set_version(c, X509_VERSION_3) != 1) {
    return OpenSslFailure("cannot set the certificate version");
  }
  if (absl::Status s = SetRandomSerial(c); !s.ok()) return s;
  if (absl::Status s = SetSubjectCommonName(c, spec.common_name); !s.ok()) {
    return s;
  }
  if (X509_set_issuer_name(c, X509_get_subject_name(cert_.get())) != 1) {
    return OpenSslFailure("cannot set the certificate issuer");
  }
  if (absl::Status s = SetValidity(c, spec.not_before, spec.not_after);
      !s.ok()) {
    return s;
  }
  if (X509_set_pubkey(c, public_key->get()) != 1) {
    return OpenSslFailure("cannot set the certificate public key");
  }

  X509V3_CTX ctx{};
  X509V3_set_ctx(&ctx, cert_.get(), c, nullptr, nullptr, 0);
  for (auto [nid, value] : {
           std::pair{NID_basic_constraints, "critical,CA:FALSE"},
           std::pair{NID_key_usage, "critical,digitalSignature,keyAgreement"},
           std::pair{NID_ext_key_usage, "serverAuth,clientAuth"},
           std::pair{NID_subject_key_identifier, "hash"},
           std::pair{NID_authority_key_identifier, "keyid:always"},
       }) {
    if (absl::Status s = AddConfExtension(c, &ctx, nid, value); !s.ok()) {
      return s;
    }
  }
  if (absl::Status s = AddUriSans(c, spec.uri_sans); !s.ok()) return s;
  if (X509_sign(c, key_.get(), EVP_sha256()) <= 0) {
    return OpenSslFailure("cannot sign the certificate");
  }
  return CertificateToPem(c);
}

}  // namespace rustiq::pki
