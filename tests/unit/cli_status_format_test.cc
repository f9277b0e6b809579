// How rustiqctl status and services show supervisord's answers
// (cli/status_format.h): human units, the exact rows of both tables, where
// findings are coloured, the --json fields, and the exit-code decision.
#include <stdlib.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "cli/output.h"
#include "cli/status_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace rustiq::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

std::vector<std::string> Lines(const std::string& text) {
  return absl::StrSplit(text, '\n');
}

v1::DaemonStatus Serving(const std::string& name, int32_t pid) {
  v1::DaemonStatus d;
  d.set_name(name);
  d.set_state(v1::DAEMON_STATE_RUNNING);
  d.set_health(v1::DAEMON_HEALTH_SERVING);
  d.set_pid(pid);
  return d;
}

// keyd serving; eventd in back-off after a seccomp kill.
v1::ListDaemonsResponse TwoDaemons() {
  v1::ListDaemonsResponse resp;
  v1::DaemonStatus* keyd = resp.add_daemons();
  *keyd = Serving("keyd", 1234);
  keyd->set_uptime_ms(192'000);
  keyd->set_rss_bytes(2'202'010);
  keyd->set_pss_bytes(1536 * 1024);
  v1::DaemonStatus* eventd = resp.add_daemons();
  eventd->set_name("eventd");
  eventd->set_state(v1::DAEMON_STATE_BACKOFF);
  eventd->set_health(v1::DAEMON_HEALTH_UNKNOWN);
  eventd->set_restarts(3);
  eventd->mutable_last_exit()->set_kind("sandbox");
  eventd->mutable_last_exit()->set_text("killed by SIGSYS (ptrace)");
  return resp;
}

// keyd confined as intended; authd running as root without a filter.
v1::ListDaemonsResponse TwoPostures() {
  v1::ListDaemonsResponse resp;
  v1::DaemonStatus* keyd = resp.add_daemons();
  *keyd = Serving("keyd", 1234);
  v1::DaemonPosture* p = keyd->mutable_posture();
  p->set_user("keyd");
  p->set_uid(998);
  p->set_group("keyd");
  p->set_gid(998);
  p->set_capabilities_effective("none");
  p->set_no_new_privs(true);
  p->set_seccomp("filter");
  p->set_seccomp_filters(2);
  p->set_landlock("not visible");
  p->set_dumpable("no");
  p->set_core_limit("0");
  v1::DaemonStatus* authd = resp.add_daemons();
  *authd = Serving("authd", 1300);
  p = authd->mutable_posture();
  p->set_user("root");
  p->set_group("root");
  p->set_capabilities_effective("cap_kill");
  p->set_seccomp("disabled");
  p->set_landlock("not visible");
  p->set_apparmor("rustiq-authd (enforce)");
  p->set_dumpable("yes");
  p->set_core_limit("unlimited");
  p->add_findings("runs as root");
  p->add_findings("seccomp not in filter mode");
  return resp;
}

TEST(StatusFormat, DurationsRoundDownToTwoUnits) {
  EXPECT_EQ(DurationText(0), "0s");
  EXPECT_EQ(DurationText(999), "0s");
  EXPECT_EQ(DurationText(59'999), "59s");
  EXPECT_EQ(DurationText(60'000), "1m00s");
  EXPECT_EQ(DurationText(192'000), "3m12s");
  EXPECT_EQ(DurationText(3'599'999), "59m59s");
  EXPECT_EQ(DurationText(3'720'000), "1h02m");
  EXPECT_EQ(DurationText(86'400'000 + 3 * 3'600'000), "1d03h");
  EXPECT_EQ(DurationText(-1), "-");
}

TEST(StatusFormat, BytesInBinaryUnitsWithOneDecimal) {
  EXPECT_EQ(BytesText(0), "0 B");
  EXPECT_EQ(BytesText(1023), "1023 B");
  EXPECT_EQ(BytesText(1024), "1.0 KiB");
  EXPECT_EQ(BytesText(1536 * 1024), "1.5 MiB");
  EXPECT_EQ(BytesText(2'202'010), "2.1 MiB");
  // Just under 1 MiB would print as "1024.0 KiB": the next unit instead.
  EXPECT_EQ(BytesText(1024 * 1024 - 1), "1.0 MiB");
  EXPECT_EQ(BytesText(std::numeric_limits<uint64_t>::max()), "16.0 EiB");
}

TEST(StatusFormat, StatesAndHealthAreLowerCaseWords) {
  EXPECT_EQ(StateText(v1::DAEMON_STATE_RUNNING), "running");
  EXPECT_EQ(StateText(v1::DAEMON_STATE_FAILED), "failed");
  EXPECT_EQ(StateText(v1::DAEMON_STATE_UNSPECIFIED), "unknown");
  EXPECT_EQ(StateText(static_cast<v1::DaemonState>(99)), "unknown");
  EXPECT_EQ(HealthText(v1::DAEMON_HEALTH_SERVING), "serving");
  EXPECT_EQ(HealthText(v1::DAEMON_HEALTH_NOT_SERVING), "not-serving");
  EXPECT_EQ(HealthText(v1::DAEMON_HEALTH_UNREACHABLE), "unreachable");
}

TEST(StatusFormat, HeaderNamesDeviceVersionUptimeAndServingCount) {
  v1::StackInfoResponse stack;
  stack.set_device_id("dev-1");
  stack.set_version("0.4.0");
  stack.set_uptime_ms(3'720'000);
  stack.set_mode("standalone");
  stack.set_daemons(6);
  stack.set_daemons_serving(5);
  EXPECT_EQ(StackHeaderText(stack),
            "device dev-1, rustiq 0.4.0, supervisord up 1h02m (standalone), "
            "5/6 daemons serving");
}

TEST(StatusFormat, DaemonsTableRows) {
  EXPECT_THAT(
      Lines(DaemonsTable(TwoDaemons())),
      ElementsAre(
          "NAME    STATE    HEALTH   PID   UPTIME  RESTARTS  RSS      PSS"
          "      LAST EXIT",
          "keyd    running  serving  1234  3m12s   0         2.1 MiB  1.5 MiB"
          "  -",
          "eventd  backoff  unknown  -     -       3         -        -"
          "        killed by SIGSYS (ptrace)"));
  EXPECT_EQ(DaemonsTable(v1::ListDaemonsResponse()), "no daemons");
}

TEST(StatusFormat, DaemonTextCannotCarryTerminalEscapes) {
  v1::ListDaemonsResponse resp;
  *resp.add_daemons() = Serving("keyd", 1);
  resp.mutable_daemons(0)->mutable_last_exit()->set_text("a\033[2Jb");
  EXPECT_THAT(DaemonsTable(resp), Not(HasSubstr("\033")));
}

TEST(StatusFormat, PostureTableRowsWithFindingsBelowTheirDaemon) {
  EXPECT_THAT(
      Lines(PostureTable(TwoPostures(), /*colour=*/false)),
      ElementsAre("NAME   USER(UID)  GROUP(GID)  CAPS      NNP  SECCOMP    "
                  "LANDLOCK     APPARMOR                DUMPABLE  CORE",
                  "keyd   keyd(998)  keyd(998)   none      yes  filter(2)  "
                  "not visible  -                       no        0",
                  "authd  root(0)    root(0)     cap_kill  no   disabled   "
                  "not visible  rustiq-authd (enforce)  yes       unlimited",
                  "  ! runs as root", "  ! seccomp not in filter mode"));
}

TEST(StatusFormat, PostureOfADaemonNotRunningIsDashes) {
  v1::ListDaemonsResponse resp;
  v1::DaemonStatus* d = resp.add_daemons();
  d->set_name("updated");
  d->set_state(v1::DAEMON_STATE_STOPPED);
  EXPECT_THAT(Lines(PostureTable(resp, /*colour=*/false)),
              ElementsAre("NAME     USER(UID)  GROUP(GID)  CAPS  NNP  SECCOMP  "
                          "LANDLOCK  APPARMOR  DUMPABLE  CORE",
                          "updated  -          -           -     -    -        "
                          "-         -         -         -"));
}

TEST(StatusFormat, FindingsAreBoldRedOnlyWithColour) {
  std::string plain = PostureTable(TwoPostures(), /*colour=*/false);
  EXPECT_THAT(plain, Not(HasSubstr("\033")));
  std::string coloured = PostureTable(TwoPostures(), /*colour=*/true);
  EXPECT_THAT(
      Lines(coloured),
      ElementsAre(Not(HasSubstr("\033")), Not(HasSubstr("\033")),
                  Not(HasSubstr("\033")), "\033[1;31m  ! runs as root\033[0m",
                  "\033[1;31m  ! seccomp not in filter mode\033[0m"));
}

TEST(StatusFormat, NoColourWhenNoColorIsSet) {
  ASSERT_EQ(setenv("NO_COLOR", "", 1), 0);
  EXPECT_FALSE(ColourWanted());
  ASSERT_EQ(unsetenv("NO_COLOR"), 0);
}

TEST(StatusFormat, DaemonJsonHasEveryFieldWithRawNumbers) {
  v1::ListDaemonsResponse resp = TwoDaemons();
  nlohmann::json keyd = DaemonStatusJson(resp.daemons(0));
  for (const char* key :
       {"name", "state", "health", "pid", "started_unix_ms", "uptime_ms",
        "restarts", "last_exit", "rss_bytes", "pss_bytes", "restart_at_unix_ms",
        "after", "user", "last_log_lines"}) {
    EXPECT_TRUE(keyd.contains(key)) << key;
  }
  EXPECT_FALSE(keyd.contains("posture"));  // not asked for
  EXPECT_EQ(keyd["state"], "running");
  EXPECT_EQ(keyd["health"], "serving");
  EXPECT_EQ(keyd["rss_bytes"], 2'202'010);
  EXPECT_EQ(keyd["uptime_ms"], 192'000);
  nlohmann::json eventd = DaemonStatusJson(resp.daemons(1));
  EXPECT_EQ(eventd["last_exit"]["kind"], "sandbox");
  EXPECT_EQ(eventd["last_exit"]["text"], "killed by SIGSYS (ptrace)");

  nlohmann::json authd = DaemonStatusJson(TwoPostures().daemons(1));
  ASSERT_TRUE(authd.contains("posture"));
  EXPECT_EQ(authd["posture"]["uid"], 0);
  EXPECT_EQ(authd["posture"]["seccomp"], "disabled");
  EXPECT_EQ(authd["posture"]["findings"],
            nlohmann::json({"runs as root", "seccomp not in filter mode"}));
}

TEST(StatusFormat, StatusJsonIsStackAndDaemons) {
  v1::StackInfoResponse stack;
  stack.set_device_id("dev-1");
  stack.set_uptime_ms(5000);
  stack.set_daemons(2);
  stack.set_daemons_serving(1);
  nlohmann::json j = StatusJson(stack, TwoDaemons());
  ASSERT_EQ(j.size(), 2u);
  for (const char* key : {"version", "device_id", "started_unix_ms",
                          "uptime_ms", "mode", "daemons", "daemons_serving"}) {
    EXPECT_TRUE(j["stack"].contains(key)) << key;
  }
  EXPECT_EQ(j["stack"]["uptime_ms"], 5000);
  ASSERT_TRUE(j["daemons"].is_array());
  EXPECT_EQ(j["daemons"].size(), 2u);
  EXPECT_EQ(j["daemons"][1]["name"], "eventd");
}

TEST(StatusFormat, JsonLineReplacesInvalidUtf8) {
  v1::DaemonStatus d = Serving("keyd", 1);
  d.add_last_log_lines(std::string("bad \xff byte"));
  EXPECT_THAT(JsonLine(DaemonStatusJson(d)),
              HasSubstr("bad \xEF\xBF\xBD byte"));
}

TEST(StatusFormat, HealthyOnlyWhenEveryDaemonRunsAndServes) {
  v1::ListDaemonsResponse resp;
  *resp.add_daemons() = Serving("keyd", 1);
  *resp.add_daemons() = Serving("eventd", 2);
  EXPECT_EQ(JudgeStack(resp, false), StackVerdict::kHealthy);
  EXPECT_EQ(ExitCodeForVerdict(StackVerdict::kHealthy), kExitOk);

  resp.mutable_daemons(1)->set_health(v1::DAEMON_HEALTH_NOT_SERVING);
  EXPECT_EQ(JudgeStack(resp, false), StackVerdict::kNotServing);
  resp.mutable_daemons(1)->set_health(v1::DAEMON_HEALTH_SERVING);
  resp.mutable_daemons(1)->set_state(v1::DAEMON_STATE_STARTING);
  EXPECT_EQ(JudgeStack(resp, false), StackVerdict::kNotServing);
  EXPECT_EQ(JudgeStack(TwoDaemons(), true), StackVerdict::kNotServing);
  EXPECT_EQ(ExitCodeForVerdict(StackVerdict::kNotServing), kExitNotServing);
}

TEST(StatusFormat, FindingsFailTheCheckOnlyWithSecurity) {
  EXPECT_EQ(JudgeStack(TwoPostures(), /*security=*/true),
            StackVerdict::kPostureFindings);
  EXPECT_EQ(JudgeStack(TwoPostures(), /*security=*/false),
            StackVerdict::kHealthy);
  EXPECT_EQ(ExitCodeForVerdict(StackVerdict::kPostureFindings),
            kExitNotServing);
  // Not serving wins over findings: it is the more urgent of the two.
  v1::ListDaemonsResponse resp = TwoPostures();
  resp.mutable_daemons(0)->set_health(v1::DAEMON_HEALTH_UNREACHABLE);
  EXPECT_EQ(JudgeStack(resp, true), StackVerdict::kNotServing);
}

TEST(StatusFormat, DaemonNamesCheckedBeforeSending) {
  EXPECT_TRUE(CheckDaemonName("keyd").ok());
  EXPECT_TRUE(CheckDaemonName("a_b-9").ok());
  EXPECT_TRUE(CheckDaemonName(std::string(32, 'a')).ok());
  for (const std::string& bad :
       {std::string(), std::string(33, 'a'), std::string("Keyd"),
        std::string("key d"), std::string("../keyd"), std::string("keyd\n")}) {
    absl::Status s = CheckDaemonName(bad);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(s.message(), HasSubstr("NAME")) << bad;
  }
}

TEST(StatusFormat, ServiceActionLine) {
  v1::DaemonStatus d = Serving("keyd", 1234);
  d.set_state(v1::DAEMON_STATE_STARTING);
  EXPECT_EQ(ServiceActionText("restarting", d),
            "keyd: restarting (state starting, pid 1234)");
  d.set_state(v1::DAEMON_STATE_STOPPED);
  d.set_pid(0);
  EXPECT_EQ(ServiceActionText("stopping", d), "keyd: stopping (state stopped)");
}

}  // namespace
}  // namespace rustiq::cli
