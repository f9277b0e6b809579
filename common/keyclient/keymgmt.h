// OSSL_OP_KEYMGMT of the remote-key provider, for EC P-256 keys.
//
// Internal to common/keyclient.
#ifndef RUSTIQ_COMMON_KEYCLIENT_KEYMGMT_H_
#define RUSTIQ_COMMON_KEYCLIENT_KEYMGMT_H_

#include <openssl/core.h>

namespace rustiq::keyclient::internal {

// new, free, has, match, import (+types), export (+types), get_params
// (+gettable), dup and query_operation_name. No generation, no loading: keys
// come only from MakeRemoteKey, or from another provider's public key when
// OpenSSL compares keys across providers.
extern const OSSL_DISPATCH kRemoteEcKeymgmtFunctions[];

}  // namespace rustiq::keyclient::internal

#endif  // RUSTIQ_COMMON_KEYCLIENT_KEYMGMT_H_
