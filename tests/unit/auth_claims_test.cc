// The claims inside a token: encoding, every check DecodePayload makes, the
// key ID footer, token IDs and the time format.
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/auth/token_claims.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/unit/auth_test_util.h"

namespace rustiq::auth {
namespace {

using ::rustiq::auth::testing::AliceClaims;
using ::rustiq::auth::testing::kDevice;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Json = nlohmann::json;

class Claims : public ::testing::Test {
 protected:
  Claims()
      : now_(absl::FromUnixSeconds(1'800'000'000)),
        claims_(AliceClaims(now_)) {}

  // The payload of claims_, changed by `edit`.
  std::string Payload(const std::function<void(Json&)>& edit = nullptr) {
    absl::StatusOr<std::string> m = EncodePayload(claims_, kDevice);
    EXPECT_TRUE(m.ok()) << m.status();
    if (!edit) return *m;
    Json j = Json::parse(*m);
    edit(j);
    return j.dump();
  }
  absl::StatusOr<rpc::TokenClaims> Decode(const std::string& payload) {
    return DecodePayload(payload, kDevice, now_, options_);
  }
  absl::Status DecodeEdited(const std::function<void(Json&)>& edit) {
    return Decode(Payload(edit)).status();
  }

  absl::Time now_;
  rpc::TokenClaims claims_;
  ClaimsOptions options_;
};

TEST_F(Claims, RoundTrip) {
  absl::StatusOr<rpc::TokenClaims> got = Decode(Payload());
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->subject, "alice");
  EXPECT_EQ(got->token_id, claims_.token_id);
  EXPECT_EQ(got->roles, claims_.roles);
  EXPECT_EQ(got->permissions, claims_.permissions);
  EXPECT_EQ(got->issued, claims_.issued);
  EXPECT_EQ(got->expires, claims_.expires);
}

TEST_F(Claims, PayloadHasTheDocumentedShape) {
  claims_.issued =
      absl::FromUnixSeconds(1'800'000'000) + absl::Milliseconds(900);
  claims_.expires = claims_.issued + absl::Hours(2);
  EXPECT_EQ(
      Payload(),
      absl::StrCat(R"({"iss":"dev-4711.example","aud":"rustiq",)",
                   R"("sub":"alice","jti":")", claims_.token_id,
                   R"(","iat":"2027-01-15T08:00:00Z",)",
                   R"("nbf":"2027-01-15T08:00:00Z",)",
                   R"("exp":"2027-01-15T10:00:00Z","roles":["admin"],)",
                   R"("perms":["auth.self","users.manage","users.read"]})"));
}

TEST_F(Claims, EncodeRefusesWhatNoVerifierWouldAccept) {
  auto refused = [this](const std::function<void(rpc::TokenClaims&)>& edit,
                        absl::string_view device = kDevice) {
    rpc::TokenClaims c = claims_;
    edit(c);
    return absl::IsInvalidArgument(EncodePayload(c, device).status());
  };
  EXPECT_TRUE(refused([](auto& c) { c.subject = "Alice"; }));
  EXPECT_TRUE(refused([](auto& c) { c.subject = ""; }));
  EXPECT_TRUE(refused([](auto& c) { c.token_id = "abc"; }));
  EXPECT_TRUE(refused([](auto& c) { c.token_id = std::string(32, 'A'); }));
  EXPECT_TRUE(refused([](auto& c) { c.roles.push_back("Admin"); }));
  EXPECT_TRUE(refused([](auto& c) { c.permissions.assign(65, "p"); }));
  EXPECT_TRUE(refused([](auto& c) { c.roles.assign(33, "r"); }));
  EXPECT_TRUE(refused([](auto& c) { c.expires = c.issued; }));
  EXPECT_TRUE(refused([](auto& c) { c.issued = absl::InfinitePast(); }));
  EXPECT_TRUE(refused([](auto&) {}, "Bad Device"));
  EXPECT_TRUE(refused([](auto&) {}, std::string("dev\xff", 4)));
}

TEST_F(Claims, ExpiredTokensAreRefused) {
  claims_.issued = now_ - absl::Hours(2);
  claims_.expires = now_ - absl::Seconds(1);
  absl::Status s = Decode(Payload()).status();
  EXPECT_TRUE(absl::IsUnauthenticated(s));
  EXPECT_THAT(s.message(), HasSubstr("expired at"));
  EXPECT_THAT(s.message(), HasSubstr("log in again"));
  claims_.expires = now_;  // exp must be after now
  EXPECT_THAT(Decode(Payload()).status().message(), HasSubstr("expired"));
  claims_.expires = now_ + absl::Seconds(1);
  EXPECT_TRUE(Decode(Payload()).ok());
}

TEST_F(Claims, FutureTokensBeyondTheSkewAreRefused) {
  // nbf 29 s ahead: within the 30 s skew.
  EXPECT_TRUE(DecodeEdited([this](Json& j) {
                j["nbf"] = FormatTokenTime(now_ + absl::Seconds(29));
              }).ok());
  absl::Status s = DecodeEdited([this](Json& j) {
    j["nbf"] = FormatTokenTime(now_ + absl::Seconds(31));
  });
  EXPECT_TRUE(absl::IsUnauthenticated(s));
  EXPECT_THAT(s.message(), HasSubstr("not valid before"));
  claims_.issued = now_ + absl::Seconds(31);
  claims_.expires = claims_.issued + absl::Hours(1);
  EXPECT_THAT(Decode(Payload()).status().message(),
              HasSubstr("issued in the future"));
  options_.clock_skew = absl::Seconds(60);
  EXPECT_TRUE(Decode(Payload()).ok());
}

TEST_F(Claims, LifetimeIsBounded) {
  claims_.issued = now_ - absl::Hours(1);
  claims_.expires = claims_.issued + absl::Hours(12);
  EXPECT_TRUE(Decode(Payload()).ok());
  claims_.expires += absl::Seconds(1);
  absl::Status s = Decode(Payload()).status();
  EXPECT_TRUE(absl::IsUnauthenticated(s));
  EXPECT_THAT(s.message(), HasSubstr("lifetime"));
  EXPECT_THAT(DecodeEdited([this](Json& j) {
                j["exp"] = FormatTokenTime(now_ + absl::Seconds(10));
                j["iat"] = FormatTokenTime(now_ + absl::Seconds(20));
              }).message(),
              HasSubstr("expires before it was issued"));
}

TEST_F(Claims, IssuerAndAudienceMustMatch) {
  EXPECT_THAT(
      DecodeEdited([](Json& j) { j["iss"] = "dev-4712.example"; }).message(),
      HasSubstr("another device"));
  EXPECT_THAT(
      DecodeEdited([](Json& j) { j["iss"] = "DEV-4711.example"; }).message(),
      HasSubstr("another device"));
  EXPECT_THAT(DecodeEdited([](Json& j) { j["aud"] = "rustiq2"; }).message(),
              HasSubstr("audience"));
  EXPECT_THAT(DecodeEdited([](Json& j) {
                j["aud"] = Json::array({"rustiq"});
              }).message(),
              HasSubstr("\"aud\" is not a string"));
}

TEST_F(Claims, EveryRequiredClaimMustBePresent) {
  for (const char* claim :
       {"iss", "aud", "sub", "jti", "iat", "nbf", "exp", "roles", "perms"}) {
    absl::Status s = DecodeEdited([claim](Json& j) { j.erase(claim); });
    EXPECT_TRUE(absl::IsUnauthenticated(s)) << claim;
    EXPECT_EQ(s.message(),
              absl::StrCat("token claim \"", claim, "\" is missing"))
        << claim;
  }
}

TEST_F(Claims, EveryClaimMustHaveItsType) {
  const std::vector<Json> wrong = {Json(1), Json(nullptr), Json(true),
                                   Json::object(), Json(1.5)};
  for (const char* claim : {"iss", "aud", "sub", "jti", "iat", "nbf", "exp"}) {
    for (const Json& v : wrong) {
      absl::Status s = DecodeEdited([&](Json& j) { j[claim] = v; });
      EXPECT_EQ(s.message(),
                absl::StrCat("token claim \"", claim, "\" is not a string"))
          << claim << " = " << v.dump();
    }
  }
  for (const char* claim : {"roles", "perms"}) {
    EXPECT_THAT(DecodeEdited([&](Json& j) { j[claim] = "admin"; }).message(),
                HasSubstr("is not an array"));
    EXPECT_THAT(
        DecodeEdited([&](Json& j) { j[claim] = Json::array({1}); }).message(),
        HasSubstr("non-string entry"));
    EXPECT_THAT(DecodeEdited([&](Json& j) {
                  j[claim] = Json::array({Json::array()});
                }).message(),
                HasSubstr("non-string entry"));
  }
  EXPECT_THAT(DecodeEdited([](Json& j) { j["jti"] = "ABCDEF"; }).message(),
              HasSubstr("\"jti\" is not 32 lowercase hex digits"));
}

TEST_F(Claims, TimesMustBeStrictRfc3339Utc) {
  for (const char* bad :
       {"2027-01-15T08:00:00+00:00", "2027-01-15 08:00:00Z",
        "2027-01-15T08:00:00.5Z", "2027-02-30T08:00:00Z", "2027-1-15T08:00:00Z",
        "2027-01-15T24:00:00Z", "2027-01-15t08:00:00z", " 2027-01-15T08:00:00",
        "1800000000", ""}) {
    absl::Status s = DecodeEdited([&](Json& j) { j["iat"] = bad; });
    EXPECT_THAT(s.message(), HasSubstr("not an RFC 3339 UTC time")) << bad;
  }
  absl::Time t;
  ASSERT_TRUE(ParseTokenTime("2027-01-15T08:00:00Z", &t));
  EXPECT_EQ(t, absl::FromUnixSeconds(1'800'000'000));
  EXPECT_EQ(FormatTokenTime(t), "2027-01-15T08:00:00Z");
}

TEST_F(Claims, BadUserNamesAreRefused) {
  for (const std::string& name :
       {std::string("Alice"), std::string("al\0ice", 6),
        std::string("\xd0\xb0lice"),  // Cyrillic a
        std::string(33, 'a'), std::string(""), std::string("1alice"),
        std::string("al ice"), std::string("-alice"), std::string("alice\n")}) {
    absl::Status s = DecodeEdited([&](Json& j) { j["sub"] = name; });
    EXPECT_THAT(s.message(), HasSubstr("not a valid user name"))
        << absl::CHexEscape(name);
  }
  EXPECT_TRUE(
      DecodeEdited([](Json& j) { j["sub"] = std::string(32, 'a'); }).ok());
  EXPECT_TRUE(DecodeEdited([](Json& j) { j["sub"] = "_svc.backup-1"; }).ok());
}

TEST_F(Claims, RolesAndPermissionsAreBounded) {
  auto names = [](size_t n) {
    std::vector<std::string> v;
    for (size_t i = 0; i < n; ++i) v.push_back(absl::StrCat("p", i));
    return v;
  };
  EXPECT_TRUE(DecodeEdited([&](Json& j) { j["perms"] = names(64); }).ok());
  EXPECT_THAT(DecodeEdited([&](Json& j) { j["perms"] = names(65); }).message(),
              HasSubstr("\"perms\" has more than 64 entries"));
  EXPECT_TRUE(DecodeEdited([&](Json& j) { j["roles"] = names(32); }).ok());
  EXPECT_THAT(DecodeEdited([&](Json& j) { j["roles"] = names(33); }).message(),
              HasSubstr("\"roles\" has more than 32 entries"));
  for (const std::string& bad :
       {std::string("Admin"), std::string(""), std::string(65, 'a'),
        std::string("users manage"), std::string("users\xc2\xb7manage")}) {
    EXPECT_THAT(DecodeEdited([&](Json& j) {
                  j["perms"] = Json::array({bad});
                }).message(),
                HasSubstr("\"perms\" has an entry that is not"));
  }
  EXPECT_TRUE(DecodeEdited([](Json& j) {
                j["perms"] = Json::array({std::string(64, 'a')});
              }).ok());
}

TEST_F(Claims, MalformedJsonIsRefused) {
  std::string good = Payload();
  for (const std::string& bad :
       {std::string("not json"), std::string("[]"), std::string("\"x\""),
        good + "x", good.substr(0, good.size() - 1), std::string("{}"),
        std::string("{\"sub\":\"\xff\"}")}) {
    EXPECT_TRUE(absl::IsUnauthenticated(Decode(bad).status())) << bad;
  }
  EXPECT_EQ(Decode("[1]").status().message(),
            "token payload is not a JSON object");
}

TEST_F(Claims, AClaimNamedTwiceIsRefused) {
  std::string twice = absl::StrReplaceAll(
      Payload(), {{R"("sub":"alice")", R"("sub":"alice","sub":"root")"}});
  EXPECT_EQ(Decode(twice).status().message(),
            "token payload names a claim twice");
  // The same key inside a nested value is not a top-level claim.
  EXPECT_TRUE(DecodeEdited([](Json& j) {
                j["ext"] = Json::array({Json{{"sub", 1}}});
              }).ok());
}

TEST_F(Claims, UnknownClaimsAreIgnored) {
  EXPECT_TRUE(DecodeEdited([](Json& j) { j["ext"] = "anything"; }).ok());
}

TEST(KeyIdFooter, RoundTrips) {
  EXPECT_EQ(KeyIdFooter(7), R"({"kid":"token-signing:7"})");
  for (uint32_t v : {1u, 7u, 10u, 4294967295u}) {
    absl::StatusOr<uint32_t> got = ParseKeyIdFooter(KeyIdFooter(v));
    ASSERT_TRUE(got.ok()) << v;
    EXPECT_EQ(*got, v);
  }
}

TEST(KeyIdFooter, AnythingElseIsRefused) {
  for (const std::string& bad : std::vector<std::string>{
           "", "{}", R"({"kid":"token-signing:0"})",
           R"({"kid":"token-signing:07"})",
           R"({"kid":"token-signing:4294967296"})",
           R"({"kid":"token-signing:-1"})", R"({"kid":"token-signing:+1"})",
           R"({"kid":"token-signing:"})", R"({"kid": "token-signing:1"})",
           R"({"kid":"token-signing:1" })", R"({"kid":"event-checkpoint:1"})",
           R"({"kid":"token-signing:1","x":1})",
           R"({"kid":"token-signing:1"}{"kid":"token-signing:2"})",
           R"({"kid":"zVhMiPBP9fRf2snEcT7gFTioeA9COcNy9DfgL1W60haN"})",
           absl::StrCat(R"({"kid":"token-signing:)", std::string(60, '1'),
                        R"("})"),
           std::string(R"({"kid":"token-signing:1)") + '\0' + R"("})"}) {
    absl::StatusOr<uint32_t> got = ParseKeyIdFooter(bad);
    EXPECT_TRUE(absl::IsUnauthenticated(got.status())) << bad;
  }
}

TEST(TokenId, IsFreshLowercaseHex) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    std::string id = NewTokenId();
    EXPECT_TRUE(IsValidTokenId(id)) << id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 100u);
  EXPECT_FALSE(IsValidTokenId(std::string(31, 'a')));
  EXPECT_FALSE(IsValidTokenId(std::string(32, 'g')));
}

TEST(ImplicitAssertion, NamesTheDevice) {
  EXPECT_EQ(ImplicitAssertion("dev-1"), "rustiq-device:dev-1");
}

}  // namespace
}  // namespace rustiq::auth
