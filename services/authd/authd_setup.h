// What rustiq-authd opens before it confines itself, and what provisioning
// does offline with the same parts: the account store, the password hasher
// (argon2id cost from the configuration), the brute-force throttle, and the
// first admin of a new device.
#ifndef RUSTIQ_SERVICES_AUTHD_AUTHD_SETUP_H_
#define RUSTIQ_SERVICES_AUTHD_AUTHD_SETUP_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/auth/revocation_set.h"
#include "common/config/config.h"
#include "services/authd/accounts.h"
#include "services/authd/login_throttle.h"
#include "services/authd/password_hasher.h"
#include "services/authd/user_store.h"

namespace rustiq::authd {

// <state>/authd/users.db
std::string StorePath(const config::StackConfig& config);

struct AuthdParts {
  std::unique_ptr<UserStore> store;
  std::unique_ptr<PasswordHasher> hasher;
  std::unique_ptr<LoginThrottle> throttle;
};

// Creates <state>/authd (0700) if missing and opens the parts.
absl::StatusOr<AuthdParts> OpenAuthd(const config::StackConfig& config);

Argon2Params Argon2ParamsFrom(const config::StackConfig& config);
ThrottleOptions ThrottleOptionsFrom(const config::StackConfig& config);
AccountsOptions AccountsOptionsFrom(const config::StackConfig& config);

// Feeds revocations of the store into a verifier's revocation set.
void ApplyRevocations(const std::vector<Revocation>& revoked,
                      auth::RevocationSet* set);

struct FirstAdmin {
  std::string name;
  std::string generated_password;  // empty when one was given
};

// Provisioning (authd stopped): creates the first admin of a device that has
// no account yet, with `password` or a random one (returned to be shown
// once). Either must be changed at first login. FAILED_PRECONDITION when
// accounts exist already.
absl::StatusOr<FirstAdmin> ProvisionFirstAdmin(
    const config::StackConfig& config, absl::string_view name,
    absl::string_view password);

}  // namespace rustiq::authd

#endif  // RUSTIQ_SERVICES_AUTHD_AUTHD_SETUP_H_
