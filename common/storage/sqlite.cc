#include "common/storage/sqlite.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "absl/strings/str_cat.h"

namespace rustiq::storage {
namespace {

absl::StatusCode CodeFor(int rc) {
  switch (rc & 0xff) {
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_FORMAT:
      return absl::StatusCode::kDataLoss;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return absl::StatusCode::kUnavailable;
    case SQLITE_FULL:
    case SQLITE_NOMEM:
      return absl::StatusCode::kResourceExhausted;
    case SQLITE_PERM:
    case SQLITE_READONLY:
    case SQLITE_AUTH:
    case SQLITE_CANTOPEN:
      return absl::StatusCode::kFailedPrecondition;
    case SQLITE_CONSTRAINT:
      return absl::StatusCode::kAlreadyExists;
    default:
      return absl::StatusCode::kInternal;
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<Database>> Database::Open(
    const std::string& path, const Options& options) {
  if (options.create && !options.read_only) {
    // Created here, not by SQLite, so that the mode is 0600 from the start.
    int fd =
        open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
      return absl::ErrnoToStatus(errno, absl::StrCat("cannot create ", path));
    }
    close(fd);
  }
  int flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW;
  flags |= options.read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  std::unique_ptr<Database> db(new Database(raw, path));
  if (rc != SQLITE_OK) {
    return db->Error(rc, "cannot open the database");
  }
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, options.busy_timeout_ms);
  sqlite3_db_config(raw, SQLITE_DBCONFIG_DEFENSIVE, 1, nullptr);
  sqlite3_db_config(raw, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, nullptr);
  sqlite3_db_config(raw, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, nullptr);
  if (!options.read_only) {
    // WAL: readers never block the writer. FULL: the WAL is synced at every
    // commit, so a committed transaction survives a crash or power loss.
    if (absl::Status s = db->Exec("PRAGMA journal_mode=WAL"); !s.ok()) {
      return s;
    }
  }
  if (absl::Status s = db->Exec("PRAGMA synchronous=FULL"); !s.ok()) return s;
  return db;
}

Database::~Database() {
  cached_.clear();  // finalized before the connection closes
  sqlite3_close_v2(db_);
}

absl::StatusOr<Statement*> Database::Cached(absl::string_view sql) {
  auto it = cached_.find(sql);
  if (it == cached_.end()) {
    absl::StatusOr<std::unique_ptr<Statement>> st = Prepare(sql);
    if (!st.ok()) return st.status();
    it = cached_.emplace(std::string(sql), *std::move(st)).first;
  }
  it->second->Reset();
  return it->second.get();
}

absl::Status Database::Error(int rc, absl::string_view what) const {
  const char* detail =
      db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
  return absl::Status(CodeFor(rc),
                      absl::StrCat(path_, ": ", what, ": ", detail));
}

absl::Status Database::Exec(absl::string_view sql) {
  std::string text(sql);
  char* message = nullptr;
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &message);
  if (rc == SQLITE_OK) return absl::OkStatus();
  std::string detail = message != nullptr ? message : sqlite3_errstr(rc);
  sqlite3_free(message);
  return absl::Status(CodeFor(rc), absl::StrCat(path_, ": ", detail));
}

absl::StatusOr<std::unique_ptr<Statement>> Database::Prepare(
    absl::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) return Error(rc, "cannot prepare a statement");
  return std::make_unique<Statement>(this, stmt);
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

absl::Status Statement::BindInt(int index, int64_t value) {
  int rc = sqlite3_bind_int64(stmt_, index, value);
  return rc == SQLITE_OK ? absl::OkStatus() : db_->Error(rc, "bind");
}

absl::Status Statement::BindText(int index, absl::string_view value) {
  int rc = sqlite3_bind_text64(stmt_, index, value.data(), value.size(),
                               SQLITE_TRANSIENT, SQLITE_UTF8);
  return rc == SQLITE_OK ? absl::OkStatus() : db_->Error(rc, "bind");
}

absl::Status Statement::BindBlob(int index, absl::string_view value) {
  int rc = sqlite3_bind_blob64(stmt_, index, value.data(), value.size(),
                               SQLITE_TRANSIENT);
  return rc == SQLITE_OK ? absl::OkStatus() : db_->Error(rc, "bind");
}

absl::StatusOr<bool> Statement::Step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  absl::Status s = db_->Error(rc, "statement failed");
  sqlite3_reset(stmt_);
  return s;
}

absl::Status Statement::Run() {
  absl::StatusOr<bool> row = Step();
  if (!row.ok()) return row.status();
  Reset();
  return absl::OkStatus();
}

void Statement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

int64_t Statement::ColumnInt(int column) const {
  return sqlite3_column_int64(stmt_, column);
}

absl::string_view Statement::ColumnText(int column) const {
  const auto* p = sqlite3_column_text(stmt_, column);
  int n = sqlite3_column_bytes(stmt_, column);
  if (p == nullptr) return {};
  return absl::string_view(reinterpret_cast<const char*>(p),
                           static_cast<size_t>(n));
}

absl::string_view Statement::ColumnBlob(int column) const {
  const void* p = sqlite3_column_blob(stmt_, column);
  int n = sqlite3_column_bytes(stmt_, column);
  if (p == nullptr) return {};
  return absl::string_view(static_cast<const char*>(p), static_cast<size_t>(n));
}

bool Statement::ColumnIsNull(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

namespace {

absl::Status RunCached(Database* db, absl::string_view sql) {
  absl::StatusOr<Statement*> st = db->Cached(sql);
  if (!st.ok()) return st.status();
  return (*st)->Run();
}

}  // namespace

Transaction::Transaction(Database* db) : db_(db) {
  begun_ = RunCached(db_, "BEGIN IMMEDIATE");
}

Transaction::~Transaction() {
  if (begun_.ok() && !done_) RunCached(db_, "ROLLBACK").IgnoreError();
}

absl::Status Transaction::Commit() {
  if (!begun_.ok()) return begun_;
  absl::Status s = RunCached(db_, "COMMIT");
  if (s.ok()) done_ = true;
  return s;
}

}  // namespace rustiq::storage
