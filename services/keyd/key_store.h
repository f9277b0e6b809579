// keyd's key store at rest: one file, <state>/keyd/keys.store, holding every
// key's metadata and backend handle, encrypted as a whole with AES-256-GCM
// under the master key. Loading is all or nothing: a file that is truncated,
// altered, or encrypted under another master key fails authentication and
// nothing in it is used.
//
//   "RQKS" | format 0x01 | nonce (12) | ciphertext | tag (16)
//   associated data: "RQKS" | format
//
// The master key is 32 random bytes in a file readable by keyd alone (or a
// systemd credential). Saving rewrites the whole file atomically.
#ifndef RUSTIQ_SERVICES_KEYD_KEY_STORE_H_
#define RUSTIQ_SERVICES_KEYD_KEY_STORE_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/pki/identity_files.h"
#include "services/keyd/secret_bytes.h"
#include "services/keyd/store.pb.h"

namespace rustiq::keyd {

inline constexpr size_t kMasterKeyBytes = 32;

// Reads a small secret file (a master key, a PIN): a regular file of 1 to
// `max_bytes` bytes, not accessible to group or others. `what` names it in
// errors.
absl::StatusOr<SecretBytes> ReadPrivateFile(absl::string_view path,
                                            absl::string_view what,
                                            size_t max_bytes);

// Reads a master key file: exactly 32 bytes, a regular file not readable or
// writable by group or others. Errors name the path and what to fix.
absl::StatusOr<SecretBytes> LoadMasterKey(absl::string_view path);

// Creates a fresh master key file (mode 0400) that must not exist yet.
absl::Status CreateMasterKey(absl::string_view path);

// Overwrites every handle in `contents` with zeros (after a load or save, so
// that no key material lingers in the protobuf's ordinary heap strings).
void CleanseHandles(store::StoreContents* contents);

class KeyStoreFile {
 public:
  KeyStoreFile(std::string path, SecretBytes master_key)
      : path_(std::move(path)), master_key_(std::move(master_key)) {}
  virtual ~KeyStoreFile() = default;

  const std::string& path() const { return path_; }

  // NotFound when the file does not exist; DataLoss naming the path and the
  // defect otherwise (too short, not a key store, unsupported format, fails
  // authentication, does not parse).
  absl::StatusOr<store::StoreContents> Load() const;

  // Increments contents->generation and writes the file (0600) atomically.
  // A failure with `replaced` set came after the file was replaced: it names
  // the new contents (see pki::AtomicWriteResult). Virtual so that tests can
  // make a save fail.
  virtual pki::AtomicWriteResult Save(store::StoreContents* contents) const;

  // Zeroize: overwrites the file with random bytes, syncs it and removes it.
  // Missing is fine.
  absl::Status Destroy() const;

 private:
  std::string path_;
  SecretBytes master_key_;
};

}  // namespace rustiq::keyd

#endif  // RUSTIQ_SERVICES_KEYD_KEY_STORE_H_
