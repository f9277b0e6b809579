// The keys of a device: their names, versions and policies (kept in the
// key store), their material (in the backend), and every operation on them,
// each checked against the key's policy. The gRPC service (keys_service.h)
// is a thin layer over this class; tests drive it directly.
//
// Callers are identified by their caller path ("svc/cloudd"). `person` is set
// when the caller is a person whose token the enforcement point has already
// checked for the permission the method declares (keys.manage, keys.read):
// a person may manage any key; a daemon manages the keys that grant it
// `manage` (its own, by default). Using a key (sign, seal, ...) always needs
// a grant, for people and daemons alike.
#ifndef RUSTIQ_SERVICES_KEYD_KEY_MANAGER_H_
#define RUSTIQ_SERVICES_KEYD_KEY_MANAGER_H_

#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "common/audit/security_event.h"
#include "rustiq/v1/keys.pb.h"
#include "services/keyd/backend.h"
#include "services/keyd/key_policy.h"
#include "services/keyd/key_store.h"
#include "services/keyd/key_use_counter.h"

namespace rustiq::keyd {

struct Caller {
  std::string path;     // "svc/cloudd", "client/rustiqctl"
  bool person = false;  // token checked for the method's permission
  // The person acting ("user/alice"), from the verified token, when
  // `person`: the actor of the events recorded for the call.
  std::string person_actor = "";
};

// Bounds of what callers may send.
inline constexpr size_t kMaxMessageBytes = 64 * 1024;
inline constexpr size_t kMaxPlaintextBytes = 64 * 1024;
inline constexpr size_t kMaxContextBytes = 256;
inline constexpr size_t kMaxRandomBytes = 1024;
inline constexpr char kZeroizeConfirmation[] = "destroy all keys";

class KeyManager {
 public:
  // Loads the store (creating an empty one when `create_store` and it does
  // not exist), opens every key version in the backend, and creates the
  // well-known keys that are missing. Nothing is half-loaded: any defect in
  // the store or a missing backend object is an error naming it.
  // `sink` is not owned.
  static absl::StatusOr<std::unique_ptr<KeyManager>> Open(
      std::unique_ptr<KeyBackend> backend, std::unique_ptr<KeyStoreFile> store,
      std::vector<WellKnownKey> well_known, std::string device_id,
      audit::SecurityEventSink* sink, bool create_store);

  absl::StatusOr<v1::KeyInfo> CreateKey(const Caller& caller,
                                        const v1::CreateKeyRequest& request);
  absl::StatusOr<v1::KeyInfo> ImportPublicKey(
      const Caller& caller, const v1::ImportPublicKeyRequest& request);
  absl::StatusOr<v1::KeyInfo> GetKey(const Caller& caller,
                                     absl::string_view name);
  absl::StatusOr<v1::ListKeysResponse> ListKeys(const Caller& caller);
  absl::Status DeleteKey(const Caller& caller, absl::string_view name);
  absl::StatusOr<v1::KeyInfo> RotateKey(const Caller& caller,
                                        absl::string_view name);
  absl::StatusOr<v1::KeyInfo> RetireKeyVersion(const Caller& caller,
                                               absl::string_view name,
                                               uint32_t version);

  absl::StatusOr<v1::PublicKey> GetPublicKey(
      const Caller& caller, const v1::GetPublicKeyRequest& request);
  absl::StatusOr<v1::SignResponse> Sign(const Caller& caller,
                                        const v1::SignRequest& request);
  absl::StatusOr<v1::VerifyResponse> Verify(const Caller& caller,
                                            const v1::VerifyRequest& request);
  absl::StatusOr<SecretBytes> Decrypt(const Caller& caller,
                                      const v1::DecryptRequest& request);
  absl::StatusOr<v1::SealResponse> Seal(const Caller& caller,
                                        const v1::SealRequest& request);
  absl::StatusOr<SecretBytes> Unseal(const Caller& caller,
                                     const v1::UnsealRequest& request);
  absl::StatusOr<std::string> RandomBytes(uint32_t length);

  // Records the request, then destroys every key in the backend, the store
  // file and the master key file (when `master_key_path` is not empty and
  // writable). Every later call fails with FAILED_PRECONDITION.
  absl::StatusOr<uint32_t> Zeroize(const Caller& caller,
                                   const v1::ZeroizeRequest& request,
                                   absl::string_view master_key_path);

  // For keyd itself (the device CA): a version of a key (0: the current
  // one), without a policy check. Never reachable from a caller. The caller
  // holds the key only for the operation at hand and asks again for the
  // next: zeroize and retiring a version then really let go of it.
  struct InternalVersion {
    uint32_t version = 0;
    std::shared_ptr<BackendKey> key;
  };
  absl::StatusOr<InternalVersion> InternalKey(absl::string_view name,
                                              uint32_t version = 0);
  // The device CA certificate kept in the store ("" when none yet).
  std::string CaCertificatePem() const;
  absl::Status SetCaCertificatePem(absl::string_view pem);

  bool zeroized() const;
  const KeyBackend& backend() const { return *backend_; }
  // The backend's background threads (KeyBackend::StartWorkers); call once
  // confined.
  void StartBackendWorkers() { backend_->StartWorkers(); }
  // Records the key uses counted so far ("key.used" events), as keyd stops.
  void FlushKeyUses() { uses_.Flush(); }

 private:
  struct Version {
    uint32_t version = 0;
    int64_t created = 0;
    SecretBytes handle;
    std::string public_key_der;
    std::shared_ptr<BackendKey> key;  // null for public-only keys
  };
  struct Entry {
    // Tells apart two keys of the same name: one deleted and another created
    // in its place while an operation ran outside the lock.
    uint64_t instance = 0;
    std::string name;
    v1::KeyAlgorithm algorithm = v1::KEY_ALGORITHM_UNSPECIFIED;
    std::string backend;
    std::string creator;
    v1::KeyPolicy policy;
    KeyGrants grants;
    bool well_known = false;
    bool public_only = false;
    uint32_t current = 0;
    uint32_t next_version = 1;
    std::map<uint32_t, Version> versions;
  };

  KeyManager(std::unique_ptr<KeyBackend> backend,
             std::unique_ptr<KeyStoreFile> store, std::string device_id,
             audit::SecurityEventSink* sink)
      : backend_(std::move(backend)),
        store_(std::move(store)),
        device_id_(std::move(device_id)),
        sink_(sink),
        uses_(sink, kKeyUseWindow) {}

  // How long key uses are counted before they are recorded.
  static constexpr absl::Duration kKeyUseWindow = absl::Minutes(1);

  absl::Status LoadFrom(store::StoreContents contents);
  absl::Status EnsureWellKnown(const std::vector<WellKnownKey>& well_known);
  pki::AtomicWriteResult SaveLocked();
  // A change made in memory, written to the store. `in_effect` when the
  // store names it: saved (status OK), or the file was replaced but not made
  // durable (status says so; memory keeps the change, as the file shows
  // it). Otherwise nothing was written and `undo` has put memory back.
  struct Commit {
    absl::Status status;
    bool in_effect = false;
  };
  Commit CommitLocked(absl::FunctionRef<void()> undo);
  // Adds an entry under a fresh instance number. Lock held.
  Entry& InsertLocked(Entry entry);
  absl::StatusOr<Version> NewVersion(const Entry& entry, uint32_t number);

  // The entry, or NotFound/FailedPrecondition (zeroized). Lock held.
  absl::StatusOr<Entry*> FindLocked(absl::string_view name);
  // Checks a grant; records and returns PERMISSION_DENIED otherwise.
  absl::Status CheckUse(const Caller& caller, const Entry& entry,
                        v1::KeyOperation op);
  absl::Status CheckManage(const Caller& caller, const Entry& entry,
                           absl::string_view action);
  // Resolves a version number (0: current) of an entry.
  absl::StatusOr<const Version*> VersionOf(const Entry& entry,
                                           uint32_t version) const;
  v1::KeyInfo InfoOf(const Entry& entry) const;
  void Record(const Caller& caller, absl::string_view action,
              audit::Outcome outcome, absl::string_view key,
              std::vector<std::pair<std::string, std::string>> more = {});

  std::unique_ptr<KeyBackend> backend_;
  std::unique_ptr<KeyStoreFile> store_;
  const std::string device_id_;
  audit::SecurityEventSink* sink_;
  KeyUseCounter uses_;

  mutable std::shared_mutex mu_;
  std::map<std::string, Entry, std::less<>> entries_;
  std::map<std::string, WellKnownKey, std::less<>> declared_;
  std::string ca_cert_pem_;
  uint64_t generation_ = 0;
  uint64_t next_instance_ = 1;
  bool zeroized_ = false;
};

}  // namespace rustiq::keyd

#endif  // RUSTIQ_SERVICES_KEYD_KEY_MANAGER_H_
