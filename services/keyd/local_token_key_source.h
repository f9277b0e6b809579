// keyd's own source of the token-signing public key: keyd verifies people's
// tokens like every daemon, but reads the key from its own store instead of
// calling itself. Each version is parsed once and kept.
#ifndef RUSTIQ_SERVICES_KEYD_LOCAL_TOKEN_KEY_SOURCE_H_
#define RUSTIQ_SERVICES_KEYD_LOCAL_TOKEN_KEY_SOURCE_H_

#include <openssl/x509.h>

#include <cstdint>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/auth/public_key_source.h"
#include "services/keyd/key_manager.h"

namespace rustiq::keyd {

class LocalTokenKeySource final : public auth::TokenKeySource {
 public:
  // `keys` is not owned.
  explicit LocalTokenKeySource(KeyManager* keys) : keys_(keys) {}

  absl::StatusOr<auth::SharedPublicKey> Key(uint32_t version) override {
    {
      absl::MutexLock lock(&mu_);
      if (auto it = cache_.find(version); it != cache_.end()) {
        return it->second;
      }
    }
    v1::GetPublicKeyRequest request;
    request.set_name("token-signing");
    request.set_version(version);
    // As any daemon asks for it: the key's policy grants public-key to svc/*.
    absl::StatusOr<v1::PublicKey> pub =
        keys_->GetPublicKey({"svc/keyd", false}, request);
    if (!pub.ok()) {
      if (absl::IsNotFound(pub.status()) ||
          absl::IsInvalidArgument(pub.status())) {
        return absl::UnauthenticatedError(
            absl::StrCat("the token names version ", version,
                         " of the token-signing key, which does not exist"));
      }
      return absl::UnavailableError(absl::StrCat(
          "cannot read the token-signing key: ", pub.status().message()));
    }
    if (pub->algorithm() != v1::KEY_ALGORITHM_ED25519) {
      return absl::InternalError("the token-signing key is not Ed25519");
    }
    const unsigned char* der =
        reinterpret_cast<const unsigned char*>(pub->der().data());
    auth::SharedPublicKey key = auth::ShareKey(
        d2i_PUBKEY(nullptr, &der, static_cast<long>(pub->der().size())));
    if (key == nullptr) {
      return absl::InternalError("the token-signing public key does not parse");
    }
    absl::MutexLock lock(&mu_);
    cache_[version] = key;
    return key;
  }

 private:
  KeyManager* keys_;
  absl::Mutex mu_;
  absl::flat_hash_map<uint32_t, auth::SharedPublicKey> cache_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace rustiq::keyd

#endif  // RUSTIQ_SERVICES_KEYD_LOCAL_TOKEN_KEY_SOURCE_H_
