// The device CA: an EC P-256 self-signed root that issues every daemon's and
// client's mTLS certificate. Its trust domain (the device ID) is carried in
// the certificate as the URI SAN "spiffe://<trust-domain>".
//
// This class is mechanism only: it signs what it is told. Which identities
// may be issued, and for how long, is decided by its callers (FileCaIssuer,
// later keyd), so that tests can also build the hostile certificates a
// verifier must refuse.
#ifndef RUSTIQ_COMMON_PKI_CERTIFICATE_AUTHORITY_H_
#define RUSTIQ_COMMON_PKI_CERTIFICATE_AUTHORITY_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/pki/openssl_util.h"

namespace rustiq::pki {

// How far notBefore is set back from "now", so that a peer whose clock is a
// little behind still accepts a certificate issued a moment ago.
inline constexpr absl::Duration kClockSkewAllowance = absl::Minutes(5);

// What a leaf certificate says. Nothing here is checked against policy.
struct LeafSpec {
  // Each entry becomes one URI subjectAltName, byte for byte, in order. Empty:
  // the certificate has no subjectAltName extension at all.
  std::vector<std::string> uri_sans;
  // Subject CN; empty leaves the subject empty. At most 64 bytes (X.509).
  std::string common_name;
  // Any window with not_before < not_after, also one fully in the past.
  absl::Time not_before;
  absl::Time not_after;
};

// Move-only. Issuing is safe from several threads at once (the key is only
// read); moving or destroying is not.
class CertificateAuthority {
 public:
  // Creates a new CA: fresh P-256 key, 128-bit random serial, valid from five
  // minutes ago for `validity`; basicConstraints critical CA:TRUE pathlen:0,
  // keyUsage critical keyCertSign+cRLSign, subjectKeyIdentifier,
  // CN "rustiq device CA <trust-domain>" (cut to 64 bytes) and the URI SAN
  // "spiffe://<trust-domain>".
  static absl::StatusOr<CertificateAuthority> Create(
      absl::string_view trust_domain, absl::Duration validity);

  // As Create, with a given P-256 key: for keyd, whose CA key lives in a
  // backend and signs through an OpenSSL provider (common/keyclient).
  static absl::StatusOr<CertificateAuthority> CreateWithKey(
      EvpPkeyPtr signing_key, absl::string_view trust_domain,
      absl::Duration validity);
  // As FromPem, with the key already loaded (possibly provider-backed).
  static absl::StatusOr<CertificateAuthority> FromKeyAndCert(
      EvpPkeyPtr signing_key, absl::string_view cert_pem);
  // Loads a CA from its PEM key and certificate: the key must match the
  // certificate, the certificate must be a CA (basicConstraints CA:TRUE and,
  // when keyUsage is present, keyCertSign) and carry exactly one URI SAN
  // "spiffe://<trust-domain>". Expiry is not checked here (see not_after()).
  static absl::StatusOr<CertificateAuthority> FromPem(
      absl::string_view key_pem, absl::string_view cert_pem);

  CertificateAuthority(CertificateAuthority&&) = default;
  CertificateAuthority& operator=(CertificateAuthority&&) = default;

  // Signs a leaf for `subject_public_key` (only its public half is used; the
  // caller keeps ownership) with ECDSA-SHA256: basicConstraints critical
  // CA:FALSE, keyUsage critical digitalSignature+keyAgreement,
  // extendedKeyUsage serverAuth+clientAuth, subject and authority key
  // identifiers, a random serial and `spec`. Returns the certificate as PEM.
  absl::StatusOr<std::string> IssueLeaf(const EVP_PKEY* subject_public_key,
                                        const LeafSpec& spec) const;

  // The CA certificate as PEM (this is what the trust bundle contains).
  const std::string& cert_pem() const { return cert_pem_; }
  // The CA private key as PKCS#8 PEM, for writing to a 0600 file only.
  absl::StatusOr<std::string> key_pem() const;
  const std::string& trust_domain() const { return trust_domain_; }
  absl::Time not_before() const { return not_before_; }
  absl::Time not_after() const { return not_after_; }
  // Owned by this object.
  const X509* certificate() const { return cert_.get(); }

 private:
  CertificateAuthority(EvpPkeyPtr key, X509Ptr cert, std::string cert_pem,
                       std::string trust_domain, absl::Time not_before,
                       absl::Time not_after);

  EvpPkeyPtr key_;
  X509Ptr cert_;
  std::string cert_pem_;
  std::string trust_domain_;
  absl::Time not_before_;
  absl::Time not_after_;
};

}  // namespace rustiq::pki

#endif  // RUSTIQ_COMMON_PKI_CERTIFICATE_AUTHORITY_H_
