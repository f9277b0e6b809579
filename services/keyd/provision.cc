#include "services/keyd/provision.h"

#include "common/audit/security_event.h"
#include "services/keyd/keyd_setup.h"

namespace rustiq::keyd {

absl::StatusOr<pki::ProvisionResult> ProvisionThroughKeyd(
    const config::StackConfig& config, pki::ProvisionRequest request) {
  audit::LogSecurityEventSink sink;
  absl::StatusOr<Keyd> keyd = OpenKeyd(config, &sink, /*provision=*/true);
  if (!keyd.ok()) return keyd.status();
  request.state_dir = config.paths.state_dir;
  request.trust_domain = config.device_id;
  return pki::ProvisionIdentities(keyd->ca->issuer(), request);
}

absl::StatusOr<pki::IdentityPaths> IssueIdentityThroughKeyd(
    const config::StackConfig& config, const identity::SpiffeId& id,
    absl::Duration lifetime) {
  audit::LogSecurityEventSink sink;
  absl::StatusOr<Keyd> keyd = OpenKeyd(config, &sink, /*provision=*/false);
  if (!keyd.ok()) return keyd.status();
  return pki::IssueIdentity(keyd->ca->issuer(), config.paths.state_dir, id,
                            lifetime);
}

}  // namespace rustiq::keyd
