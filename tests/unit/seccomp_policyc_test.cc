// The real rustiq-policyc, as the build runs it (cmake/RustiqPolicy.cmake):
// every bad fixture in tests/policies/bad fails with "file:line: ..." and
// writes nothing; every good fixture and every daemon policy compiles.
//
// A bad fixture says what it expects on its first line:
//   # expect: <line>: <text the error contains>
// (empty_file.policy, which has no line at all, expects the empty-policy
// error on line 1).
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

struct RunResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

// Runs rustiq-policyc from the project root, like the build does, with the
// policy path relative to it.
RunResult RunPolicyc(const std::string& policy, const std::string& daemon,
                     const std::string& out_cc, const std::string& out_h) {
  const std::string command =
      absl::StrCat("cd '", RUSTIQ_SOURCE_DIR, "' && '", RUSTIQ_POLICYC_PATH,
                   "' --daemon ", daemon, " --in '", policy, "' --out '",
                   out_cc, "' --header '", out_h, "' 2>&1");
  RunResult result;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) {
    result.output.append(buffer, n);
  }
  int status = pclose(pipe);
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  return result;
}

std::vector<std::string> PoliciesIn(const fs::path& dir) {
  std::vector<std::string> names;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() == ".policy") {
      names.push_back(entry.path().filename().string());
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::string FirstLine(const fs::path& file) {
  std::ifstream in(file);
  std::string line;
  std::getline(in, line);
  return line;
}

class PolicycTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/rustiq-policyc-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path dir_;
};

TEST_F(PolicycTest, RejectsEveryBadFixtureWithFileAndLine) {
  const fs::path bad = fs::path(RUSTIQ_SOURCE_DIR) / "tests/policies/bad";
  const std::vector<std::string> fixtures = PoliciesIn(bad);
  ASSERT_GE(fixtures.size(), 10u);
  for (const std::string& name : fixtures) {
    SCOPED_TRACE(name);
    const std::string policy = absl::StrCat("tests/policies/bad/", name);
    std::string expect = "1: empty policy";
    if (name != "empty_file.policy") {
      const std::string first_line = FirstLine(bad / name);
      absl::string_view first = first_line;
      ASSERT_TRUE(absl::ConsumePrefix(&first, "# expect: "))
          << "a bad fixture starts with '# expect: <line>: <error text>'";
      expect = std::string(first);
    }
    const std::string out_cc = (dir_ / "out.cc").string();
    const std::string out_h = (dir_ / "out.h").string();
    RunResult result = RunPolicyc(policy, "fixture", out_cc, out_h);
    EXPECT_EQ(result.exit_code, 1) << result.output;
    EXPECT_THAT(result.output, HasSubstr(absl::StrCat(policy, ":", expect)));
    // Every line of the output is an error of the form file:line: ...
    std::istringstream lines(result.output);
    for (std::string line; std::getline(lines, line);) {
      EXPECT_TRUE(absl::StartsWith(line, absl::StrCat(policy, ":"))) << line;
    }
    // Nothing written: the build must not pick up a stale or partial file.
    EXPECT_FALSE(fs::exists(out_cc));
    EXPECT_FALSE(fs::exists(out_h));
  }
}

TEST_F(PolicycTest, CompilesGoodFixturesAndDaemonPolicies) {
  std::vector<std::string> policies;
  for (const std::string& name :
       PoliciesIn(fs::path(RUSTIQ_SOURCE_DIR) / "tests/policies/good")) {
    policies.push_back(absl::StrCat("tests/policies/good/", name));
  }
  for (const fs::directory_entry& daemon :
       fs::directory_iterator(fs::path(RUSTIQ_SOURCE_DIR) / "policies")) {
    if (fs::exists(daemon.path() / "seccomp.policy")) {
      policies.push_back(absl::StrCat(
          "policies/", daemon.path().filename().string(), "/seccomp.policy"));
    }
  }
  ASSERT_GE(policies.size(), 3u);  // two fixtures and testserver, at least
  for (const std::string& policy : policies) {
    SCOPED_TRACE(policy);
    const std::string out_cc = (dir_ / "out.cc").string();
    const std::string out_h = (dir_ / "out.h").string();
    RunResult result = RunPolicyc(policy, "some-daemon", out_cc, out_h);
    EXPECT_EQ(result.exit_code, 0) << result.output;
    EXPECT_THAT(result.output, IsEmpty());
    std::ifstream cc(out_cc);
    std::stringstream text;
    text << cc.rdbuf();
    EXPECT_THAT(text.str(),
                HasSubstr("const SeccompPolicy& SomeDaemonSeccompPolicy()"));
    EXPECT_THAT(text.str(), HasSubstr(absl::StrCat(".source = \"", policy)));
    EXPECT_TRUE(fs::exists(out_h));
    fs::remove(out_cc);
    fs::remove(out_h);
  }
}

TEST_F(PolicycTest, UsageErrorsExitTwo) {
  const std::string out = (dir_ / "out.cc").string();
  EXPECT_EQ(RunPolicyc("tests/policies/good/minimal.policy", "Bad/Name", out,
                       out + ".h")
                .exit_code,
            2);
  RunResult missing =
      RunPolicyc("tests/policies/good/no-such.policy", "x", out, out + ".h");
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.output,
              HasSubstr("tests/policies/good/no-such.policy:1: cannot read"));
  EXPECT_FALSE(fs::exists(out));
}

}  // namespace
