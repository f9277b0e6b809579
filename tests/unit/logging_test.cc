#include "common/logging/escape.h"
#include "common/logging/log.h"
#include "gtest/gtest.h"

namespace rustiq::log {
namespace {

TEST(Log, FormatsKeyValues) {
  SetDaemonName("keyd");
  std::string line = FormatRecord(
      Level::kInfo, "serving", {{"socket", "/run/rustiq/keyd.sock"}, {"n", 3}});
  EXPECT_NE(line.find("level=info daemon=keyd msg=serving "
                      "socket=/run/rustiq/keyd.sock n=3"),
            std::string::npos)
      << line;
}

TEST(Log, HostileValuesCannotForgeFieldsOrLines) {
  std::string line = FormatRecord(
      Level::kWarning, "denied",
      {{"actor", "x\nts=0 level=error msg=forged"}, {"q", "a\"b=c"}});
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_NE(line.find(R"(actor="x\nts=0 level=error msg=forged")"),
            std::string::npos)
      << line;
  EXPECT_NE(line.find(R"(q="a\"b=c")"), std::string::npos) << line;
  std::string ctl =
      FormatRecord(Level::kInfo, "m", {{"k", std::string("a\x01", 2)}});
  EXPECT_NE(ctl.find(R"(k="a\x01")"), std::string::npos) << ctl;
}

TEST(EscapeUntrusted, KeepsPrintableEscapesTheRestAndCuts) {
  EXPECT_EQ(EscapeUntrusted("svc/keyd", 80), "svc/keyd");
  EXPECT_EQ(EscapeUntrusted(std::string("a\nb\0\"\\", 6), 80),
            "a\\x0ab\\x00\\x22\\x5c");
  EXPECT_EQ(EscapeUntrusted("\xd0\xba", 80), "\\xd0\\xba");
  EXPECT_EQ(EscapeUntrusted(std::string(300, 'a'), 200),
            std::string(200, 'a') + "...");
}

TEST(Log, ParsesLevels) {
  Level l;
  EXPECT_TRUE(ParseLevel("debug", &l));
  EXPECT_EQ(l, Level::kDebug);
  EXPECT_FALSE(ParseLevel("verbose", &l));
}

}  // namespace
}  // namespace rustiq::log
