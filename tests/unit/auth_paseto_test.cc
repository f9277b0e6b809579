// The PASETO v4.public envelope: the official test vectors
// (paseto-standard/test-vectors, v4.json), PAE, strict base64url, and every
// way of tampering with a token.
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/auth/paseto.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/auth_test_util.h"

namespace rustiq::auth::paseto {
namespace {

using ::rustiq::auth::testing::Ed25519FromSeed;
using ::rustiq::auth::testing::Ed25519Public;
using ::rustiq::auth::testing::NewEd25519Key;
using ::rustiq::auth::testing::PublicHalf;
using ::testing::HasSubstr;

// The keys shared by 4-S-1, 4-S-2 and 4-S-3: "secret-key" is seed || public.
constexpr char kVectorSecretKey[] =
    "b4cbfb43df4ce210727d953e4a713307fa19bb7d9f85041438d9e11b942a3774"
    "1eb9dbbbbc047c03fd70604e0071f0987e16b28b757225c11f00415d0e20b1a2";
constexpr char kVectorPublicKey[] =
    "1eb9dbbbbc047c03fd70604e0071f0987e16b28b757225c11f00415d0e20b1a2";
constexpr char kVectorPayload[] =
    R"({"data":"this is a signed message","exp":"2022-01-01T00:00:00+00:00"})";
constexpr char kVectorFooter[] =
    R"({"kid":"zVhMiPBP9fRf2snEcT7gFTioeA9COcNy9DfgL1W60haN"})";

struct Vector {
  const char* name;
  const char* footer;
  const char* implicit;
  const char* token;
};

const Vector kVectors[] = {
    {"4-S-1", "", "",
     "v4.public.eyJkYXRhIjoidGhpcyBpcyBhIHNpZ25lZCBtZXNzYWdlIiwiZXhwIjoiMjAy"
     "Mi0wMS0wMVQwMDowMDowMCswMDowMCJ9bg_XBBzds8lTZShVlwwKSgeKpLT3yukTw6JUz3W"
     "4h_ExsQV-P0V54zemZDcAxFaSeef1QlXEFtkqxT1ciiQEDA"},
    {"4-S-2", kVectorFooter, "",
     "v4.public.eyJkYXRhIjoidGhpcyBpcyBhIHNpZ25lZCBtZXNzYWdlIiwiZXhwIjoiMjAy"
     "Mi0wMS0wMVQwMDowMDowMCswMDowMCJ9v3Jt8mx_TdM2ceTGoqwrh4yDFn0XsHvvV_D0Dtw"
     "QxVrJEBMl0F2caAdgnpKlt4p7xBnx1HcO-SPo8FPp214HDw.eyJraWQiOiJ6VmhNaVBCUDl"
     "mUmYyc25FY1Q3Z0ZUaW9lQTlDT2NOeTlEZmdMMVc2MGhhTiJ9"},
    {"4-S-3", kVectorFooter, R"({"test-vector":"4-S-3"})",
     "v4.public.eyJkYXRhIjoidGhpcyBpcyBhIHNpZ25lZCBtZXNzYWdlIiwiZXhwIjoiMjAy"
     "Mi0wMS0wMVQwMDowMDowMCswMDowMCJ9NPWciuD3d0o5eXJXG5pJy-DiVEoyPYWs1YSTwWH"
     "NJq6DZD3je5gf-0M4JR9ipdUSJbIovzmBECeaWmaqcaP0DQ.eyJraWQiOiJ6VmhNaVBCUDl"
     "mUmYyc25FY1Q3Z0ZUaW9lQTlDT2NOeTlEZmdMMVc2MGhhTiJ9"},
};

// 4-F-2: a v4.public token in the list of tokens that must not verify.
constexpr char kVector4F2Token[] =
    "v4.public.eyJpbnZhbGlkIjoidGhpcyBzaG91bGQgbmV2ZXIgZGVjb2RlIn22Sp4gjCaU"
    "w0c7EH84ZSm_jN_Qr41MrgLNu5LIBCzUr1pn3Z-Wukg9h3ceplWigpoHaTLcwxj0NsI1vjT"
    "h67YB.eyJraWQiOiJ6VmhNaVBCUDlmUmYyc25FY1Q3Z0ZUaW9lQTlDT2NOeTlEZmdMMVc2"
    "MGhhTiJ9";

pki::EvpPkeyPtr VectorSecretKey() {
  return Ed25519FromSeed(
      absl::HexStringToBytes(kVectorSecretKey).substr(0, 32));
}
pki::EvpPkeyPtr VectorPublicKey() {
  return Ed25519Public(absl::HexStringToBytes(kVectorPublicKey));
}

TEST(PasetoVectors, SigningGivesTheExactToken) {
  pki::EvpPkeyPtr secret = VectorSecretKey();
  ASSERT_NE(secret, nullptr);
  for (const Vector& v : kVectors) {
    absl::StatusOr<std::string> token =
        SignV4Public(kVectorPayload, v.footer, v.implicit, secret.get());
    ASSERT_TRUE(token.ok()) << v.name << ": " << token.status();
    EXPECT_EQ(*token, v.token) << v.name;
  }
}

TEST(PasetoVectors, VectorTokensVerifyWithThePublicKey) {
  pki::EvpPkeyPtr pub = VectorPublicKey();
  ASSERT_NE(pub, nullptr);
  for (const Vector& v : kVectors) {
    absl::StatusOr<std::string> m =
        VerifyV4Public(v.token, pub.get(), v.implicit);
    ASSERT_TRUE(m.ok()) << v.name << ": " << m.status();
    EXPECT_EQ(*m, kVectorPayload) << v.name;
    absl::StatusOr<V4PublicParts> parts = Parse(v.token);
    ASSERT_TRUE(parts.ok());
    EXPECT_EQ(parts->footer, v.footer) << v.name;
  }
}

TEST(PasetoVectors, ImplicitAssertionIsBound) {
  pki::EvpPkeyPtr pub = VectorPublicKey();
  // 4-S-3 with no or another implicit assertion, 4-S-2 with one.
  EXPECT_FALSE(VerifyV4Public(kVectors[2].token, pub.get(), "").ok());
  EXPECT_FALSE(
      VerifyV4Public(kVectors[2].token, pub.get(), R"({"test-vector":"4-S-2"})")
          .ok());
  EXPECT_FALSE(
      VerifyV4Public(kVectors[1].token, pub.get(), R"({"test-vector":"4-S-3"})")
          .ok());
}

TEST(PasetoVectors, FailureVector4F2DoesNotVerify) {
  pki::EvpPkeyPtr pub = VectorPublicKey();
  absl::StatusOr<std::string> m =
      VerifyV4Public(kVector4F2Token, pub.get(), R"({"test-vector":"4-F-2"})");
  EXPECT_TRUE(absl::IsUnauthenticated(m.status())) << m.status();
}

TEST(PreAuthEncode, MatchesTheSpecExamples) {
  using namespace std::string_literals;
  EXPECT_EQ(PreAuthEncode({}), "\0\0\0\0\0\0\0\0"s);
  EXPECT_EQ(PreAuthEncode({""}), "\x01\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"s);
  EXPECT_EQ(PreAuthEncode({"test"}),
            "\x01\0\0\0\0\0\0\0\x04\0\0\0\0\0\0\0test"s);
  EXPECT_EQ(SigningInput("m", "f", "i"),
            PreAuthEncode({"v4.public.", "m", "f", "i"}));
}

TEST(Base64Url, RoundTripsEveryLength) {
  std::string bytes;
  for (int n = 0; n < 70; ++n) {
    std::string text = Base64UrlEncode(bytes);
    EXPECT_EQ(text.find_first_of("=+/"), std::string::npos);
    absl::StatusOr<std::string> back = Base64UrlDecode(text);
    ASSERT_TRUE(back.ok()) << n;
    EXPECT_EQ(*back, bytes);
    bytes.push_back(static_cast<char>(n * 37 + 250));
  }
  EXPECT_EQ(Base64UrlEncode("\xfb\xff"), "-_8");
}

TEST(Base64Url, DecodingIsStrict) {
  EXPECT_TRUE(Base64UrlDecode("AA").ok());
  for (const char* bad :
       {"AA==", "A", "AAAAA", "+/8", "a b", "AB", "AAB", "AA.A", "AA\n"}) {
    EXPECT_FALSE(Base64UrlDecode(bad).ok()) << bad;
  }
  EXPECT_FALSE(Base64UrlDecode(std::string("AA\0A", 4)).ok());
}

class PasetoTamper : public ::testing::Test {
 protected:
  static constexpr char kImplicit[] = "rustiq-device:dev-4711.example";
  void SetUp() override {
    key_ = NewEd25519Key();
    pub_ = PublicHalf(key_.get());
    absl::StatusOr<std::string> token =
        SignV4Public(R"({"sub":"alice"})", R"({"kid":"token-signing:1"})",
                     kImplicit, key_.get());
    ASSERT_TRUE(token.ok());
    token_ = *token;
    ASSERT_TRUE(VerifyV4Public(token_, pub_.get(), kImplicit).ok());
  }
  absl::Status Check(const std::string& token) {
    return VerifyV4Public(token, pub_.get(), kImplicit).status();
  }
  std::string Reassemble(const V4PublicParts& p) {
    absl::StatusOr<std::string> t = Assemble(p.message, p.signature, p.footer);
    EXPECT_TRUE(t.ok());
    return *t;
  }

  pki::EvpPkeyPtr key_;
  SharedPublicKey pub_;
  std::string token_;
};

TEST_F(PasetoTamper, EverySingleBitFlipIsRefused) {
  for (size_t i = 0; i < token_.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string t = token_;
      t[i] = static_cast<char>(t[i] ^ (1 << bit));
      absl::Status s = Check(t);
      ASSERT_TRUE(absl::IsUnauthenticated(s))
          << "byte " << i << " bit " << bit << ": " << s;
    }
  }
}

TEST_F(PasetoTamper, FlippedDecodedBitsFailTheSignature) {
  absl::StatusOr<V4PublicParts> parts = Parse(token_);
  ASSERT_TRUE(parts.ok());
  for (std::string V4PublicParts::*field :
       {&V4PublicParts::message, &V4PublicParts::signature,
        &V4PublicParts::footer}) {
    V4PublicParts p = *parts;
    (p.*field)[0] = static_cast<char>((p.*field)[0] ^ 0x01);
    absl::Status s = Check(Reassemble(p));
    EXPECT_TRUE(absl::IsUnauthenticated(s));
    EXPECT_THAT(s.message(), HasSubstr("token signature does not verify"));
  }
  // The header is the first piece of the signed PAE: a flip there is not
  // even a v4.public token.
  std::string t = token_;
  t[3] = static_cast<char>(t[3] ^ 0x01);
  EXPECT_THAT(Check(t).message(), HasSubstr("not a v4.public PASETO"));
}

TEST_F(PasetoTamper, TruncatedOrExtendedTokensAreRefused) {
  for (size_t keep : {size_t{0}, size_t{9}, size_t{10}, size_t{11}, size_t{60},
                      token_.size() - 1, token_.size() - 2}) {
    EXPECT_TRUE(absl::IsUnauthenticated(Check(token_.substr(0, keep)))) << keep;
  }
  size_t dot = token_.rfind('.');
  // Without the footer the signature (over the footer) fails.
  EXPECT_THAT(Check(token_.substr(0, dot)).message(),
              HasSubstr("does not verify"));
  for (const char* tail : {"A", "AA", "=", ".", ".e30", "\n", " "}) {
    EXPECT_TRUE(absl::IsUnauthenticated(Check(token_ + tail))) << tail;
  }
}

TEST_F(PasetoTamper, OtherHeadersAreNamed) {
  for (const char* header :
       {"v3.public.", "v4.local.", "v2.public.", "v1.local."}) {
    std::string t = absl::StrCat(header, token_.substr(10));
    absl::Status s = Check(t);
    EXPECT_TRUE(absl::IsUnauthenticated(s));
    std::string name(header, std::string(header).size() - 1);
    EXPECT_EQ(
        s.message(),
        absl::StrCat("token is not a v4.public PASETO (it is ", name, ")"));
  }
  for (const char* t : {"V4.public.AAAA", "v4.public", "v4public.AAAA",
                        "Bearer v4.public.AAAA", "v5.public.AAAA"}) {
    EXPECT_EQ(Check(t).message(), "token is not a v4.public PASETO") << t;
  }
}

TEST_F(PasetoTamper, DotsMustBeWhereTheyBelong) {
  size_t dot = token_.rfind('.');
  std::string payload = token_.substr(10, dot - 10);
  std::string footer = token_.substr(dot + 1);
  EXPECT_THAT(Check(absl::StrCat(token_, ".AAAA")).message(),
              HasSubstr("5 dot-separated parts"));
  EXPECT_THAT(
      Check(absl::StrCat("v4.public.", payload, "..", footer)).message(),
      HasSubstr("not a v4.public PASETO"));
  EXPECT_THAT(Check(absl::StrCat("v4.public.", payload, ".")).message(),
              HasSubstr("ends with '.'"));
  EXPECT_THAT(Check(absl::StrCat("v4.public..", footer)).message(),
              HasSubstr("too short"));
  // The two parts run together: no longer the signed bytes.
  EXPECT_TRUE(absl::IsUnauthenticated(
      Check(absl::StrCat("v4.public.", payload, footer))));
}

TEST_F(PasetoTamper, NonBase64UrlCharactersAreRefused) {
  size_t dot = token_.rfind('.');
  for (char c : {'+', '/', '=', ' ', '\0', '\x80', '%', '*'}) {
    std::string in_payload = token_;
    in_payload[20] = c;
    EXPECT_THAT(Check(in_payload).message(),
                HasSubstr("token payload is not valid base64url"))
        << int{c};
    std::string in_footer = token_;
    in_footer[dot + 2] = c;
    EXPECT_THAT(Check(in_footer).message(),
                HasSubstr("token footer is not valid base64url"))
        << int{c};
  }
  // UTF-8 look-alikes are bytes outside the alphabet too.
  std::string t =
      absl::StrReplaceAll(token_, {{"v4.public.", "v4.public.\xd0\x90"}});
  EXPECT_TRUE(absl::IsUnauthenticated(Check(t)));
}

TEST_F(PasetoTamper, AnotherKeyOrImplicitAssertionFails) {
  pki::EvpPkeyPtr other = NewEd25519Key();
  SharedPublicKey other_pub = PublicHalf(other.get());
  EXPECT_EQ(
      VerifyV4Public(token_, other_pub.get(), kImplicit).status().message(),
      "token signature does not verify");
  // A token of another device.
  EXPECT_EQ(VerifyV4Public(token_, pub_.get(), "rustiq-device:dev-4712.example")
                .status()
                .message(),
            "token signature does not verify");
  // Re-signed by another key, named the same.
  absl::StatusOr<std::string> forged =
      SignV4Public(R"({"sub":"alice"})", R"({"kid":"token-signing:1"})",
                   kImplicit, other.get());
  ASSERT_TRUE(forged.ok());
  EXPECT_EQ(Check(*forged).message(), "token signature does not verify");
}

TEST_F(PasetoTamper, NonEd25519KeyIsAPreconditionFailure) {
  absl::StatusOr<pki::EvpPkeyPtr> p256 = pki::GenerateP256Key();
  ASSERT_TRUE(p256.ok());
  absl::Status s = VerifyV4Public(token_, p256->get(), kImplicit).status();
  EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
  EXPECT_TRUE(absl::IsFailedPrecondition(
      VerifyV4Public(token_, nullptr, kImplicit).status()));
}

TEST(PasetoAssemble, RefusesASignatureOfTheWrongSize) {
  EXPECT_TRUE(absl::IsInvalidArgument(Assemble("m", "short", "").status()));
  absl::StatusOr<std::string> t = Assemble("m", std::string(64, 's'), "");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->find('.', 10), std::string::npos);  // no footer, no dot
}

TEST(PasetoParse, ErrorsNeverQuoteTheToken) {
  // A recognisable payload in a token that fails at each stage.
  std::string secret = "SECRETSECRETSECRET";
  for (const std::string& t :
       {absl::StrCat("v9.", secret), absl::StrCat("v4.public.", secret, "+"),
        absl::StrCat("v4.public.", secret, ".", secret, "."),
        absl::StrCat("v4.public.", secret)}) {
    absl::StatusOr<V4PublicParts> parts = Parse(t);
    ASSERT_FALSE(parts.ok());
    EXPECT_THAT(parts.status().message(), ::testing::Not(HasSubstr(secret)));
  }
}

}  // namespace
}  // namespace rustiq::auth::paseto
