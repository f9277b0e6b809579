// The logic of rustiq-authd, without gRPC: logins (argon2id, brute-force
// throttle, forced first change), accounts, roles and the tokens they lead
// to. AuthService is its gRPC edge; tests drive this class directly too.
//
// Every decision that denies and every change an admin makes is an event:
// auth/login.succeeded|login.failed|login.throttled|account.locked,
// auth/password.changed|password.reset, auth/user.created|user.deleted,
// auth/role.granted|role.revoked, auth/token.revoked. The actor of an
// admin's change is the person ("user/alice"), never only the client.
#ifndef RUSTIQ_SERVICES_AUTHD_ACCOUNTS_H_
#define RUSTIQ_SERVICES_AUTHD_ACCOUNTS_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/audit/security_event.h"
#include "common/rpc/token_verifier.h"
#include "services/authd/deferred_writes.h"
#include "services/authd/login_throttle.h"
#include "services/authd/password_hasher.h"
#include "services/authd/password_policy.h"
#include "services/authd/revocation_hub.h"
#include "services/authd/roles.h"
#include "services/authd/token_signer.h"
#include "services/authd/user_store.h"

namespace rustiq::authd {

struct AccountsOptions {
  absl::Duration token_lifetime = absl::Minutes(15);
  PasswordPolicyOptions password_policy;
  std::function<absl::Time()> now = [] { return absl::Now(); };
};

struct LoginResult {
  // Empty when password_change_required.
  std::string token;
  rpc::TokenClaims claims;
  bool password_change_required = false;
};

struct CreatedUser {
  UserRecord user;
  std::string generated_password;  // empty when one was given
};

class Accounts {
 public:
  // None of the pointers is owned; all must outlive this.
  Accounts(UserStore* store, PasswordHasher* hasher, LoginThrottle* throttle,
           const RoleCatalog* roles, TokenSigner* signer, RevocationHub* hub,
           audit::SecurityEventSink* sink, AccountsOptions options);

  // Seeds the throttle with the lockouts the store remembers.
  absl::Status RestoreLockouts();

  // `source` is the caller's client ID ("client/rustiqctl"). An unknown user
  // and a wrong password get the same UNAUTHENTICATED answer, after the
  // same argon2id work; RESOURCE_EXHAUSTED while throttled or locked.
  absl::StatusOr<LoginResult> Login(absl::string_view user,
                                    absl::string_view password,
                                    absl::string_view new_password,
                                    absl::string_view source);
  absl::Status ChangePassword(absl::string_view user,
                              absl::string_view old_password,
                              absl::string_view new_password,
                              absl::string_view source);
  absl::Status Logout(const rpc::TokenClaims& person);

  // Admin actions, as `person` (whose token the enforcement point checked).
  absl::StatusOr<CreatedUser> CreateUser(const rpc::TokenClaims& person,
                                         absl::string_view name,
                                         const std::vector<std::string>& roles,
                                         absl::string_view initial_password);
  absl::Status DeleteUser(const rpc::TokenClaims& person,
                          absl::string_view name);
  absl::StatusOr<std::vector<UserRecord>> ListUsers();
  // Returns the generated password (empty when one was given).
  absl::StatusOr<std::string> ResetPassword(const rpc::TokenClaims& person,
                                            absl::string_view name,
                                            absl::string_view new_password);
  absl::StatusOr<UserRecord> GrantRole(const rpc::TokenClaims& person,
                                       absl::string_view user,
                                       absl::string_view role);
  absl::StatusOr<UserRecord> RevokeRole(const rpc::TokenClaims& person,
                                        absl::string_view user,
                                        absl::string_view role);

  // Provisioning: the first admin, with a random credential (returned, shown
  // once) or the one given; it must be changed at first login. Fails when
  // any account exists already.
  absl::StatusOr<std::string> CreateFirstAdmin(absl::string_view name,
                                               absl::string_view password);

  const RoleCatalog& roles() const { return *roles_; }

 private:
  absl::StatusOr<std::string> IssueToken(const UserRecord& user,
                                         rpc::TokenClaims* claims);
  // The throttle, the hash check (or the dummy one for an unknown user) and
  // the failure bookkeeping shared by Login and ChangePassword.
  absl::StatusOr<UserRecord> CheckPassword(absl::string_view user,
                                           absl::string_view password,
                                           absl::string_view source,
                                           absl::string_view action);
  absl::Status SetNewPassword(const UserRecord& user,
                              absl::string_view new_password, bool must_change);
  void RevokeTokensOf(absl::string_view user, absl::string_view why);
  absl::StatusOr<UserRecord> ChangeRole(const rpc::TokenClaims& person,
                                        absl::string_view user,
                                        absl::string_view role, bool grant);
  void Record(absl::string_view action, audit::Outcome outcome,
              absl::string_view actor,
              std::vector<std::pair<std::string, std::string>> attributes,
              absl::string_view severity = "");

  UserStore* store_;
  PasswordHasher* hasher_;
  LoginThrottle* throttle_;
  const RoleCatalog* roles_;
  TokenSigner* signer_;
  RevocationHub* hub_;
  audit::SecurityEventSink* sink_;
  AccountsOptions options_;
  DeferredWrites deferred_;
};

}  // namespace rustiq::authd

#endif  // RUSTIQ_SERVICES_AUTHD_ACCOUNTS_H_
