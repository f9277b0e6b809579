// A thin RAII layer over SQLite 3 for the daemons' state: a connection, a
// prepared statement, a transaction. Errors become absl::Status with the
// database's path and SQLite's own message, DATA_LOSS for a corrupt file.
// A connection is used by one thread at a time (callers lock or own it).
#ifndef RUSTIQ_COMMON_STORAGE_SQLITE_H_
#define RUSTIQ_COMMON_STORAGE_SQLITE_H_

#include <sqlite3.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace rustiq::storage {

class Statement;

class Database {
 public:
  struct Options {
    bool read_only = false;
    bool create = true;  // create the file if missing (mode 0600)
    int busy_timeout_ms = 5000;
  };
  // Opens `path`, in WAL mode with synchronous=FULL (a commit is on disk
  // when it returns), SQLite's defensive mode on and untrusted schemas off.
  static absl::StatusOr<std::unique_ptr<Database>> Open(const std::string& path,
                                                        const Options& options);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Runs SQL without results (several statements allowed).
  absl::Status Exec(absl::string_view sql);
  absl::StatusOr<std::unique_ptr<Statement>> Prepare(absl::string_view sql);
  // A statement prepared once per connection and kept (for the statements
  // a hot path runs again and again). Reset and ready for bindings; owned
  // by the connection.
  absl::StatusOr<Statement*> Cached(absl::string_view sql);

  const std::string& path() const { return path_; }
  sqlite3* handle() { return db_; }
  // A status for SQLite result code `rc` of `what`.
  absl::Status Error(int rc, absl::string_view what) const;

 private:
  Database(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  sqlite3* db_;
  std::string path_;
  std::map<std::string, std::unique_ptr<Statement>, std::less<>> cached_;
};

class Statement {
 public:
  Statement(Database* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Parameters are numbered from 1.
  absl::Status BindInt(int index, int64_t value);
  absl::Status BindText(int index, absl::string_view value);
  absl::Status BindBlob(int index, absl::string_view value);
  // A row is ready (true), or the statement is done (false).
  absl::StatusOr<bool> Step();
  // Step() expecting no row.
  absl::Status Run();
  // Ready for new bindings.
  void Reset();

  int64_t ColumnInt(int column) const;
  // Views valid until the next Step() or Reset().
  absl::string_view ColumnText(int column) const;
  absl::string_view ColumnBlob(int column) const;
  bool ColumnIsNull(int column) const;

 private:
  Database* db_;
  sqlite3_stmt* stmt_;
};

// BEGIN IMMEDIATE on construction (the write lock at once); ROLLBACK on
// destruction unless Commit() succeeded. The statements are cached on the
// connection.
class Transaction {
 public:
  explicit Transaction(Database* db);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  const absl::Status& begun() const { return begun_; }
  absl::Status Commit();

 private:
  Database* db_;
  absl::Status begun_;
  bool done_ = false;
};

}  // namespace rustiq::storage

#endif  // RUSTIQ_COMMON_STORAGE_SQLITE_H_
