// Unit tests of rustiq-authd's Accounts (accounts.h) driven directly, on a
// real SQLite account store in a temporary directory, real argon2id hashes
// and an injected clock: what the login path spends on a name that has no
// account, and who may hand out which role.
#include <time.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/authd/accounts.h"
#include "services/authd/login_throttle.h"
#include "services/authd/password_hasher.h"
#include "services/authd/roles.h"
#include "services/authd/user_store.h"
#include "tests/support/recording_sink.h"
#include "tests/support/temp_dir.h"

namespace rustiq::authd {
namespace {

constexpr char kPassword[] = "Quartz-Lantern-8451-Meadow";
constexpr char kSource[] = "client/rustiqctl";

// CPU time of the calling thread. argon2id with one lane runs on the
// caller's thread, so this counts its work and nothing another thread (the
// store's deferred writes) does meanwhile.
absl::Duration ThreadCpu() {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return absl::DurationFromTimespec(ts);
}

class AccountsTest : public ::testing::Test {
 protected:
  // The role catalogue the accounts use; the shipped one unless a test
  // fixture says otherwise.
  virtual const RoleCatalog* Catalog() { return &RoleCatalog::Compiled(); }

  void SetUp() override {
    absl::StatusOr<std::unique_ptr<UserStore>> store =
        UserStore::Open(dir_.path() + "/users.db");
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    // The smallest argon2id cost authd accepts, on one lane.
    absl::StatusOr<PasswordHasher> hasher =
        PasswordHasher::Create({/*memory_kib=*/8192, /*iterations=*/1,
                                /*parallelism=*/1});
    ASSERT_TRUE(hasher.ok()) << hasher.status();
    hasher_ = std::make_unique<PasswordHasher>(*std::move(hasher));
    throttle_ = std::make_unique<LoginThrottle>(ThrottleOptions{});
    AccountsOptions options;
    options.now = [this] { return now_; };
    accounts_ = std::make_unique<Accounts>(
        store_.get(), hasher_.get(), throttle_.get(), Catalog(),
        /*signer=*/nullptr, /*hub=*/nullptr, &sink_, options);
    ASSERT_TRUE(accounts_->CreateFirstAdmin("admin", kPassword).ok());
  }

  // The CPU one refused login costs this thread. The clock moves on an
  // hour first, so that the throttle never answers in argon2id's place.
  absl::Duration FailedLoginCpu(const std::string& user) {
    now_ += absl::Hours(1);
    const absl::Duration before = ThreadCpu();
    absl::StatusOr<LoginResult> r =
        accounts_->Login(user, "not-the-password-at-all", "", kSource);
    const absl::Duration spent = ThreadCpu() - before;
    EXPECT_TRUE(absl::IsUnauthenticated(r.status())) << r.status();
    return spent;
  }

  rustiq::testing::TempDir dir_{"rustiq-accounts"};
  absl::Time now_ = absl::FromUnixSeconds(1'800'000'000);
  rustiq::testing::RecordingSink sink_;
  std::unique_ptr<UserStore> store_;
  std::unique_ptr<PasswordHasher> hasher_;
  std::unique_ptr<LoginThrottle> throttle_;
  std::unique_ptr<Accounts> accounts_;
};

// A name without an account must not be told apart by the work it costs:
// authd runs the same argon2id verification (against a dummy hash) as for
// a wrong password. Measured as CPU time, not wall time, so that a loaded
// machine cannot hide a missing verification (one costs milliseconds; the
// rest of a refused login, microseconds).
TEST_F(AccountsTest, AnUnknownNameCostsTheSameArgon2WorkAsAWrongPassword) {
  std::vector<absl::Duration> wrong, unknown;
  for (int i = 0; i < 5; ++i) {
    wrong.push_back(FailedLoginCpu("admin"));
    unknown.push_back(FailedLoginCpu(absl::StrCat("nobody", i)));
  }
  std::sort(wrong.begin(), wrong.end());
  std::sort(unknown.begin(), unknown.end());
  const double ratio = absl::FDivDuration(unknown[2], wrong[2]);
  EXPECT_GT(ratio, 0.5) << "unknown name " << unknown[2]
                        << " against wrong password " << wrong[2];
  EXPECT_LT(ratio, 2.0) << "unknown name " << unknown[2]
                        << " against wrong password " << wrong[2];
  // Both kinds are on record alike.
  EXPECT_EQ(sink_.WithAction("login.failed").size(), 10u);
}

// A device maker's catalogue (roles.toml is theirs to extend) with a role
// that manages accounts but does not hold every permission: in the shipped
// one only admin manages roles, and admin holds them all.
constexpr char kCatalogWithAccountsRole[] = R"(
[permissions]
auth.self = "own session"
keys.zeroize = "destroy every key"
roles.manage = "grant and revoke roles"
users.manage = "create and delete accounts"

[[role]]
name = "admin"
description = "everything"
permissions = ["auth.self", "keys.zeroize", "roles.manage", "users.manage"]

[[role]]
name = "accounts"
description = "manages accounts"
permissions = ["auth.self", "roles.manage", "users.manage"]
)";

class AccountsRoleTest : public AccountsTest {
 protected:
  const RoleCatalog* Catalog() override {
    absl::StatusOr<RoleCatalog> parsed =
        RoleCatalog::Parse(kCatalogWithAccountsRole, "test-roles.toml");
    EXPECT_TRUE(parsed.ok()) << parsed.status();
    catalog_ = std::make_unique<RoleCatalog>(*std::move(parsed));
    return catalog_.get();
  }

  // A person holding the accounts role (as the enforcement point would
  // pass on their verified token).
  static rpc::TokenClaims AccountsManager() {
    rpc::TokenClaims person;
    person.subject = "ursula";
    person.token_id = std::string(32, 'a');
    person.roles = {"accounts"};
    person.permissions = {"auth.self", "roles.manage", "users.manage"};
    return person;
  }

  std::unique_ptr<RoleCatalog> catalog_;
};

// Nobody hands out a permission they do not hold: not by creating an
// account with the role, not by granting it, not by revoking it.
TEST_F(AccountsRoleTest, NobodyHandsOutARoleWithPermissionsTheyLack) {
  const rpc::TokenClaims person = AccountsManager();
  absl::StatusOr<CreatedUser> created =
      accounts_->CreateUser(person, "mallory", {"admin"}, "");
  ASSERT_TRUE(absl::IsPermissionDenied(created.status())) << created.status();
  EXPECT_THAT(std::string(created.status().message()),
              ::testing::HasSubstr("keys.zeroize"));
  EXPECT_TRUE(absl::IsNotFound(store_->Get("mallory").status()));

  // A role within the person's own permissions may be handed out ...
  created = accounts_->CreateUser(person, "carol", {"accounts"}, "");
  ASSERT_TRUE(created.ok()) << created.status();
  // ... but not raised to one beyond them, nor taken from an admin.
  absl::StatusOr<UserRecord> granted =
      accounts_->GrantRole(person, "carol", "admin");
  ASSERT_TRUE(absl::IsPermissionDenied(granted.status())) << granted.status();
  EXPECT_THAT(std::string(granted.status().message()),
              ::testing::HasSubstr("keys.zeroize"));
  absl::StatusOr<UserRecord> carol = store_->Get("carol");
  ASSERT_TRUE(carol.ok()) << carol.status();
  EXPECT_THAT(carol->roles, ::testing::ElementsAre("accounts"));
  absl::StatusOr<UserRecord> revoked =
      accounts_->RevokeRole(person, "admin", "admin");
  ASSERT_TRUE(absl::IsPermissionDenied(revoked.status())) << revoked.status();
  absl::StatusOr<UserRecord> admin = store_->Get("admin");
  ASSERT_TRUE(admin.ok()) << admin.status();
  EXPECT_THAT(admin->roles, ::testing::ElementsAre("admin"));
  // Each refusal is on record.
  EXPECT_EQ(sink_.WithAction("user.create.denied").size(), 1u);
  EXPECT_EQ(sink_.WithAction("role.grant.denied").size(), 1u);
  EXPECT_EQ(sink_.WithAction("role.revoke.denied").size(), 1u);
}

}  // namespace
}  // namespace rustiq::authd
