#include "common/config/config.h"

#include <filesystem>
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace rustiq::config {
namespace {

using ::testing::HasSubstr;

constexpr char kMinimal[] = R"(
[device]
id = "dev-1"
)";

TEST(Config, MinimalFileGetsProductionDefaults) {
  auto cfg = ParseConfig(kMinimal, "test.toml");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  EXPECT_EQ(cfg->device_id, "dev-1");
  EXPECT_EQ(cfg->paths.runtime_dir, "/run/rustiq");
  EXPECT_EQ(cfg->paths.state_dir, "/var/lib/rustiq");
  EXPECT_EQ(cfg->rpc.max_concurrent_calls_per_caller, 16u);
  EXPECT_EQ(cfg->keyd.presign_nonces, 64u);
}

TEST(Config, RoundTripsThroughRender) {
  auto cfg = ParseConfig(R"(
[device]
id = "dev-2"
[paths]
config_dir = "/x/etc"
state_dir = "/x/state"
runtime_dir = "/x/run"
[rpc]
socket_group = "rustiq"
max_message_bytes = 65536
max_concurrent_calls_per_caller = 3
call_deadline_ms = 250
credential_refresh_seconds = 5
[keyd]
presign_nonces = 7
[log]
level = "debug"
)",
                         "t");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  auto again = ParseConfig(RenderConfig(*cfg), "rendered");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->paths.runtime_dir, "/x/run");
  EXPECT_EQ(again->rpc.socket_group, "rustiq");
  EXPECT_EQ(again->rpc.max_concurrent_calls_per_caller, 3u);
  EXPECT_EQ(again->rpc.call_deadline_ms, 250u);
  EXPECT_EQ(again->log.level, "debug");
  EXPECT_EQ(again->keyd.presign_nonces, 7u);
}

TEST(Config, UnknownKeyNamesKeyAndLine) {
  auto cfg = ParseConfig("[device]\nid = \"d\"\n[rpc]\nmax_mesage_bytes = 5\n",
                         "dev.toml");
  ASSERT_FALSE(cfg.ok());
  EXPECT_THAT(cfg.status().message(), HasSubstr("dev.toml:4"));
  EXPECT_THAT(cfg.status().message(), HasSubstr("rpc.max_mesage_bytes"));
  EXPECT_THAT(cfg.status().message(), HasSubstr("max_message_bytes"));
}

TEST(Config, UnknownSectionIsRefused) {
  auto cfg = ParseConfig("[device]\nid = \"d\"\n[keyyd]\nx = 1\n", "t");
  ASSERT_FALSE(cfg.ok());
  EXPECT_THAT(cfg.status().message(), HasSubstr("unknown section 'keyyd'"));
}

TEST(Config, BadValuesSayWhatIsExpected) {
  struct Case {
    const char* text;
    const char* expect;
  } cases[] = {
      {"[device]\nid = \"D!\"\n", "device.id"},
      {"[device]\nid = 5\n", "expected a string"},
      {"[device]\nid = \"d\"\n[rpc]\nmax_message_bytes = \"big\"\n",
       "an integer from 1024"},
      {"[device]\nid = \"d\"\n[rpc]\nmax_concurrent_calls_per_caller = 0\n",
       "an integer from 1"},
      {"[device]\nid = \"d\"\n[rpc]\ncall_deadline_ms = -1\n",
       "call_deadline_ms"},
      {"[device]\nid = \"d\"\n[paths]\nstate_dir = \"relative\"\n",
       "an absolute path"},
      {"[device]\nid = \"d\"\n[log]\nlevel = \"loud\"\n", "one of"},
      {"[device]\nid = \"d\"\n[keyd]\npresign_nonces = 5000\n",
       "keyd.presign_nonces"},
      {"[device]\n", "device.id' is required"},
      {"device = 3\n", "must be a [section]"},
      {"[device\nid=1", "t:"},
  };
  for (const Case& c : cases) {
    auto cfg = ParseConfig(c.text, "t");
    ASSERT_FALSE(cfg.ok()) << c.text;
    EXPECT_THAT(cfg.status().message(), HasSubstr(c.expect)) << c.text;
  }
}

TEST(Config, DropInsOverrideInLexicalOrder) {
  auto dir = std::filesystem::temp_directory_path() /
             ("rustiq-config-test-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir / "config.d");
  std::ofstream(dir / "rustiq.toml") << kMinimal;
  std::ofstream(dir / "config.d" / "10-a.toml")
      << "[rpc]\ncall_deadline_ms = 111\nmax_message_bytes = 2048\n";
  std::ofstream(dir / "config.d" / "20-b.toml")
      << "[rpc]\ncall_deadline_ms = 222\n";
  std::ofstream(dir / "config.d" / "ignored.txt") << "garbage";
  auto cfg = LoadConfig((dir / "rustiq.toml").string());
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  EXPECT_EQ(cfg->rpc.call_deadline_ms, 222u);
  EXPECT_EQ(cfg->rpc.max_message_bytes, 2048u);
  // A bad drop-in is reported by its own name.
  std::ofstream(dir / "config.d" / "30-bad.toml") << "[rpc]\nbogus = 1\n";
  cfg = LoadConfig((dir / "rustiq.toml").string());
  ASSERT_FALSE(cfg.ok());
  EXPECT_THAT(cfg.status().message(), HasSubstr("30-bad.toml"));
  std::filesystem::remove_all(dir);
}

TEST(Config, MissingFileSaysHowToFixIt) {
  auto cfg = LoadConfig("/nonexistent/rustiq.toml");
  ASSERT_FALSE(cfg.ok());
  EXPECT_THAT(cfg.status().message(), HasSubstr("rustiqctl provision"));
}

}  // namespace
}  // namespace rustiq::config
