#include "cli/status_format.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cli/output.h"
#include "cli/text.h"
#include "common/config/daemons.h"

namespace rustiq::cli {
namespace {

constexpr char kBoldRed[] = "\033[1;31m";
constexpr char kReset[] = "\033[0m";

bool Running(const v1::DaemonStatus& d) { return d.pid() != 0; }

// Text a daemon sent, for a table cell: escaped, and "-" when empty.
std::string Cell(const std::string& text, size_t max_chars = 64) {
  return text.empty() ? "-" : Shown(text, max_chars);
}

// "keyd(998)", or "998" for an id without a name.
std::string IdText(const std::string& name, uint32_t id) {
  return name.empty() ? absl::StrCat(id)
                      : absl::StrCat(Shown(name, 32), "(", id, ")");
}

std::string SeccompText(const v1::DaemonPosture& p) {
  if (p.seccomp() == "filter") {
    return absl::StrCat("filter(", p.seccomp_filters(), ")");
  }
  return Cell(p.seccomp());
}

// Rows of a table: widths measured over every row, since the findings lines
// between them are not part of the table.
std::vector<size_t> Widths(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width(rows[0].size(), 0);
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) {
      width[i] = std::max(width[i], row[i].size());
    }
  }
  return width;
}

nlohmann::json ExitJson(const v1::ExitReason& e) {
  return {{"kind", e.kind()},
          {"exit_status", e.exit_status()},
          {"signal", e.signal()},
          {"signal_name", e.signal_name()},
          {"syscall", e.syscall()},
          {"killed_by_supervisor", e.killed_by_supervisor()},
          {"text", e.text()},
          {"at_unix_ms", e.at_unix_ms()}};
}

nlohmann::json PostureJson(const v1::DaemonPosture& p) {
  return {
      {"uid", p.uid()},
      {"gid", p.gid()},
      {"groups", std::vector<uint32_t>(p.groups().begin(), p.groups().end())},
      {"user", p.user()},
      {"group", p.group()},
      {"capabilities_effective", p.capabilities_effective()},
      {"capabilities_permitted", p.capabilities_permitted()},
      {"capabilities_bounding", p.capabilities_bounding()},
      {"no_new_privs", p.no_new_privs()},
      {"seccomp", p.seccomp()},
      {"seccomp_filters", p.seccomp_filters()},
      {"landlock", p.landlock()},
      {"apparmor", p.apparmor()},
      {"dumpable", p.dumpable()},
      {"core_limit", p.core_limit()},
      {"findings", ListJson(p.findings())}};
}

}  // namespace

std::string DurationText(int64_t ms) {
  if (ms < 0) return "-";
  int64_t s = ms / 1000;
  if (s < 60) return absl::StrCat(s, "s");
  if (s < 3600) return absl::StrFormat("%dm%02ds", s / 60, s % 60);
  if (s < 86400) return absl::StrFormat("%dh%02dm", s / 3600, s % 3600 / 60);
  return absl::StrFormat("%dd%02dh", s / 86400, s % 86400 / 3600);
}

std::string BytesText(uint64_t bytes) {
  if (bytes < 1024) return absl::StrCat(bytes, " B");
  static constexpr const char* kUnits[] = {"KiB", "MiB", "GiB",
                                           "TiB", "PiB", "EiB"};
  constexpr size_t kLast = sizeof(kUnits) / sizeof(kUnits[0]) - 1;
  double value = static_cast<double>(bytes) / 1024;
  size_t unit = 0;
  // Up a unit while the value would print as 1024.0 or more.
  while (value >= 1023.95 && unit < kLast) {
    value /= 1024;
    ++unit;
  }
  return absl::StrFormat("%.1f %s", value, kUnits[unit]);
}

std::string StateText(v1::DaemonState state) {
  switch (state) {
    case v1::DAEMON_STATE_STOPPED:
      return "stopped";
    case v1::DAEMON_STATE_WAITING:
      return "waiting";
    case v1::DAEMON_STATE_STARTING:
      return "starting";
    case v1::DAEMON_STATE_RUNNING:
      return "running";
    case v1::DAEMON_STATE_BACKOFF:
      return "backoff";
    case v1::DAEMON_STATE_STOPPING:
      return "stopping";
    case v1::DAEMON_STATE_FAILED:
      return "failed";
    default:
      return "unknown";
  }
}

std::string HealthText(v1::DaemonHealth health) {
  switch (health) {
    case v1::DAEMON_HEALTH_SERVING:
      return "serving";
    case v1::DAEMON_HEALTH_NOT_SERVING:
      return "not-serving";
    case v1::DAEMON_HEALTH_UNREACHABLE:
      return "unreachable";
    default:
      return "unknown";
  }
}

std::string StackHeaderText(const v1::StackInfoResponse& stack) {
  return absl::StrCat(
      "device ", Cell(stack.device_id()), ", rustiq ", Cell(stack.version()),
      ", supervisord up ", DurationText(stack.uptime_ms()),
      stack.mode().empty() ? "" : absl::StrCat(" (", Shown(stack.mode()), ")"),
      ", ", stack.daemons_serving(), "/", stack.daemons(), " daemons serving");
}

std::string DaemonsTable(const v1::ListDaemonsResponse& daemons) {
  if (daemons.daemons().empty()) return "no daemons";
  std::vector<std::vector<std::string>> rows = {{"NAME", "STATE", "HEALTH",
                                                 "PID", "UPTIME", "RESTARTS",
                                                 "RSS", "PSS", "LAST EXIT"}};
  for (const v1::DaemonStatus& d : daemons.daemons()) {
    bool running = Running(d);
    rows.push_back(
        {Cell(d.name(), 32), StateText(d.state()), HealthText(d.health()),
         running ? absl::StrCat(d.pid()) : "-",
         running ? DurationText(d.uptime_ms()) : "-",
         absl::StrCat(d.restarts()), running ? BytesText(d.rss_bytes()) : "-",
         running ? BytesText(d.pss_bytes()) : "-",
         Cell(d.last_exit().text(), 80)});
  }
  return TableText(rows);
}

std::string PostureTable(const v1::ListDaemonsResponse& daemons, bool colour) {
  if (daemons.daemons().empty()) return "no daemons";
  std::vector<std::vector<std::string>> rows = {
      {"NAME", "USER(UID)", "GROUP(GID)", "CAPS", "NNP", "SECCOMP", "LANDLOCK",
       "APPARMOR", "DUMPABLE", "CORE"}};
  for (const v1::DaemonStatus& d : daemons.daemons()) {
    std::vector<std::string> row(rows[0].size(), "-");
    row[0] = Cell(d.name(), 32);
    if (Running(d) && d.has_posture()) {
      const v1::DaemonPosture& p = d.posture();
      row = {row[0],
             IdText(p.user(), p.uid()),
             IdText(p.group(), p.gid()),
             Cell(p.capabilities_effective(), 200),
             p.no_new_privs() ? "yes" : "no",
             SeccompText(p),
             Cell(p.landlock()),
             Cell(p.apparmor()),
             Cell(p.dumpable()),
             Cell(p.core_limit())};
    }
    rows.push_back(std::move(row));
  }
  std::vector<size_t> width = Widths(rows);
  std::string text = RowText(rows[0], width);
  for (int i = 0; i < daemons.daemons_size(); ++i) {
    absl::StrAppend(&text, "\n", RowText(rows[i + 1], width));
    for (const std::string& finding : daemons.daemons(i).posture().findings()) {
      std::string line = absl::StrCat("  ! ", Shown(finding, 200));
      absl::StrAppend(&text, "\n",
                      colour ? absl::StrCat(kBoldRed, line, kReset) : line);
    }
  }
  return text;
}

bool ColourWanted() {
  return std::getenv("NO_COLOR") == nullptr && isatty(STDOUT_FILENO) == 1;
}

nlohmann::json DaemonStatusJson(const v1::DaemonStatus& d) {
  nlohmann::json j = {{"name", d.name()},
                      {"state", StateText(d.state())},
                      {"health", HealthText(d.health())},
                      {"pid", d.pid()},
                      {"started_unix_ms", d.started_unix_ms()},
                      {"uptime_ms", d.uptime_ms()},
                      {"restarts", d.restarts()},
                      {"last_exit", ExitJson(d.last_exit())},
                      {"rss_bytes", d.rss_bytes()},
                      {"pss_bytes", d.pss_bytes()},
                      {"restart_at_unix_ms", d.restart_at_unix_ms()},
                      {"after", ListJson(d.after())},
                      {"user", d.user()},
                      {"last_log_lines", ListJson(d.last_log_lines())}};
  if (d.has_posture()) j["posture"] = PostureJson(d.posture());
  return j;
}

nlohmann::json StackInfoJson(const v1::StackInfoResponse& s) {
  return {{"version", s.version()},
          {"device_id", s.device_id()},
          {"started_unix_ms", s.started_unix_ms()},
          {"uptime_ms", s.uptime_ms()},
          {"mode", s.mode()},
          {"daemons", s.daemons()},
          {"daemons_serving", s.daemons_serving()}};
}

nlohmann::json StatusJson(const v1::StackInfoResponse& stack,
                          const v1::ListDaemonsResponse& daemons) {
  nlohmann::json list = nlohmann::json::array();
  for (const v1::DaemonStatus& d : daemons.daemons()) {
    list.push_back(DaemonStatusJson(d));
  }
  return {{"stack", StackInfoJson(stack)}, {"daemons", list}};
}

std::string JsonLine(const nlohmann::json& object) {
  return object.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

StackVerdict JudgeStack(const v1::ListDaemonsResponse& daemons, bool security) {
  bool findings = false;
  for (const v1::DaemonStatus& d : daemons.daemons()) {
    if (d.state() != v1::DAEMON_STATE_RUNNING ||
        d.health() != v1::DAEMON_HEALTH_SERVING) {
      return StackVerdict::kNotServing;
    }
    if (!d.posture().findings().empty()) findings = true;
  }
  return security && findings ? StackVerdict::kPostureFindings
                              : StackVerdict::kHealthy;
}

int ExitCodeForVerdict(StackVerdict verdict) {
  return verdict == StackVerdict::kHealthy ? kExitOk : kExitNotServing;
}

absl::Status CheckDaemonName(absl::string_view name) {
  if (absl::Status s = config::ValidateStackName(name); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "NAME \"", Shown(name), "\" is not a daemon's name: ", s.message()));
  }
  return absl::OkStatus();
}

std::string ServiceActionText(absl::string_view verb,
                              const v1::DaemonStatus& daemon) {
  return absl::StrCat(
      Cell(daemon.name(), 32), ": ", verb, " (state ",
      StateText(daemon.state()),
      Running(daemon) ? absl::StrCat(", pid ", daemon.pid()) : "", ")");
}

}  // namespace rustiq::cli
