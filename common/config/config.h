// The device configuration: one TOML file (production
// /etc/rustiq/rustiq.toml) plus drop-ins in `config.d/*.toml` beside it,
// merged in lexical order, later files winning key by key.
//
// Every path a daemon uses derives from the three roots in [paths], so a
// development device is the same stack under one directory. Unknown sections
// or keys and bad values are errors that name the file, the key and what is
// expected: a daemon refuses to start rather than run on a config it misread.
#ifndef RUSTIQ_COMMON_CONFIG_CONFIG_H_
#define RUSTIQ_COMMON_CONFIG_CONFIG_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace rustiq::config {

inline constexpr absl::string_view kDefaultConfigPath =
    "/etc/rustiq/rustiq.toml";
inline constexpr absl::string_view kConfigEnvVar = "RUSTIQ_CONFIG";

struct PathsConfig {
  std::string config_dir = "/etc/rustiq";     // read-only for daemons
  std::string state_dir = "/var/lib/rustiq";  // <state>/<daemon>/ per daemon
  std::string runtime_dir = "/run/rustiq";    // sockets: <runtime>/<d>.sock
};

struct RpcConfig {
  // Group that owns the socket directory and sockets (mode 0750/0660). Empty:
  // the process's primary group.
  std::string socket_group;
  uint32_t max_message_bytes = 4 * 1024 * 1024;
  uint32_t max_concurrent_calls_per_caller = 16;
  // Default deadline of every client call, unless the caller sets a shorter
  // one.
  uint32_t call_deadline_ms = 10000;
  // How often certificates and the trust bundle are re-read from disk.
  uint32_t credential_refresh_seconds = 60;
  // A daemon renews its certificate from keyd once this share of its
  // lifetime has passed.
  uint32_t identity_renewal_percent = 66;
};

// [keyd]: key custody (docs/keyd.md).
struct KeydConfig {
  std::string backend = "soft";  // "soft" or "pkcs11"
  // The master key of the soft key store. Empty: the systemd credential
  // "keyd-master-key" when keyd runs with one, else <state>/keyd/master.key.
  std::string master_key_file;
  std::string pkcs11_module;  // absolute path of the PKCS#11 module
  std::string pkcs11_token_label = "rustiq";
  std::string pkcs11_pin_file;  // absolute path, readable by keyd alone
  // A directory the module itself writes at run time (SoftHSM2's token
  // directory), granted read-write by keyd's Landlock rules; empty: none.
  std::string pkcs11_state_dir;
  // Lifetime of the certificates keyd issues when the request names none,
  // and the most a request may ask for.
  uint32_t identity_lifetime_hours = 24;
  uint32_t max_identity_lifetime_hours = 24 * 7;
  // soft backend: ECDSA P-256 nonces precomputed per key version by a
  // background thread, so that a signature request does not wait for a
  // scalar multiplication (docs/keyd.md); 0 turns it off.
  uint32_t presign_nonces = 64;
};

// [eventd]: the event log (docs/eventd.md).
struct EventdConfig {
  // A tree head is signed by keyd after this many new events, or this many
  // seconds after the first unsigned one, whichever comes first, and at a
  // clean stop.
  uint32_t sign_every_events = 1000;
  uint32_t sign_every_seconds = 10;
  // Retention: events older than this many days, and beyond this many
  // events, are pruned (0: no limit). Pruning keeps what the rest needs to
  // verify and is itself recorded.
  uint32_t retention_days = 90;
  uint32_t retention_max_events = 10000000;
  // Group commit: the most events one transaction takes.
  uint32_t max_batch_events = 4096;
  // Also write every event to the journal: "auto" (when started by
  // systemd), "on" or "off".
  std::string journal = "auto";
};

// [authd]: accounts, passwords and tokens (docs/authd.md).
struct AuthdConfig {
  // argon2id cost of a password hash: OWASP's minimum (19 MiB, 2 passes,
  // one lane) suits a gateway-class device; raising it slows every login
  // and every guess alike.
  uint32_t argon2_memory_kib = 19456;
  uint32_t argon2_iterations = 2;
  uint32_t argon2_parallelism = 1;
  uint32_t password_min_length = 12;
  // How long a token is valid; a person logs in again after it.
  uint32_t token_lifetime_minutes = 15;
  // Brute force: after the k-th failed login of an account, the next try is
  // allowed after login_delay_ms * 2^(k-1) (at most login_max_delay_ms); the
  // lockout_failures-th failure locks the account for lockout_seconds.
  uint32_t login_delay_ms = 1000;
  uint32_t login_max_delay_ms = 60000;
  uint32_t lockout_failures = 5;
  uint32_t lockout_seconds = 900;
  // Failed logins from one client beyond this many slow that client down.
  uint32_t source_free_failures = 10;
};

// One daemon supervisord starts in standalone mode
// ([supervisord.daemons.<name>]).
struct SupervisedDaemon {
  std::string name;               // the table's name: "keyd"
  std::string binary;             // absolute path of the executable
  std::vector<std::string> args;  // its arguments (argv[1..])
  // The user and group it runs as when supervisord is root (created by
  // deploy/sysusers.d/rustiq.conf); empty: supervisord's own.
  std::string user;
  std::string group;
  // Daemons that must be SERVING before this one starts (its clients come
  // after it); they stop after it.
  std::vector<std::string> after;
  // "always" (restart whenever it ends), "on-failure" (not after a clean
  // exit 0) or "never".
  std::string restart = "always";
};

// [supervisord]: running, watching and restarting the stack
// (docs/supervisord.md).
struct SupervisordConfig {
  // A running daemon's health is checked this often; a check not answered
  // within health_timeout_ms fails, and health_failures failures in a row
  // get the daemon killed and restarted.
  uint32_t health_interval_ms = 1000;
  uint32_t health_timeout_ms = 1000;
  uint32_t health_failures = 3;
  // A started daemon that is not SERVING within this is killed (a failed
  // start).
  uint32_t start_timeout_ms = 10000;
  // SIGTERM, then SIGKILL after this.
  uint32_t stop_timeout_ms = 5000;
  // Restart back-off: restart_delay_ms doubled after each exit up to
  // restart_max_delay_ms, with up to 25% random jitter; it resets once a
  // daemon has served for crash_loop_seconds.
  uint32_t restart_delay_ms = 100;
  uint32_t restart_max_delay_ms = 30000;
  // crash_loop_exits exits within crash_loop_seconds: FAILED, not
  // restarted until asked.
  uint32_t crash_loop_exits = 5;
  uint32_t crash_loop_seconds = 60;
  std::vector<SupervisedDaemon> daemons;  // by name
};

struct LogConfig {
  std::string level = "info";
};

struct StackConfig {
  std::string source_path;  // the main file this was loaded from
  std::string device_id;    // the trust domain of every identity
  PathsConfig paths;
  RpcConfig rpc;
  LogConfig log;
  KeydConfig keyd;
  EventdConfig eventd;
  AuthdConfig authd;
  SupervisordConfig supervisord;
};

// Resolves the config path: explicit flag, else $RUSTIQ_CONFIG, else the
// production default.
std::string ResolveConfigPath(absl::string_view flag_value);

// Loads and validates the main file and its drop-ins.
absl::StatusOr<StackConfig> LoadConfig(const std::string& path);
// Parses a config from text (tests; `origin` names it in errors).
absl::StatusOr<StackConfig> ParseConfig(absl::string_view toml_text,
                                        absl::string_view origin);
// Renders a config as TOML (provisioning writes the development device's).
std::string RenderConfig(const StackConfig& config);

}  // namespace rustiq::config

#endif  // RUSTIQ_COMMON_CONFIG_CONFIG_H_
