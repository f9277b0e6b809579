// How rustiqctl status and rustiqctl services show what rustiq-supervisord
// reports (proto/rustiq/v1/supervisor.proto): human units, the daemon and
// posture tables, the JSON objects of --json, and whether the stack is
// healthy (the exit code of 'rustiqctl status'). Pure functions of the
// protos, so that tests can pin every row.
#ifndef RUSTIQ_CLI_STATUS_FORMAT_H_
#define RUSTIQ_CLI_STATUS_FORMAT_H_

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "rustiq/v1/supervisor.pb.h"

namespace rustiq::cli {

// "0s", "59s", "3m12s", "1h02m", "2d03h" (rounded down); "-" when negative.
std::string DurationText(int64_t ms);

// "0 B", "1023 B", "1.0 KiB", "1.5 MiB", "2.1 GiB" (binary units, one
// decimal).
std::string BytesText(uint64_t bytes);

// Lower-case words: "running", "backoff", ...; "unknown" for a value this
// CLI does not know.
std::string StateText(v1::DaemonState state);
// "serving", "not-serving", "unreachable", "unknown".
std::string HealthText(v1::DaemonHealth health);

// "device dev-1, rustiq 0.4.0, supervisord up 3h02m (standalone), 5/6
// daemons serving".
std::string StackHeaderText(const v1::StackInfoResponse& stack);

// The table of 'rustiqctl status': NAME STATE HEALTH PID UPTIME RESTARTS RSS
// PSS LAST EXIT; "-" for what a daemon that is not running does not have.
std::string DaemonsTable(const v1::ListDaemonsResponse& daemons);

// The table of 'rustiqctl status --security': one row of posture per daemon
// and, below it, each of its findings as "  ! <finding>", in bold red when
// `colour`.
std::string PostureTable(const v1::ListDaemonsResponse& daemons, bool colour);

// Whether findings may be coloured: stdout is a terminal and NO_COLOR is not
// set (https://no-color.org; set at all, even empty, means no colour).
bool ColourWanted();

// --json: every field, numbers raw (bytes, milliseconds), state and health
// as the words above; "posture" only when supervisord sent one.
nlohmann::json DaemonStatusJson(const v1::DaemonStatus& daemon);
nlohmann::json StackInfoJson(const v1::StackInfoResponse& stack);
// {"stack": {...}, "daemons": [...]}.
nlohmann::json StatusJson(const v1::StackInfoResponse& stack,
                          const v1::ListDaemonsResponse& daemons);
// One line of JSON; text a daemon sent that is not UTF-8 is replaced, not
// thrown on.
std::string JsonLine(const nlohmann::json& object);

// What 'rustiqctl status' concludes about the stack.
enum class StackVerdict {
  kHealthy,          // every daemon running and serving (and no findings)
  kNotServing,       // a daemon is not running, or not serving
  kPostureFindings,  // all serve, but a posture is weaker than its policy
};
// `security`: findings count (they are only sent with_posture).
StackVerdict JudgeStack(const v1::ListDaemonsResponse& daemons, bool security);
// kExitOk for kHealthy, else kExitNotServing (5): a script's check fails
// whatever the reason, and the output says which.
int ExitCodeForVerdict(StackVerdict verdict);

// NAME of 'rustiqctl services ...', checked before anything is sent with
// the device's name rule (config::ValidateStackName); InvalidArgument,
// naming NAME, otherwise.
absl::Status CheckDaemonName(absl::string_view name);

// The line of 'rustiqctl services restart|stop|start': "keyd: restarting
// (state starting, pid 1234)". `verb` is what was asked ("restarting").
std::string ServiceActionText(absl::string_view verb,
                              const v1::DaemonStatus& daemon);

}  // namespace rustiq::cli

#endif  // RUSTIQ_CLI_STATUS_FORMAT_H_
