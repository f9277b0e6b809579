// The enforcement point's decisions, driven directly (no sockets): the
// integration tests prove the same through real processes.
#include <string>
#include <vector>

#include "common/rpc/call_authorizer.h"
#include "common/rpc/caller_limiter.h"
#include "common/rpc/method_access.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rustiq/test/v1/bad_decl.pb.h"
#include "rustiq/test/v1/echo.pb.h"
#include "tests/support/recording_sink.h"

namespace rustiq::rpc {
namespace {

using ::testing::HasSubstr;

using ::rustiq::testing::RecordingSink;

class FakeTokens : public TokenVerifier {
 public:
  absl::StatusOr<TokenClaims> Verify(absl::string_view token) override {
    if (token != "good") return absl::UnauthenticatedError("bad token");
    TokenClaims claims;
    claims.subject = "alice";
    claims.permissions = {"test.admin"};
    return claims;
  }
};

class CallAuthorizerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Links the test proto so its descriptors are in the generated pool.
    rustiq::test::v1::EchoRequest force_link;
    (void)force_link;
    ASSERT_TRUE(table_.AddService("rustiq.test.v1.Echo").ok());
  }
  absl::StatusOr<std::string> As(const std::string& uri,
                                 const std::string& method,
                                 std::optional<absl::string_view> token = {}) {
    std::vector<std::string> uris = {uri};
    return authorizer_.Authorize("/rustiq.test.v1.Echo/" + method, uris, token);
  }

  MethodAccessTable table_;
  CallerLimiter limiter_{2};
  RecordingSink sink_;
  FakeTokens tokens_;
  CallAuthorizer authorizer_{"testd",   "dev",  &table_,
                             &limiter_, &sink_, &tokens_};
};

TEST_F(CallAuthorizerTest, ReadsDeclarationsFromDescriptors) {
  const MethodAccess* echo = table_.Find("/rustiq.test.v1.Echo/Echo");
  ASSERT_NE(echo, nullptr);
  EXPECT_TRUE(echo->declared);
  EXPECT_TRUE(echo->AllowsCaller("client/x"));
  EXPECT_TRUE(echo->AllowsCaller("svc/supervisord"));
  EXPECT_FALSE(echo->AllowsCaller("svc/keyd"));
  const MethodAccess* undeclared =
      table_.Find("/rustiq.test.v1.Echo/Undeclared");
  ASSERT_NE(undeclared, nullptr);
  EXPECT_FALSE(undeclared->declared);
  EXPECT_EQ(table_.Find("/rustiq.test.v1.Echo/PersonOnly")->permission,
            "test.admin");
  EXPECT_EQ(table_.Find("/rustiq.test.v1.Echo/Nope"), nullptr);
}

TEST_F(CallAuthorizerTest, AllowsDeclaredCallerAndTakesASlot) {
  auto caller = As("spiffe://dev/client/alice", "Echo");
  ASSERT_TRUE(caller.ok()) << caller.status();
  EXPECT_EQ(*caller, "client/alice");
  EXPECT_EQ(limiter_.InFlight("client/alice"), 1u);
  authorizer_.ReleaseSlot(*caller);
  EXPECT_EQ(limiter_.InFlight("client/alice"), 0u);
  EXPECT_EQ(sink_.size(), 0u);
}

TEST_F(CallAuthorizerTest, EachRefusalHasItsCodeAndIsRecorded) {
  struct Case {
    std::vector<std::string> uris;
    std::string method;
    absl::StatusCode code;
    const char* message;
  } cases[] = {
      {{}, "Echo", absl::StatusCode::kUnauthenticated, "no URI SAN"},
      {{"spiffe://dev/client/a", "spiffe://dev/client/b"},
       "Echo",
       absl::StatusCode::kUnauthenticated,
       "2 URI SANs"},
      {{"spiffe://other/client/a"},
       "Echo",
       absl::StatusCode::kUnauthenticated,
       "trust domain"},
      {{"spiffe://dev/client/../svc/supervisord"},
       "SupervisorOnly",
       absl::StatusCode::kUnauthenticated,
       "not valid"},
      {{"spiffe://dev/client/a"},
       "SupervisorOnly",
       absl::StatusCode::kPermissionDenied,
       "client/a is not allowed"},
      {{"spiffe://dev/svc/supervisord"},
       "Undeclared",
       absl::StatusCode::kPermissionDenied,
       "declares no allowed callers"},
      {{"spiffe://dev/svc/supervisord"},
       "NobodyListed",
       absl::StatusCode::kPermissionDenied,
       "not allowed"},
      {{"spiffe://dev/client/a"},
       "Nope",
       absl::StatusCode::kUnimplemented,
       "does not exist"},
      {{"spiffe://dev/client/a"},
       "PersonOnly",
       absl::StatusCode::kUnauthenticated,
       "needs permission test.admin"},
  };
  for (const Case& c : cases) {
    size_t before = sink_.size();
    auto result = authorizer_.Authorize("/rustiq.test.v1.Echo/" + c.method,
                                        c.uris, std::nullopt);
    ASSERT_FALSE(result.ok()) << c.method;
    EXPECT_EQ(result.status().code(), c.code) << result.status();
    EXPECT_THAT(result.status().message(), HasSubstr(c.message));
    ASSERT_EQ(sink_.size(), before + 1);
    const audit::SecurityEvent last = sink_.events().back();
    EXPECT_EQ(last.category, "rpc");
    EXPECT_EQ(last.outcome, audit::Outcome::kDenied);
  }
  EXPECT_EQ(limiter_.InFlight("client/a"), 0u);  // no slot leaked
}

TEST_F(CallAuthorizerTest, TokenIsCheckedForPermissionMethods) {
  EXPECT_EQ(
      As("spiffe://dev/client/a", "PersonOnly", "Bearer bad").status().code(),
      absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(As("spiffe://dev/client/a", "PersonOnly", "good").status().code(),
            absl::StatusCode::kUnauthenticated);  // not "Bearer ..."
  auto ok = As("spiffe://dev/client/a", "PersonOnly", "Bearer good");
  EXPECT_TRUE(ok.ok()) << ok.status();
}

TEST_F(CallAuthorizerTest, ConcurrencyBoundPerCaller) {
  ASSERT_TRUE(As("spiffe://dev/client/a", "Echo").ok());
  ASSERT_TRUE(As("spiffe://dev/client/a", "Echo").ok());
  auto third = As("spiffe://dev/client/a", "Echo");
  EXPECT_EQ(third.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(As("spiffe://dev/client/b", "Echo").ok());
  authorizer_.ReleaseSlot("client/a");
  EXPECT_TRUE(As("spiffe://dev/client/a", "Echo").ok());
}

TEST(MethodAccessTable, BuiltinDeclarationsAreValidated) {
  MethodAccessTable table;
  EXPECT_TRUE(table
                  .AddBuiltin("/grpc.health.v1.Health/Check",
                              {"svc/supervisord", "client/rustiqctl"})
                  .ok());
  EXPECT_FALSE(table.AddBuiltin("/x/Y", {"client/a*"}).ok());
  EXPECT_FALSE(table.AddBuiltin("/x/Y", {"client/a"}, "NoDot").ok());
  // Each rule on its own: a permission is <area>.<verb>, in lowercase.
  absl::Status s = table.AddBuiltin("/x/Y", {"client/a"}, "nodot");
  EXPECT_THAT(s.message(), HasSubstr("area.verb"));
  EXPECT_FALSE(s.ok());
  EXPECT_FALSE(table.AddBuiltin("/x/Y", {"client/a"}, "keys.Read").ok());
  EXPECT_FALSE(table.AddBuiltin("/x/Y", {"client/a"}, "k.").ok());
  EXPECT_TRUE(table.AddBuiltin("/x/Y", {"client/a"}, "keys.read").ok());
  EXPECT_FALSE(table.AddService("rustiq.v1.DoesNotExist").ok());
}

TEST(MethodAccessTable, BadDeclarationInProtoFailsNamingTheMethod) {
  rustiq::test::v1::BadDeclMarker force_link;
  (void)force_link;
  MethodAccessTable table;
  absl::Status s = table.AddService("rustiq.test.v1.BadPattern");
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("rustiq.test.v1.BadPattern.Call"));
  s = table.AddService("rustiq.test.v1.BadPermission");
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("bad permission \"Admin\""));
}

}  // namespace
}  // namespace rustiq::rpc
