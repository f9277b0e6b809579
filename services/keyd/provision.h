// Provisioning through keyd (offline, as root, before the daemons start):
// keyd's master key and store are created on first use, the device CA is
// made inside keyd's backend, and every identity is issued by it. This is
// the only time a process other than the running keyd opens keyd's store;
// the CA key is never written anywhere else.
#ifndef RUSTIQ_SERVICES_KEYD_PROVISION_H_
#define RUSTIQ_SERVICES_KEYD_PROVISION_H_

#include "absl/status/statusor.h"
#include "common/config/config.h"
#include "common/identity/spiffe_id.h"
#include "common/pki/provisioner.h"

namespace rustiq::keyd {

// Issues every service and client identity of `request` (its trust domain
// and state directory are taken from `config`) through keyd's device CA.
absl::StatusOr<pki::ProvisionResult> ProvisionThroughKeyd(
    const config::StackConfig& config, pki::ProvisionRequest request);

// Issues one more identity (an extra client) through keyd's device CA.
absl::StatusOr<pki::IdentityPaths> IssueIdentityThroughKeyd(
    const config::StackConfig& config, const identity::SpiffeId& id,
    absl::Duration lifetime);

}  // namespace rustiq::keyd

#endif  // RUSTIQ_SERVICES_KEYD_PROVISION_H_
