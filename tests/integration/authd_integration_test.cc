// rustiq-authd as a real, confined process beside real rustiq-keyd and
// rustiq-eventd on a provisioned test device: the first login forced to
// change the provisioned credential, wrong and unknown users answered alike,
// exponential delay and lockout, tokens verified by authd, keyd and eventd
// (forged, altered, truncated, expired, foreign-key and revoked ones
// refused), RBAC (no granting what one does not hold, the last admin kept),
// hostile inputs, every decision on record in the event log, and no secret
// in any daemon's log.
#include <openssl/evp.h>
#include <sys/types.h>

#include <algorithm>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/auth/token_claims.h"
#include "common/auth/token_issuer.h"
#include "common/rpc/client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rustiq/v1/auth.grpc.pb.h"
#include "rustiq/v1/events.grpc.pb.h"
#include "rustiq/v1/keys.grpc.pb.h"
#include "services/authd/authd_setup.h"
#include "services/keyd/key_manager.h"
#include "tests/support/test_device.h"

namespace rustiq::testing {
namespace {

using ::testing::HasSubstr;

constexpr char kInitial[] = "Provisioned-cred-7Kq2-xw9T";
constexpr char kAdminPassword[] = "Quartz-Lantern-8451-Meadow";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class AuthdTest : public ::testing::Test {
 protected:
  AuthdTest()
      : device_([](config::StackConfig& c) {
          // Cheap hashes and short waits: the same code paths, quickly.
          c.authd.argon2_memory_kib = 8192;
          c.authd.argon2_iterations = 1;
          // An immediate retry must come within the first delay even on a
          // loaded machine.
          c.authd.login_delay_ms = 400;
          c.authd.login_max_delay_ms = 1600;
          c.authd.lockout_failures = 4;
          c.authd.lockout_seconds = 4;
          c.authd.source_free_failures = 1000;
        }) {}

  void SetUp() override {
    absl::StatusOr<authd::FirstAdmin> admin =
        authd::ProvisionFirstAdmin(device_.config(), "admin", kInitial);
    ASSERT_TRUE(admin.ok()) << admin.status();
    keyd_ = std::make_unique<ServerProcess>(device_, "keyd");
    ASSERT_TRUE(keyd_->WaitServing(absl::Seconds(15))) << keyd_->Log();
    eventd_ = std::make_unique<ServerProcess>(device_, "eventd");
    ASSERT_TRUE(eventd_->WaitServing(absl::Seconds(15))) << eventd_->Log();
    authd_ = std::make_unique<ServerProcess>(device_, "authd");
    ASSERT_TRUE(authd_->WaitServing(absl::Seconds(15))) << authd_->Log();
  }

  std::shared_ptr<grpc::Channel> ChannelTo(absl::string_view daemon,
                                           absl::string_view caller) {
    auto channel =
        rpc::ChannelFactory(device_.ClientFor(caller)).ForDaemon(daemon);
    EXPECT_TRUE(channel.ok()) << channel.status();
    return *channel;
  }
  std::unique_ptr<v1::Auth::Stub> Auth(
      absl::string_view caller = "client/rustiqctl") {
    return v1::Auth::NewStub(ChannelTo("authd", caller));
  }

  static void WithToken(grpc::ClientContext* ctx, const std::string& token) {
    ctx->AddMetadata("authorization", "Bearer " + token);
  }

  grpc::Status Login(const std::string& user, const std::string& password,
                     v1::LoginResponse* response,
                     const std::string& new_password = "",
                     absl::string_view caller = "client/rustiqctl") {
    v1::LoginRequest req;
    req.set_user(user);
    req.set_password(password);
    req.set_new_password(new_password);
    grpc::ClientContext ctx;
    return Auth(caller)->Login(&ctx, req, response);
  }

  // The provisioned admin, past the forced change: its token.
  std::string AdminToken() {
    v1::LoginResponse r;
    grpc::Status s = admin_changed_
                         ? Login("admin", kAdminPassword, &r)
                         : Login("admin", kInitial, &r, kAdminPassword);
    admin_changed_ = true;
    EXPECT_TRUE(s.ok()) << s.error_message();
    EXPECT_FALSE(r.token().empty());
    return r.token();
  }

  // Creates `name` with `roles` as the admin and logs it in (through the
  // forced change): its token.
  std::string UserToken(const std::string& admin, const std::string& name,
                        const std::vector<std::string>& roles) {
    v1::CreateUserRequest req;
    req.set_name(name);
    for (const auto& r : roles) req.add_roles(r);
    v1::CreateUserResponse created;
    grpc::ClientContext ctx;
    WithToken(&ctx, admin);
    grpc::Status s = Auth()->CreateUser(&ctx, req, &created);
    EXPECT_TRUE(s.ok()) << s.error_message();
    EXPECT_FALSE(created.initial_password().empty());
    v1::LoginResponse r;
    s = Login(name, created.initial_password(), &r, "Fresh-Kite-Pass-9034");
    EXPECT_TRUE(s.ok()) << s.error_message();
    return r.token();
  }

  grpc::Status WhoAmI(const std::string& token, v1::WhoAmIResponse* who) {
    grpc::ClientContext ctx;
    WithToken(&ctx, token);
    return Auth()->WhoAmI(&ctx, {}, who);
  }

  // A keyd method that needs keys.read, as the CLI calls it.
  grpc::Status KeydListKeys(const std::string& token) {
    auto keys = v1::Keys::NewStub(ChannelTo("keyd", "client/rustiqctl"));
    grpc::ClientContext ctx;
    if (!token.empty()) WithToken(&ctx, token);
    v1::ListKeysResponse resp;
    return keys->ListKeys(&ctx, {}, &resp);
  }
  // An eventd method that needs events.read.
  grpc::Status EventdQuery(const std::string& token) {
    auto log = v1::EventLog::NewStub(ChannelTo("eventd", "client/rustiqctl"));
    grpc::ClientContext ctx;
    if (!token.empty()) WithToken(&ctx, token);
    v1::QueryRequest req;
    req.set_page_size(1);
    v1::QueryResponse resp;
    return log->Query(&ctx, req, &resp);
  }

  // Waits until `call` gives `code` (revocations travel to other daemons
  // over a stream): true when it did within `timeout`.
  template <typename Call>
  bool Eventually(Call call, grpc::StatusCode code,
                  absl::Duration timeout = absl::Seconds(5)) {
    absl::Time deadline = absl::Now() + timeout;
    while (absl::Now() < deadline) {
      if (call().error_code() == code) return true;
      absl::SleepFor(absl::Milliseconds(50));
    }
    return false;
  }

  // Events of authd with `action`, as the supervisor reads the log.
  std::vector<v1::Event> EventsOf(absl::string_view action) {
    std::vector<v1::Event> out;
    auto log = v1::EventLog::NewStub(ChannelTo("eventd", "svc/supervisord"));
    std::string page;
    do {
      v1::QueryRequest req;
      req.set_page_size(1000);
      req.set_page_token(page);
      v1::QueryResponse resp;
      grpc::ClientContext ctx;
      if (!log->Query(&ctx, req, &resp).ok()) break;
      for (const v1::Event& e : resp.events()) {
        if (e.action() == action) out.push_back(e);
      }
      page = resp.next_page_token();
    } while (!page.empty());
    return out;
  }
  bool EventuallyRecorded(absl::string_view action, size_t at_least = 1) {
    absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (absl::Now() < deadline) {
      if (EventsOf(action).size() >= at_least) return true;
      absl::SleepFor(absl::Milliseconds(100));
    }
    return false;
  }

  // A token with `claims`, signed by the device's own token-signing key
  // (as only keyd could), for claims authd would never issue.
  std::string SignedByDevice(const rpc::TokenClaims& claims) {
    return device_.SignToken(claims);
  }

  rpc::TokenClaims AdminClaims() {
    rpc::TokenClaims c;
    c.subject = "admin";
    c.token_id = auth::NewTokenId();
    c.roles = {"admin"};
    c.permissions = {"auth.self", "keys.read", "events.read"};
    c.issued = absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now()));
    c.expires = c.issued + absl::Minutes(5);
    return c;
  }

  TestDevice device_;
  bool admin_changed_ = false;
  std::unique_ptr<ServerProcess> keyd_;
  std::unique_ptr<ServerProcess> eventd_;
  std::unique_ptr<ServerProcess> authd_;
};

TEST_F(AuthdTest, FirstLoginMustChangeTheProvisionedCredential) {
  v1::LoginResponse r;
  ASSERT_TRUE(Login("admin", kInitial, &r).ok());
  EXPECT_TRUE(r.password_change_required());
  EXPECT_TRUE(r.token().empty());
  // A weak or unchanged new password is refused, and no token is issued.
  grpc::Status s = Login("admin", kInitial, &r, "password1234");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  s = Login("admin", kInitial, &r, kInitial);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("differ"));
  absl::SleepFor(absl::Milliseconds(500));
  ASSERT_TRUE(Login("admin", kInitial, &r, kAdminPassword).ok());
  EXPECT_FALSE(r.token().empty());
  EXPECT_FALSE(r.password_change_required());
  EXPECT_THAT(r.roles(), ::testing::ElementsAre("admin"));
  // The provisioned credential is gone.
  absl::SleepFor(absl::Milliseconds(500));
  s = Login("admin", kInitial, &r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(EventuallyRecorded("password.changed"));
}

TEST_F(AuthdTest, UnknownUserAndWrongPasswordAreAnsweredAlike) {
  AdminToken();
  std::vector<absl::Duration> wrong, unknown;
  std::string wrong_message, unknown_message;
  for (int i = 0; i < 3; ++i) {
    v1::LoginResponse r;
    absl::Time t0 = absl::Now();
    grpc::Status s = Login("admin", "not-the-password-at-all", &r);
    wrong.push_back(absl::Now() - t0);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
    wrong_message = s.error_message();
    t0 = absl::Now();
    s = Login(absl::StrCat("nobody", i), "not-the-password-at-all", &r);
    unknown.push_back(absl::Now() - t0);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
    unknown_message = s.error_message();
    // Past the account's delay before the next try.
    absl::SleepFor(absl::Milliseconds(900));
  }
  EXPECT_EQ(wrong_message, unknown_message);
  std::sort(wrong.begin(), wrong.end());
  std::sort(unknown.begin(), unknown.end());
  // The same argon2id work either way: medians within a factor of 2.
  double ratio = absl::FDivDuration(unknown[1], wrong[1]);
  EXPECT_GT(ratio, 0.5) << unknown[1] << " vs " << wrong[1];
  EXPECT_LT(ratio, 2.0) << unknown[1] << " vs " << wrong[1];
  EXPECT_TRUE(EventuallyRecorded("login.failed", 6));
}

TEST_F(AuthdTest, FailuresSlowDownExponentiallyThenLockTheAccount) {
  AdminToken();
  v1::LoginResponse r;
  ASSERT_EQ(Login("admin", "wrong-one", &r).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  // At once again: refused without a check, whatever the password.
  grpc::Status s = Login("admin", kAdminPassword, &r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(s.error_message(), HasSubstr("try again"));
  // 400 ms, then 800 ms, then 1600 ms between tries.
  for (int wait_ms : {500, 900, 1700}) {
    absl::SleepFor(absl::Milliseconds(wait_ms));
    EXPECT_EQ(Login("admin", "wrong-again", &r).error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
  }
  // The 4th failure locked it: even the right password is refused.
  absl::SleepFor(absl::Milliseconds(1700));
  s = Login("admin", kAdminPassword, &r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(s.error_message(), HasSubstr("locked"));
  EXPECT_TRUE(EventuallyRecorded("account.locked"));
  EXPECT_TRUE(EventuallyRecorded("login.throttled"));
  // The lockout ends.
  absl::SleepFor(absl::Seconds(3));
  EXPECT_TRUE(Login("admin", kAdminPassword, &r).ok());
}

TEST_F(AuthdTest, LockoutSurvivesARestartOfAuthd) {
  AdminToken();
  v1::LoginResponse r;
  for (int i = 0; i < 4; ++i) {
    Login("admin", "wrong-one", &r);
    absl::SleepFor(absl::Milliseconds(1700));
  }
  authd_->Stop();
  authd_ = std::make_unique<ServerProcess>(device_, "authd");
  ASSERT_TRUE(authd_->WaitServing(absl::Seconds(15))) << authd_->Log();
  grpc::Status s = Login("admin", kAdminPassword, &r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
      << s.error_message();
}

TEST_F(AuthdTest, TokensAreVerifiedByEveryDaemon) {
  std::string admin = AdminToken();
  v1::WhoAmIResponse who;
  ASSERT_TRUE(WhoAmI(admin, &who).ok());
  EXPECT_EQ(who.user(), "admin");
  EXPECT_TRUE(
      Eventually([&] { return KeydListKeys(admin); }, grpc::StatusCode::OK));
  EXPECT_TRUE(
      Eventually([&] { return EventdQuery(admin); }, grpc::StatusCode::OK));

  std::string altered = admin;
  altered[altered.size() / 2] = altered[altered.size() / 2] == 'A' ? 'B' : 'A';
  std::vector<std::string> bad = {altered, admin.substr(0, admin.size() - 10),
                                  "v4.public.garbage", "",
                                  std::string(5000, 'A')};
  for (const std::string& token : bad) {
    EXPECT_EQ(WhoAmI(token, &who).error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
    EXPECT_EQ(KeydListKeys(token).error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
    EXPECT_EQ(EventdQuery(token).error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
  }
}

TEST_F(AuthdTest, ForgedAndExpiredTokensAreRefused) {
  AdminToken();
  // Signed by another Ed25519 key, claims otherwise perfect.
  EVP_PKEY* other = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  ASSERT_NE(other, nullptr);
  absl::StatusOr<std::string> forged = auth::IssueToken(
      AdminClaims(), device_.config().device_id, 1,
      [&](absl::string_view input) -> absl::StatusOr<std::string> {
        EVP_MD_CTX* md = EVP_MD_CTX_new();
        unsigned char sig[64];
        size_t len = sizeof sig;
        EVP_DigestSignInit(md, nullptr, nullptr, nullptr, other);
        EVP_DigestSign(md, sig, &len,
                       reinterpret_cast<const unsigned char*>(input.data()),
                       input.size());
        EVP_MD_CTX_free(md);
        return std::string(reinterpret_cast<char*>(sig), len);
      });
  EVP_PKEY_free(other);
  ASSERT_TRUE(forged.ok());
  v1::WhoAmIResponse who;
  grpc::Status s = WhoAmI(*forged, &who);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(KeydListKeys(*forged).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);

  // Signed by the device's own key, but expired.
  rpc::TokenClaims expired = AdminClaims();
  expired.issued -= absl::Hours(1);
  expired.expires = expired.issued + absl::Minutes(15);
  std::string token = SignedByDevice(expired);
  s = WhoAmI(token, &who);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(s.error_message(), HasSubstr("expired"));
  EXPECT_EQ(EventdQuery(token).error_code(), grpc::StatusCode::UNAUTHENTICATED);

  // The control: the same key and fresh claims pass, so the refusals above
  // are about the signature and the expiry, not about how the test signs.
  EXPECT_TRUE(WhoAmI(SignedByDevice(AdminClaims()), &who).ok());
}

TEST_F(AuthdTest, LogoutRevokesTheTokenEverywhere) {
  std::string admin = AdminToken();
  ASSERT_TRUE(
      Eventually([&] { return KeydListKeys(admin); }, grpc::StatusCode::OK));
  ASSERT_TRUE(
      Eventually([&] { return EventdQuery(admin); }, grpc::StatusCode::OK));
  grpc::ClientContext ctx;
  WithToken(&ctx, admin);
  v1::LogoutResponse out;
  ASSERT_TRUE(Auth()->Logout(&ctx, {}, &out).ok());
  v1::WhoAmIResponse who;
  EXPECT_EQ(WhoAmI(admin, &who).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(Eventually([&] { return KeydListKeys(admin); },
                         grpc::StatusCode::UNAUTHENTICATED));
  EXPECT_TRUE(Eventually([&] { return EventdQuery(admin); },
                         grpc::StatusCode::UNAUTHENTICATED));
  EXPECT_TRUE(EventuallyRecorded("logout"));
}

TEST_F(AuthdTest, DeletionAndRoleChangesRevokeTokens) {
  std::string admin = AdminToken();
  std::string bob = UserToken(admin, "bob", {"auditor"});
  std::string carol = UserToken(admin, "carol", {"operator"});
  ASSERT_TRUE(
      Eventually([&] { return EventdQuery(bob); }, grpc::StatusCode::OK));
  // Deleting bob revokes his token.
  {
    grpc::ClientContext ctx;
    WithToken(&ctx, admin);
    v1::DeleteUserRequest req;
    req.set_name("bob");
    v1::DeleteUserResponse resp;
    ASSERT_TRUE(Auth()->DeleteUser(&ctx, req, &resp).ok());
  }
  EXPECT_TRUE(Eventually([&] { return EventdQuery(bob); },
                         grpc::StatusCode::UNAUTHENTICATED));
  // Granting carol a role revokes her token (it carries the old roles).
  {
    grpc::ClientContext ctx;
    WithToken(&ctx, admin);
    v1::RoleChangeRequest req;
    req.set_user("carol");
    req.set_role("auditor");
    v1::RoleChangeResponse resp;
    ASSERT_TRUE(Auth()->GrantRole(&ctx, req, &resp).ok());
    EXPECT_THAT(resp.user().roles(),
                ::testing::ElementsAre("auditor", "operator"));
  }
  v1::WhoAmIResponse who;
  EXPECT_EQ(WhoAmI(carol, &who).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(EventuallyRecorded("user.deleted"));
  EXPECT_TRUE(EventuallyRecorded("role.granted"));
  // Who did it is on record: the person, not just the client.
  std::vector<v1::Event> deleted = EventsOf("user.deleted");
  ASSERT_FALSE(deleted.empty());
  EXPECT_EQ(deleted[0].actor(), "user/admin");
  EXPECT_EQ(deleted[0].source(), "svc/authd");
}

TEST_F(AuthdTest, NobodyGrantsWhatTheyDoNotHold) {
  std::string admin = AdminToken();
  std::string op = UserToken(admin, "oscar", {"operator"});
  // An operator cannot manage roles at all (roles.manage) ...
  grpc::ClientContext ctx;
  WithToken(&ctx, op);
  v1::RoleChangeRequest req;
  req.set_user("oscar");
  req.set_role("admin");
  v1::RoleChangeResponse resp;
  grpc::Status s = Auth()->GrantRole(&ctx, req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(s.error_message(), HasSubstr("roles.manage"));
  // ... nor create users, nor zeroize keys at keyd.
  grpc::ClientContext ctx2;
  WithToken(&ctx2, op);
  v1::CreateUserRequest create;
  create.set_name("mallory");
  create.add_roles("admin");
  v1::CreateUserResponse created;
  EXPECT_EQ(Auth()->CreateUser(&ctx2, create, &created).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // An operator may read keys (keys.read): the token itself is fine at keyd
  // (once keyd follows authd's revocations).
  ASSERT_TRUE(
      Eventually([&] { return KeydListKeys(op); }, grpc::StatusCode::OK));
  auto keys = v1::Keys::NewStub(ChannelTo("keyd", "client/rustiqctl"));
  grpc::ClientContext ctx3;
  WithToken(&ctx3, op);
  v1::CreateKeyRequest key;
  key.set_name("oscars-key");
  key.set_algorithm(v1::KEY_ALGORITHM_ED25519);
  v1::KeyInfo info;
  s = keys->CreateKey(&ctx3, key, &info);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(s.error_message(), HasSubstr("keys.manage"));
  // The refusal at keyd is on record, naming the method.
  EXPECT_TRUE(EventuallyRecorded("call.denied"));
}

TEST_F(AuthdTest, AdminActionsAtKeydRecordThePerson) {
  std::string admin = AdminToken();
  ASSERT_TRUE(
      Eventually([&] { return KeydListKeys(admin); }, grpc::StatusCode::OK));
  auto keys = v1::Keys::NewStub(ChannelTo("keyd", "client/rustiqctl"));
  grpc::ClientContext ctx;
  WithToken(&ctx, admin);
  v1::CreateKeyRequest key;
  key.set_name("admins-key");
  key.set_algorithm(v1::KEY_ALGORITHM_ED25519);
  v1::KeyInfo info;
  ASSERT_TRUE(keys->CreateKey(&ctx, key, &info).ok());
  ASSERT_TRUE(EventuallyRecorded("key.created"));
  std::vector<v1::Event> created = EventsOf("key.created");
  EXPECT_EQ(created.back().actor(), "user/admin");
  EXPECT_EQ(created.back().source(), "svc/keyd");
}

TEST_F(AuthdTest, TheLastAdminStays) {
  std::string admin = AdminToken();
  grpc::ClientContext ctx;
  WithToken(&ctx, admin);
  v1::DeleteUserRequest del;
  del.set_name("admin");
  v1::DeleteUserResponse resp;
  grpc::Status s = Auth()->DeleteUser(&ctx, del, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("last admin"));
  grpc::ClientContext ctx2;
  WithToken(&ctx2, admin);
  v1::RoleChangeRequest revoke;
  revoke.set_user("admin");
  revoke.set_role("admin");
  v1::RoleChangeResponse changed;
  s = Auth()->RevokeRole(&ctx2, revoke, &changed);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  // With a second admin, the first may go.
  UserToken(admin, "second", {"admin"});
  grpc::ClientContext ctx3;
  WithToken(&ctx3, admin);
  EXPECT_TRUE(Auth()->DeleteUser(&ctx3, del, &resp).ok());
}

TEST_F(AuthdTest, HostileInputsAreRefusedPrecisely) {
  std::string admin = AdminToken();
  const std::vector<std::string> names = {std::string(10000, 'a'),
                                          std::string("ad\0min", 6),
                                          "\xd0\xb0"
                                          "dmin",  // Cyrillic a
                                          "admin'; DROP TABLE users;--",
                                          "Admin",
                                          "../../etc/passwd",
                                          ""};
  for (const std::string& name : names) {
    v1::LoginResponse r;
    grpc::Status s = Login(name, "whatever-password", &r);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << name;
    grpc::ClientContext ctx;
    WithToken(&ctx, admin);
    v1::CreateUserRequest req;
    req.set_name(name);
    v1::CreateUserResponse created;
    s = Auth()->CreateUser(&ctx, req, &created);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << name;
    EXPECT_LT(s.error_message().size(), 300u);
  }
  // A password of 1 MB is refused before any hashing.
  v1::LoginResponse r;
  EXPECT_EQ(Login("admin", std::string(1 << 20, 'x'), &r).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  // Everything is still there and authd still serves.
  grpc::ClientContext ctx;
  WithToken(&ctx, admin);
  v1::ListUsersResponse users;
  ASSERT_TRUE(Auth()->ListUsers(&ctx, {}, &users).ok());
  ASSERT_EQ(users.users_size(), 1);
  EXPECT_EQ(users.users(0).name(), "admin");
}

TEST_F(AuthdTest, DaemonsCannotLogInAndClientsCannotWatchRevocations) {
  v1::LoginResponse r;
  grpc::Status s = Login("admin", kInitial, &r, "", "svc/cloudd");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  grpc::ClientContext ctx;
  auto stream = Auth()->WatchRevocations(&ctx, {});
  v1::WatchRevocationsResponse m;
  EXPECT_FALSE(stream->Read(&m));
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(AuthdTest, NoSecretReachesAnyLog) {
  std::string admin = AdminToken();
  std::string bob = UserToken(admin, "bob", {"auditor"});
  v1::LoginResponse r;
  Login("admin", "a-wrong-guess-xyz", &r);
  v1::WhoAmIResponse who;
  WhoAmI(bob, &who);
  KeydListKeys(bob);
  EventdQuery(admin);
  for (const auto* p : {authd_.get(), keyd_.get(), eventd_.get()}) {
    std::string log = p->Log();
    for (const std::string& secret :
         {std::string(kInitial), std::string(kAdminPassword),
          std::string("a-wrong-guess-xyz"), admin, bob, admin.substr(10, 40)}) {
      EXPECT_FALSE(absl::StrContains(log, secret))
          << "a secret of " << secret.size() << " bytes in a daemon's log:\n"
          << log;
    }
  }
}

TEST_F(AuthdTest, RunsConfined) {
  std::string status =
      ReadFile(absl::StrCat("/proc/", authd_->pid(), "/status"));
  EXPECT_THAT(status, HasSubstr("NoNewPrivs:\t1"));
  EXPECT_THAT(status, HasSubstr("Seccomp:\t2"));
  EXPECT_THAT(status, HasSubstr("CapEff:\t0000000000000000"));
}

}  // namespace
}  // namespace rustiq::testing
