// Device provisioning: the device CA, the trust bundle and an identity (key
// and certificate) for every daemon and client, all under one state
// directory in the layout identity_files.h defines.
#ifndef RUSTIQ_COMMON_PKI_PROVISIONER_H_
#define RUSTIQ_COMMON_PKI_PROVISIONER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/identity/spiffe_id.h"
#include "common/pki/identity_files.h"
#include "common/pki/issuer.h"

namespace rustiq::pki {

struct ProvisionRequest {
  std::string state_dir;              // root of every daemon's state directory
  std::string trust_domain;           // the device ID
  std::vector<std::string> services;  // daemon names: "keyd", "eventd", ...
  std::vector<std::string> clients;   // client names: "rustiqctl", ...
  absl::Duration ca_validity = absl::Hours(24 * 365 * 10);
  absl::Duration identity_lifetime = absl::Hours(24 * 30);
  // Keep a device CA already under state_dir (its trust domain must match);
  // false replaces it, which invalidates every identity issued before.
  bool reuse_existing_ca = true;
};

struct ProvisionedIdentity {
  identity::SpiffeId id;
  IdentityPaths paths;
};

// What was written. Holds paths and names only, never key material.
struct ProvisionResult {
  DeviceCaPaths ca_paths;
  bool ca_created = false;  // false: an existing CA was reused
  std::string trust_bundle_path;
  std::vector<ProvisionedIdentity> identities;  // services, then clients
};

// Creates or reuses the device CA (dir 0700, key 0600, cert 0644), writes the
// trust bundle (0644, directories 0755) and gives every service and client a
// fresh P-256 key and a certificate from a FileCaIssuer. The whole request is
// validated before anything is written. Running it again with the same
// request keeps the CA and re-issues every identity.
absl::StatusOr<ProvisionResult> ProvisionDevice(
    const ProvisionRequest& request);

// The part of provisioning that does not depend on where the CA lives: writes
// the trust bundle from `issuer` and gives every service and client of
// `request` a fresh P-256 key and a certificate from `issuer`. keyd's
// provisioning calls it with the CA held in keyd; ProvisionDevice with a CA
// in files (tests and benchmarks that need no keyd).
absl::StatusOr<ProvisionResult> ProvisionIdentities(
    IdentityIssuer& issuer, const ProvisionRequest& request);

// Gives one identity (an extra client, say) a fresh P-256 key and a
// certificate from `issuer`, written with WriteIdentity under `state_dir`.
absl::StatusOr<IdentityPaths> IssueIdentity(IdentityIssuer& issuer,
                                            absl::string_view state_dir,
                                            const identity::SpiffeId& id,
                                            absl::Duration lifetime,
                                            const FileOwner& owner = {});

}  // namespace rustiq::pki

#endif  // RUSTIQ_COMMON_PKI_PROVISIONER_H_
