// Everything keyd opens from the device configuration, shared by the daemon
// and by provisioning: the backend, the master key, the key store, the
// well-known keys and the device CA.
#ifndef RUSTIQ_SERVICES_KEYD_KEYD_SETUP_H_
#define RUSTIQ_SERVICES_KEYD_KEYD_SETUP_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/audit/security_event.h"
#include "common/config/config.h"
#include "services/keyd/device_ca.h"
#include "services/keyd/key_manager.h"

namespace rustiq::keyd {

struct KeydPaths {
  std::string dir;         // <state>/keyd
  std::string store;       // <state>/keyd/keys.store
  std::string master_key;  // as resolved (credential, file or default)
  bool master_key_is_credential = false;
};

// The systemd credential keyd's master key may come from.
inline constexpr char kMasterKeyCredential[] = "keyd-master-key";

KeydPaths KeydPathsFor(const config::StackConfig& config);

struct Keyd {
  KeydPaths paths;
  std::unique_ptr<KeyManager> keys;
  std::unique_ptr<DeviceCa> ca;
};

// Opens keyd's state. With `provision`, a missing master key and store are
// created (the first provisioning); otherwise they must exist.
absl::StatusOr<Keyd> OpenKeyd(const config::StackConfig& config,
                              audit::SecurityEventSink* sink, bool provision);

}  // namespace rustiq::keyd

#endif  // RUSTIQ_SERVICES_KEYD_KEYD_SETUP_H_
