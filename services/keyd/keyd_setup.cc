#include "services/keyd/keyd_setup.h"

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "common/pki/identity_files.h"
#include "services/keyd/pkcs11/pkcs11_backend.h"
#include "services/keyd/soft_backend.h"

namespace rustiq::keyd {
namespace {

constexpr size_t kMaxPinBytes = 256;

absl::StatusOr<std::unique_ptr<KeyBackend>> MakeBackend(
    const config::KeydConfig& c) {
  if (c.backend == "soft") {
    SoftBackendOptions options;
    options.presign_nonces = c.presign_nonces;
    return NewSoftBackend(options);
  }
  absl::StatusOr<SecretBytes> pin =
      ReadPrivateFile(c.pkcs11_pin_file, "PKCS#11 PIN file", kMaxPinBytes);
  if (!pin.ok()) return pin.status();
  // A trailing newline from `echo PIN > file` is not part of the PIN.
  size_t n = pin->size();
  while (n > 0 && (pin->data()[n - 1] == '\n' || pin->data()[n - 1] == '\r')) {
    --n;
  }
  pin->Truncate(n);
  Pkcs11Options options;
  options.module_path = c.pkcs11_module;
  options.token_label = c.pkcs11_token_label;
  options.pin = *std::move(pin);
  return NewPkcs11Backend(options);
}

}  // namespace

KeydPaths KeydPathsFor(const config::StackConfig& config) {
  KeydPaths p;
  p.dir = absl::StrCat(config.paths.state_dir, "/keyd");
  p.store = absl::StrCat(p.dir, "/keys.store");
  if (!config.keyd.master_key_file.empty()) {
    p.master_key = config.keyd.master_key_file;
  } else if (const char* creds = std::getenv("CREDENTIALS_DIRECTORY");
             creds != nullptr && *creds == '/') {
    p.master_key = absl::StrCat(creds, "/", kMasterKeyCredential);
    p.master_key_is_credential = true;
  } else {
    p.master_key = absl::StrCat(p.dir, "/master.key");
  }
  return p;
}

absl::StatusOr<Keyd> OpenKeyd(const config::StackConfig& config,
                              audit::SecurityEventSink* sink, bool provision) {
  Keyd keyd;
  keyd.paths = KeydPathsFor(config);
  if (provision) {
    if (absl::Status s = pki::EnsureDirectory(keyd.paths.dir, 0700); !s.ok()) {
      return s;
    }
    absl::StatusOr<SecretBytes> existing = LoadMasterKey(keyd.paths.master_key);
    if (absl::IsNotFound(existing.status()) &&
        !keyd.paths.master_key_is_credential) {
      if (absl::Status s = CreateMasterKey(keyd.paths.master_key); !s.ok()) {
        return s;
      }
    }
  }
  absl::StatusOr<SecretBytes> master = LoadMasterKey(keyd.paths.master_key);
  if (!master.ok()) return master.status();
  absl::StatusOr<std::unique_ptr<KeyBackend>> backend =
      MakeBackend(config.keyd);
  if (!backend.ok()) return backend.status();
  absl::StatusOr<std::vector<WellKnownKey>> well_known =
      ParseWellKnownKeys(CompiledWellKnownKeys(), "policies/keyd/keys.toml");
  if (!well_known.ok()) return well_known.status();
  absl::StatusOr<std::unique_ptr<KeyManager>> keys = KeyManager::Open(
      *std::move(backend),
      std::make_unique<KeyStoreFile>(keyd.paths.store, *std::move(master)),
      *std::move(well_known), config.device_id, sink, provision);
  if (!keys.ok()) return keys.status();
  keyd.keys = *std::move(keys);
  DeviceCaOptions ca_options;
  ca_options.trust_domain = config.device_id;
  ca_options.default_lifetime =
      absl::Hours(config.keyd.identity_lifetime_hours);
  ca_options.max_lifetime =
      absl::Hours(config.keyd.max_identity_lifetime_hours);
  absl::StatusOr<std::unique_ptr<DeviceCa>> ca =
      DeviceCa::Open(keyd.keys.get(), ca_options);
  if (!ca.ok()) return ca.status();
  keyd.ca = *std::move(ca);
  return keyd;
}

}  // namespace rustiq::keyd
