#include "common/pki/provisioner.h"

#include <openssl/crypto.h>
#include <sys/stat.h>

#include <cerrno>
#include <memory>
#include <set>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/pki/certificate_authority.h"
#include "common/pki/file_ca_issuer.h"
#include "common/pki/openssl_util.h"

namespace rustiq::pki {
namespace {

constexpr mode_t kPrivateDirMode = 0700;
constexpr mode_t kPublicDirMode = 0755;
constexpr mode_t kKeyMode = 0600;
constexpr mode_t kPublicFileMode = 0644;

std::string ParentOf(absl::string_view path) {
  size_t slash = path.rfind('/');
  if (slash == absl::string_view::npos) return ".";
  if (slash == 0) return "/";
  return std::string(path.substr(0, slash));
}

absl::StatusOr<bool> Exists(const std::string& path) {
  struct stat st {};
  if (lstat(path.c_str(), &st) == 0) return true;
  if (errno == ENOENT) return false;
  return absl::ErrnoToStatus(errno, absl::StrCat("cannot check ", path));
}

// Overwrites a std::string holding secret bytes before it is released.
class ScopedCleanse {
 public:
  explicit ScopedCleanse(std::string* secret) : secret_(secret) {}
  ScopedCleanse(const ScopedCleanse&) = delete;
  ScopedCleanse& operator=(const ScopedCleanse&) = delete;
  ~ScopedCleanse() { OPENSSL_cleanse(secret_->data(), secret_->size()); }

 private:
  std::string* secret_;
};

// Everything ProvisionDevice will issue, checked before anything is written.
absl::StatusOr<std::vector<ProvisionedIdentity>> PlanIdentities(
    const ProvisionRequest& request) {
  std::vector<ProvisionedIdentity> plan;
  std::set<std::string> seen;
  auto add = [&](absl::string_view kind, absl::string_view name,
                 absl::StatusOr<identity::SpiffeId> id) -> absl::Status {
    if (!id.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          kind, " name \"", name, "\" is not usable: ", id.status().message()));
    }
    absl::StatusOr<IdentityPaths> paths =
        IdentityPathsFor(request.state_dir, *id);
    if (!paths.ok()) return paths.status();
    if (!seen.insert(id->ToUri()).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(kind, " \"", name, "\" is listed twice"));
    }
    plan.push_back(ProvisionedIdentity{*std::move(id), *std::move(paths)});
    return absl::OkStatus();
  };
  for (const std::string& name : request.services) {
    absl::Status s =
        add("service", name,
            identity::SpiffeId::ForService(request.trust_domain, name));
    if (!s.ok()) return s;
  }
  for (const std::string& name : request.clients) {
    absl::Status s =
        add("client", name,
            identity::SpiffeId::ForClient(request.trust_domain, name));
    if (!s.ok()) return s;
  }
  return plan;
}

absl::Status ValidateRequest(const ProvisionRequest& request) {
  if (request.state_dir.empty()) {
    return absl::InvalidArgumentError("provisioning needs a state directory");
  }
  if (absl::Status s = identity::ValidateTrustDomain(request.trust_domain);
      !s.ok()) {
    return s;
  }
  if (request.identity_lifetime <= absl::ZeroDuration() ||
      request.identity_lifetime > kDefaultMaxIdentityLifetime) {
    return absl::InvalidArgumentError(absl::StrCat(
        "identity lifetime ", absl::FormatDuration(request.identity_lifetime),
        " must be positive and at most ",
        absl::FormatDuration(kDefaultMaxIdentityLifetime)));
  }
  if (request.ca_validity <= request.identity_lifetime ||
      request.ca_validity == absl::InfiniteDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("CA validity ", absl::FormatDuration(request.ca_validity),
                     " must be finite and longer than the identity lifetime ",
                     absl::FormatDuration(request.identity_lifetime)));
  }
  return absl::OkStatus();
}

absl::Status WriteCa(const CertificateAuthority& ca,
                     const DeviceCaPaths& paths) {
  if (absl::Status s =
          EnsureDirectory(paths.dir, kPrivateDirMode, kPublicDirMode);
      !s.ok()) {
    return s;
  }
  absl::StatusOr<std::string> key_pem = ca.key_pem();
  if (!key_pem.ok()) return key_pem.status();
  ScopedCleanse cleanse(&*key_pem);
  if (absl::Status s = WriteFileAtomically(paths.key_path, *key_pem, kKeyMode);
      !s.ok()) {
    return s;
  }
  return WriteFileAtomically(paths.cert_path, ca.cert_pem(), kPublicFileMode);
}

// Loads the device CA under `paths`, or creates (and writes) one.
absl::StatusOr<std::unique_ptr<FileCaIssuer>> LoadOrCreateCa(
    const ProvisionRequest& request, const DeviceCaPaths& paths,
    bool* created) {
  *created = false;
  absl::StatusOr<bool> key_exists = Exists(paths.key_path);
  if (!key_exists.ok()) return key_exists.status();
  absl::StatusOr<bool> cert_exists = Exists(paths.cert_path);
  if (!cert_exists.ok()) return cert_exists.status();

  if (request.reuse_existing_ca && (*key_exists || *cert_exists)) {
    if (*key_exists != *cert_exists) {
      const std::string& present =
          *key_exists ? paths.key_path : paths.cert_path;
      const std::string& missing =
          *key_exists ? paths.cert_path : paths.key_path;
      return absl::FailedPreconditionError(absl::StrCat(
          "device CA in ", paths.dir, " is incomplete: ", present,
          " exists but ", missing, " does not; remove ", paths.dir,
          " to create a new CA (every identity is then re-issued)"));
    }
    absl::StatusOr<std::unique_ptr<FileCaIssuer>> issuer =
        FileCaIssuer::Load(paths);
    if (!issuer.ok()) return issuer.status();
    const std::string& existing = (*issuer)->authority().trust_domain();
    if (existing != request.trust_domain) {
      return absl::FailedPreconditionError(absl::StrCat(
          "device CA ", paths.cert_path, " is for trust domain \"", existing,
          "\", but trust domain \"", request.trust_domain,
          "\" was requested; use \"", existing, "\" or remove ", paths.dir,
          " to create a new CA"));
    }
    return issuer;
  }

  absl::StatusOr<CertificateAuthority> ca =
      CertificateAuthority::Create(request.trust_domain, request.ca_validity);
  if (!ca.ok()) return ca.status();
  if (absl::Status s = WriteCa(*ca, paths); !s.ok()) return s;
  *created = true;
  return std::make_unique<FileCaIssuer>(*std::move(ca));
}

}  // namespace

absl::StatusOr<IdentityPaths> IssueIdentity(IdentityIssuer& issuer,
                                            absl::string_view state_dir,
                                            const identity::SpiffeId& id,
                                            absl::Duration lifetime,
                                            const FileOwner& owner) {
  absl::StatusOr<IdentityPaths> paths = IdentityPathsFor(state_dir, id);
  if (!paths.ok()) return paths.status();
  absl::StatusOr<EvpPkeyPtr> key = GenerateP256Key();
  if (!key.ok()) return key.status();
  absl::StatusOr<std::string> cert_pem =
      issuer.IssueCertificate(key->get(), id, lifetime);
  if (!cert_pem.ok()) return cert_pem.status();
  absl::StatusOr<std::string> key_pem = PrivateKeyToPem(key->get());
  if (!key_pem.ok()) return key_pem.status();
  ScopedCleanse cleanse(&*key_pem);
  if (absl::Status s = WriteIdentity(*paths, *key_pem, *cert_pem, owner);
      !s.ok()) {
    return s;
  }
  return paths;
}

absl::StatusOr<ProvisionResult> ProvisionDevice(
    const ProvisionRequest& request) {
  if (absl::Status s = ValidateRequest(request); !s.ok()) return s;
  absl::StatusOr<std::vector<ProvisionedIdentity>> plan =
      PlanIdentities(request);
  if (!plan.ok()) return plan.status();

  ProvisionResult result;
  result.ca_paths = DeviceCaPathsFor(request.state_dir);
  absl::StatusOr<std::unique_ptr<FileCaIssuer>> issuer =
      LoadOrCreateCa(request, result.ca_paths, &result.ca_created);
  if (!issuer.ok()) return issuer.status();
  absl::StatusOr<ProvisionResult> written =
      ProvisionIdentities(**issuer, request);
  if (!written.ok()) return written.status();
  written->ca_paths = result.ca_paths;
  written->ca_created = result.ca_created;
  return written;
}

absl::StatusOr<ProvisionResult> ProvisionIdentities(
    IdentityIssuer& issuer, const ProvisionRequest& request) {
  if (absl::Status s = ValidateRequest(request); !s.ok()) return s;
  absl::StatusOr<std::vector<ProvisionedIdentity>> plan =
      PlanIdentities(request);
  if (!plan.ok()) return plan.status();

  ProvisionResult result;
  result.trust_bundle_path = TrustBundlePath(request.state_dir);
  absl::StatusOr<std::string> bundle = issuer.TrustBundlePem();
  if (!bundle.ok()) return bundle.status();
  if (absl::Status s = EnsureDirectory(ParentOf(result.trust_bundle_path),
                                       kPublicDirMode, kPublicDirMode);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = WriteFileAtomically(result.trust_bundle_path, *bundle,
                                           kPublicFileMode);
      !s.ok()) {
    return s;
  }

  for (ProvisionedIdentity& planned : *plan) {
    absl::StatusOr<IdentityPaths> identity_written = IssueIdentity(
        issuer, request.state_dir, planned.id, request.identity_lifetime);
    if (!identity_written.ok()) return identity_written.status();
    result.identities.push_back(std::move(planned));
  }
  return result;
}

}  // namespace rustiq::pki
