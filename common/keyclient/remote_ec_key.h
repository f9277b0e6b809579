// The key object of the remote-key provider's EC key management: the public
// half as an ordinary (default provider) EVP_PKEY, and the signer that stands
// in for the private half.
//
// Internal to common/keyclient.
#ifndef RUSTIQ_COMMON_KEYCLIENT_REMOTE_EC_KEY_H_
#define RUSTIQ_COMMON_KEYCLIENT_REMOTE_EC_KEY_H_

#include <openssl/core.h>

#include <memory>

#include "absl/status/statusor.h"
#include "common/keyclient/provider_context.h"
#include "common/keyclient/remote_signer.h"
#include "common/pki/openssl_util.h"

namespace rustiq::keyclient::internal {

// The import parameter that carries the signer: an OSSL_PARAM octet pointer
// to a std::shared_ptr<RemoteSigner> that lives for the duration of the
// import call (the key takes its own reference). Only MakeRemoteKey sets it.
inline constexpr char kSignerParam[] = "rustiq-remote-signer";

// Immutable once imported, so any number of threads may read it.
struct RemoteEcKey {
  // For error reporting; owned by the provider, which outlives its keys.
  const ProviderContext* provider = nullptr;
  // Public half, held by the default provider of the default library
  // context: every public-key operation (compare, export, verify, the
  // key's parameters) is delegated to it.
  pki::EvpPkeyPtr public_key;
  // Null for a key imported from another provider (public half only), which
  // can then be compared but not used to sign.
  std::shared_ptr<RemoteSigner> signer;
};

// A P-256 public key from key-management parameters: the group name and the
// encoded point (OSSL_PKEY_PARAM_GROUP_NAME, OSSL_PKEY_PARAM_PUB_KEY), as
// MakeRemoteKey and other providers' export functions give them. Any other
// parameter, a private key included, is ignored.
absl::StatusOr<pki::EvpPkeyPtr> P256PublicKeyFromParams(
    const OSSL_PARAM params[]);

}  // namespace rustiq::keyclient::internal

#endif  // RUSTIQ_COMMON_KEYCLIENT_REMOTE_EC_KEY_H_
