// rustiq-authd's accounts on disk: one SQLite file (production
// /var/lib/rustiq/authd/users.db, mode 0600, WAL, synchronous=FULL) with
// the users, their roles, and the tokens issued to them (so that a token
// can be revoked, and revocations streamed, until it would have expired).
//
// Open() checks the whole file before anything is served: a file that is
// damaged, is not a SQLite database, is some other program's database or
// was written by a newer authd is refused with an error naming it; nothing
// of it is used.
//
// Values are stored as given, byte for byte (every value is a bound
// parameter; no SQL is built from input). Names and roles are validated by
// the caller (auth.proto's name rules, the role table). The password hash
// is a secret: no error message or log line carries it.
//
// Thread-safe: one connection behind a mutex. Every check-then-change (an
// account exists, the last admin keeps the role) runs inside one write
// transaction, so that it also holds against a second connection to the
// same file.
#ifndef RUSTIQ_SERVICES_AUTHD_USER_STORE_H_
#define RUSTIQ_SERVICES_AUTHD_USER_STORE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/storage/sqlite.h"

namespace rustiq::authd {

// One account. Times are InfinitePast for "none" (never logged in, not
// locked).
struct UserRecord {
  std::string name;
  std::string password_hash;       // secret: the PHC string of the hasher
  std::vector<std::string> roles;  // sorted, without duplicates
  bool must_change = false;        // the password must be changed at login
  absl::Time created = absl::InfinitePast();
  absl::Time last_login = absl::InfinitePast();
  uint32_t failed_logins = 0;  // since the last successful login
  absl::Time locked_until = absl::InfinitePast();
};

// A token that must be refused until it expires.
struct Revocation {
  std::string token_id;
  absl::Time expires;
};

class UserStore {
 public:
  // The version of the schema this code writes and reads.
  static constexpr int kSchemaVersion = 1;

  // Opens or creates the store at `path` (its directory must exist).
  // DATA_LOSS for a damaged file or one that is not a SQLite database;
  // FAILED_PRECONDITION for another program's database or a newer schema.
  static absl::StatusOr<std::unique_ptr<UserStore>> Open(
      const std::string& path);
  ~UserStore();
  UserStore(const UserStore&) = delete;
  UserStore& operator=(const UserStore&) = delete;

  const std::string& path() const { return path_; }

  // Accounts. NOT_FOUND "no user alice" for an unknown name.
  // ALREADY_EXISTS "user alice already exists". Duplicate roles are merged.
  absl::Status Create(const UserRecord& user);
  absl::StatusOr<UserRecord> Get(absl::string_view name) const;
  // Every account, by name.
  absl::StatusOr<std::vector<UserRecord>> List() const;
  absl::StatusOr<size_t> Count() const;
  // Deletes the account (and its roles) and revokes its unexpired tokens,
  // returned so that they can be streamed. FAILED_PRECONDITION "alice is
  // the last admin; grant admin to another user first" when it is the
  // last holder of `protected_role`.
  // `now` decides which tokens are still unexpired and dates their
  // revocation.
  absl::StatusOr<std::vector<Revocation>> Delete(
      absl::string_view name, absl::Time now,
      absl::string_view protected_role = "admin");

  absl::Status SetPassword(absl::string_view name,
                           absl::string_view password_hash, bool must_change);
  // A successful login at `now`: clears the failures and the lockout.
  absl::Status RecordLogin(absl::string_view name, absl::Time now);
  // The throttle's count and lockout (InfinitePast: not locked) of an
  // account, so that they survive a restart.
  absl::Status SetFailures(absl::string_view name, uint32_t failures,
                           absl::Time locked_until);

  // Roles. ALREADY_EXISTS when the user has the role; NOT_FOUND when the
  // user does not (or does not exist). RemoveRole refuses, as Delete does,
  // to take `protected_role` from its last holder.
  absl::Status AddRole(absl::string_view name, absl::string_view role);
  absl::Status RemoveRole(absl::string_view name, absl::string_view role,
                          absl::string_view protected_role = "admin");

  // Tokens. ALREADY_EXISTS for a token ID recorded before. The user need
  // not exist any more when a token is revoked (Delete keeps the rows).
  absl::Status RecordIssued(absl::string_view token_id, absl::string_view user,
                            absl::Time issued, absl::Time expires);
  // The revocation made; nullopt when the token is unknown or was revoked
  // already.
  absl::StatusOr<std::optional<Revocation>> Revoke(absl::string_view token_id,
                                                   absl::Time now);
  // Revokes every unexpired, unrevoked token of `user`.
  absl::StatusOr<std::vector<Revocation>> RevokeAllOf(absl::string_view user,
                                                      absl::Time now);
  // Revoked tokens that have not expired yet (the snapshot a watcher gets),
  // by token ID.
  absl::StatusOr<std::vector<Revocation>> ActiveRevocations(
      absl::Time now) const;
  // False for an unknown token ID too: the store only knows what it issued.
  absl::StatusOr<bool> IsRevoked(absl::string_view token_id) const;
  // Deletes the tokens expired at `now` (refused by their expiry anyway);
  // returns how many.
  absl::StatusOr<size_t> PruneExpired(absl::Time now);

 private:
  UserStore(std::string path, std::unique_ptr<storage::Database> db);
  absl::Status InitializeOrCheck() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status CheckIntegrity() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // NOT_FOUND "no user alice" unless the account exists.
  absl::Status CheckExists(absl::string_view name) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<bool> HasRole(absl::string_view name,
                               absl::string_view role) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Whether the account `name` holds `role`; NOT_FOUND "no user alice"
  // unless the account exists.
  absl::StatusOr<bool> UserHasRole(absl::string_view name,
                                   absl::string_view role) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // FAILED_PRECONDITION when `name` is the only holder of `protected_role`.
  absl::Status CheckNotLastHolder(absl::string_view name,
                                  absl::string_view protected_role)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<std::vector<Revocation>> RevokeAllOfLocked(
      absl::string_view user, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string path_;
  mutable absl::Mutex mu_;
  // Statements are cached on the connection, hence mutable in const reads.
  const std::unique_ptr<storage::Database> db_ ABSL_PT_GUARDED_BY(mu_);
};

}  // namespace rustiq::authd

#endif  // RUSTIQ_SERVICES_AUTHD_USER_STORE_H_
