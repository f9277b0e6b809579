#include "services/authd/accounts.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/auth/token_claims.h"
#include "common/logging/escape.h"
#include "common/logging/log.h"
#include "services/authd/user_name.h"

namespace rustiq::authd {
namespace {

// The answer to every failed password check: it must not say whether the
// account exists.
constexpr char kWrongCredentials[] = "wrong user name or password";

std::string Shown(absl::string_view s) { return log::EscapeUntrusted(s, 64); }

absl::Time WholeSeconds(absl::Time t) {
  return absl::FromUnixSeconds(absl::ToUnixSeconds(t));
}

}  // namespace

Accounts::Accounts(UserStore* store, PasswordHasher* hasher,
                   LoginThrottle* throttle, const RoleCatalog* roles,
                   TokenSigner* signer, RevocationHub* hub,
                   audit::SecurityEventSink* sink, AccountsOptions options)
    : store_(store),
      hasher_(hasher),
      throttle_(throttle),
      roles_(roles),
      signer_(signer),
      hub_(hub),
      sink_(sink),
      options_(std::move(options)) {}

void Accounts::Record(
    absl::string_view action, audit::Outcome outcome, absl::string_view actor,
    std::vector<std::pair<std::string, std::string>> attributes,
    absl::string_view severity) {
  audit::SecurityEvent event;
  event.category = "auth";
  event.action = std::string(action);
  event.outcome = outcome;
  event.actor = std::string(actor);
  event.attributes = std::move(attributes);
  event.severity = std::string(severity);
  sink_->Record(event);
}

absl::Status Accounts::RestoreLockouts() {
  absl::StatusOr<std::vector<UserRecord>> users = store_->List();
  if (!users.ok()) return users.status();
  for (const UserRecord& u : *users) {
    if (u.failed_logins > 0 || u.locked_until > options_.now()) {
      throttle_->Restore(u.name, u.failed_logins, u.locked_until,
                         options_.now());
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<UserRecord> Accounts::CheckPassword(absl::string_view user,
                                                   absl::string_view password,
                                                   absl::string_view source,
                                                   absl::string_view action) {
  if (absl::Status s = ValidateUserName(user); !s.ok()) return s;
  if (password.empty() || password.size() > kMaxPasswordBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("a password is 1 to ", kMaxPasswordBytes, " bytes long"));
  }
  const absl::Time now = options_.now();
  if (absl::Status s = throttle_->Check(user, source, now); !s.ok()) {
    Record(absl::StrCat(action, ".throttled"), audit::Outcome::kDenied, source,
           {{"user", Shown(user)}, {"reason", std::string(s.message())}});
    return s;
  }
  absl::StatusOr<UserRecord> record = store_->Get(user);
  bool good = false;
  if (record.ok()) {
    absl::StatusOr<bool> match =
        hasher_->Verify(record->password_hash, password);
    if (!match.ok()) {
      // A damaged hash in the store: nobody can log in with it; say so in
      // the log, without the hash.
      log::Error("an account's password hash cannot be read",
                 {{"user", std::string(user)},
                  {"error", std::string(match.status().message())}});
    }
    good = match.ok() && *match;
  } else if (absl::IsNotFound(record.status())) {
    // The same argon2id work as a real account, so that the time taken
    // does not tell whether the account exists.
    (void)hasher_->VerifyDummy(password);
  } else {
    return record.status();
  }
  if (good) {
    throttle_->RecordSuccess(user, source, now);
    return record;
  }
  FailureResult failure = throttle_->RecordFailure(user, source, now);
  if (record.ok()) {
    // Off the answer's path (deferred_writes.h): the commit would show.
    deferred_.Post([store = store_, name = std::string(user),
                    failures = failure.failures, until = failure.locked_until] {
      (void)store->SetFailures(name, failures, until);
    });
  }
  Record(absl::StrCat(action, ".failed"), audit::Outcome::kDenied, source,
         {{"user", Shown(user)}, {"failures", absl::StrCat(failure.failures)}},
         "warning");
  if (failure.locked_now) {
    Record("account.locked", audit::Outcome::kDenied, source,
           {{"user", Shown(user)},
            {"failures", absl::StrCat(failure.failures)},
            {"until", absl::FormatTime(failure.locked_until)}},
           "alert");
  }
  return absl::UnauthenticatedError(kWrongCredentials);
}

absl::Status Accounts::SetNewPassword(const UserRecord& user,
                                      absl::string_view new_password,
                                      bool must_change) {
  if (absl::Status s =
          CheckNewPassword(new_password, user.name, options_.password_policy);
      !s.ok()) {
    return s;
  }
  if (!user.password_hash.empty()) {
    absl::StatusOr<bool> same =
        hasher_->Verify(user.password_hash, new_password);
    if (same.ok() && *same) {
      return absl::InvalidArgumentError(
          "the new password must differ from the current one");
    }
  }
  absl::StatusOr<std::string> hash = hasher_->Hash(new_password);
  if (!hash.ok()) return hash.status();
  return store_->SetPassword(user.name, *hash, must_change);
}

absl::StatusOr<std::string> Accounts::IssueToken(const UserRecord& user,
                                                 rpc::TokenClaims* claims) {
  claims->subject = user.name;
  claims->token_id = auth::NewTokenId();
  claims->roles = user.roles;
  claims->permissions = roles_->PermissionsOf(user.roles);
  claims->issued = WholeSeconds(options_.now());
  claims->expires = claims->issued + options_.token_lifetime;
  absl::StatusOr<std::string> token = signer_->Sign(*claims);
  if (!token.ok()) return token.status();
  // Known before it is handed out, so that it can be revoked later.
  if (absl::Status s = store_->RecordIssued(claims->token_id, user.name,
                                            claims->issued, claims->expires);
      !s.ok()) {
    return s;
  }
  return token;
}

absl::StatusOr<LoginResult> Accounts::Login(absl::string_view user,
                                            absl::string_view password,
                                            absl::string_view new_password,
                                            absl::string_view source) {
  absl::StatusOr<UserRecord> record =
      CheckPassword(user, password, source, "login");
  if (!record.ok()) return record.status();
  LoginResult result;
  if (record->must_change) {
    if (new_password.empty()) {
      Record("login.password_change_required", audit::Outcome::kDenied, source,
             {{"user", record->name}}, "info");
      result.password_change_required = true;
      return result;
    }
    if (absl::Status s = SetNewPassword(*record, new_password, false);
        !s.ok()) {
      return s;
    }
    record->must_change = false;
    Record("password.changed", audit::Outcome::kSuccess,
           absl::StrCat("user/", record->name),
           {{"user", record->name}, {"why", "first login"}});
  } else if (hasher_->NeedsRehash(record->password_hash)) {
    // The configured argon2id cost changed: the hash follows it now that
    // the password is at hand.
    absl::StatusOr<std::string> hash = hasher_->Hash(password);
    if (hash.ok()) (void)store_->SetPassword(record->name, *hash, false);
  }
  // In order behind any failure count still being written.
  deferred_.Post([store = store_, name = record->name, now = options_.now()] {
    (void)store->RecordLogin(name, now);
  });
  absl::StatusOr<std::string> token = IssueToken(*record, &result.claims);
  if (!token.ok()) {
    Record("login.failed", audit::Outcome::kFailure, source,
           {{"user", record->name},
            {"reason", std::string(token.status().message())}});
    return token.status();
  }
  result.token = *std::move(token);
  Record("login.succeeded", audit::Outcome::kSuccess, result.claims.Actor(),
         {{"user", record->name},
          {"source", std::string(source)},
          {"token_id", result.claims.token_id},
          {"expires", absl::FormatTime(result.claims.expires)}});
  return result;
}

absl::Status Accounts::ChangePassword(absl::string_view user,
                                      absl::string_view old_password,
                                      absl::string_view new_password,
                                      absl::string_view source) {
  absl::StatusOr<UserRecord> record =
      CheckPassword(user, old_password, source, "password_change");
  if (!record.ok()) return record.status();
  if (absl::Status s = SetNewPassword(*record, new_password, false); !s.ok()) {
    return s;
  }
  RevokeTokensOf(record->name, "password changed");
  Record("password.changed", audit::Outcome::kSuccess,
         absl::StrCat("user/", record->name), {{"user", record->name}});
  return absl::OkStatus();
}

void Accounts::RevokeTokensOf(absl::string_view user, absl::string_view why) {
  absl::StatusOr<std::vector<Revocation>> revoked =
      store_->RevokeAllOf(user, options_.now());
  if (!revoked.ok()) {
    log::Error("cannot revoke an account's tokens",
               {{"user", std::string(user)},
                {"error", std::string(revoked.status().message())}});
    return;
  }
  if (revoked->empty()) return;
  hub_->Publish(*revoked);
  Record("token.revoked", audit::Outcome::kSuccess, "svc/authd",
         {{"user", std::string(user)},
          {"tokens", absl::StrCat(revoked->size())},
          {"why", std::string(why)}});
}

absl::Status Accounts::Logout(const rpc::TokenClaims& person) {
  absl::StatusOr<std::optional<Revocation>> revoked =
      store_->Revoke(person.token_id, options_.now());
  if (!revoked.ok()) return revoked.status();
  if (revoked->has_value()) hub_->Publish({**revoked});
  Record("logout", audit::Outcome::kSuccess, person.Actor(),
         {{"user", person.subject}, {"token_id", person.token_id}});
  return absl::OkStatus();
}

namespace {

// PERMISSION_DENIED unless `person` holds every permission of `role`.
absl::Status MayHandOut(const RoleCatalog& catalog,
                        const rpc::TokenClaims& person, const Role& role,
                        absl::string_view verb) {
  if (catalog.Holds(person.permissions, role)) return absl::OkStatus();
  std::vector<std::string> missing;
  for (const std::string& p : role.permissions) {
    if (!person.HasPermission(p)) missing.push_back(p);
  }
  return absl::PermissionDeniedError(
      absl::StrCat(person.subject, " may not ", verb, " role ", role.name,
                   ": it carries permissions ", person.subject,
                   " does not hold (", absl::StrJoin(missing, ", "), ")"));
}

}  // namespace

absl::StatusOr<CreatedUser> Accounts::CreateUser(
    const rpc::TokenClaims& person, absl::string_view name,
    const std::vector<std::string>& roles, absl::string_view initial_password) {
  if (absl::Status s = ValidateUserName(name); !s.ok()) return s;
  for (const std::string& r : roles) {
    const Role* role = roles_->Find(r);
    if (role == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("no role named '", Shown(r),
                       "' ('rustiqctl roles list' shows them)"));
    }
    if (absl::Status s = MayHandOut(*roles_, person, *role, "grant"); !s.ok()) {
      Record(
          "user.create.denied", audit::Outcome::kDenied, person.Actor(),
          {{"user", std::string(name)}, {"reason", std::string(s.message())}});
      return s;
    }
  }
  CreatedUser created;
  std::string password(initial_password);
  if (password.empty()) {
    password = RandomInitialPassword();
    created.generated_password = password;
  }
  if (absl::Status s =
          CheckNewPassword(password, name, options_.password_policy);
      !s.ok()) {
    return s;
  }
  absl::StatusOr<std::string> hash = hasher_->Hash(password);
  if (!hash.ok()) return hash.status();
  UserRecord record;
  record.name = std::string(name);
  record.password_hash = *std::move(hash);
  record.roles = roles;
  std::sort(record.roles.begin(), record.roles.end());
  record.roles.erase(std::unique(record.roles.begin(), record.roles.end()),
                     record.roles.end());
  record.must_change = true;
  record.created = WholeSeconds(options_.now());
  if (absl::Status s = store_->Create(record); !s.ok()) return s;
  throttle_->Clear(name);
  Record("user.created", audit::Outcome::kSuccess, person.Actor(),
         {{"user", record.name}, {"roles", absl::StrJoin(record.roles, ",")}});
  record.password_hash.clear();
  created.user = std::move(record);
  return created;
}

absl::Status Accounts::DeleteUser(const rpc::TokenClaims& person,
                                  absl::string_view name) {
  if (absl::Status s = ValidateUserName(name); !s.ok()) return s;
  absl::StatusOr<std::vector<Revocation>> revoked =
      store_->Delete(name, options_.now(), kAdminRole);
  if (!revoked.ok()) {
    Record("user.delete.denied", audit::Outcome::kDenied, person.Actor(),
           {{"user", std::string(name)},
            {"reason", std::string(revoked.status().message())}});
    return revoked.status();
  }
  hub_->Publish(*revoked);
  throttle_->Clear(name);
  Record("user.deleted", audit::Outcome::kSuccess, person.Actor(),
         {{"user", std::string(name)},
          {"tokens_revoked", absl::StrCat(revoked->size())}});
  return absl::OkStatus();
}

absl::StatusOr<std::vector<UserRecord>> Accounts::ListUsers() {
  absl::StatusOr<std::vector<UserRecord>> users = store_->List();
  if (!users.ok()) return users.status();
  for (UserRecord& u : *users) u.password_hash.clear();
  return users;
}

absl::StatusOr<std::string> Accounts::ResetPassword(
    const rpc::TokenClaims& person, absl::string_view name,
    absl::string_view new_password) {
  if (absl::Status s = ValidateUserName(name); !s.ok()) return s;
  absl::StatusOr<UserRecord> record = store_->Get(name);
  if (!record.ok()) return record.status();
  std::string password(new_password);
  std::string generated;
  if (password.empty()) {
    password = RandomInitialPassword();
    generated = password;
  }
  if (absl::Status s = SetNewPassword(*record, password, true); !s.ok()) {
    return s;
  }
  deferred_.Post([store = store_, name = record->name] {
    (void)store->SetFailures(name, 0, absl::InfinitePast());
  });
  throttle_->Clear(record->name);
  RevokeTokensOf(record->name, "password reset");
  Record("password.reset", audit::Outcome::kSuccess, person.Actor(),
         {{"user", record->name}});
  return generated;
}

absl::StatusOr<UserRecord> Accounts::GrantRole(const rpc::TokenClaims& person,
                                               absl::string_view user,
                                               absl::string_view role) {
  return ChangeRole(person, user, role, /*grant=*/true);
}

absl::StatusOr<UserRecord> Accounts::RevokeRole(const rpc::TokenClaims& person,
                                                absl::string_view user,
                                                absl::string_view role) {
  return ChangeRole(person, user, role, /*grant=*/false);
}

absl::StatusOr<UserRecord> Accounts::ChangeRole(const rpc::TokenClaims& person,
                                                absl::string_view user,
                                                absl::string_view role_name,
                                                bool grant) {
  if (absl::Status s = ValidateUserName(user); !s.ok()) return s;
  const Role* role = roles_->Find(role_name);
  if (role == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("no role named '", Shown(role_name),
                     "' ('rustiqctl roles list' shows them)"));
  }
  const char* verb = grant ? "grant" : "revoke";
  absl::Status s = MayHandOut(*roles_, person, *role, verb);
  if (s.ok()) {
    // The last admin keeps the admin role.
    s = grant ? store_->AddRole(user, role->name)
              : store_->RemoveRole(user, role->name, kAdminRole);
  }
  if (!s.ok()) {
    Record(absl::StrCat("role.", verb, ".denied"), audit::Outcome::kDenied,
           person.Actor(),
           {{"user", std::string(user)},
            {"role", role->name},
            {"reason", std::string(s.message())}});
    return s;
  }
  // Its tokens carry the old permissions: a new login picks up the new.
  RevokeTokensOf(user, grant ? "role granted" : "role revoked");
  Record(grant ? "role.granted" : "role.revoked", audit::Outcome::kSuccess,
         person.Actor(), {{"user", std::string(user)}, {"role", role->name}});
  absl::StatusOr<UserRecord> updated = store_->Get(user);
  if (updated.ok()) updated->password_hash.clear();
  return updated;
}

absl::StatusOr<std::string> Accounts::CreateFirstAdmin(
    absl::string_view name, absl::string_view password) {
  absl::StatusOr<size_t> count = store_->Count();
  if (!count.ok()) return count.status();
  if (*count > 0) {
    return absl::FailedPreconditionError(
        "the device has accounts already; the first admin is made once");
  }
  if (absl::Status s = ValidateUserName(name); !s.ok()) return s;
  std::string chosen(password);
  std::string generated;
  if (chosen.empty()) {
    chosen = RandomInitialPassword();
    generated = chosen;
  }
  if (absl::Status s = CheckNewPassword(chosen, name, options_.password_policy);
      !s.ok()) {
    return s;
  }
  absl::StatusOr<std::string> hash = hasher_->Hash(chosen);
  if (!hash.ok()) return hash.status();
  UserRecord record;
  record.name = std::string(name);
  record.password_hash = *std::move(hash);
  record.roles = {kAdminRole};
  record.must_change = true;
  record.created = WholeSeconds(options_.now());
  if (absl::Status s = store_->Create(record); !s.ok()) return s;
  Record("user.created", audit::Outcome::kSuccess, "provisioning",
         {{"user", record.name}, {"roles", kAdminRole}});
  return generated;
}

}  // namespace rustiq::authd
