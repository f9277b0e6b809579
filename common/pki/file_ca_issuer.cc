#include "common/pki/file_ca_issuer.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace rustiq::pki {
namespace {

// A CA key or certificate file is a few hundred bytes; anything near this is
// not one.
constexpr size_t kMaxCaFileBytes = size_t{64} * 1024;

// RFC 5280 ub-common-name; the CN is informational, the URI SAN is the name.
constexpr size_t kMaxCommonNameBytes = 64;

std::string FormatTimeForMessage(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

}  // namespace

absl::StatusOr<std::unique_ptr<FileCaIssuer>> FileCaIssuer::Load(
    const DeviceCaPaths& paths, absl::Duration max_lifetime) {
  absl::StatusOr<std::string> key_pem =
      ReadSmallFile(paths.key_path, kMaxCaFileBytes);
  if (!key_pem.ok()) return key_pem.status();
  absl::StatusOr<std::string> cert_pem =
      ReadSmallFile(paths.cert_path, kMaxCaFileBytes);
  if (!cert_pem.ok()) return cert_pem.status();
  absl::StatusOr<CertificateAuthority> ca =
      CertificateAuthority::FromPem(*key_pem, *cert_pem);
  if (!ca.ok()) {
    return absl::Status(
        ca.status().code(),
        absl::StrCat("device CA ", paths.key_path, " + ", paths.cert_path, ": ",
                     ca.status().message()));
  }
  return std::make_unique<FileCaIssuer>(*std::move(ca), max_lifetime);
}

FileCaIssuer::FileCaIssuer(CertificateAuthority ca, absl::Duration max_lifetime)
    : ca_(std::move(ca)), max_lifetime_(max_lifetime) {}

absl::StatusOr<std::string> FileCaIssuer::IssueCertificate(
    const EVP_PKEY* public_key, const identity::SpiffeId& id,
    absl::Duration lifetime) {
  if (id.trust_domain() != ca_.trust_domain()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "refusing to issue ", id.ToUri(),
        ": the device CA is for trust domain \"", ca_.trust_domain(),
        "\", not \"", id.trust_domain(), "\""));
  }
  if (lifetime <= absl::ZeroDuration() || lifetime > max_lifetime_) {
    return absl::InvalidArgumentError(
        absl::StrCat("refusing to issue ", id.ToUri(), " for ",
                     absl::FormatDuration(lifetime),
                     ": the lifetime must be positive and at most ",
                     absl::FormatDuration(max_lifetime_)));
  }
  if (!IsP256Key(public_key)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "refusing to issue ", id.ToUri(), ": the key is not an EC P-256 key"));
  }
  const absl::Time now = absl::Now();
  const absl::Time not_after = now + lifetime;
  if (not_after > ca_.not_after()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "refusing to issue ", id.ToUri(), " until ",
        FormatTimeForMessage(not_after), ": the device CA expires at ",
        FormatTimeForMessage(ca_.not_after()),
        "; shorten the lifetime or create a new device CA"));
  }
  LeafSpec spec;
  spec.uri_sans = {id.ToUri()};
  spec.common_name = id.path().substr(0, kMaxCommonNameBytes);
  spec.not_before = now - kClockSkewAllowance;
  spec.not_after = not_after;
  return ca_.IssueLeaf(public_key, spec);
}

absl::StatusOr<std::string> FileCaIssuer::TrustBundlePem() {
  return ca_.cert_pem();
}

}  // namespace rustiq::pki
