// Unit tests of rustiq-authd's account store (user_store.h) on real SQLite
// files in a temporary directory: accounts, roles, the last admin, tokens
// and revocations, hostile values, and damaged or foreign files refused.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <latch>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/storage/sqlite.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/authd/user_store.h"
#include "tests/support/temp_dir.h"

namespace rustiq::authd {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

const absl::Time kT0 = absl::FromUnixSeconds(1700000000);

UserRecord MakeUser(const std::string& name,
                    std::vector<std::string> roles = {}) {
  UserRecord u;
  u.name = name;
  u.password_hash = "$argon2id$v=19$m=65536,t=3,p=1$c2FsdA$aGFzaA";
  u.roles = std::move(roles);
  u.must_change = true;
  u.created = kT0;
  return u;
}

void ExpectSameUser(const UserRecord& got, const UserRecord& want) {
  EXPECT_EQ(got.name, want.name);
  EXPECT_EQ(got.password_hash, want.password_hash);
  EXPECT_EQ(got.roles, want.roles);
  EXPECT_EQ(got.must_change, want.must_change);
  EXPECT_EQ(got.created, want.created);
  EXPECT_EQ(got.last_login, want.last_login);
  EXPECT_EQ(got.failed_logins, want.failed_logins);
  EXPECT_EQ(got.locked_until, want.locked_until);
}

std::vector<std::string> TokenIds(const std::vector<Revocation>& revs) {
  std::vector<std::string> ids;
  for (const Revocation& r : revs) ids.push_back(r.token_id);
  return ids;
}

class AuthdStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }
  void Reopen() {
    store_.reset();
    absl::StatusOr<std::unique_ptr<UserStore>> store = UserStore::Open(path_);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
  }

  rustiq::testing::TempDir dir_{"authd-store"};
  const std::string path_ = dir_ / "users.db";
  std::unique_ptr<UserStore> store_;
};

TEST_F(AuthdStoreTest, CreatesThePrivateFile) {
  struct stat st;
  ASSERT_EQ(stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(AuthdStoreTest, CreateGetListDeleteRoundTrip) {
  UserRecord alice = MakeUser("alice", {"admin", "operator"});
  alice.last_login = kT0 + absl::Seconds(5);
  alice.failed_logins = 2;
  alice.locked_until = kT0 + absl::Minutes(15);
  UserRecord bob = MakeUser("bob", {"viewer"});
  bob.must_change = false;
  ASSERT_TRUE(store_->Create(bob).ok());
  ASSERT_TRUE(store_->Create(alice).ok());

  absl::StatusOr<UserRecord> got = store_->Get("alice");
  ASSERT_TRUE(got.ok()) << got.status();
  ExpectSameUser(*got, alice);

  absl::StatusOr<std::vector<UserRecord>> all = store_->List();
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->size(), 2u);
  ExpectSameUser((*all)[0], alice);
  ExpectSameUser((*all)[1], bob);
  EXPECT_EQ(*store_->Count(), 2u);

  absl::StatusOr<std::vector<Revocation>> deleted = store_->Delete("bob", kT0);
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_THAT(*deleted, IsEmpty());
  EXPECT_EQ(store_->Get("bob").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(*store_->Count(), 1u);
  // The roles went with the account.
  ASSERT_TRUE(store_->Create(MakeUser("bob")).ok());
  EXPECT_THAT(store_->Get("bob")->roles, IsEmpty());
}

TEST_F(AuthdStoreTest, RolesAreSortedAndMerged) {
  ASSERT_TRUE(
      store_->Create(MakeUser("alice", {"viewer", "admin", "viewer"})).ok());
  EXPECT_THAT(store_->Get("alice")->roles, ElementsAre("admin", "viewer"));
}

TEST_F(AuthdStoreTest, DuplicateIsAlreadyExists) {
  ASSERT_TRUE(store_->Create(MakeUser("alice")).ok());
  UserRecord again = MakeUser("alice");
  again.password_hash = "$argon2id$secret-hash";
  absl::Status s = store_->Create(again);
  EXPECT_EQ(s.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(s.message(), "user alice already exists");
  // The first account is untouched.
  EXPECT_EQ(store_->Get("alice")->password_hash, MakeUser("a").password_hash);
}

TEST_F(AuthdStoreTest, UnknownUserIsNotFound) {
  absl::Status s = store_->Get("nobody").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "no user nobody");
  EXPECT_EQ(store_->SetPassword("nobody", "h", false).code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->RecordLogin("nobody", kT0).code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->SetFailures("nobody", 1, absl::InfinitePast()).code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->AddRole("nobody", "viewer").code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->RemoveRole("nobody", "viewer").code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->Delete("nobody", kT0).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(AuthdStoreTest, PasswordLoginAndFailures) {
  ASSERT_TRUE(store_->Create(MakeUser("alice")).ok());
  ASSERT_TRUE(store_->SetPassword("alice", "$argon2id$new", false).ok());
  ASSERT_TRUE(store_->SetFailures("alice", 5, kT0 + absl::Minutes(15)).ok());
  UserRecord got = *store_->Get("alice");
  EXPECT_EQ(got.password_hash, "$argon2id$new");
  EXPECT_FALSE(got.must_change);
  EXPECT_EQ(got.failed_logins, 5u);
  EXPECT_EQ(got.locked_until, kT0 + absl::Minutes(15));

  ASSERT_TRUE(store_->RecordLogin("alice", kT0 + absl::Hours(1)).ok());
  got = *store_->Get("alice");
  EXPECT_EQ(got.last_login, kT0 + absl::Hours(1));
  EXPECT_EQ(got.failed_logins, 0u);
  EXPECT_EQ(got.locked_until, absl::InfinitePast());
}

TEST_F(AuthdStoreTest, AddAndRemoveRoles) {
  ASSERT_TRUE(store_->Create(MakeUser("alice", {"admin"})).ok());
  ASSERT_TRUE(store_->Create(MakeUser("bob")).ok());
  ASSERT_TRUE(store_->AddRole("bob", "viewer").ok());
  ASSERT_TRUE(store_->AddRole("bob", "operator").ok());
  EXPECT_EQ(store_->AddRole("bob", "viewer").code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(store_->Get("bob")->roles, ElementsAre("operator", "viewer"));
  ASSERT_TRUE(store_->RemoveRole("bob", "viewer").ok());
  absl::Status s = store_->RemoveRole("bob", "viewer");
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "bob does not have the role viewer");
  EXPECT_THAT(store_->Get("bob")->roles, ElementsAre("operator"));
}

TEST_F(AuthdStoreTest, TheLastAdminStays) {
  ASSERT_TRUE(store_->Create(MakeUser("alice", {"admin", "viewer"})).ok());
  ASSERT_TRUE(store_->Create(MakeUser("bob", {"viewer"})).ok());
  const std::string refusal =
      "alice is the last admin; grant admin to another user first";
  absl::Status s = store_->Delete("alice", kT0).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(), refusal);
  s = store_->RemoveRole("alice", "admin");
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(), refusal);
  EXPECT_THAT(store_->Get("alice")->roles, ElementsAre("admin", "viewer"));
  // Other roles of the last admin, and the other users, are free to go.
  ASSERT_TRUE(store_->RemoveRole("alice", "viewer").ok());
  ASSERT_TRUE(store_->Delete("bob", kT0).ok());

  ASSERT_TRUE(store_->Create(MakeUser("carol")).ok());
  ASSERT_TRUE(store_->AddRole("carol", "admin").ok());
  ASSERT_TRUE(store_->RemoveRole("alice", "admin").ok());
  EXPECT_EQ(store_->Delete("carol", kT0).status().code(),
            absl::StatusCode::kFailedPrecondition);
  // Another protected role is named as such.
  ASSERT_TRUE(store_->AddRole("carol", "owner").ok());
  EXPECT_EQ(store_->RemoveRole("carol", "owner", "owner").message(),
            "carol is the last owner; grant owner to another user first");
}

// Two admins remove each other at the same moment, through one store and
// through two connections to the same file: exactly one succeeds, every
// round, and one admin is always left.
TEST_F(AuthdStoreTest, ConcurrentRemovalOfTheTwoLastAdminsLetsOnePass) {
  absl::StatusOr<std::unique_ptr<UserStore>> second = UserStore::Open(path_);
  ASSERT_TRUE(second.ok()) << second.status();
  for (int round = 0; round < 20; ++round) {
    const std::string a = absl::StrCat("a", round);
    const std::string b = absl::StrCat("b", round);
    ASSERT_TRUE(store_->Create(MakeUser(a, {"admin"})).ok());
    ASSERT_TRUE(store_->Create(MakeUser(b, {"admin"})).ok());
    // Earlier rounds' survivor: removed so that a and b are the only two.
    if (round > 0) {
      for (const std::string& old :
           {absl::StrCat("a", round - 1), absl::StrCat("b", round - 1)}) {
        store_->Delete(old, kT0).IgnoreError();
      }
    }
    UserStore* first_store = store_.get();
    UserStore* second_store = round % 2 == 0 ? store_.get() : second->get();
    const bool by_delete = round % 4 >= 2;
    std::latch start(2);
    absl::Status sa, sb;
    auto remove = [&](UserStore* s, const std::string& name) {
      start.arrive_and_wait();
      return by_delete ? s->Delete(name, kT0).status()
                       : s->RemoveRole(name, "admin");
    };
    std::thread ta([&] { sa = remove(first_store, a); });
    std::thread tb([&] { sb = remove(second_store, b); });
    ta.join();
    tb.join();
    EXPECT_NE(sa.ok(), sb.ok())
        << "round " << round << ": " << sa << " / " << sb;
    const absl::Status& refused = sa.ok() ? sb : sa;
    EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition) << refused;
    int admins = 0;
    absl::StatusOr<std::vector<UserRecord>> users = store_->List();
    ASSERT_TRUE(users.ok()) << users.status();
    for (const UserRecord& u : *users) {
      for (const std::string& r : u.roles) admins += r == "admin";
    }
    EXPECT_EQ(admins, 1) << "round " << round;
  }
}

TEST_F(AuthdStoreTest, TokensAreRevokedListedAndPruned) {
  ASSERT_TRUE(store_->Create(MakeUser("alice", {"admin"})).ok());
  const absl::Time exp1 = kT0 + absl::Minutes(10);
  const absl::Time exp2 = kT0 + absl::Minutes(20);
  ASSERT_TRUE(store_->RecordIssued("t1", "alice", kT0, exp1).ok());
  ASSERT_TRUE(store_->RecordIssued("t2", "alice", kT0, exp2).ok());
  ASSERT_TRUE(store_->RecordIssued("t3", "bob", kT0, exp2).ok());
  ASSERT_TRUE(store_
                  ->RecordIssued("old", "alice", kT0 - absl::Hours(2),
                                 kT0 - absl::Hours(1))
                  .ok());
  EXPECT_EQ(store_->RecordIssued("t1", "alice", kT0, exp1).code(),
            absl::StatusCode::kAlreadyExists);

  absl::StatusOr<std::optional<Revocation>> r = store_->Revoke("t1", kT0);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ((*r)->token_id, "t1");
  EXPECT_EQ((*r)->expires, exp1);
  EXPECT_EQ(*store_->Revoke("t1", kT0), std::nullopt);       // already
  EXPECT_EQ(*store_->Revoke("unknown", kT0), std::nullopt);  // never issued
  EXPECT_TRUE(*store_->IsRevoked("t1"));
  EXPECT_FALSE(*store_->IsRevoked("t2"));
  EXPECT_FALSE(*store_->IsRevoked("unknown"));

  // Every unexpired, unrevoked token of alice: t2 (t1 is revoked already,
  // "old" has expired, t3 is bob's).
  absl::StatusOr<std::vector<Revocation>> all =
      store_->RevokeAllOf("alice", kT0);
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_THAT(TokenIds(*all), ElementsAre("t2"));
  EXPECT_EQ((*all)[0].expires, exp2);
  EXPECT_THAT(TokenIds(*store_->RevokeAllOf("alice", kT0)), IsEmpty());

  EXPECT_THAT(TokenIds(*store_->ActiveRevocations(kT0)),
              ElementsAre("t1", "t2"));
  EXPECT_THAT(TokenIds(*store_->ActiveRevocations(exp1)), ElementsAre("t2"));

  absl::StatusOr<size_t> pruned = store_->PruneExpired(exp1);
  ASSERT_TRUE(pruned.ok()) << pruned.status();
  EXPECT_EQ(*pruned, 2u);  // "old" and t1
  EXPECT_FALSE(*store_->IsRevoked("t1"));
  EXPECT_TRUE(*store_->IsRevoked("t2"));
  EXPECT_FALSE(*store_->IsRevoked("t3"));
}

TEST_F(AuthdStoreTest, DeleteRevokesTheUsersTokens) {
  ASSERT_TRUE(store_->Create(MakeUser("alice", {"admin"})).ok());
  ASSERT_TRUE(store_->Create(MakeUser("bob", {"viewer"})).ok());
  const absl::Time exp = kT0 + absl::Minutes(10);
  ASSERT_TRUE(store_->RecordIssued("b1", "bob", kT0, exp).ok());
  ASSERT_TRUE(store_->RecordIssued("b2", "bob", kT0, exp).ok());
  ASSERT_TRUE(store_->RecordIssued("a1", "alice", kT0, exp).ok());
  absl::StatusOr<std::vector<Revocation>> revoked = store_->Delete("bob", kT0);
  ASSERT_TRUE(revoked.ok()) << revoked.status();
  EXPECT_THAT(TokenIds(*revoked), ElementsAre("b1", "b2"));
  // Still refused after the account is gone, until they expire.
  EXPECT_THAT(TokenIds(*store_->ActiveRevocations(kT0)),
              ElementsAre("b1", "b2"));
  EXPECT_FALSE(*store_->IsRevoked("a1"));
}

// Values an attacker might choose come back byte for byte and leave the
// tables as they were.
TEST_F(AuthdStoreTest, HostileValuesAreStoredExactly) {
  const std::string with_nul("a\0b", 3);
  const std::vector<std::string> names = {
      "a'; DROP TABLE users;--",
      "quote\"s' and `ticks` \\ back",
      std::string(10 * 1024, 'x'),
      with_nul,
      "a",  // must not collide with "a\0b"
      "",
      "\xff\xfe not utf-8",
  };
  for (const std::string& name : names) {
    UserRecord u = MakeUser(
        name, {"role'); DELETE FROM user_roles;--", std::string("r\0le", 4)});
    u.password_hash = name + std::string("\0hash\0", 6) + name;
    ASSERT_TRUE(store_->Create(u).ok()) << store_->Create(u);
    ASSERT_TRUE(
        store_->RecordIssued(name + "-token", name, kT0, kT0 + absl::Minutes(5))
            .ok());
  }
  EXPECT_EQ(*store_->Count(), names.size());
  for (const std::string& name : names) {
    absl::StatusOr<UserRecord> got = store_->Get(name);
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(got->name, name);
    EXPECT_EQ(got->password_hash, name + std::string("\0hash\0", 6) + name);
    EXPECT_THAT(got->roles, ElementsAre(std::string("r\0le", 4),
                                        "role'); DELETE FROM user_roles;--"));
  }
  EXPECT_EQ(store_->Get(std::string("a\0", 2)).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_THAT(TokenIds(*store_->RevokeAllOf(with_nul, kT0)),
              ElementsAre(with_nul + "-token"));
  // The error for a hostile name is escaped and short.
  absl::Status dup = store_->Create(MakeUser(names[2]));
  EXPECT_EQ(dup.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_LT(dup.message().size(), 200u);
  EXPECT_THAT(
      std::string(store_->Get(std::string("\n\0x", 3)).status().message()),
      Not(HasSubstr("\n")));

  Reopen();  // the tables are intact, on disk
  absl::StatusOr<std::vector<UserRecord>> all = store_->List();
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(all->size(), names.size());
  ASSERT_TRUE(store_->Delete(names[0], kT0).ok());
  EXPECT_EQ(*store_->Count(), names.size() - 1);
}

TEST_F(AuthdStoreTest, ReopenKeepsEverything) {
  UserRecord alice = MakeUser("alice", {"admin"});
  ASSERT_TRUE(store_->Create(alice).ok());
  ASSERT_TRUE(store_->SetFailures("alice", 5, kT0 + absl::Minutes(15)).ok());
  ASSERT_TRUE(
      store_->RecordIssued("t1", "alice", kT0, kT0 + absl::Hours(1)).ok());
  ASSERT_TRUE(
      store_->RecordIssued("t2", "alice", kT0, kT0 + absl::Hours(1)).ok());
  ASSERT_TRUE(store_->Revoke("t1", kT0).ok());
  Reopen();
  alice.failed_logins = 5;
  alice.locked_until = kT0 + absl::Minutes(15);
  ExpectSameUser(*store_->Get("alice"), alice);
  EXPECT_THAT(TokenIds(*store_->ActiveRevocations(kT0)), ElementsAre("t1"));
  EXPECT_FALSE(*store_->IsRevoked("t2"));
}

TEST_F(AuthdStoreTest, ReopenTightensAWiderMode) {
  store_.reset();
  ASSERT_EQ(chmod(path_.c_str(), 0644), 0);
  Reopen();
  struct stat st;
  ASSERT_EQ(stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

// Damaged and foreign files: each refused at Open with an error naming it.
class AuthdStoreDamageTest : public ::testing::Test {
 protected:
  // A closed store with enough rows to span many pages.
  void WriteStore() {
    absl::StatusOr<std::unique_ptr<UserStore>> store = UserStore::Open(path_);
    ASSERT_TRUE(store.ok()) << store.status();
    for (int i = 0; i < 40; ++i) {
      UserRecord u = MakeUser(absl::StrCat("user", i), {"viewer"});
      u.password_hash = std::string(4000, static_cast<char>('a' + i % 26));
      ASSERT_TRUE((*store)->Create(u).ok());
    }
  }
  void ExpectRefused(absl::StatusCode code) {
    absl::StatusOr<std::unique_ptr<UserStore>> store = UserStore::Open(path_);
    ASSERT_FALSE(store.ok());
    EXPECT_EQ(store.status().code(), code) << store.status();
    EXPECT_THAT(std::string(store.status().message()), HasSubstr(path_));
  }

  rustiq::testing::TempDir dir_{"authd-store"};
  const std::string path_ = dir_ / "users.db";
};

TEST_F(AuthdStoreDamageTest, TruncatedFileIsRefused) {
  WriteStore();
  ASSERT_FALSE(std::filesystem::exists(path_ + "-wal"));
  const auto size = std::filesystem::file_size(path_);
  ASSERT_GT(size, 64u * 1024);
  std::filesystem::resize_file(path_, size / 2);
  ExpectRefused(absl::StatusCode::kDataLoss);
}

TEST_F(AuthdStoreDamageTest, BitFlippedHeaderIsRefused) {
  WriteStore();
  std::string bytes = rustiq::testing::ReadAll(path_);
  bytes[3] ^= 0x04;  // "SQLite format 3" no more
  std::ofstream(path_, std::ios::binary | std::ios::trunc) << bytes;
  ExpectRefused(absl::StatusCode::kDataLoss);
}

TEST_F(AuthdStoreDamageTest, RandomFileIsRefused) {
  std::mt19937 rng(42);
  std::string bytes(8192, '\0');
  for (char& c : bytes) c = static_cast<char>(rng());
  std::ofstream(path_, std::ios::binary) << bytes;
  ExpectRefused(absl::StatusCode::kDataLoss);
}

TEST_F(AuthdStoreDamageTest, AnotherProgramsDatabaseIsRefused) {
  {
    auto db = storage::Database::Open(path_, {});
    ASSERT_TRUE(db.ok()) << db.status();
    ASSERT_TRUE((*db)->Exec("CREATE TABLE users(id INTEGER, login TEXT)").ok());
  }
  ExpectRefused(absl::StatusCode::kFailedPrecondition);
}

TEST_F(AuthdStoreDamageTest, SchemaFromTheFutureIsRefused) {
  WriteStore();
  {
    auto db = storage::Database::Open(path_, {});
    ASSERT_TRUE(db.ok()) << db.status();
    ASSERT_TRUE((*db)
                    ->Exec("UPDATE meta SET value = '2' "
                           "WHERE key = 'schema_version'")
                    .ok());
  }
  absl::StatusOr<std::unique_ptr<UserStore>> store = UserStore::Open(path_);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(store.status().message()),
              HasSubstr(absl::StrCat(path_, " has schema version 2")));
}

}  // namespace
}  // namespace rustiq::authd
