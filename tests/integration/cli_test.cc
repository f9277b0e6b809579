// rustiqctl as a user runs it: a real binary against a real test server.
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/cli_runner.h"
#include "tests/support/test_device.h"

namespace rustiq::testing {
namespace {

using ::testing::HasSubstr;

TEST(Cli, VersionAndJson) {
  CtlRun r = Ctl("version");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.out, HasSubstr("rustiqctl "));
  r = Ctl("--json version");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.out, HasSubstr("\"version\":"));
}

TEST(Cli, UsageErrorsExitTwoWithOneLine) {
  for (const char* args : {"", "no-such-command", "ping", "version --bogus"}) {
    CtlRun r = Ctl(args);
    EXPECT_EQ(r.exit_code, 2) << args << ": " << r.err;
    EXPECT_THAT(r.err, HasSubstr("rustiqctl")) << args;
  }
  CtlRun help = Ctl("ping --help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_THAT(help.out, HasSubstr("daemon"));
}

TEST(Cli, MissingConfigurationExitsSixAndSaysWhatToDo) {
  CtlRun r = Ctl("--config /nonexistent/rustiq.toml ping testserver");
  EXPECT_EQ(r.exit_code, 6);
  EXPECT_THAT(r.err, HasSubstr("rustiqctl provision"));
}

TEST(Cli, PingServingDaemon) {
  TestDevice device;
  ServerProcess server(device);
  ASSERT_TRUE(server.WaitServing(absl::Seconds(15))) << server.Log();
  CtlRun r = Ctl("--config " + device.config_path() + " ping testserver");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("testserver: SERVING"));
  r = Ctl("--json ping testserver", "RUSTIQ_CONFIG=" + device.config_path());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("\"status\":\"SERVING\""));
  // client/alice is not allowed to call Health: exit code 4, reason given.
  r = Ctl("--config " + device.config_path() + " --as alice ping testserver");
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_THAT(r.err, HasSubstr("client/alice is not allowed"));
}

TEST(Cli, AShortTimeoutStillLetsTheCallThrough) {
  // gRPC's service-config timeout ends calls 1-2 s early; --timeout is set on
  // each call itself (rpc::SetCallDeadline), so 1 s is 1 s.
  TestDevice device;
  ServerProcess server(device);
  ASSERT_TRUE(server.WaitServing(absl::Seconds(15))) << server.Log();
  for (const char* timeout : {"1000", "300"}) {
    CtlRun r = Ctl("--config " + device.config_path() + " --timeout " +
                   timeout + " ping testserver");
    EXPECT_EQ(r.exit_code, 0) << timeout << ": " << r.err;
    EXPECT_THAT(r.out, HasSubstr("testserver: SERVING"));
  }
}

TEST(Cli, PingAbsentDaemonExitsThree) {
  TestDevice device;
  CtlRun r =
      Ctl("--config " + device.config_path() + " --timeout 500 ping keyd");
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_THAT(r.err, HasSubstr("keyd"));
}

TEST(Cli, ProvisionDeviceIsIdempotentAndKeepsTheDeviceId) {
  std::string root =
      ::testing::TempDir() + "/cli-provision-" + std::to_string(getpid());
  CtlRun first = Ctl("--json provision device --root " + root);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_THAT(first.out, HasSubstr("\"reused\":false"));
  EXPECT_TRUE(std::filesystem::exists(root + "/etc/rustiq.toml"));
  EXPECT_TRUE(
      std::filesystem::exists(root + "/state/keyd/identity/current/key.pem"));
  EXPECT_TRUE(std::filesystem::exists(
      root + "/state/clients/rustiqctl/identity/current/cert.pem"));
  CtlRun second = Ctl("--json provision device --root " + root);
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_THAT(second.out, HasSubstr("\"reused\":true"));
  // Same device ID both times.
  auto id_of = [](const std::string& json) {
    size_t p = json.find("\"device_id\":\"");
    return json.substr(p + 13, json.find('"', p + 13) - p - 13);
  };
  EXPECT_EQ(id_of(first.out), id_of(second.out));
  // Asking for another ID on an existing device is refused.
  CtlRun clash = Ctl("provision device --root " + root + " --device-id other");
  EXPECT_EQ(clash.exit_code, 6);
  EXPECT_THAT(clash.err, HasSubstr("already provisions device"));
  // An extra identity.
  CtlRun extra = Ctl("--config " + root +
                     "/etc/rustiq.toml provision identity client/app1");
  EXPECT_EQ(extra.exit_code, 0) << extra.err;
  CtlRun bad = Ctl("--config " + root +
                   "/etc/rustiq.toml provision identity client/../x");
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
  std::filesystem::remove_all(root);
}

TEST(Cli, PostureReadsTheKernelsView) {
  CtlRun self = Ctl("posture");
  EXPECT_EQ(self.exit_code, 0) << self.err;
  EXPECT_THAT(self.out, HasSubstr("no_new_privs:"));
  EXPECT_THAT(self.out, HasSubstr("seccomp:"));
  CtlRun json = Ctl("--json posture 1");
  EXPECT_EQ(json.exit_code, 0) << json.err;
  EXPECT_THAT(json.out, HasSubstr("\"pid\":1"));
  EXPECT_THAT(json.out, HasSubstr("\"cap_bounding\""));
  CtlRun missing = Ctl("posture 999999999");
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_THAT(missing.err, HasSubstr("no such process"));
}

TEST(Cli, ProvisionRefusesBadDeviceId) {
  CtlRun r = Ctl("provision device --root " + ::testing::TempDir() +
                 "/bad-id --device-id 'Bad ID'");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--device-id"));
}

}  // namespace
}  // namespace rustiq::testing
