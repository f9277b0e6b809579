#include "services/authd/user_store.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <initializer_list>
#include <limits>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace rustiq::authd {
namespace {

// What meta.format says in every authd user store: a SQLite file without
// it is somebody else's.
constexpr char kFormat[] = "rustiq-authd-users";

// Text values are stored as BLOBs: compared and returned byte for byte,
// NUL bytes and invalid UTF-8 included. Times are Unix microseconds, NULL
// for none (InfinitePast).
constexpr char kSchema[] = R"sql(
CREATE TABLE meta(
  key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE users(
  name BLOB PRIMARY KEY NOT NULL,
  password_hash BLOB NOT NULL,
  must_change INTEGER NOT NULL,
  created INTEGER,
  last_login INTEGER,
  failed_logins INTEGER NOT NULL DEFAULT 0,
  locked_until INTEGER);
CREATE TABLE user_roles(
  name BLOB NOT NULL REFERENCES users(name) ON DELETE CASCADE,
  role BLOB NOT NULL,
  PRIMARY KEY(name, role)) WITHOUT ROWID;
CREATE INDEX user_roles_by_role ON user_roles(role);
-- No foreign key to users: a deleted user's revoked tokens stay until they
-- expire, so that every daemon keeps refusing them.
CREATE TABLE tokens(
  token_id BLOB PRIMARY KEY NOT NULL,
  user BLOB NOT NULL,
  issued INTEGER NOT NULL,
  expires INTEGER NOT NULL,
  revoked INTEGER NOT NULL DEFAULT 0,
  revoked_at INTEGER);
CREATE INDEX tokens_by_user ON tokens(user);
CREATE INDEX tokens_by_expiry ON tokens(expires);
)sql";

constexpr const char* kTables[] = {"meta", "users", "user_roles", "tokens"};

constexpr char kSelectUser[] =
    "SELECT u.name, u.password_hash, u.must_change, u.created, u.last_login, "
    "u.failed_logins, u.locked_until, r.role FROM users u "
    "LEFT JOIN user_roles r ON r.name = u.name";

// A name or role as an error message shows it: escaped (a hostile value
// cannot forge a line of a log) and cut short.
std::string Shown(absl::string_view value) {
  constexpr size_t kMax = 64;
  std::string shown = absl::CHexEscape(value.substr(0, kMax));
  if (value.size() > kMax) absl::StrAppend(&shown, "...");
  return shown;
}

int64_t TimeToMicros(absl::Time t) {
  if (t == absl::InfiniteFuture()) return std::numeric_limits<int64_t>::max();
  return absl::ToUnixMicros(t);
}

absl::Time MicrosToTime(int64_t micros) {
  if (micros == std::numeric_limits<int64_t>::max()) {
    return absl::InfiniteFuture();
  }
  return absl::FromUnixMicros(micros);
}

absl::Time ColumnTime(const storage::Statement& st, int column) {
  return st.ColumnIsNull(column) ? absl::InfinitePast()
                                 : MicrosToTime(st.ColumnInt(column));
}

std::string ColumnBytes(const storage::Statement& st, int column) {
  return std::string(st.ColumnBlob(column));
}

// One bound parameter: bytes (as a BLOB), an integer, or a time (NULL for
// InfinitePast). Implicit on purpose, so that a query lists its parameters
// as they come: {name, hash, now}.
// NOLINTBEGIN(google-explicit-constructor)
class Param {
 public:
  Param(absl::string_view bytes) : kind_(kBytes), bytes_(bytes) {}
  Param(const std::string& bytes) : kind_(kBytes), bytes_(bytes) {}
  Param(const char* bytes) : kind_(kBytes), bytes_(bytes) {}
  Param(int64_t value) : kind_(kInt), int_(value) {}
  Param(absl::Time t)
      : kind_(t == absl::InfinitePast() ? kNull : kInt),
        int_(t == absl::InfinitePast() ? 0 : TimeToMicros(t)) {}
  // NOLINTEND(google-explicit-constructor)

  absl::Status BindTo(storage::Statement* st, int index) const {
    switch (kind_) {
      case kBytes:
        // An empty view may have no data pointer, which SQLite would bind
        // as NULL rather than as an empty value.
        return st->BindBlob(
            index, bytes_.data() == nullptr ? absl::string_view("") : bytes_);
      case kInt:
        return st->BindInt(index, int_);
      case kNull:
        break;
    }
    return absl::OkStatus();  // unbound parameters are NULL
  }

 private:
  enum Kind { kBytes, kInt, kNull };
  Kind kind_;
  absl::string_view bytes_;
  int64_t int_ = 0;
};

// A statement cached on the connection with its parameters bound; reset on
// destruction, so that no statement keeps a read snapshot open. Two live at
// once must not share their SQL (the cache holds one statement per text).
class Query {
 public:
  Query(storage::Database* db, absl::string_view sql,
        std::initializer_list<Param> params) {
    absl::StatusOr<storage::Statement*> st = db->Cached(sql);
    if (!st.ok()) {
      status_ = st.status();
      return;
    }
    st_ = *st;
    int index = 1;
    for (const Param& p : params) {
      status_ = p.BindTo(st_, index++);
      if (!status_.ok()) return;
    }
  }
  ~Query() {
    if (st_ != nullptr) st_->Reset();
  }
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;

  absl::StatusOr<bool> Step() {
    if (!status_.ok()) return status_;
    return st_->Step();
  }
  // Runs a statement that returns no row.
  absl::Status Run() {
    absl::StatusOr<bool> row = Step();
    return row.ok() ? absl::OkStatus() : row.status();
  }
  const storage::Statement& row() const { return *st_; }

 private:
  absl::Status status_;
  storage::Statement* st_ = nullptr;
};

int64_t Changes(storage::Database* db) {
  return sqlite3_changes64(db->handle());
}

absl::Status NoSuchUser(absl::string_view name) {
  return absl::NotFoundError(absl::StrCat("no user ", Shown(name)));
}

// Appends the roles of rows (one role per row, NULL when none) of
// kSelectUser ordered by name then role, into users.
absl::Status ReadUsers(Query* q, std::vector<UserRecord>* users) {
  while (true) {
    absl::StatusOr<bool> more = q->Step();
    if (!more.ok()) return more.status();
    if (!*more) return absl::OkStatus();
    const storage::Statement& row = q->row();
    absl::string_view name = row.ColumnBlob(0);
    if (users->empty() || users->back().name != name) {
      UserRecord u;
      u.name = std::string(name);
      u.password_hash = ColumnBytes(row, 1);
      u.must_change = row.ColumnInt(2) != 0;
      u.created = ColumnTime(row, 3);
      u.last_login = ColumnTime(row, 4);
      u.failed_logins = static_cast<uint32_t>(std::clamp<int64_t>(
          row.ColumnInt(5), 0, std::numeric_limits<uint32_t>::max()));
      u.locked_until = ColumnTime(row, 6);
      users->push_back(std::move(u));
    }
    if (!row.ColumnIsNull(7))
      users->back().roles.push_back(ColumnBytes(row, 7));
  }
}

absl::StatusOr<std::vector<Revocation>> ReadRevocations(Query* q) {
  std::vector<Revocation> out;
  while (true) {
    absl::StatusOr<bool> more = q->Step();
    if (!more.ok()) return more.status();
    if (!*more) return out;
    out.push_back({ColumnBytes(q->row(), 0), ColumnTime(q->row(), 1)});
  }
}

// What to do about a file SQLite cannot read.
absl::Status Unreadable(const absl::Status& s) {
  if (s.code() != absl::StatusCode::kDataLoss) return s;
  return absl::DataLossError(absl::StrCat(
      s.message(),
      "; restore it from a backup, or move it away and provision the first "
      "admin again"));
}

}  // namespace

UserStore::UserStore(std::string path, std::unique_ptr<storage::Database> db)
    : path_(std::move(path)), db_(std::move(db)) {}

UserStore::~UserStore() = default;

absl::StatusOr<std::unique_ptr<UserStore>> UserStore::Open(
    const std::string& path) {
  absl::StatusOr<std::unique_ptr<storage::Database>> db =
      storage::Database::Open(path, {});
  if (!db.ok()) return Unreadable(db.status());
  // Created 0600 by Database::Open; an existing file that others may read
  // (copied in from a backup, say) is tightened: it holds password hashes.
  // SQLite gives the -wal and -shm files the main file's mode.
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("cannot stat ", path));
  }
  if ((st.st_mode & 077) != 0 && chmod(path.c_str(), 0600) != 0) {
    return absl::ErrnoToStatus(
        errno, absl::StrCat(path,
                            " is readable by others and cannot be "
                            "made private (chmod 0600)"));
  }
  std::unique_ptr<UserStore> store(new UserStore(path, *std::move(db)));
  absl::MutexLock lock(&store->mu_);
  // Per connection in SQLite: roles go with their user.
  if (absl::Status s = store->db_->Exec("PRAGMA foreign_keys=ON"); !s.ok()) {
    return Unreadable(s);
  }
  if (absl::Status s = store->CheckIntegrity(); !s.ok()) return s;
  if (absl::Status s = store->InitializeOrCheck(); !s.ok()) return s;
  return store;
}

absl::Status UserStore::CheckIntegrity() {
  // Every page of the file, before anything is served: a damaged store is
  // refused as a whole rather than half loaded.
  Query q(db_.get(), "PRAGMA quick_check", {});
  absl::StatusOr<bool> row = q.Step();
  if (!row.ok()) return Unreadable(row.status());
  if (*row && q.row().ColumnText(0) != "ok") {
    return absl::DataLossError(absl::StrCat(
        path_, " is damaged (", Shown(q.row().ColumnText(0)),
        "); restore it from a backup, or move it away and provision the first "
        "admin again"));
  }
  return absl::OkStatus();
}

absl::Status UserStore::InitializeOrCheck() {
  // One write transaction: two processes opening a new file at once create
  // the schema once.
  storage::Transaction tx(db_.get());
  if (!tx.begun().ok()) return Unreadable(tx.begun());
  std::vector<std::string> tables;
  {
    Query q(db_.get(),
            "SELECT name FROM sqlite_schema WHERE type = 'table' "
            "AND name NOT LIKE 'sqlite_%'",
            {});
    while (true) {
      absl::StatusOr<bool> row = q.Step();
      if (!row.ok()) return Unreadable(row.status());
      if (!*row) break;
      tables.emplace_back(q.row().ColumnText(0));
    }
  }
  if (tables.empty()) {
    if (absl::Status s = db_->Exec(kSchema); !s.ok()) return s;
    Query put(db_.get(),
              "INSERT INTO meta(key, value) VALUES ('format', ?1), "
              "('schema_version', ?2)",
              {kFormat, static_cast<int64_t>(kSchemaVersion)});
    if (absl::Status s = put.Run(); !s.ok()) return s;
    return tx.Commit();
  }

  const std::string not_ours = absl::StrCat(
      path_,
      " is a SQLite database but not a rustiq-authd user store; move "
      "it away (or point authd's state directory elsewhere)");
  if (std::find(tables.begin(), tables.end(), "meta") == tables.end()) {
    return absl::FailedPreconditionError(not_ours);
  }
  std::string format, version;
  {
    Query q(db_.get(), "SELECT key, value FROM meta", {});
    while (true) {
      absl::StatusOr<bool> row = q.Step();
      if (!row.ok()) return absl::FailedPreconditionError(not_ours);
      if (!*row) break;
      if (q.row().ColumnText(0) == "format") {
        format = std::string(q.row().ColumnText(1));
      } else if (q.row().ColumnText(0) == "schema_version") {
        version = std::string(q.row().ColumnText(1));
      }
    }
  }
  if (format != kFormat) return absl::FailedPreconditionError(not_ours);
  int schema_version = 0;
  if (!absl::SimpleAtoi(version, &schema_version) || schema_version < 1) {
    return absl::DataLossError(
        absl::StrCat(path_, " has no valid schema_version (", Shown(version),
                     "); restore it from a backup"));
  }
  if (schema_version > kSchemaVersion) {
    return absl::FailedPreconditionError(absl::StrCat(
        path_, " has schema version ", schema_version,
        ", newer than this rustiq-authd reads (", kSchemaVersion,
        "): it was written by a newer version; run that version, or restore "
        "a backup made by this one"));
  }
  for (const char* table : kTables) {
    if (std::find(tables.begin(), tables.end(), table) == tables.end()) {
      return absl::DataLossError(absl::StrCat(
          path_, " has no table '", table,
          "'; restore it from a backup, or move it away and provision the "
          "first admin again"));
    }
  }
  return absl::OkStatus();  // read only: the transaction rolls back
}

absl::Status UserStore::CheckExists(absl::string_view name) const {
  Query q(db_.get(), "SELECT 1 FROM users WHERE name = ?1", {name});
  absl::StatusOr<bool> row = q.Step();
  if (!row.ok()) return row.status();
  return *row ? absl::OkStatus() : NoSuchUser(name);
}

absl::StatusOr<bool> UserStore::HasRole(absl::string_view name,
                                        absl::string_view role) const {
  Query q(db_.get(), "SELECT 1 FROM user_roles WHERE name = ?1 AND role = ?2",
          {name, role});
  return q.Step();
}

absl::StatusOr<bool> UserStore::UserHasRole(absl::string_view name,
                                            absl::string_view role) const {
  if (absl::Status s = CheckExists(name); !s.ok()) return s;
  return HasRole(name, role);
}

absl::Status UserStore::CheckNotLastHolder(absl::string_view name,
                                           absl::string_view protected_role) {
  if (protected_role.empty()) return absl::OkStatus();
  absl::StatusOr<bool> holds = HasRole(name, protected_role);
  if (!holds.ok()) return holds.status();
  if (!*holds) return absl::OkStatus();
  Query q(db_.get(), "SELECT count(*) FROM user_roles WHERE role = ?1",
          {protected_role});
  absl::StatusOr<bool> row = q.Step();
  if (!row.ok()) return row.status();
  if (q.row().ColumnInt(0) > 1) return absl::OkStatus();
  // Without a holder of the role nobody could manage the device any more.
  const std::string role = Shown(protected_role);
  return absl::FailedPreconditionError(
      absl::StrCat(Shown(name), " is the last ", role, "; grant ", role,
                   " to another user first"));
}

absl::Status UserStore::Create(const UserRecord& user) {
  absl::MutexLock lock(&mu_);
  storage::Transaction tx(db_.get());
  if (!tx.begun().ok()) return tx.begun();
  absl::Status exists = CheckExists(user.name);
  if (exists.ok()) {
    return absl::AlreadyExistsError(
        absl::StrCat("user ", Shown(user.name), " already exists"));
  }
  if (exists.code() != absl::StatusCode::kNotFound) return exists;
  {
    Query q(
        db_.get(),
        "INSERT INTO users(name, password_hash, must_change, created, "
        "last_login, failed_logins, locked_until) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        {user.name, user.password_hash, static_cast<int64_t>(user.must_change),
         user.created, user.last_login,
         static_cast<int64_t>(user.failed_logins), user.locked_until});
    if (absl::Status s = q.Run(); !s.ok()) return s;
  }
  for (const std::string& role : user.roles) {
    Query q(db_.get(),
            "INSERT OR IGNORE INTO user_roles(name, role) VALUES (?1, ?2)",
            {user.name, role});
    if (absl::Status s = q.Run(); !s.ok()) return s;
  }
  return tx.Commit();
}

absl::StatusOr<UserRecord> UserStore::Get(absl::string_view name) const {
  absl::MutexLock lock(&mu_);
  // One statement: the user and its roles from one snapshot.
  Query q(db_.get(),
          absl::StrCat(kSelectUser, " WHERE u.name = ?1 ORDER BY r.role"),
          {name});
  std::vector<UserRecord> users;
  if (absl::Status s = ReadUsers(&q, &users); !s.ok()) return s;
  if (users.empty()) return NoSuchUser(name);
  return std::move(users.front());
}

absl::StatusOr<std::vector<UserRecord>> UserStore::List() const {
  absl::MutexLock lock(&mu_);
  Query q(db_.get(), absl::StrCat(kSelectUser, " ORDER BY u.name, r.role"), {});
  std::vector<UserRecord> users;
  if (absl::Status s = ReadUsers(&q, &users); !s.ok()) return s;
  return users;
}

absl::StatusOr<size_t> UserStore::Count() const {
  absl::MutexLock lock(&mu_);
  Query q(db_.get(), "SELECT count(*) FROM users", {});
  absl::StatusOr<bool> row = q.Step();
  if (!row.ok()) return row.status();
  return static_cast<size_t>(q.row().ColumnInt(0));
}

absl::StatusOr<std::vector<Revocation>> UserStore::Delete(
    absl::string_view name, absl::Time now, absl::string_view protected_role) {
  absl::MutexLock lock(&mu_);
  storage::Transaction tx(db_.get());
  if (!tx.begun().ok()) return tx.begun();
  if (absl::Status s = CheckExists(name); !s.ok()) return s;
  if (absl::Status s = CheckNotLastHolder(name, protected_role); !s.ok()) {
    return s;
  }
  absl::StatusOr<std::vector<Revocation>> revoked =
      RevokeAllOfLocked(name, now);
  if (!revoked.ok()) return revoked.status();
  {
    Query q(db_.get(), "DELETE FROM users WHERE name = ?1", {name});
    if (absl::Status s = q.Run(); !s.ok()) return s;
  }
  // The foreign key's cascade removes the roles; said again so that a
  // connection without foreign_keys could not leave them behind.
  {
    Query q(db_.get(), "DELETE FROM user_roles WHERE name = ?1", {name});
    if (absl::Status s = q.Run(); !s.ok()) return s;
  }
  if (absl::Status s = tx.Commit(); !s.ok()) return s;
  return revoked;
}

absl::Status UserStore::SetPassword(absl::string_view name,
                                    absl::string_view password_hash,
                                    bool must_change) {
  absl::MutexLock lock(&mu_);
  Query q(db_.get(),
          "UPDATE users SET password_hash = ?2, must_change = ?3 "
          "WHERE name = ?1",
          {name, password_hash, static_cast<int64_t>(must_change)});
  if (absl::Status s = q.Run(); !s.ok()) return s;
  return Changes(db_.get()) == 0 ? NoSuchUser(name) : absl::OkStatus();
}

absl::Status UserStore::RecordLogin(absl::string_view name, absl::Time now) {
  absl::MutexLock lock(&mu_);
  Query q(db_.get(),
          "UPDATE users SET last_login = ?2, failed_logins = 0, "
          "locked_until = NULL WHERE name = ?1",
          {name, now});
  if (absl::Status s = q.Run(); !s.ok()) return s;
  return Changes(db_.get()) == 0 ? NoSuchUser(name) : absl::OkStatus();
}

absl::Status UserStore::SetFailures(absl::string_view name, uint32_t failures,
                                    absl::Time locked_until) {
  absl::MutexLock lock(&mu_);
  Query q(db_.get(),
          "UPDATE users SET failed_logins = ?2, locked_until = ?3 "
          "WHERE name = ?1",
          {name, static_cast<int64_t>(failures), locked_until});
  if (absl::Status s = q.Run(); !s.ok()) return s;
  return Changes(db_.get()) == 0 ? NoSuchUser(name) : absl::OkStatus();
}

absl::Status UserStore::AddRole(absl::string_view name,
                                absl::string_view role) {
  absl::MutexLock lock(&mu_);
  storage::Transaction tx(db_.get());
  if (!tx.begun().ok()) return tx.begun();
  absl::StatusOr<bool> holds = UserHasRole(name, role);
  if (!holds.ok()) return holds.status();
  if (*holds) {
    return absl::AlreadyExistsError(
        absl::StrCat(Shown(name), " already has the role ", Shown(role)));
  }
  {
    Query q(db_.get(), "INSERT INTO user_roles(name, role) VALUES (?1, ?2)",
            {name, role});
    if (absl::Status s = q.Run(); !s.ok()) return s;
  }
  return tx.Commit();
}

absl::Status UserStore::RemoveRole(absl::string_view name,
                                   absl::string_view role,
                                   absl::string_view protected_role) {
  absl::MutexLock lock(&mu_);
  // The check and the removal in one write transaction: of two admins
  // removing each other's role at once, the second sees the first's
  // removal and is refused.
  storage::Transaction tx(db_.get());
  if (!tx.begun().ok()) return tx.begun();
  absl::StatusOr<bool> holds = UserHasRole(name, role);
  if (!holds.ok()) return holds.status();
  if (!*holds) {
    return absl::NotFoundError(
        absl::StrCat(Shown(name), " does not have the role ", Shown(role)));
  }
  if (role == protected_role) {
    if (absl::Status s = CheckNotLastHolder(name, protected_role); !s.ok()) {
      return s;
    }
  }
  {
    Query q(db_.get(), "DELETE FROM user_roles WHERE name = ?1 AND role = ?2",
            {name, role});
    if (absl::Status s = q.Run(); !s.ok()) return s;
  }
  return tx.Commit();
}

absl::Status UserStore::RecordIssued(absl::string_view token_id,
                                     absl::string_view user, absl::Time issued,
                                     absl::Time expires) {
  if (expires == absl::InfinitePast() || issued == absl::InfinitePast()) {
    return absl::InvalidArgumentError(
        "a token needs an issue time and an expiry");
  }
  absl::MutexLock lock(&mu_);
  storage::Transaction tx(db_.get());
  if (!tx.begun().ok()) return tx.begun();
  {
    Query q(db_.get(), "SELECT 1 FROM tokens WHERE token_id = ?1", {token_id});
    absl::StatusOr<bool> row = q.Step();
    if (!row.ok()) return row.status();
    // The ID is not a secret, but a collision means a broken generator:
    // said without repeating the ID.
    if (*row) {
      return absl::AlreadyExistsError(absl::StrCat(
          "a token with this ID was issued already (to ", Shown(user), "?)"));
    }
  }
  {
    Query q(db_.get(),
            "INSERT INTO tokens(token_id, user, issued, expires) "
            "VALUES (?1, ?2, ?3, ?4)",
            {token_id, user, issued, expires});
    if (absl::Status s = q.Run(); !s.ok()) return s;
  }
  return tx.Commit();
}

absl::StatusOr<std::optional<Revocation>> UserStore::Revoke(
    absl::string_view token_id, absl::Time now) {
  absl::MutexLock lock(&mu_);
  storage::Transaction tx(db_.get());
  if (!tx.begun().ok()) return tx.begun();
  Revocation revocation;
  {
    Query q(db_.get(),
            "SELECT expires, revoked FROM tokens WHERE token_id = ?1",
            {token_id});
    absl::StatusOr<bool> row = q.Step();
    if (!row.ok()) return row.status();
    if (!*row || q.row().ColumnInt(1) != 0) return std::nullopt;
    revocation.token_id = std::string(token_id);
    revocation.expires = ColumnTime(q.row(), 0);
  }
  {
    Query q(
        db_.get(),
        "UPDATE tokens SET revoked = 1, revoked_at = ?2 WHERE token_id = ?1",
        {token_id, now});
    if (absl::Status s = q.Run(); !s.ok()) return s;
  }
  if (absl::Status s = tx.Commit(); !s.ok()) return s;
  return revocation;
}

absl::StatusOr<std::vector<Revocation>> UserStore::RevokeAllOf(
    absl::string_view user, absl::Time now) {
  absl::MutexLock lock(&mu_);
  storage::Transaction tx(db_.get());
  if (!tx.begun().ok()) return tx.begun();
  absl::StatusOr<std::vector<Revocation>> revoked =
      RevokeAllOfLocked(user, now);
  if (!revoked.ok()) return revoked.status();
  if (absl::Status s = tx.Commit(); !s.ok()) return s;
  return revoked;
}

absl::StatusOr<std::vector<Revocation>> UserStore::RevokeAllOfLocked(
    absl::string_view user, absl::Time now) {
  absl::StatusOr<std::vector<Revocation>> revoked;
  {
    Query q(db_.get(),
            "SELECT token_id, expires FROM tokens WHERE user = ?1 "
            "AND revoked = 0 AND expires > ?2 ORDER BY token_id",
            {user, now});
    revoked = ReadRevocations(&q);
    if (!revoked.ok()) return revoked.status();
  }
  Query q(db_.get(),
          "UPDATE tokens SET revoked = 1, revoked_at = ?2 WHERE user = ?1 "
          "AND revoked = 0 AND expires > ?2",
          {user, now});
  if (absl::Status s = q.Run(); !s.ok()) return s;
  return revoked;
}

absl::StatusOr<std::vector<Revocation>> UserStore::ActiveRevocations(
    absl::Time now) const {
  absl::MutexLock lock(&mu_);
  Query q(db_.get(),
          "SELECT token_id, expires FROM tokens WHERE revoked = 1 "
          "AND expires > ?1 ORDER BY token_id",
          {now});
  return ReadRevocations(&q);
}

absl::StatusOr<bool> UserStore::IsRevoked(absl::string_view token_id) const {
  absl::MutexLock lock(&mu_);
  Query q(db_.get(), "SELECT revoked FROM tokens WHERE token_id = ?1",
          {token_id});
  absl::StatusOr<bool> row = q.Step();
  if (!row.ok()) return row.status();
  return *row && q.row().ColumnInt(0) != 0;
}

absl::StatusOr<size_t> UserStore::PruneExpired(absl::Time now) {
  absl::MutexLock lock(&mu_);
  Query q(db_.get(), "DELETE FROM tokens WHERE expires <= ?1", {now});
  if (absl::Status s = q.Run(); !s.ok()) return s;
  return static_cast<size_t>(Changes(db_.get()));
}

}  // namespace rustiq::authd
