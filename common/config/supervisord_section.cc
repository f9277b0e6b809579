#include "common/config/supervisord_section.h"

#include <algorithm>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "common/config/daemons.h"
#include "common/config/section_reader.h"

namespace rustiq::config {
namespace {

// Daemon, user and group names.
absl::Status Name(absl::string_view v) { return ValidateStackName(v); }

absl::Status OptionalName(absl::string_view v) {
  return v.empty() ? absl::OkStatus() : Name(v);
}

absl::Status Absolute(absl::string_view v) {
  if (v.empty() || v.front() != '/') {
    return absl::InvalidArgumentError("an absolute path");
  }
  return absl::OkStatus();
}

absl::Status RestartPolicy(absl::string_view v) {
  if (v != "always" && v != "on-failure" && v != "never") {
    return absl::InvalidArgumentError(
        "\"always\", \"on-failure\" or \"never\"");
  }
  return absl::OkStatus();
}

absl::Status ReadDaemon(const toml::table& table, const std::string& origin,
                        SupervisedDaemon* d) {
  SectionReader r(&table, absl::StrCat("supervisord.daemons.", d->name),
                  origin);
  absl::Status s = r.ReadString("binary", &d->binary, Absolute);
  if (s.ok()) s = r.ReadStringList("args", &d->args);
  if (s.ok()) s = r.ReadString("user", &d->user, OptionalName);
  if (s.ok()) s = r.ReadString("group", &d->group, OptionalName);
  if (s.ok()) s = r.ReadStringList("after", &d->after, Name);
  if (s.ok()) s = r.ReadString("restart", &d->restart, RestartPolicy);
  if (s.ok()) s = r.Finish();
  return s;
}

}  // namespace

absl::Status ReadSupervisordSection(const toml::table* table,
                                    const std::string& origin, bool complete,
                                    SupervisordConfig* out) {
  SectionReader r(table, "supervisord", origin);
  absl::Status s;
  for (auto [key, value, lo, hi] : {
           std::tuple{"health_interval_ms", &out->health_interval_ms, 10u,
                      3600000u},
           std::tuple{"health_timeout_ms", &out->health_timeout_ms, 10u,
                      600000u},
           std::tuple{"health_failures", &out->health_failures, 1u, 100u},
           std::tuple{"start_timeout_ms", &out->start_timeout_ms, 100u,
                      3600000u},
           std::tuple{"stop_timeout_ms", &out->stop_timeout_ms, 10u, 600000u},
           std::tuple{"restart_delay_ms", &out->restart_delay_ms, 1u, 3600000u},
           std::tuple{"restart_max_delay_ms", &out->restart_max_delay_ms, 1u,
                      86400000u},
           std::tuple{"crash_loop_exits", &out->crash_loop_exits, 1u, 1000u},
           std::tuple{"crash_loop_seconds", &out->crash_loop_seconds, 1u,
                      86400u},
       }) {
    if (s.ok()) s = r.ReadUint(key, value, lo, hi);
  }
  const toml::table* daemons = nullptr;
  if (s.ok()) s = r.ReadTable("daemons", &daemons);
  if (s.ok()) s = r.Finish();
  if (!s.ok()) return s;
  if (out->restart_max_delay_ms < out->restart_delay_ms) {
    return absl::InvalidArgumentError(
        absl::StrCat(origin, ": supervisord.restart_max_delay_ms (",
                     out->restart_max_delay_ms, ") is below restart_delay_ms (",
                     out->restart_delay_ms, ")"));
  }
  if (daemons == nullptr) return absl::OkStatus();
  for (const auto& [key, node] : *daemons) {
    SupervisedDaemon d;
    d.name = std::string(key.str());
    if (absl::Status bad = Name(d.name); !bad.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(Where(node, origin), ": [supervisord.daemons.", d.name,
                       "]: the daemon's name must be ", bad.message()));
    }
    const toml::table* t = node.as_table();
    if (t == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          Where(node, origin), ": supervisord.daemons.", d.name,
          " must be a table ([supervisord.daemons.", d.name, "])"));
    }
    if (absl::Status bad = ReadDaemon(*t, origin, &d); !bad.ok()) return bad;
    out->daemons.push_back(std::move(d));
  }
  if (!complete) return absl::OkStatus();
  for (const SupervisedDaemon& d : out->daemons) {
    if (d.user.empty() != d.group.empty()) {
      const bool has_user = !d.user.empty();
      return absl::InvalidArgumentError(absl::StrCat(
          origin, ": [supervisord.daemons.", d.name, "] sets ",
          has_user ? "user" : "group", " without ", has_user ? "group" : "user",
          ": set both (the stack's daemons: user = \"rustiq-", d.name,
          "\", group = \"rustiq\"), or neither to run it as supervisord's "
          "own user"));
    }
    if (d.binary.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(origin, ": [supervisord.daemons.", d.name,
                       "] needs binary = \"/path/to/rustiq-", d.name, "\""));
    }
    for (const std::string& dep : d.after) {
      bool known = std::any_of(
          out->daemons.begin(), out->daemons.end(),
          [&dep](const SupervisedDaemon& o) { return o.name == dep; });
      if (!known || dep == d.name) {
        return absl::InvalidArgumentError(absl::StrCat(
            origin, ": supervisord.daemons.", d.name, ".after names \"", dep,
            "\", ",
            dep == d.name ? "the daemon itself"
                          : "which is not a daemon in [supervisord.daemons]"));
      }
    }
  }
  return absl::OkStatus();
}

toml::table RenderSupervisordSection(const SupervisordConfig& c) {
  toml::table section;
  for (auto [key, value] : {
           std::pair{"health_interval_ms", c.health_interval_ms},
           std::pair{"health_timeout_ms", c.health_timeout_ms},
           std::pair{"health_failures", c.health_failures},
           std::pair{"start_timeout_ms", c.start_timeout_ms},
           std::pair{"stop_timeout_ms", c.stop_timeout_ms},
           std::pair{"restart_delay_ms", c.restart_delay_ms},
           std::pair{"restart_max_delay_ms", c.restart_max_delay_ms},
           std::pair{"crash_loop_exits", c.crash_loop_exits},
           std::pair{"crash_loop_seconds", c.crash_loop_seconds},
       }) {
    section.insert_or_assign(key, static_cast<int64_t>(value));
  }
  toml::table daemons;
  for (const SupervisedDaemon& d : c.daemons) {
    toml::array args, after;
    for (const std::string& a : d.args) args.push_back(a);
    for (const std::string& a : d.after) after.push_back(a);
    toml::table t{{"binary", d.binary},
                  {"args", std::move(args)},
                  {"after", std::move(after)},
                  {"restart", d.restart}};
    if (!d.user.empty()) t.insert_or_assign("user", d.user);
    if (!d.group.empty()) t.insert_or_assign("group", d.group);
    daemons.insert_or_assign(d.name, std::move(t));
  }
  if (!daemons.empty()) section.insert_or_assign("daemons", std::move(daemons));
  return section;
}

}  // namespace rustiq::config
