// SPIFFE ID parsing and caller patterns against hostile inputs.
#include <string>

#include "common/identity/caller_pattern.h"
#include "common/identity/spiffe_id.h"
#include "gtest/gtest.h"

namespace rustiq::identity {
namespace {

TEST(SpiffeId, ParsesServiceAndClientIds) {
  auto id = SpiffeId::Parse("spiffe://dev-1a2b/svc/keyd");
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(id->trust_domain(), "dev-1a2b");
  EXPECT_EQ(id->path(), "svc/keyd");
  EXPECT_EQ(id->ToUri(), "spiffe://dev-1a2b/svc/keyd");
  EXPECT_TRUE(SpiffeId::Parse("spiffe://d/client/rustiqctl").ok());
  EXPECT_TRUE(SpiffeId::Parse("spiffe://d.example_1/client/app.v2-x").ok());
}

TEST(SpiffeId, RefusesHostileInputs) {
  const std::string nul_inside("spiffe://dev/svc/ke\0yd", 22);
  const std::string nul_end("spiffe://dev/svc/keyd\0", 22);
  const char* bad[] = {
      "",                              // empty
      "spiffe://",                     // nothing
      "spiffe://dev",                  // no path
      "spiffe://dev/",                 // empty path
      "spiffe:///svc/keyd",            // empty trust domain
      "spiffe://dev/svc",              // one segment
      "spiffe://dev/svc/",             // trailing slash
      "spiffe://dev//svc/keyd",        // empty segment
      "spiffe://dev/svc//keyd",        // empty segment
      "spiffe://dev/svc/../keyd",      // dot-dot
      "spiffe://dev/svc/./keyd",       // dot
      "spiffe://dev/svc/..",           // dot-dot last
      "spiffe://dev/svc/k%65yd",       // percent-encoding
      "spiffe://dev/svc/%2e%2e",       // encoded dot-dot
      "spiffe://dev/SVC/keyd",         // uppercase path
      "spiffe://dev/svc/Keyd",         // uppercase path
      "spiffe://DEV/svc/keyd",         // uppercase trust domain
      "SPIFFE://dev/svc/keyd",         // uppercase scheme
      "spiffe://dev/svc/keyd?x=1",     // query
      "spiffe://dev/svc/keyd#frag",    // fragment
      "spiffe://user@dev/svc/keyd",    // userinfo
      "spiffe://dev:443/svc/keyd",     // port
      "spiffe://.dev/svc/keyd",        // leading dot
      "spiffe://dev./svc/keyd",        // trailing dot
      "spiffe://d..ev/svc/keyd",       // empty label
      "spiffe://dev/svc/key d",        // space
      "spiffe://dev/svc/keyd\n",       // newline
      "spiffe://dev/other/keyd",       // unknown kind
      "https://dev/svc/keyd",          // other scheme
      "spiffe://dev/svc/k\xc3\xa9yd",  // non-ASCII
      "spiffe://dev/svc/\xd0\xba"
      "eyd",  // Cyrillic confusable
  };
  for (const char* uri : bad) {
    EXPECT_FALSE(SpiffeId::Parse(uri).ok()) << "accepted: " << uri;
  }
  EXPECT_FALSE(SpiffeId::Parse(nul_inside).ok());
  EXPECT_FALSE(SpiffeId::Parse(nul_end).ok());
}

TEST(SpiffeId, RefusesOverlongInputs) {
  std::string long_segment = "spiffe://dev/svc/" + std::string(65, 'a');
  EXPECT_FALSE(SpiffeId::Parse(long_segment).ok());
  std::string ok_segment = "spiffe://dev/svc/" + std::string(64, 'a');
  EXPECT_TRUE(SpiffeId::Parse(ok_segment).ok());
  std::string long_td = "spiffe://" + std::string(256, 'a') + "/svc/keyd";
  EXPECT_FALSE(SpiffeId::Parse(long_td).ok());
  std::string many = "spiffe://dev/svc";
  for (int i = 0; i < 8; ++i) many += "/a";
  EXPECT_FALSE(SpiffeId::Parse(many).ok());
  std::string huge = "spiffe://dev/svc/" + std::string(1 << 20, 'a');
  auto s = SpiffeId::Parse(huge);
  ASSERT_FALSE(s.ok());
  // Errors stay one short line whatever the input.
  EXPECT_LT(s.status().message().size(), 300u);
}

TEST(SpiffeId, ErrorQuotesHostileBytesEscaped) {
  auto s = SpiffeId::Parse("spiffe://dev/svc/a\nlevel=error");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().message().find('\n'), std::string::npos);
}

TEST(SpiffeId, ForServiceAndClient) {
  EXPECT_EQ(SpiffeId::ForService("dev", "keyd")->ToUri(),
            "spiffe://dev/svc/keyd");
  EXPECT_EQ(SpiffeId::ForClient("dev", "rustiqctl")->path(),
            "client/rustiqctl");
  EXPECT_FALSE(SpiffeId::ForService("dev", "../keyd").ok());
  EXPECT_FALSE(SpiffeId::ForService("dev", "").ok());
}

TEST(CallerPattern, ExactMatchOnly) {
  auto p = CallerPattern::Parse("svc/supervisord");
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->Matches("svc/supervisord"));
  EXPECT_FALSE(p->Matches("svc/supervisord2"));
  EXPECT_FALSE(p->Matches("svc/supervisor"));
  EXPECT_FALSE(p->Matches("svc/supervisord/x"));
  EXPECT_FALSE(p->Matches("svc/SUPERVISORD"));
  EXPECT_FALSE(p->Matches(""));
}

TEST(CallerPattern, StarMatchesExactlyOneSegment) {
  auto p = CallerPattern::Parse("client/*");
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->Matches("client/rustiqctl"));
  EXPECT_TRUE(p->Matches("client/a"));
  EXPECT_FALSE(p->Matches("client"));
  EXPECT_FALSE(p->Matches("client/"));
  EXPECT_FALSE(p->Matches("client/a/b"));
  EXPECT_FALSE(p->Matches("svc/a"));
  EXPECT_FALSE(p->Matches("clients/a"));
  EXPECT_FALSE(p->Matches("xclient/a"));
}

TEST(CallerPattern, RefusesBadPatterns) {
  for (const char* bad : {"", "*", "*/*", "client/a*", "client/*a", "client/**",
                          "client//*", "client/../x", "Client/*", "svc/%2a",
                          "other/*", "client/*/", "/client/*"}) {
    EXPECT_FALSE(CallerPattern::Parse(bad).ok()) << "accepted: " << bad;
  }
  EXPECT_TRUE(CallerPattern::Parse("svc/*").ok());
  EXPECT_TRUE(CallerPattern::Parse("client/*/x").ok());
}

}  // namespace
}  // namespace rustiq::identity
