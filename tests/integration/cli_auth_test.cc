// rustiqctl login / whoami / users / roles / logout as a person runs them:
// the real rustiqctl binary against real, confined rustiq-keyd, rustiq-eventd
// and rustiq-authd on a provisioned test device, the token kept in a
// runtime directory of the test's own.
#include <sys/stat.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "services/authd/authd_setup.h"
#include "tests/support/cli_runner.h"
#include "tests/support/test_device.h"

namespace rustiq::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kInitial[] = "Provisioned-cred-7Kq2-xw9T";
constexpr char kNew[] = "Harbor-Violet-6603-Thistle";

class CliAuthTest : public ::testing::Test {
 protected:
  CliAuthTest()
      : device_([](config::StackConfig& c) {
          c.authd.argon2_memory_kib = 8192;
          c.authd.argon2_iterations = 1;
          // Long enough that a second rustiqctl run comes within it.
          c.authd.login_delay_ms = 1500;
        }) {}

  void SetUp() override {
    ASSERT_TRUE(
        authd::ProvisionFirstAdmin(device_.config(), "admin", kInitial).ok());
    runtime_ = absl::StrCat(device_.root(), "/user-runtime");
    std::filesystem::create_directories(runtime_);
    chmod(runtime_.c_str(), 0700);
    for (const char* d : {"keyd", "eventd", "authd"}) {
      daemons_.push_back(std::make_unique<ServerProcess>(device_, d));
      ASSERT_TRUE(daemons_.back()->WaitServing(absl::Seconds(15)))
          << daemons_.back()->Log();
    }
  }

  // rustiqctl on this device as this test's user; `input` on its stdin.
  CtlRun Run(const std::string& args, const std::string& input = "") {
    std::string command =
        absl::StrCat("--config ", device_.config_path(), " ", args);
    if (!input.empty()) {
      std::string file = absl::StrCat(device_.root(), "/stdin");
      FILE* f = fopen(file.c_str(), "w");
      fputs(input.c_str(), f);
      fclose(f);
      command += " < " + file;
    }
    return Ctl(command, absl::StrCat("XDG_RUNTIME_DIR=", runtime_));
  }

  // Logs the admin in, through the forced change of the first login.
  void LogInAdmin() {
    CtlRun r = Run("login admin --password-stdin",
                   absl::StrCat(kInitial, "\n", kNew, "\n"));
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  // Retries `args` until it exits with `code` (daemons other than authd
  // start refusing tokens until they follow authd's revocations).
  CtlRun Eventually(const std::string& args, int code) {
    CtlRun r;
    for (int i = 0; i < 50; ++i) {
      r = Run(args);
      if (r.exit_code == code) break;
      absl::SleepFor(absl::Milliseconds(100));
    }
    return r;
  }

  std::string TokenPath() const { return runtime_ + "/rustiq/token"; }

  TestDevice device_;
  std::string runtime_;
  std::vector<std::unique_ptr<ServerProcess>> daemons_;
};

TEST_F(CliAuthTest, FirstLoginChangesThePasswordAndStoresAPrivateToken) {
  CtlRun r = Run("login admin --password-stdin",
                 absl::StrCat(kInitial, "\n", kNew, "\n"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("logged in as admin"));
  EXPECT_THAT(r.err, HasSubstr("must be changed"));
  struct stat st {};
  ASSERT_EQ(stat(TokenPath().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // The token is never printed.
  EXPECT_THAT(r.out, Not(HasSubstr("v4.public.")));
  CtlRun who = Run("whoami --json");
  ASSERT_EQ(who.exit_code, 0) << who.err;
  nlohmann::json j = nlohmann::json::parse(who.out);
  EXPECT_EQ(j["user"], "admin");
  // The old credential is gone; the new one works.
  r = Run("login admin --password-stdin", absl::StrCat(kInitial, "\n"));
  EXPECT_EQ(r.exit_code, 4) << r.err;
  absl::SleepFor(absl::Milliseconds(1600));
  r = Run("login admin --password-stdin", absl::StrCat(kNew, "\n"));
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST_F(CliAuthTest, WrongPasswordIsDeniedInOneLine) {
  CtlRun r = Run("login admin --password-stdin", "not-the-password\n");
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_THAT(r.err, HasSubstr("wrong user name or password"));
  EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << r.err;
  // At once again: throttled.
  r = Run("login admin --password-stdin", "not-the-password\n");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("try again"));
}

TEST_F(CliAuthTest, AdminManagesUsersAndTheirTokensWorkAtOtherDaemons) {
  LogInAdmin();
  CtlRun r = Run("users create bob --role auditor --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string bob_initial =
      nlohmann::json::parse(r.out)["initial_password"].get<std::string>();
  ASSERT_FALSE(bob_initial.empty());
  r = Run("users list --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("\"bob\""));
  // The admin's token reaches keyd and eventd.
  EXPECT_EQ(Eventually("keys list", 0).exit_code, 0);
  EXPECT_EQ(Eventually("events list --limit 5", 0).exit_code, 0);
  r = Run("roles list");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("auditor"));

  // bob, an auditor, can read but not manage.
  r = Run("login bob --password-stdin",
          absl::StrCat(bob_initial, "\nBrass-Orchid-1187-Falcon\n"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Eventually("events list --limit 5", 0).exit_code, 0);
  r = Run("keys create bobs-key --algorithm ed25519");
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_THAT(r.err, HasSubstr("keys.manage"));
  r = Run("users create mallory --role admin");
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_THAT(r.err, HasSubstr("users.manage"));

  // After logout the token is gone, locally and at the daemons.
  r = Run("logout");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(std::filesystem::exists(TokenPath()));
  r = Run("whoami");
  EXPECT_EQ(r.exit_code, 4) << r.err;
}

TEST_F(CliAuthTest, LastAdminCannotBeDeleted) {
  LogInAdmin();
  CtlRun r = Run("users delete admin --yes");
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr("last admin"));
}

// Provisioning a new device creates the first admin with a unique random
// credential, shown once; provisioning it again creates nobody.
TEST(CliProvisionAdminTest,
     FirstProvisioningCreatesOneAdminWithAFreshCredential) {
  char tmpl[] = "/tmp/rustiq-prov-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::string root = tmpl;
  std::vector<std::string> credentials;
  for (const char* device : {"/a", "/b"}) {
    CtlRun r =
        Ctl(absl::StrCat("--json provision device --root ", root, device));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    nlohmann::json j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["admin"], "admin");
    credentials.push_back(j["initial_admin_password"].get<std::string>());
    EXPECT_EQ(credentials.back().size(), 23u) << credentials.back();
  }
  // No universal default: two devices, two credentials.
  EXPECT_NE(credentials[0], credentials[1]);
  CtlRun again =
      Ctl(absl::StrCat("--json provision device --root ", root, "/a"));
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_FALSE(nlohmann::json::parse(again.out).contains("admin"));
  CtlRun admin = Ctl(
      absl::StrCat("--config ", root, "/a/etc/rustiq.toml provision admin"));
  EXPECT_EQ(admin.exit_code, 1);
  EXPECT_THAT(admin.err, HasSubstr("accounts already"));
  std::filesystem::remove_all(root);
}

}  // namespace
}  // namespace rustiq::testing
