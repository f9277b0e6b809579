// The [supervisord] section: its daemons, their checks, and the round trip
// through RenderConfig that provisioning relies on.
#include <string>

#include "common/config/config.h"
#include "common/config/daemons.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace rustiq::config {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

absl::StatusOr<StackConfig> Parse(const std::string& supervisord) {
  return ParseConfig("[device]\nid = \"dev-1\"\n" + supervisord, "t.toml");
}

TEST(SupervisordConfig, ReadsDaemonsAndKnobs) {
  auto cfg = Parse(R"(
[supervisord]
health_interval_ms = 250
crash_loop_exits = 3
[supervisord.daemons.keyd]
binary = "/opt/rustiq-keyd"
args = ["--seccomp-complain"]
user = "rustiq-keyd"
group = "rustiq"
[supervisord.daemons.eventd]
binary = "/opt/rustiq-eventd"
after = ["keyd"]
restart = "on-failure"
)");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  const SupervisordConfig& s = cfg->supervisord;
  EXPECT_EQ(s.health_interval_ms, 250u);
  EXPECT_EQ(s.crash_loop_exits, 3u);
  EXPECT_EQ(s.health_failures, 3u);  // default kept
  ASSERT_EQ(s.daemons.size(), 2u);
  const SupervisedDaemon& eventd =
      s.daemons[0].name == "eventd" ? s.daemons[0] : s.daemons[1];
  const SupervisedDaemon& keyd =
      s.daemons[0].name == "keyd" ? s.daemons[0] : s.daemons[1];
  EXPECT_EQ(keyd.binary, "/opt/rustiq-keyd");
  EXPECT_THAT(keyd.args, ElementsAre("--seccomp-complain"));
  EXPECT_EQ(keyd.user, "rustiq-keyd");
  EXPECT_EQ(keyd.restart, "always");
  EXPECT_THAT(eventd.after, ElementsAre("keyd"));
  EXPECT_EQ(eventd.restart, "on-failure");
}

TEST(SupervisordConfig, RefusesWhatItCannotRun) {
  struct Case {
    const char* text;
    const char* error;
  };
  for (const Case& c : {
           Case{"[supervisord]\nhealth_failures = 0\n",
                "supervisord.health_failures"},
           Case{"[supervisord]\nrestart_delay_ms = 500\n"
                "restart_max_delay_ms = 100\n",
                "below restart_delay_ms"},
           Case{"[supervisord]\nbogus = 1\n",
                "unknown key 'supervisord.bogus'"},
           Case{"[supervisord.daemons.keyd]\n", "needs binary"},
           Case{"[supervisord.daemons.keyd]\nbinary = \"rustiq-keyd\"\n",
                "an absolute path"},
           Case{"[supervisord.daemons.keyd]\nbinary = \"/b\"\n"
                "restart = \"sometimes\"\n",
                "\"always\", \"on-failure\" or \"never\""},
           Case{"[supervisord.daemons.keyd]\nbinary = \"/b\"\n"
                "after = [\"cloudd\"]\n",
                "names \"cloudd\", which is not a daemon"},
           Case{"[supervisord.daemons.keyd]\nbinary = \"/b\"\n"
                "after = [\"keyd\"]\n",
                "the daemon itself"},
           Case{
               "[supervisord.daemons.keyd]\nbinary = \"/b\"\nuser = \"Root\"\n",
               "supervisord.daemons.keyd.user"},
           Case{"[supervisord.daemons.\"Key D\"]\nbinary = \"/b\"\n",
                "the daemon's name must be"},
           Case{"[supervisord.daemons.keyd]\nbinary = \"/b\"\nargs = [1]\n",
                "an array of strings"},
           Case{"[supervisord.daemons.keyd]\nbinary = \"/b\"\ncolour = 1\n",
                "unknown key 'supervisord.daemons.keyd.colour'"},
           Case{"[supervisord]\ndaemons = 3\n", "a table"},
           Case{"[supervisord.daemons.keyd]\nbinary = \"/b\"\n"
                "user = \"rustiq-keyd\"\n",
                "sets user without group"},
           Case{"[supervisord.daemons.keyd]\nbinary = \"/b\"\n"
                "group = \"rustiq\"\n",
                "sets group without user"},
       }) {
    auto cfg = Parse(c.text);
    ASSERT_FALSE(cfg.ok()) << c.text;
    EXPECT_THAT(cfg.status().message(), HasSubstr(c.error)) << c.text;
    EXPECT_THAT(cfg.status().message(), HasSubstr("t.toml")) << c.text;
  }
}

TEST(SupervisordConfig, RoundTripsThroughRender) {
  StackConfig cfg;
  cfg.device_id = "dev-3";
  cfg.supervisord.stop_timeout_ms = 1234;
  cfg.supervisord.daemons = StackDaemonsConfig("/opt/bin", true);
  auto back = ParseConfig(RenderConfig(cfg), "rendered");
  ASSERT_TRUE(back.ok()) << back.status() << "\n" << RenderConfig(cfg);
  EXPECT_EQ(back->supervisord.stop_timeout_ms, 1234u);
  ASSERT_EQ(back->supervisord.daemons.size(), kSupervisedDaemons.size());
  for (const SupervisedDaemon& d : back->supervisord.daemons) {
    EXPECT_EQ(d.binary, "/opt/bin/rustiq-" + d.name);
    EXPECT_EQ(d.user, "rustiq-" + d.name);
    EXPECT_EQ(d.group, "rustiq");
    if (d.name == "authd") {
      EXPECT_THAT(d.after, ElementsAre("keyd", "eventd"));
    }
    if (d.name == "keyd") {
      EXPECT_TRUE(d.after.empty());
    }
  }
}

TEST(SupervisordConfig, StackDaemonsWithoutUsersRunAsSupervisord) {
  for (const SupervisedDaemon& d : StackDaemonsConfig("/b", false)) {
    EXPECT_TRUE(d.user.empty()) << d.name;
    EXPECT_TRUE(d.group.empty()) << d.name;
  }
}

}  // namespace
}  // namespace rustiq::config
