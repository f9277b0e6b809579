#include "common/config/config.h"

#include <toml++/toml.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <tuple>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "common/config/section_reader.h"
#include "common/config/supervisord_section.h"
#include "common/identity/spiffe_id.h"
#include "common/logging/log.h"

namespace rustiq::config {
namespace {

namespace fs = std::filesystem;

absl::Status AbsolutePath(absl::string_view p) {
  if (p.empty() || p.front() != '/') {
    return absl::InvalidArgumentError("an absolute path");
  }
  return absl::OkStatus();
}

absl::Status LogLevel(absl::string_view v) {
  log::Level ignored;
  if (!log::ParseLevel(v, &ignored)) {
    return absl::InvalidArgumentError(
        "one of \"debug\", \"info\", \"warning\", \"error\"");
  }
  return absl::OkStatus();
}

absl::Status DeviceId(absl::string_view v) {
  if (absl::Status s = identity::ValidateTrustDomain(v); !s.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("a device ID (", s.message(), ")"));
  }
  return absl::OkStatus();
}

absl::Status JournalMode(absl::string_view v) {
  if (v != "auto" && v != "on" && v != "off") {
    return absl::InvalidArgumentError("\"auto\", \"on\" or \"off\"");
  }
  return absl::OkStatus();
}

absl::Status KeydBackend(absl::string_view v) {
  if (v != "soft" && v != "pkcs11") {
    return absl::InvalidArgumentError("\"soft\" or \"pkcs11\"");
  }
  return absl::OkStatus();
}

// `complete` is false for a drop-in, which may leave required keys to the
// main file but must not contain unknown keys or bad values.
absl::StatusOr<StackConfig> FromTable(const toml::table& root,
                                      const std::string& origin,
                                      bool complete = true) {
  static const std::vector<std::string> kSections = {
      "device", "paths",  "rpc",   "log",
      "keyd",   "eventd", "authd", "supervisord"};
  for (const auto& [k, v] : root) {
    if (std::find(kSections.begin(), kSections.end(), std::string(k.str())) ==
        kSections.end()) {
      return absl::InvalidArgumentError(absl::StrCat(
          Where(v, origin), ": unknown section '", std::string(k.str()),
          "' (known sections: ", absl::StrJoin(kSections, ", "), ")"));
    }
    if (!v.is_table()) {
      return absl::InvalidArgumentError(absl::StrCat(Where(v, origin), ": '",
                                                     std::string(k.str()),
                                                     "' must be a [section]"));
    }
  }
  StackConfig cfg;
  cfg.source_path = origin;

  SectionReader device(root["device"].as_table(), "device", origin);
  if (auto s = device.ReadString("id", &cfg.device_id, DeviceId); !s.ok()) {
    return s;
  }
  if (auto s = device.Finish(); !s.ok()) return s;
  if (complete && cfg.device_id.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        origin,
        ": key 'device.id' is required (the device's trust domain, "
        "for example \"dev-1a2b3c\"); run 'rustiqctl provision' to "
        "create a device"));
  }

  SectionReader paths(root["paths"].as_table(), "paths", origin);
  for (auto [key, field] : {std::pair{"config_dir", &cfg.paths.config_dir},
                            std::pair{"state_dir", &cfg.paths.state_dir},
                            std::pair{"runtime_dir", &cfg.paths.runtime_dir}}) {
    if (auto s = paths.ReadString(key, field, AbsolutePath); !s.ok()) return s;
  }
  if (auto s = paths.Finish(); !s.ok()) return s;

  SectionReader rpc(root["rpc"].as_table(), "rpc", origin);
  absl::Status s = rpc.ReadString("socket_group", &cfg.rpc.socket_group);
  if (s.ok()) {
    s = rpc.ReadUint("max_message_bytes", &cfg.rpc.max_message_bytes, 1024,
                     64 * 1024 * 1024);
  }
  if (s.ok()) {
    s = rpc.ReadUint("max_concurrent_calls_per_caller",
                     &cfg.rpc.max_concurrent_calls_per_caller, 1, 4096);
  }
  if (s.ok()) {
    s = rpc.ReadUint("call_deadline_ms", &cfg.rpc.call_deadline_ms, 10,
                     3600 * 1000);
  }
  if (s.ok()) {
    s = rpc.ReadUint("credential_refresh_seconds",
                     &cfg.rpc.credential_refresh_seconds, 1, 86400);
  }
  if (s.ok()) {
    s = rpc.ReadUint("identity_renewal_percent",
                     &cfg.rpc.identity_renewal_percent, 1, 95);
  }
  if (s.ok()) s = rpc.Finish();
  if (!s.ok()) return s;

  SectionReader logs(root["log"].as_table(), "log", origin);
  if (auto st = logs.ReadString("level", &cfg.log.level, LogLevel); !st.ok()) {
    return st;
  }
  if (auto st = logs.Finish(); !st.ok()) return st;

  SectionReader keyd(root["keyd"].as_table(), "keyd", origin);
  s = keyd.ReadString("backend", &cfg.keyd.backend, KeydBackend);
  if (s.ok()) {
    s = keyd.ReadString("master_key_file", &cfg.keyd.master_key_file,
                        AbsolutePath);
  }
  if (s.ok()) {
    s = keyd.ReadString("pkcs11_module", &cfg.keyd.pkcs11_module, AbsolutePath);
  }
  if (s.ok()) {
    s = keyd.ReadString("pkcs11_token_label", &cfg.keyd.pkcs11_token_label);
  }
  if (s.ok()) {
    s = keyd.ReadString("pkcs11_pin_file", &cfg.keyd.pkcs11_pin_file,
                        AbsolutePath);
  }
  if (s.ok()) {
    s = keyd.ReadString("pkcs11_state_dir", &cfg.keyd.pkcs11_state_dir,
                        AbsolutePath);
  }
  if (s.ok()) {
    s = keyd.ReadUint("identity_lifetime_hours",
                      &cfg.keyd.identity_lifetime_hours, 1, 24 * 365);
  }
  if (s.ok()) {
    s = keyd.ReadUint("max_identity_lifetime_hours",
                      &cfg.keyd.max_identity_lifetime_hours, 1, 24 * 365);
  }
  if (s.ok()) {
    s = keyd.ReadUint("presign_nonces", &cfg.keyd.presign_nonces, 0, 4096);
  }
  if (s.ok()) s = keyd.Finish();
  if (!s.ok()) return s;
  if (cfg.keyd.identity_lifetime_hours > cfg.keyd.max_identity_lifetime_hours) {
    return absl::InvalidArgumentError(
        absl::StrCat(origin, ": keyd.identity_lifetime_hours (",
                     cfg.keyd.identity_lifetime_hours,
                     ") exceeds keyd.max_identity_lifetime_hours (",
                     cfg.keyd.max_identity_lifetime_hours, ")"));
  }
  SectionReader eventd(root["eventd"].as_table(), "eventd", origin);
  s = eventd.ReadUint("sign_every_events", &cfg.eventd.sign_every_events, 1,
                      1000000);
  if (s.ok()) {
    s = eventd.ReadUint("sign_every_seconds", &cfg.eventd.sign_every_seconds, 1,
                        86400);
  }
  if (s.ok()) {
    s = eventd.ReadUint("retention_days", &cfg.eventd.retention_days, 0, 36500);
  }
  if (s.ok()) {
    s = eventd.ReadUint("retention_max_events",
                        &cfg.eventd.retention_max_events, 0, 2000000000);
  }
  if (s.ok()) {
    s = eventd.ReadUint("max_batch_events", &cfg.eventd.max_batch_events, 1,
                        65536);
  }
  if (s.ok())
    s = eventd.ReadString("journal", &cfg.eventd.journal, JournalMode);
  if (s.ok()) s = eventd.Finish();
  if (!s.ok()) return s;
  AuthdConfig& a = cfg.authd;
  SectionReader authd(root["authd"].as_table(), "authd", origin);
  for (auto [key, value, lo, hi] : {
           std::tuple{"argon2_memory_kib", &a.argon2_memory_kib, 8192u,
                      1048576u},
           std::tuple{"argon2_iterations", &a.argon2_iterations, 1u, 10u},
           std::tuple{"argon2_parallelism", &a.argon2_parallelism, 1u, 4u},
           std::tuple{"password_min_length", &a.password_min_length, 8u, 128u},
           std::tuple{"token_lifetime_minutes", &a.token_lifetime_minutes, 1u,
                      720u},
           std::tuple{"login_delay_ms", &a.login_delay_ms, 1u, 60000u},
           std::tuple{"login_max_delay_ms", &a.login_max_delay_ms, 1u,
                      3600000u},
           std::tuple{"lockout_failures", &a.lockout_failures, 1u, 100u},
           std::tuple{"lockout_seconds", &a.lockout_seconds, 1u, 604800u},
           std::tuple{"source_free_failures", &a.source_free_failures, 0u,
                      10000u},
       }) {
    if (s.ok()) s = authd.ReadUint(key, value, lo, hi);
  }
  if (s.ok()) s = authd.Finish();
  if (s.ok()) {
    s = ReadSupervisordSection(root["supervisord"].as_table(), origin, complete,
                               &cfg.supervisord);
  }
  if (!s.ok()) return s;
  if (complete && cfg.keyd.backend == "pkcs11" &&
      (cfg.keyd.pkcs11_module.empty() || cfg.keyd.pkcs11_pin_file.empty())) {
    return absl::InvalidArgumentError(
        absl::StrCat(origin,
                     ": keyd.backend = \"pkcs11\" needs keyd.pkcs11_module and "
                     "keyd.pkcs11_pin_file"));
  }
  return cfg;
}

absl::StatusOr<toml::table> ParseTable(absl::string_view text,
                                       const std::string& origin) {
  // toml++ reports parse errors by exception; they stop here.
  try {
    return toml::parse(std::string_view(text.data(), text.size()), origin);
  } catch (const toml::parse_error& e) {
    return absl::InvalidArgumentError(absl::StrCat(
        origin, ":", e.source().begin.line, ":", e.source().begin.column, ": ",
        std::string(e.description())));
  }
}

// Merges `overlay` into `base`: tables recursively, other values replaced.
void Merge(toml::table& base, const toml::table& overlay) {
  for (const auto& [k, v] : overlay) {
    toml::table* base_sub = base[k].as_table();
    const toml::table* over_sub = v.as_table();
    if (base_sub != nullptr && over_sub != nullptr) {
      Merge(*base_sub, *over_sub);
    } else {
      base.insert_or_assign(k, v);
    }
  }
}

absl::StatusOr<std::string> ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(absl::StrCat(
        "cannot read config file ", path,
        ": it does not exist or is not readable (give --config, set ",
        kConfigEnvVar, ", or run 'rustiqctl provision')"));
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  if (buf.str().size() > 1024 * 1024) {
    return absl::InvalidArgumentError(
        absl::StrCat("config file ", path, " is larger than 1 MiB"));
  }
  return buf.str();
}

}  // namespace

std::string ResolveConfigPath(absl::string_view flag_value) {
  if (!flag_value.empty()) return std::string(flag_value);
  if (const char* env = std::getenv(std::string(kConfigEnvVar).c_str());
      env != nullptr && *env != '\0') {
    return env;
  }
  return std::string(kDefaultConfigPath);
}

absl::StatusOr<StackConfig> ParseConfig(absl::string_view toml_text,
                                        absl::string_view origin) {
  absl::StatusOr<toml::table> table =
      ParseTable(toml_text, std::string(origin));
  if (!table.ok()) return table.status();
  return FromTable(*table, std::string(origin));
}

absl::StatusOr<StackConfig> LoadConfig(const std::string& path) {
  absl::StatusOr<std::string> text = ReadText(path);
  if (!text.ok()) return text.status();
  absl::StatusOr<toml::table> root = ParseTable(*text, path);
  if (!root.ok()) return root.status();

  fs::path dropin_dir = fs::path(path).parent_path() / "config.d";
  std::error_code ec;
  if (fs::is_directory(dropin_dir, ec)) {
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(dropin_dir, ec)) {
      if (entry.path().extension() == ".toml" && entry.is_regular_file()) {
        files.push_back(entry.path());
      }
    }
    std::sort(files.begin(), files.end());
    for (const fs::path& f : files) {
      absl::StatusOr<std::string> more = ReadText(f.string());
      if (!more.ok()) return more.status();
      absl::StatusOr<toml::table> overlay = ParseTable(*more, f.string());
      if (!overlay.ok()) return overlay.status();
      // Checked on its own first, so errors name the drop-in that has them.
      absl::StatusOr<StackConfig> partial =
          FromTable(*overlay, f.string(), /*complete=*/false);
      if (!partial.ok()) return partial.status();
      Merge(*root, *overlay);
    }
  }
  return FromTable(*root, path);
}

std::string RenderConfig(const StackConfig& c) {
  toml::table root{
      {"device", toml::table{{"id", c.device_id}}},
      {"paths", toml::table{{"config_dir", c.paths.config_dir},
                            {"state_dir", c.paths.state_dir},
                            {"runtime_dir", c.paths.runtime_dir}}},
      {"log", toml::table{{"level", c.log.level}}},
  };
  toml::table rpc{
      {"max_message_bytes", static_cast<int64_t>(c.rpc.max_message_bytes)},
      {"max_concurrent_calls_per_caller",
       static_cast<int64_t>(c.rpc.max_concurrent_calls_per_caller)},
      {"call_deadline_ms", static_cast<int64_t>(c.rpc.call_deadline_ms)},
      {"credential_refresh_seconds",
       static_cast<int64_t>(c.rpc.credential_refresh_seconds)},
      {"identity_renewal_percent",
       static_cast<int64_t>(c.rpc.identity_renewal_percent)},
  };
  if (!c.rpc.socket_group.empty()) {
    rpc.insert_or_assign("socket_group", c.rpc.socket_group);
  }
  root.insert_or_assign("rpc", std::move(rpc));
  toml::table keyd{
      {"backend", c.keyd.backend},
      {"identity_lifetime_hours",
       static_cast<int64_t>(c.keyd.identity_lifetime_hours)},
      {"max_identity_lifetime_hours",
       static_cast<int64_t>(c.keyd.max_identity_lifetime_hours)},
      {"presign_nonces", static_cast<int64_t>(c.keyd.presign_nonces)},
  };
  for (auto [key, value] :
       {std::pair{"master_key_file", &c.keyd.master_key_file},
        std::pair{"pkcs11_module", &c.keyd.pkcs11_module},
        std::pair{"pkcs11_token_label", &c.keyd.pkcs11_token_label},
        std::pair{"pkcs11_pin_file", &c.keyd.pkcs11_pin_file},
        std::pair{"pkcs11_state_dir", &c.keyd.pkcs11_state_dir}}) {
    if (!value->empty()) keyd.insert_or_assign(key, *value);
  }
  root.insert_or_assign("keyd", std::move(keyd));
  root.insert_or_assign(
      "eventd",
      toml::table{
          {"sign_every_events",
           static_cast<int64_t>(c.eventd.sign_every_events)},
          {"sign_every_seconds",
           static_cast<int64_t>(c.eventd.sign_every_seconds)},
          {"retention_days", static_cast<int64_t>(c.eventd.retention_days)},
          {"retention_max_events",
           static_cast<int64_t>(c.eventd.retention_max_events)},
          {"max_batch_events", static_cast<int64_t>(c.eventd.max_batch_events)},
          {"journal", c.eventd.journal},
      });
  const AuthdConfig& a = c.authd;
  toml::table authd;
  for (auto [key, value] : {
           std::pair{"argon2_memory_kib", a.argon2_memory_kib},
           std::pair{"argon2_iterations", a.argon2_iterations},
           std::pair{"argon2_parallelism", a.argon2_parallelism},
           std::pair{"password_min_length", a.password_min_length},
           std::pair{"token_lifetime_minutes", a.token_lifetime_minutes},
           std::pair{"login_delay_ms", a.login_delay_ms},
           std::pair{"login_max_delay_ms", a.login_max_delay_ms},
           std::pair{"lockout_failures", a.lockout_failures},
           std::pair{"lockout_seconds", a.lockout_seconds},
           std::pair{"source_free_failures", a.source_free_failures},
       }) {
    authd.insert_or_assign(key, static_cast<int64_t>(value));
  }
  root.insert_or_assign("authd", std::move(authd));
  root.insert_or_assign("supervisord", RenderSupervisordSection(c.supervisord));
  std::ostringstream out;
  out << "# rustiq device configuration. See docs/configuration.md.\n"
      << root << "\n";
  return out.str();
}

}  // namespace rustiq::config
