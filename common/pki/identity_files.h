// The on-disk layout of identities, the trust bundle and the device CA, and
// the file operations that keep it consistent. This is the only place these
// paths are derived; everything else asks here.
//
//   <state>/<daemon>/identity/gen-XXXXXX/{key.pem,cert.pem}
//   <state>/<daemon>/identity/current -> gen-XXXXXX  (swapped atomically)
//   <state>/clients/<client>/identity/...            (same shape)
//   <state>/trust/bundle.pem
//   <state>/keyd/device-ca/{key.pem,cert.pem}
//
// Modes are set explicitly (never left to the umask): identity and CA
// directories 0700, private keys 0600, certificates and the bundle 0644,
// parent directories created by these functions 0755.
#ifndef RUSTIQ_COMMON_PKI_IDENTITY_FILES_H_
#define RUSTIQ_COMMON_PKI_IDENTITY_FILES_H_

#include <sys/types.h>

#include <cstddef>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/identity/spiffe_id.h"

namespace rustiq::pki {

struct IdentityPaths {
  std::string dir;        // <...>/identity
  std::string key_path;   // <dir>/current/key.pem
  std::string cert_path;  // <dir>/current/cert.pem
};

// <state>/<daemon>/identity. `daemon` is a single path segment (already
// validated, e.g. by SpiffeId::ForService).
IdentityPaths ForService(absl::string_view state_dir, absl::string_view daemon);
// <state>/clients/<client>/identity.
IdentityPaths ForClient(absl::string_view state_dir, absl::string_view client);
// The paths of `id`: svc/<daemon> -> ForService, client/<name> -> ForClient.
// Any other shape (more segments, a daemon named "clients" or "trust" that
// would collide with the layout) has no place on disk and is an error.
absl::StatusOr<IdentityPaths> IdentityPathsFor(absl::string_view state_dir,
                                               const identity::SpiffeId& id);

// <state>/trust/bundle.pem: the PEM CA certificates every endpoint trusts.
std::string TrustBundlePath(absl::string_view state_dir);

struct DeviceCaPaths {
  std::string dir;        // <state>/keyd/device-ca
  std::string key_path;   // <dir>/key.pem
  std::string cert_path;  // <dir>/cert.pem
};
// The device CA lives in keyd's state directory.
DeviceCaPaths DeviceCaPathsFor(absl::string_view state_dir);

// Who should own what is written; unset fields are left as the process
// creates them.
struct FileOwner {
  std::optional<uid_t> uid;
  std::optional<gid_t> gid;
};

// Replaces the identity under `paths.dir` so that no reader (gRPC's
// FileWatcherCertificateProvider reads key and certificate separately) ever
// sees a key of one generation with a certificate of another: both files go
// into a fresh <dir>/gen-XXXXXX (0700; key 0600, cert 0644; fsynced), the
// symlink <dir>/current is swapped to it with rename(2), and older
// generations are removed. Refuses a key that does not match the certificate.
// `dir` is created 0700 (and set to 0700 if it exists); missing parents are
// created 0755. With `owner` set, `dir`, the generation, its files and the
// symlink are chowned to it. Not safe against a concurrent writer of the same
// identity (one writer per identity: the provisioner, later its daemon).
absl::Status WriteIdentity(const IdentityPaths& paths,
                           absl::string_view key_pem,
                           absl::string_view cert_pem,
                           const FileOwner& owner = {});

// Writes `contents` to a temporary file beside `path` with `mode`, fsyncs it,
// renames it over `path` and fsyncs the directory. The directory must exist.
absl::Status WriteFileAtomically(absl::string_view path,
                                 absl::string_view contents, mode_t mode,
                                 const FileOwner& owner = {});

// What WriteFileAtomicallyReporting did. `status` is OK when the new contents
// are in place and durable. A failure with `replaced` came after the rename
// (syncing the directory failed): every reader already sees the new
// contents, but a power loss may still bring the old file back. Without
// `replaced`, `path` is as it was.
struct AtomicWriteResult {
  absl::Status status;
  bool replaced = false;
};
// WriteFileAtomically, for a caller whose state must follow what the file
// says (keyd's key store: a key the replaced file names must not be
// destroyed, even though the write reported an error).
AtomicWriteResult WriteFileAtomicallyReporting(absl::string_view path,
                                               absl::string_view contents,
                                               mode_t mode,
                                               const FileOwner& owner = {});

// mkdir -p: creates each missing directory of `path` with exactly `mode`;
// existing directories are left as they are.
absl::Status MakeDirectories(absl::string_view path, mode_t mode);
// Makes `path` a directory with exactly `mode` (chmod when it exists) and,
// when set, `owner`; missing parents are created with `parent_mode`.
absl::Status EnsureDirectory(absl::string_view path, mode_t mode,
                             mode_t parent_mode = 0755,
                             const FileOwner& owner = {});

// Reads a regular file of at most `max_bytes`. NotFound when it is missing,
// FailedPrecondition when it is larger or not a regular file; every message
// names the path.
absl::StatusOr<std::string> ReadSmallFile(absl::string_view path,
                                          size_t max_bytes);

}  // namespace rustiq::pki

#endif  // RUSTIQ_COMMON_PKI_IDENTITY_FILES_H_
