// What every daemon's main() does around its own logic, in the order
// DESIGN.md prescribes: flags, configuration and log level, the stop
// signals, the pre-confinement preparations, confinement from the compiled
// policy, and serving until SIGTERM/SIGINT. Each step that fails logs one
// line saying what to fix and makes main() return 1.
#ifndef RUSTIQ_COMMON_DAEMON_DAEMON_H_
#define RUSTIQ_COMMON_DAEMON_DAEMON_H_

#include <signal.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "common/audit/security_event.h"
#include "common/config/config.h"
#include "common/events/event_log_sink.h"
#include "common/rpc/identity_renewer.h"
#include "common/rpc/server.h"
#include "common/sandbox/seccomp_policy.h"

namespace rustiq::daemon {

struct Flags {
  std::string config_path;  // --config; empty: $RUSTIQ_CONFIG, else default
  std::string name;         // --name, when the daemon accepts it
  bool seccomp_complain = false;
};

// Parses --config FILE, --seccomp-complain and, with `accept_name`,
// --name NAME (default `name`). Prints usage and returns nullopt otherwise.
std::optional<Flags> ParseFlags(int argc, char** argv, absl::string_view name,
                                bool accept_name = false);

// Names the daemon in its logs, loads the configuration (logging the error
// otherwise), applies the log level, and blocks SIGTERM and SIGINT in every
// thread (ServeUntilStopped waits for them).
std::optional<config::StackConfig> Begin(const Flags& flags);

// The compiled-in policy of a daemon (policies/<daemon>/).
struct Policy {
  absl::string_view capabilities;
  absl::string_view landlock_paths;
  const sandbox::SeccompPolicy* seccomp;
};

// Prepares what the server needs from the system, then confines the process
// with `policy` (and `extra_read_write` paths, such as a PKCS#11 module's
// state). Dies if confinement fails; false when the preparation failed.
bool PrepareAndConfine(const config::StackConfig& config, const Flags& flags,
                       const rpc::ServerOptions& options, const Policy& policy,
                       const std::vector<std::string>& extra_read_write = {});

// The options of the daemon's event sink: what eventd has not taken when
// the daemon stops waits in its state directory for its next run
// (<state>/<daemon>/events-pending, common/events/event_spool.h).
events::EventLogSinkOptions EventSinkOptions(const config::StackConfig& config,
                                             absl::string_view daemon);

// Records, through `sink`, the sandbox violation that ended this daemon's
// previous run, if one did (common/sandbox/violation_record.h): an event
// sandbox/sandbox.violation naming the syscall. PrepareAndConfine() took
// the record; call this once the daemon's sink exists.
void RecordPreviousViolation(absl::string_view daemon,
                             audit::SecurityEventSink& sink);

// Starts renewing the daemon's own short-lived mTLS identity from `ca`
// (keyd, or keyd's own CA), at rpc.identity_renewal_percent of its
// lifetime. `ca` is not owned and must outlive the renewer. Null (logged)
// when the daemon's ID is not valid.
std::unique_ptr<rpc::IdentityRenewer> StartIdentityRenewal(
    const config::StackConfig& config, absl::string_view daemon,
    rpc::CertificateSource* ca);

// Serves until SIGTERM or SIGINT, then shuts the server down gracefully.
// `before_shutdown` runs first (to end the server's long streams, which
// would otherwise hold the shutdown for its whole grace period).
void ServeUntilStopped(rpc::RpcServer& server,
                       const std::function<void()>& before_shutdown = {});

}  // namespace rustiq::daemon

#endif  // RUSTIQ_COMMON_DAEMON_DAEMON_H_
