#include "services/keyd/device_ca.h"

#include "absl/strings/str_cat.h"
#include "common/identity/spiffe_id.h"
#include "common/keyclient/remote_key.h"
#include "common/keyclient/remote_signer.h"
#include "common/pki/csr.h"

namespace rustiq::keyd {
namespace {

constexpr char kZeroized[] =
    "keyd was zeroized: the device CA key is destroyed; re-provision the "
    "device";

// Why version `version` of the CA key cannot sign.
absl::Status CaKeyError(const absl::Status& status, uint32_t version) {
  if (!absl::IsNotFound(status)) return status;
  return absl::FailedPreconditionError(absl::StrCat(
      "version ", version,
      " of the device-ca key, which the device CA certificate names, was "
      "retired: restart keyd to create a CA certificate for the current "
      "version"));
}

// The CA key, seen by OpenSSL through the provider: signing goes to the
// backend key. The signer holds no key, only which version it is: each
// signature asks the manager for it, so that a zeroize or the retirement of
// that version leaves nothing here that could still sign (a soft key, its
// presigned nonces).
class BackendSigner final : public keyclient::RemoteSigner {
 public:
  BackendSigner(KeyManager* keys, uint32_t version, std::string der)
      : keys_(keys), version_(version), der_(std::move(der)) {}
  const std::string& public_key_der() const override { return der_; }
  absl::StatusOr<std::string> SignDigest(absl::string_view digest) override {
    // Fails after a zeroize too (every KeyManager lookup does).
    absl::StatusOr<KeyManager::InternalVersion> key =
        keys_->InternalKey(kDeviceCaKey, version_);
    if (!key.ok()) return CaKeyError(key.status(), version_);
    return key->key->Sign(SignatureScheme::kEcdsaP256Sha256, digest);
  }

 private:
  KeyManager* keys_;
  const uint32_t version_;
  std::string der_;
};

// The current version of the CA key, for OpenSSL; `*version` is its number.
absl::StatusOr<pki::EvpPkeyPtr> CaSigningKey(KeyManager* keys,
                                             uint32_t* version) {
  absl::StatusOr<KeyManager::InternalVersion> key =
      keys->InternalKey(kDeviceCaKey);
  if (!key.ok()) return key.status();
  if (key->key->algorithm() != Algorithm::kEcP256) {
    return absl::FailedPreconditionError(
        "the device-ca key must be an ec-p256 key");
  }
  absl::StatusOr<std::string> der = key->key->PublicKeyDer();
  if (!der.ok()) return der.status();
  *version = key->version;
  return keyclient::MakeRemoteKey(
      std::make_shared<BackendSigner>(keys, key->version, *std::move(der)));
}

}  // namespace

absl::StatusOr<std::unique_ptr<DeviceCa>> DeviceCa::Open(
    KeyManager* keys, DeviceCaOptions options) {
  uint32_t version = 0;
  absl::StatusOr<pki::EvpPkeyPtr> signing = CaSigningKey(keys, &version);
  if (!signing.ok()) return signing.status();
  std::string stored = keys->CaCertificatePem();
  absl::StatusOr<pki::CertificateAuthority> ca =
      absl::InvalidArgumentError("no CA certificate yet");
  if (!stored.empty()) {
    ca = pki::CertificateAuthority::FromKeyAndCert(std::move(*signing), stored);
    if (!ca.ok() || ca->trust_domain() != options.trust_domain) {
      // A rotated device-ca key (or another device's store): a new CA
      // certificate; identities issued before must be re-issued.
      signing = CaSigningKey(keys, &version);
      if (!signing.ok()) return signing.status();
      ca = absl::InvalidArgumentError("stale CA certificate");
    }
  }
  if (!ca.ok()) {
    ca = pki::CertificateAuthority::CreateWithKey(
        std::move(*signing), options.trust_domain, kDeviceCaValidity);
    if (!ca.ok()) {
      return absl::Status(
          ca.status().code(),
          absl::StrCat("cannot create the device CA: ", ca.status().message()));
    }
    if (absl::Status s = keys->SetCaCertificatePem(ca->cert_pem()); !s.ok()) {
      return s;
    }
  }
  std::string pem = ca->cert_pem();
  auto issuer =
      std::make_unique<pki::FileCaIssuer>(*std::move(ca), options.max_lifetime);
  std::unique_ptr<DeviceCa> out(
      new DeviceCa(std::move(options), std::move(issuer), std::move(pem)));
  out->keys_ = keys;
  out->key_version_ = version;
  return out;
}

absl::StatusOr<std::string> DeviceCa::TrustBundle() const {
  if (keys_->zeroized()) return absl::FailedPreconditionError(kZeroized);
  return ca_cert_pem_;
}

absl::StatusOr<v1::IssueCertificateResponse> DeviceCa::IssueForCaller(
    absl::string_view caller_path, const v1::IssueCertificateRequest& req) {
  // Told before the CSR is looked at: after a zeroize, or with the CA's key
  // version retired, no certificate can be signed at all.
  if (absl::StatusOr<KeyManager::InternalVersion> key =
          keys_->InternalKey(kDeviceCaKey, key_version_);
      !key.ok()) {
    return CaKeyError(key.status(), key_version_);
  }
  absl::StatusOr<pki::ParsedCsr> csr = pki::ParseCsr(req.csr_pem());
  if (!csr.ok()) return csr.status();
  absl::StatusOr<identity::SpiffeId> caller = identity::SpiffeId::Parse(
      absl::StrCat("spiffe://", options_.trust_domain, "/", caller_path));
  if (!caller.ok()) return caller.status();
  if (csr->uri_sans.size() != 1 || csr->uri_sans[0] != caller->ToUri()) {
    return absl::PermissionDeniedError(absl::StrCat(
        "a certificate can only be issued for the caller's own ID ",
        caller->ToUri(), "; the CSR must carry exactly that one URI SAN"));
  }
  if (!pki::IsP256Key(csr->public_key.get())) {
    return absl::InvalidArgumentError("the CSR's key must be EC P-256");
  }
  absl::Duration lifetime = req.lifetime_seconds() == 0
                                ? options_.default_lifetime
                                : absl::Seconds(req.lifetime_seconds());
  if (lifetime > options_.max_lifetime) {
    return absl::InvalidArgumentError(absl::StrCat(
        "lifetime ", absl::FormatDuration(lifetime), " exceeds the maximum ",
        absl::FormatDuration(options_.max_lifetime),
        " (keyd.max_identity_lifetime_hours)"));
  }
  absl::StatusOr<std::string> cert =
      issuer_->IssueCertificate(csr->public_key.get(), *caller, lifetime);
  if (!cert.ok()) return cert.status();
  absl::StatusOr<pki::X509Ptr> parsed = pki::CertificateFromPem(*cert);
  if (!parsed.ok()) return parsed.status();
  v1::IssueCertificateResponse out;
  out.set_certificate_pem(*cert);
  int day = 0;
  int sec = 0;
  ASN1_TIME_diff(&day, &sec, nullptr, X509_get0_notAfter(parsed->get()));
  out.set_not_after_unix_seconds(absl::ToUnixSeconds(absl::Now()) +
                                 int64_t{day} * 86400 + sec);
  out.set_trust_bundle_pem(ca_cert_pem_);
  return out;
}

}  // namespace rustiq::keyd
