// The remote-key OpenSSL 3 provider: an EC key management whose key objects
// hold a RemoteSigner, and an ECDSA signature whose private operation is a
// call to it. Compiled into the library and loaded, at first use, into a
// library context of its own (see RemoteKeyLibraryContext).
//
// Internal to common/keyclient: callers use MakeRemoteKey (remote_key.h).
#ifndef RUSTIQ_COMMON_KEYCLIENT_PROVIDER_H_
#define RUSTIQ_COMMON_KEYCLIENT_PROVIDER_H_

#include <openssl/core.h>
#include <openssl/types.h>

#include "absl/status/statusor.h"

namespace rustiq::keyclient::internal {

inline constexpr char kProviderName[] = "rustiq-remote-key";
// Every algorithm of the provider carries this property; fetches of our own
// key management name it, so they can never land on another provider's.
inline constexpr char kProviderProperty[] = "provider=rustiq-remote-key";
// The same names the default provider gives EC keys, so that OpenSSL (and
// libssl's certificate type lookup) sees an ordinary EC key.
inline constexpr char kEcKeyNames[] = "EC:id-ecPublicKey:1.2.840.10045.2.1";
// The signature algorithm our key management names for OSSL_OP_SIGNATURE.
// It is deliberately not "ECDSA": OpenSSL first fetches the name from the
// caller's library context, and under "ECDSA" it would find the default
// provider's implementation, export our key to it (the public half exports
// fine) and fail at signing time. Under a name only this provider has, the
// first fetch finds nothing and OpenSSL falls back to the key's own provider.
inline constexpr char kSignatureAlgorithmName[] = "RUSTIQ-REMOTE-ECDSA";

// The provider's entry point (OSSL_provider_init_fn).
int ProviderInit(const OSSL_CORE_HANDLE* handle, const OSSL_DISPATCH* in,
                 const OSSL_DISPATCH** out, void** provctx);

// A process-wide library context holding this provider and OpenSSL's "base"
// provider (encoders, so that i2d_PUBKEY and friends work on remote keys),
// created on first call and kept for the life of the process.
//
// Why not the default library context: our key management registers under
// "EC", and a fetch of "EC" without a property query there (key generation,
// certificate parsing, any library) could pick it instead of the default
// provider's. In a context of its own it is only reached through remote
// keys. The keys still work with SSL_CTXs and EVP calls in any library
// context, because OpenSSL keeps using the key's own key management and
// fetches the signature from the key's provider.
absl::StatusOr<OSSL_LIB_CTX*> RemoteKeyLibraryContext();

}  // namespace rustiq::keyclient::internal

#endif  // RUSTIQ_COMMON_KEYCLIENT_PROVIDER_H_
