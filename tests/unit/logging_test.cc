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

TEST(Log, ParsesLevels) {
  Level l;
  EXPECT_TRUE(ParseLevel("debug", &l));
  EXPECT_EQ(l, Level::kDebug);
  EXPECT_FALSE(ParseLevel("verbose", &l));
}

}  // namespace
}  // namespace rustiq::log
