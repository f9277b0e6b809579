#include "services/authd/authd_setup.h"

#include <sys/stat.h>

#include "absl/strings/str_cat.h"
#include "services/authd/roles.h"

namespace rustiq::authd {

std::string StorePath(const config::StackConfig& config) {
  return absl::StrCat(config.paths.state_dir, "/authd/users.db");
}

Argon2Params Argon2ParamsFrom(const config::StackConfig& config) {
  Argon2Params p;
  p.memory_kib = config.authd.argon2_memory_kib;
  p.iterations = config.authd.argon2_iterations;
  p.parallelism = config.authd.argon2_parallelism;
  return p;
}

ThrottleOptions ThrottleOptionsFrom(const config::StackConfig& config) {
  const config::AuthdConfig& a = config.authd;
  ThrottleOptions o;
  o.base_delay = absl::Milliseconds(a.login_delay_ms);
  o.max_delay =
      absl::Milliseconds(std::max(a.login_max_delay_ms, a.login_delay_ms));
  o.lockout_failures = a.lockout_failures;
  o.lockout = absl::Seconds(a.lockout_seconds);
  o.source_free_failures = a.source_free_failures;
  return o;
}

AccountsOptions AccountsOptionsFrom(const config::StackConfig& config) {
  AccountsOptions o;
  o.token_lifetime = absl::Minutes(config.authd.token_lifetime_minutes);
  o.password_policy.min_length = config.authd.password_min_length;
  return o;
}

void ApplyRevocations(const std::vector<Revocation>& revoked,
                      auth::RevocationSet* set) {
  std::vector<auth::Revocation> converted;
  converted.reserve(revoked.size());
  for (const Revocation& r : revoked) {
    converted.push_back({r.token_id, r.expires});
  }
  set->Add(converted);
}

absl::StatusOr<AuthdParts> OpenAuthd(const config::StackConfig& config) {
  const std::string dir = absl::StrCat(config.paths.state_dir, "/authd");
  mkdir(dir.c_str(), 0700);
  AuthdParts parts;
  absl::StatusOr<std::unique_ptr<UserStore>> store =
      UserStore::Open(StorePath(config));
  if (!store.ok()) return store.status();
  parts.store = *std::move(store);
  absl::StatusOr<PasswordHasher> hasher =
      PasswordHasher::Create(Argon2ParamsFrom(config));
  if (!hasher.ok()) return hasher.status();
  parts.hasher = std::make_unique<PasswordHasher>(*std::move(hasher));
  parts.throttle = std::make_unique<LoginThrottle>(ThrottleOptionsFrom(config));
  return parts;
}

absl::StatusOr<FirstAdmin> ProvisionFirstAdmin(
    const config::StackConfig& config, absl::string_view name,
    absl::string_view password) {
  absl::StatusOr<AuthdParts> parts = OpenAuthd(config);
  if (!parts.ok()) return parts.status();
  audit::LogSecurityEventSink sink;
  Accounts accounts(parts->store.get(), parts->hasher.get(),
                    parts->throttle.get(), &RoleCatalog::Compiled(),
                    /*signer=*/nullptr, /*hub=*/nullptr, &sink,
                    AccountsOptionsFrom(config));
  absl::StatusOr<std::string> generated =
      accounts.CreateFirstAdmin(name, password);
  if (!generated.ok()) return generated.status();
  return FirstAdmin{std::string(name), *std::move(generated)};
}

}  // namespace rustiq::authd
