#include "services/keyd/key_manager.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/logging/log.h"
#include "services/keyd/public_keys.h"
#include "services/keyd/seal_format.h"

namespace rustiq::keyd {
namespace {

using audit::Outcome;

constexpr char kZeroized[] =
    "keyd was zeroized: every key is destroyed; re-provision the device";
// How long zeroize waits for the event log to have its record.
constexpr int kZeroizeRecordWaitMs = 3000;

bool SchemeFromProto(v1::SignatureAlgorithm algorithm, SignatureScheme* out) {
  switch (algorithm) {
    case v1::SIGNATURE_ALGORITHM_ECDSA_P256_SHA256:
      *out = SignatureScheme::kEcdsaP256Sha256;
      return true;
    case v1::SIGNATURE_ALGORITHM_ED25519:
      *out = SignatureScheme::kEd25519;
      return true;
    case v1::SIGNATURE_ALGORITHM_RSA_PSS_SHA256:
      *out = SignatureScheme::kRsaPssSha256;
      return true;
    case v1::SIGNATURE_ALGORITHM_RSA_PKCS1_SHA256:
      *out = SignatureScheme::kRsaPkcs1Sha256;
      return true;
    default:
      return false;
  }
}

std::string Sha256(absl::string_view data) {
  std::string digest(SHA256_DIGEST_LENGTH, '\0');
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(),
         reinterpret_cast<unsigned char*>(digest.data()));
  return digest;
}

// The input a backend signs (or a verifier checks), from a request's oneof.
absl::StatusOr<std::string> SigningInput(SignatureScheme scheme,
                                         bool has_message,
                                         absl::string_view message,
                                         bool has_digest,
                                         absl::string_view digest) {
  if (!has_message && !has_digest) {
    return absl::InvalidArgumentError("set either message or digest");
  }
  if (has_message && message.size() > kMaxMessageBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "message is ", message.size(), " bytes; at most ", kMaxMessageBytes,
        " may be signed directly: send its SHA-256 digest instead"));
  }
  if (scheme == SignatureScheme::kEd25519) {
    if (has_digest) {
      return absl::InvalidArgumentError(
          "Ed25519 signs the message itself; a digest cannot be signed");
    }
    return std::string(message);
  }
  if (has_digest) {
    if (digest.size() != SHA256_DIGEST_LENGTH) {
      return absl::InvalidArgumentError(
          absl::StrCat("digest must be a 32-byte SHA-256 digest, got ",
                       digest.size(), " bytes"));
    }
    return std::string(digest);
  }
  return Sha256(message);
}

}  // namespace

absl::StatusOr<std::unique_ptr<KeyManager>> KeyManager::Open(
    std::unique_ptr<KeyBackend> backend, std::unique_ptr<KeyStoreFile> store,
    std::vector<WellKnownKey> well_known, std::string device_id,
    audit::SecurityEventSink* sink, bool create_store) {
  std::unique_ptr<KeyManager> m(new KeyManager(
      std::move(backend), std::move(store), std::move(device_id), sink));
  for (const WellKnownKey& k : well_known) m->declared_[k.name] = k;
  absl::StatusOr<store::StoreContents> contents = m->store_->Load();
  if (!contents.ok()) {
    if (!absl::IsNotFound(contents.status()) || !create_store) {
      if (absl::IsNotFound(contents.status())) {
        return absl::FailedPreconditionError(absl::StrCat(
            "key store ", m->store_->path(),
            " does not exist: provision the device first ('rustiqctl "
            "provision device')"));
      }
      return contents.status();
    }
    contents = store::StoreContents();
    contents->set_device_id(m->device_id_);
  }
  if (contents->device_id() != m->device_id_) {
    CleanseHandles(&*contents);  // private material of the soft backend
    return absl::FailedPreconditionError(
        absl::StrCat("key store ", m->store_->path(), " belongs to device '",
                     contents->device_id(), "', the configuration names '",
                     m->device_id_, "'"));
  }
  std::unique_lock lock(m->mu_);
  absl::Status s = m->LoadFrom(*std::move(contents));
  if (s.ok()) s = m->EnsureWellKnown(well_known);
  if (!s.ok()) return s;
  return m;
}

absl::Status KeyManager::LoadFrom(store::StoreContents contents) {
  generation_ = contents.generation();
  ca_cert_pem_ = contents.ca_certificate_pem();
  for (store::StoredKey& sk : *contents.mutable_keys()) {
    Entry e;
    e.name = sk.name();
    e.algorithm = sk.algorithm();
    e.backend = sk.backend();
    e.creator = sk.creator();
    e.policy = sk.policy();
    e.well_known = sk.well_known();
    e.public_only = sk.public_only();
    e.current = sk.current_version();
    e.next_version = sk.next_version();
    absl::StatusOr<KeyGrants> grants =
        KeyGrants::Parse(e.policy, e.algorithm, e.public_only);
    Algorithm algorithm;
    if (!grants.ok() || !FromProto(e.algorithm, &algorithm)) {
      CleanseHandles(&contents);
      return absl::DataLossError(absl::StrCat(
          "key store ", store_->path(), ": key ", e.name,
          " has an invalid policy or algorithm; nothing was loaded"));
    }
    e.grants = *std::move(grants);
    if (!e.public_only && e.backend != backend_->name()) {
      CleanseHandles(&contents);
      return absl::FailedPreconditionError(
          absl::StrCat("key ", e.name, " lives in backend '", e.backend,
                       "' but keyd is configured with '", backend_->name(),
                       "': set [keyd] backend accordingly"));
    }
    for (store::StoredVersion& sv : *sk.mutable_versions()) {
      Version v;
      v.version = sv.version();
      v.created = sv.created_unix_seconds();
      v.public_key_der = sv.public_key_der();
      v.handle = SecretBytes(sv.handle());
      OPENSSL_cleanse(sv.mutable_handle()->data(), sv.handle().size());
      if (!e.public_only) {
        absl::StatusOr<std::unique_ptr<BackendKey>> key =
            backend_->Open(algorithm, v.handle);
        if (!key.ok()) {
          CleanseHandles(&contents);
          return absl::DataLossError(
              absl::StrCat("key ", e.name, " version ", v.version,
                           " cannot be opened: ", key.status().message()));
        }
        v.key = std::move(*key);
      }
      e.versions.emplace(v.version, std::move(v));
    }
    // A version number handed out again would make a rotation overwrite
    // (and keep serving) an existing version.
    if (!e.versions.empty() && e.next_version <= e.versions.rbegin()->first) {
      CleanseHandles(&contents);
      return absl::DataLossError(
          absl::StrCat("key store ", store_->path(), ": key ", e.name,
                       " has a next version number that is already used"));
    }
    // A key without versions would crash the first Sign or Seal.
    if (e.versions.count(e.current) == 0) {
      CleanseHandles(&contents);
      return absl::DataLossError(
          absl::StrCat("key store ", store_->path(), ": key ", e.name,
                       " names a current version it does not have"));
    }
    InsertLocked(std::move(e));
  }
  return absl::OkStatus();
}

absl::StatusOr<KeyManager::Version> KeyManager::NewVersion(const Entry& entry,
                                                           uint32_t number) {
  Algorithm algorithm;
  if (!FromProto(entry.algorithm, &algorithm)) {
    return absl::InvalidArgumentError(
        "algorithm must be EC_P256, ED25519, RSA_3072 or AES_256");
  }
  Version v;
  v.version = number;
  v.created = absl::ToUnixSeconds(absl::Now());
  absl::StatusOr<SecretBytes> handle =
      backend_->Generate(algorithm, absl::StrCat(entry.name, ".v", number));
  if (!handle.ok()) return handle.status();
  v.handle = *std::move(handle);
  absl::StatusOr<std::unique_ptr<BackendKey>> key =
      backend_->Open(algorithm, v.handle);
  if (!key.ok()) return key.status();
  v.key = std::move(*key);
  if (algorithm != Algorithm::kAes256) {
    absl::StatusOr<std::string> der = v.key->PublicKeyDer();
    if (!der.ok()) return der.status();
    v.public_key_der = *std::move(der);
  }
  return v;
}

absl::Status KeyManager::EnsureWellKnown(
    const std::vector<WellKnownKey>& well_known) {
  bool changed = false;
  for (const WellKnownKey& k : well_known) {
    auto it = entries_.find(k.name);
    if (it != entries_.end()) {
      // The compiled-in policy wins: a policy change ships with the binary.
      absl::StatusOr<KeyGrants> grants = KeyGrants::Parse(
          k.policy, it->second.algorithm, it->second.public_only);
      if (!grants.ok()) return grants.status();
      if (it->second.policy.SerializeAsString() !=
              k.policy.SerializeAsString() ||
          !it->second.well_known) {
        it->second.policy = k.policy;
        it->second.well_known = true;
        changed = true;
      }
      it->second.grants = *std::move(grants);
      continue;
    }
    if (k.imported) continue;  // waits for an operator's ImportPublicKey
    Entry e;
    e.name = k.name;
    e.algorithm = k.algorithm;
    e.backend = backend_->name();
    e.creator = "svc/keyd";
    e.policy = k.policy;
    absl::StatusOr<KeyGrants> grants =
        KeyGrants::Parse(k.policy, k.algorithm, false);
    if (!grants.ok()) return grants.status();
    e.grants = *std::move(grants);
    e.well_known = true;
    absl::StatusOr<Version> v = NewVersion(e, 1);
    if (!v.ok()) {
      return absl::Status(v.status().code(),
                          absl::StrCat("cannot create well-known key ", k.name,
                                       ": ", v.status().message()));
    }
    e.current = 1;
    e.next_version = 2;
    e.versions.emplace(1, *std::move(v));
    InsertLocked(std::move(e));
    changed = true;
    Record({"svc/keyd", false}, "key.created", Outcome::kSuccess, k.name,
           {{"well_known", "true"}});
  }
  return changed ? SaveLocked().status : absl::OkStatus();
}

KeyManager::Entry& KeyManager::InsertLocked(Entry entry) {
  entry.instance = next_instance_++;
  std::string name = entry.name;
  return entries_.emplace(std::move(name), std::move(entry)).first->second;
}

pki::AtomicWriteResult KeyManager::SaveLocked() {
  store::StoreContents contents;
  contents.set_generation(generation_);
  contents.set_device_id(device_id_);
  contents.set_ca_certificate_pem(ca_cert_pem_);
  for (const auto& [name, e] : entries_) {
    store::StoredKey* sk = contents.add_keys();
    sk->set_name(e.name);
    sk->set_algorithm(e.algorithm);
    sk->set_backend(e.backend);
    sk->set_creator(e.creator);
    *sk->mutable_policy() = e.policy;
    sk->set_well_known(e.well_known);
    sk->set_public_only(e.public_only);
    sk->set_current_version(e.current);
    sk->set_next_version(e.next_version);
    for (const auto& [number, v] : e.versions) {
      store::StoredVersion* sv = sk->add_versions();
      sv->set_version(v.version);
      sv->set_created_unix_seconds(v.created);
      sv->set_handle(std::string(v.handle.view()));
      sv->set_public_key_der(v.public_key_der);
    }
  }
  pki::AtomicWriteResult r = store_->Save(&contents);
  if (r.status.ok() || r.replaced) generation_ = contents.generation();
  CleanseHandles(&contents);
  return r;
}

KeyManager::Commit KeyManager::CommitLocked(absl::FunctionRef<void()> undo) {
  pki::AtomicWriteResult r = SaveLocked();
  if (r.status.ok()) return {absl::OkStatus(), true};
  if (!r.replaced) {
    undo();
    return {r.status, false};
  }
  log::Warning("key store replaced but not durable",
               {{"path", store_->path()}, {"error", r.status.message()}});
  return {absl::Status(r.status.code(),
                       absl::StrCat(r.status.message(),
                                    ": the change is in effect but may not "
                                    "survive a power loss; check the storage "
                                    "of ",
                                    store_->path())),
          true};
}

absl::StatusOr<KeyManager::Entry*> KeyManager::FindLocked(
    absl::string_view name) {
  if (zeroized_) return absl::FailedPreconditionError(kZeroized);
  if (absl::Status s = CheckKeyName(name); !s.ok()) return s;
  auto it = entries_.find(name);
  if (it == entries_.end()) {
    return absl::NotFoundError(absl::StrCat("no key named '", name, "'"));
  }
  return &it->second;
}

void KeyManager::Record(const Caller& caller, absl::string_view action,
                        Outcome outcome, absl::string_view key,
                        std::vector<std::pair<std::string, std::string>> more) {
  if (sink_ == nullptr) return;
  audit::SecurityEvent event;
  event.category = "key";
  event.action = std::string(action);
  event.outcome = outcome;
  event.actor = caller.person_actor.empty() ? caller.path : caller.person_actor;
  if (!caller.person_actor.empty()) {
    event.attributes.emplace_back("client", caller.path);
  }
  event.attributes.emplace_back("key", std::string(key));
  for (auto& kv : more) event.attributes.push_back(std::move(kv));
  sink_->Record(event);
}

absl::Status KeyManager::CheckUse(const Caller& caller, const Entry& entry,
                                  v1::KeyOperation op) {
  if (entry.grants.Allows(caller.path, op)) return absl::OkStatus();
  Record(caller, "key.use.denied", Outcome::kDenied, entry.name,
         {{"operation", OperationName(op)}});
  return absl::PermissionDeniedError(absl::StrCat(
      "caller ", caller.path, " may not ", OperationName(op), " with key '",
      entry.name, "' (its policy does not grant it)"));
}

absl::Status KeyManager::CheckManage(const Caller& caller, const Entry& entry,
                                     absl::string_view action) {
  if (caller.person ||
      entry.grants.Allows(caller.path, v1::KEY_OPERATION_MANAGE)) {
    return absl::OkStatus();
  }
  Record(caller, "key.manage.denied", Outcome::kDenied, entry.name,
         {{"action", std::string(action)}});
  return absl::PermissionDeniedError(
      absl::StrCat("caller ", caller.path, " may not ", action, " key '",
                   entry.name, "' (its policy does not grant manage)"));
}

absl::StatusOr<const KeyManager::Version*> KeyManager::VersionOf(
    const Entry& entry, uint32_t version) const {
  uint32_t wanted = version == 0 ? entry.current : version;
  auto it = entry.versions.find(wanted);
  if (it == entry.versions.end()) {
    return absl::NotFoundError(absl::StrCat("key '", entry.name,
                                            "' has no version ", wanted,
                                            " (retired, or never existed)"));
  }
  return &it->second;
}

v1::KeyInfo KeyManager::InfoOf(const Entry& entry) const {
  v1::KeyInfo info;
  info.set_name(entry.name);
  info.set_algorithm(entry.algorithm);
  info.set_backend(entry.backend);
  info.set_creator(entry.creator);
  *info.mutable_policy() = entry.policy;
  info.set_well_known(entry.well_known);
  info.set_public_only(entry.public_only);
  for (const auto& [number, v] : entry.versions) {
    v1::KeyVersion* kv = info.add_versions();
    kv->set_version(number);
    kv->set_created_unix_seconds(v.created);
    kv->set_current(number == entry.current);
  }
  return info;
}

absl::StatusOr<v1::KeyInfo> KeyManager::CreateKey(
    const Caller& caller, const v1::CreateKeyRequest& request) {
  if (absl::Status s = CheckKeyName(request.name()); !s.ok()) return s;
  Algorithm algorithm;
  if (!FromProto(request.algorithm(), &algorithm)) {
    return absl::InvalidArgumentError(
        "algorithm must be one of EC_P256, ED25519, RSA_3072, AES_256");
  }
  Entry e;
  e.name = request.name();
  e.algorithm = request.algorithm();
  e.backend = backend_->name();
  e.creator = caller.path;
  e.policy = request.policy().grants_size() == 0
                 ? CreatorOnly(caller.path, e.algorithm, false)
                 : request.policy();
  absl::StatusOr<KeyGrants> grants =
      KeyGrants::Parse(e.policy, e.algorithm, false);
  if (!grants.ok()) return grants.status();
  e.grants = *std::move(grants);
  auto taken = [this, &e]() -> absl::Status {
    if (zeroized_) return absl::FailedPreconditionError(kZeroized);
    if (entries_.count(e.name) > 0 || declared_.count(e.name) > 0) {
      return absl::AlreadyExistsError(absl::StrCat(
          "a key named '", e.name, "' already exists or is reserved by ",
          "policies/keyd/keys.toml; choose another name"));
    }
    return absl::OkStatus();
  };
  {
    std::shared_lock lock(mu_);
    if (absl::Status s = taken(); !s.ok()) return s;
  }
  // Generation (an RSA-3072 key takes a second or more) runs outside the
  // lock, so that no other caller's operation waits for it.
  absl::StatusOr<Version> v = NewVersion(e, 1);
  if (!v.ok()) return v.status();
  std::unique_lock lock(mu_);
  if (absl::Status s = taken(); !s.ok()) {
    (void)backend_->Destroy(algorithm, v->handle);  // lost a race
    return s;
  }
  e.current = 1;
  e.next_version = 2;
  e.versions.emplace(1, *std::move(v));
  Entry& created = InsertLocked(std::move(e));
  Commit c = CommitLocked([&] {
    (void)backend_->Destroy(algorithm, created.versions.begin()->second.handle);
    std::string name = created.name;  // not a reference into the erased node
    entries_.erase(name);
  });
  if (!c.in_effect) return c.status;
  Record(caller, "key.created", Outcome::kSuccess, created.name,
         {{"algorithm", AlgorithmName(algorithm)}});
  if (!c.status.ok()) return c.status;
  return InfoOf(created);
}

absl::StatusOr<v1::KeyInfo> KeyManager::ImportPublicKey(
    const Caller& caller, const v1::ImportPublicKeyRequest& request) {
  if (absl::Status s = CheckKeyName(request.name()); !s.ok()) return s;
  absl::StatusOr<ParsedPublicKey> parsed = ParsePublicKeyPem(request.pem());
  if (!parsed.ok()) return parsed.status();
  std::unique_lock lock(mu_);
  if (zeroized_) return absl::FailedPreconditionError(kZeroized);
  if (entries_.count(request.name()) > 0) {
    return absl::AlreadyExistsError(
        absl::StrCat("a key named '", request.name(), "' already exists"));
  }
  Entry e;
  e.name = request.name();
  e.algorithm = ToProto(parsed->algorithm);
  e.creator = caller.path;
  e.public_only = true;
  auto declared = declared_.find(e.name);
  if (declared != declared_.end()) {
    if (!declared->second.imported ||
        declared->second.algorithm != e.algorithm) {
      return absl::InvalidArgumentError(absl::StrCat(
          "key '", e.name, "' is declared in policies/keyd/keys.toml as ",
          declared->second.imported ? "an imported " : "a generated ",
          v1::KeyAlgorithm_Name(declared->second.algorithm), " key"));
    }
    e.policy = declared->second.policy;
    e.well_known = true;
  } else {
    e.policy = request.policy().grants_size() == 0
                   ? CreatorOnly(caller.path, e.algorithm, true)
                   : request.policy();
  }
  absl::StatusOr<KeyGrants> grants =
      KeyGrants::Parse(e.policy, e.algorithm, true);
  if (!grants.ok()) return grants.status();
  e.grants = *std::move(grants);
  Version v;
  v.version = 1;
  v.created = absl::ToUnixSeconds(absl::Now());
  v.public_key_der = parsed->der;
  e.current = 1;
  e.next_version = 2;
  e.versions.emplace(1, std::move(v));
  Entry& imported = InsertLocked(std::move(e));
  Commit c = CommitLocked([&] {
    std::string name = imported.name;
    entries_.erase(name);
  });
  if (!c.in_effect) return c.status;
  Record(caller, "key.imported", Outcome::kSuccess, imported.name);
  if (!c.status.ok()) return c.status;
  return InfoOf(imported);
}

absl::StatusOr<v1::KeyInfo> KeyManager::GetKey(const Caller& caller,
                                               absl::string_view name) {
  std::shared_lock lock(mu_);
  absl::StatusOr<Entry*> e = FindLocked(name);
  if (!e.ok()) return e.status();
  if (!caller.person && (*e)->creator != caller.path &&
      !(*e)->grants.Mentions(caller.path)) {
    Record(caller, "key.read.denied", Outcome::kDenied, name);
    return absl::PermissionDeniedError(absl::StrCat(
        "caller ", caller.path, " is not named by key '", name, "'s policy"));
  }
  return InfoOf(**e);
}

absl::StatusOr<v1::ListKeysResponse> KeyManager::ListKeys(
    const Caller& caller) {
  std::shared_lock lock(mu_);
  if (zeroized_) return absl::FailedPreconditionError(kZeroized);
  bool all = caller.person || caller.path == "svc/supervisord";
  v1::ListKeysResponse out;
  for (const auto& [name, e] : entries_) {
    if (all || e.creator == caller.path || e.grants.Mentions(caller.path)) {
      *out.add_keys() = InfoOf(e);
    }
  }
  return out;
}

absl::Status KeyManager::DeleteKey(const Caller& caller,
                                   absl::string_view name) {
  std::unique_lock lock(mu_);
  absl::StatusOr<Entry*> found = FindLocked(name);
  if (!found.ok()) return found.status();
  Entry& e = **found;
  if (absl::Status s = CheckManage(caller, e, "delete"); !s.ok()) return s;
  if (e.well_known) {
    return absl::FailedPreconditionError(absl::StrCat(
        "key '", name,
        "' is a well-known key declared in "
        "policies/keyd/keys.toml and cannot be deleted; rotate it instead"));
  }
  Entry removed = std::move(e);
  entries_.erase(removed.name);
  Commit c = CommitLocked([&] {
    std::string key = removed.name;
    entries_.emplace(std::move(key), std::move(removed));
  });
  if (!c.in_effect) return c.status;
  Record(caller, "key.deleted", Outcome::kSuccess, removed.name);
  if (!c.status.ok()) {
    // The old store may yet come back, naming this material: it stays on
    // the backend (zeroize still destroys it).
    return c.status;
  }
  // Only once the store durably no longer lists it is the material
  // destroyed.
  Algorithm algorithm;
  if (!removed.public_only && FromProto(removed.algorithm, &algorithm)) {
    for (auto& [number, v] : removed.versions) {
      (void)backend_->Destroy(algorithm, v.handle);
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::KeyInfo> KeyManager::RotateKey(const Caller& caller,
                                                  absl::string_view name) {
  auto rotatable = [&](Entry** out) -> absl::Status {
    absl::StatusOr<Entry*> found = FindLocked(name);
    if (!found.ok()) return found.status();
    if (absl::Status s = CheckManage(caller, **found, "rotate"); !s.ok()) {
      return s;
    }
    if ((*found)->public_only) {
      return absl::FailedPreconditionError(
          absl::StrCat("key '", name,
                       "' is an imported public key: import the new one "
                       "under a new name instead of rotating"));
    }
    *out = *found;
    return absl::OkStatus();
  };
  Entry shape;  // what NewVersion needs: the name and the algorithm
  uint32_t number = 0;
  {
    std::shared_lock lock(mu_);
    Entry* e = nullptr;
    if (absl::Status s = rotatable(&e); !s.ok()) return s;
    shape.instance = e->instance;
    shape.name = e->name;
    shape.algorithm = e->algorithm;
    number = e->next_version;
  }
  Algorithm algorithm;
  FromProto(shape.algorithm, &algorithm);
  // Generated outside the lock, as in CreateKey: signing with the current
  // version goes on meanwhile.
  absl::StatusOr<Version> v = NewVersion(shape, number);
  if (!v.ok()) return v.status();
  std::unique_lock lock(mu_);
  Entry* found = nullptr;
  absl::Status still = rotatable(&found);
  if (still.ok() && found->instance != shape.instance) {
    // Deleted and created again (perhaps with another algorithm) while the
    // new version was generated: it belongs to a key that is gone.
    still = absl::AbortedError(absl::StrCat(
        "key '", name,
        "' was deleted and created again while it was being rotated; "
        "nothing was rotated: rotate it again"));
  }
  if (!still.ok()) {
    (void)backend_->Destroy(algorithm, v->handle);
    return still;
  }
  Entry& e = *found;
  // A concurrent rotation took `number`: this one becomes the next.
  number = e.next_version;
  v->version = number;
  uint32_t previous = e.current;
  e.versions.emplace(number, *std::move(v));
  e.current = number;
  e.next_version = number + 1;
  Commit c = CommitLocked([&] {
    (void)backend_->Destroy(algorithm, e.versions[number].handle);
    e.versions.erase(number);
    e.current = previous;
    e.next_version = number;
  });
  if (!c.in_effect) return c.status;
  Record(caller, "key.rotated", Outcome::kSuccess, e.name,
         {{"version", absl::StrCat(number)}});
  if (!c.status.ok()) return c.status;
  return InfoOf(e);
}

absl::StatusOr<v1::KeyInfo> KeyManager::RetireKeyVersion(const Caller& caller,
                                                         absl::string_view name,
                                                         uint32_t version) {
  std::unique_lock lock(mu_);
  absl::StatusOr<Entry*> found = FindLocked(name);
  if (!found.ok()) return found.status();
  Entry& e = **found;
  if (absl::Status s = CheckManage(caller, e, "retire a version of"); !s.ok()) {
    return s;
  }
  if (version == 0 || version == e.current) {
    return absl::FailedPreconditionError(absl::StrCat(
        "version ", version == 0 ? e.current : version, " is key '", name,
        "'s current version; rotate first, then retire the old one"));
  }
  auto it = e.versions.find(version);
  if (it == e.versions.end()) {
    return absl::NotFoundError(
        absl::StrCat("key '", name, "' has no version ", version));
  }
  Version retired = std::move(it->second);
  e.versions.erase(it);
  Commit c =
      CommitLocked([&] { e.versions.emplace(version, std::move(retired)); });
  if (!c.in_effect) return c.status;
  Record(caller, "key.version.retired", Outcome::kSuccess, e.name,
         {{"version", absl::StrCat(version)}});
  // As for a delete: destroyed only once the store durably forgot it.
  if (!c.status.ok()) return c.status;
  Algorithm algorithm;
  if (!e.public_only && FromProto(e.algorithm, &algorithm)) {
    (void)backend_->Destroy(algorithm, retired.handle);
  }
  return InfoOf(e);
}

absl::StatusOr<v1::PublicKey> KeyManager::GetPublicKey(
    const Caller& caller, const v1::GetPublicKeyRequest& request) {
  std::shared_lock lock(mu_);
  absl::StatusOr<Entry*> found = FindLocked(request.name());
  if (!found.ok()) return found.status();
  const Entry& e = **found;
  // Only a caller who may see the key's metadata learns that it is an AES
  // key, and asking is a mistake, not a denied use to record.
  if (e.algorithm == v1::KEY_ALGORITHM_AES_256 &&
      (caller.person || e.creator == caller.path ||
       e.grants.Mentions(caller.path))) {
    return absl::FailedPreconditionError(
        absl::StrCat("key '", e.name, "' is an aes-256 key: no public half"));
  }
  if (absl::Status s = CheckUse(caller, e, v1::KEY_OPERATION_PUBLIC_KEY);
      !s.ok()) {
    return s;
  }
  absl::StatusOr<const Version*> v = VersionOf(e, request.version());
  if (!v.ok()) return v.status();
  v1::PublicKey out;
  out.set_name(e.name);
  out.set_version((*v)->version);
  out.set_algorithm(e.algorithm);
  out.set_der((*v)->public_key_der);
  absl::StatusOr<std::string> pem = PublicKeyPem((*v)->public_key_der);
  if (!pem.ok()) return pem.status();
  out.set_pem(*pem);
  out.set_created_unix_seconds((*v)->created);
  out.set_current((*v)->version == e.current);
  return out;
}

absl::StatusOr<v1::SignResponse> KeyManager::Sign(
    const Caller& caller, const v1::SignRequest& request) {
  SignatureScheme scheme;
  if (!SchemeFromProto(request.algorithm(), &scheme)) {
    return absl::InvalidArgumentError(
        "state the signature algorithm (ECDSA_P256_SHA256, ED25519, "
        "RSA_PSS_SHA256 or RSA_PKCS1_SHA256)");
  }
  std::shared_ptr<BackendKey> key;
  uint32_t version = 0;
  {
    std::shared_lock lock(mu_);
    absl::StatusOr<Entry*> found = FindLocked(request.name());
    if (!found.ok()) return found.status();
    const Entry& e = **found;
    if (absl::Status s = CheckUse(caller, e, v1::KEY_OPERATION_SIGN); !s.ok()) {
      return s;
    }
    if (ToProto(SchemeAlgorithm(scheme)) != e.algorithm) {
      return absl::InvalidArgumentError(absl::StrCat(
          "key '", e.name, "' is ", v1::KeyAlgorithm_Name(e.algorithm),
          " and cannot make ", v1::SignatureAlgorithm_Name(request.algorithm()),
          " signatures"));
    }
    const Version& v = e.versions.at(e.current);
    key = v.key;
    version = v.version;
  }
  absl::StatusOr<std::string> input =
      SigningInput(scheme, request.has_message(), request.message(),
                   request.has_digest(), request.digest());
  if (!input.ok()) return input.status();
  // Signing runs outside the lock: a rotation never waits for it, and the
  // version it signs with stays alive through the shared pointer.
  absl::StatusOr<std::string> signature = key->Sign(scheme, *input);
  if (!signature.ok()) return signature.status();
  uses_.Count(caller.path, request.name(), "sign");
  v1::SignResponse out;
  out.set_signature(*std::move(signature));
  out.set_version(version);
  return out;
}

absl::StatusOr<v1::VerifyResponse> KeyManager::Verify(
    const Caller& caller, const v1::VerifyRequest& request) {
  SignatureScheme scheme;
  if (!SchemeFromProto(request.algorithm(), &scheme)) {
    return absl::InvalidArgumentError("state the signature algorithm");
  }
  std::string der;
  {
    std::shared_lock lock(mu_);
    absl::StatusOr<Entry*> found = FindLocked(request.name());
    if (!found.ok()) return found.status();
    const Entry& e = **found;
    if (absl::Status s = CheckUse(caller, e, v1::KEY_OPERATION_VERIFY);
        !s.ok()) {
      return s;
    }
    if (ToProto(SchemeAlgorithm(scheme)) != e.algorithm) {
      return absl::InvalidArgumentError(absl::StrCat(
          "key '", e.name, "' is ", v1::KeyAlgorithm_Name(e.algorithm),
          " and cannot check ",
          v1::SignatureAlgorithm_Name(request.algorithm()), " signatures"));
    }
    absl::StatusOr<const Version*> v = VersionOf(e, request.version());
    if (!v.ok()) return v.status();
    der = (*v)->public_key_der;
  }
  if (request.signature().size() > 1024) {
    return absl::InvalidArgumentError("signature is longer than 1024 bytes");
  }
  absl::StatusOr<std::string> input =
      SigningInput(scheme, request.has_message(), request.message(),
                   request.has_digest(), request.digest());
  if (!input.ok()) return input.status();
  absl::StatusOr<bool> valid =
      VerifySignature(der, scheme, *input, request.signature());
  if (!valid.ok()) return valid.status();
  uses_.Count(caller.path, request.name(), "verify");
  v1::VerifyResponse out;
  out.set_valid(*valid);
  return out;
}

absl::StatusOr<SecretBytes> KeyManager::Decrypt(
    const Caller& caller, const v1::DecryptRequest& request) {
  if (request.algorithm() != v1::DECRYPT_ALGORITHM_RSA_OAEP_SHA256) {
    return absl::InvalidArgumentError(
        "state the decryption algorithm (RSA_OAEP_SHA256)");
  }
  std::shared_ptr<BackendKey> key;
  {
    std::shared_lock lock(mu_);
    absl::StatusOr<Entry*> found = FindLocked(request.name());
    if (!found.ok()) return found.status();
    const Entry& e = **found;
    if (absl::Status s = CheckUse(caller, e, v1::KEY_OPERATION_DECRYPT);
        !s.ok()) {
      return s;
    }
    absl::StatusOr<const Version*> v = VersionOf(e, request.version());
    if (!v.ok()) return v.status();
    key = (*v)->key;
  }
  if (request.ciphertext().size() > 1024) {
    return absl::InvalidArgumentError("ciphertext is longer than 1024 bytes");
  }
  absl::StatusOr<SecretBytes> plain =
      key->Decrypt(DecryptScheme::kRsaOaepSha256, request.ciphertext());
  if (plain.ok()) uses_.Count(caller.path, request.name(), "decrypt");
  return plain;
}

absl::StatusOr<v1::SealResponse> KeyManager::Seal(
    const Caller& caller, const v1::SealRequest& request) {
  if (request.plaintext().size() > kMaxPlaintextBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("plaintext is ", request.plaintext().size(),
                     " bytes; at most ", kMaxPlaintextBytes, " can be sealed"));
  }
  if (request.context().size() > kMaxContextBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("context is longer than ", kMaxContextBytes, " bytes"));
  }
  std::shared_ptr<BackendKey> key;
  uint32_t version = 0;
  std::string name;
  {
    std::shared_lock lock(mu_);
    absl::StatusOr<Entry*> found = FindLocked(request.name());
    if (!found.ok()) return found.status();
    const Entry& e = **found;
    if (absl::Status s = CheckUse(caller, e, v1::KEY_OPERATION_SEAL); !s.ok()) {
      return s;
    }
    const Version& v = e.versions.at(e.current);
    key = v.key;
    version = v.version;
    name = e.name;
  }
  absl::StatusOr<std::string> sealed =
      key->SealGcm(request.plaintext(),
                   SealAad(name, version, caller.path, request.context()));
  if (!sealed.ok()) return sealed.status();
  uses_.Count(caller.path, name, "seal");
  v1::SealResponse out;
  out.set_blob(EncodeSealedBlob(version, *sealed));
  return out;
}

absl::StatusOr<SecretBytes> KeyManager::Unseal(
    const Caller& caller, const v1::UnsealRequest& request) {
  if (request.context().size() > kMaxContextBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("context is longer than ", kMaxContextBytes, " bytes"));
  }
  absl::StatusOr<SealedBlob> blob = DecodeSealedBlob(request.blob());
  if (!blob.ok()) return blob.status();
  std::shared_ptr<BackendKey> key;
  std::string name;
  {
    std::shared_lock lock(mu_);
    absl::StatusOr<Entry*> found = FindLocked(request.name());
    if (!found.ok()) return found.status();
    const Entry& e = **found;
    if (absl::Status s = CheckUse(caller, e, v1::KEY_OPERATION_UNSEAL);
        !s.ok()) {
      return s;
    }
    if (blob->version == 0) {
      return absl::InvalidArgumentError("sealed blob names key version 0");
    }
    absl::StatusOr<const Version*> v = VersionOf(e, blob->version);
    if (!v.ok()) return v.status();
    key = (*v)->key;
    name = e.name;
  }
  absl::StatusOr<SecretBytes> plain = key->UnsealGcm(
      blob->sealed,
      SealAad(name, blob->version, caller.path, request.context()));
  if (plain.ok()) uses_.Count(caller.path, name, "unseal");
  return plain;
}

absl::StatusOr<std::string> KeyManager::RandomBytes(uint32_t length) {
  if (length == 0 || length > kMaxRandomBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("length must be 1-", kMaxRandomBytes, ", got ", length));
  }
  if (zeroized()) return absl::FailedPreconditionError(kZeroized);
  std::string out(length, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()),
                 static_cast<int>(length)) != 1) {
    return absl::UnavailableError("the random generator failed; retry");
  }
  return out;
}

absl::StatusOr<uint32_t> KeyManager::Zeroize(
    const Caller& caller, const v1::ZeroizeRequest& request,
    absl::string_view master_key_path) {
  if (request.confirm() != kZeroizeConfirmation) {
    return absl::InvalidArgumentError(absl::StrCat(
        "zeroize destroys every key irrecoverably: set confirm to \"",
        kZeroizeConfirmation, "\""));
  }
  if (request.reason().size() > 256) {
    return absl::InvalidArgumentError("reason is longer than 256 bytes");
  }
  std::unique_lock lock(mu_);
  if (zeroized_) return absl::FailedPreconditionError(kZeroized);
  // Recorded before anything is destroyed: keyd waits (a bounded time) for
  // the event log to have it. A tamper response cannot be held up by an
  // unreachable eventd, so after that it goes ahead; the record is then in
  // keyd's own log and the sink's queue.
  FlushKeyUses();
  Record(
      caller, "keys.zeroize", Outcome::kSuccess, "*",
      {{"reason", request.reason()}, {"keys", absl::StrCat(entries_.size())}});
  if (sink_ != nullptr && !sink_->Flush(kZeroizeRecordWaitMs)) {
    log::Warning("zeroize goes ahead before eventd acknowledged its record");
  }
  zeroized_ = true;
  uint32_t destroyed = 0;
  for (auto& [name, e] : entries_) {
    Algorithm algorithm;
    bool generated = !e.public_only && FromProto(e.algorithm, &algorithm);
    for (auto& [number, v] : e.versions) {
      if (generated) (void)backend_->Destroy(algorithm, v.handle);
      v.key.reset();
      v.handle = SecretBytes();
    }
    ++destroyed;
  }
  entries_.clear();
  ca_cert_pem_.clear();
  absl::Status s = backend_->DestroyAll();
  absl::Status file = store_->Destroy();
  if (s.ok()) s = file;
  if (!master_key_path.empty()) {
    std::string path(master_key_path);
    // A key file is removed: a copy of the store left behind on flash (wear
    // levelling, a backup) must not be decryptable. Only a file already gone
    // or on a read-only file system is not a failure (keyd is not given the
    // path of a systemd credential, which vanishes with the service).
    if (unlink(path.c_str()) != 0 && errno != ENOENT && errno != EROFS) {
      int err = errno;
      if (s.ok()) {
        s = absl::InternalError(absl::StrCat(
            "cannot remove the master key file ", path, " (", strerror(err),
            "): delete it by hand; every key and the store are destroyed"));
      }
    }
  }
  if (!s.ok()) {
    Record(caller, "keys.zeroize", Outcome::kFailure, "*",
           {{"error", std::string(s.message())}});
    return s;
  }
  return destroyed;
}

absl::StatusOr<KeyManager::InternalVersion> KeyManager::InternalKey(
    absl::string_view name, uint32_t version) {
  std::shared_lock lock(mu_);
  absl::StatusOr<Entry*> found = FindLocked(name);
  if (!found.ok()) return found.status();
  if ((*found)->public_only) {
    return absl::FailedPreconditionError(
        absl::StrCat("key '", name, "' is public only"));
  }
  absl::StatusOr<const Version*> v = VersionOf(**found, version);
  if (!v.ok()) return v.status();
  return InternalVersion{(*v)->version, (*v)->key};
}

std::string KeyManager::CaCertificatePem() const {
  std::shared_lock lock(mu_);
  return ca_cert_pem_;
}

absl::Status KeyManager::SetCaCertificatePem(absl::string_view pem) {
  std::unique_lock lock(mu_);
  if (zeroized_) return absl::FailedPreconditionError(kZeroized);
  std::string previous = std::move(ca_cert_pem_);
  ca_cert_pem_ = std::string(pem);
  return CommitLocked([&] { ca_cert_pem_ = std::move(previous); }).status;
}

bool KeyManager::zeroized() const {
  std::shared_lock lock(mu_);
  return zeroized_;
}

}  // namespace rustiq::keyd
