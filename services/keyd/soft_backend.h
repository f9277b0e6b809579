// The `soft` backend: keys generated with OpenSSL in this process, private
// numbers in OpenSSL's secure heap. A key's handle is its private key itself
// (PKCS#8 DER, or the raw 32 bytes of an AES key), which exists at rest only
// inside the key store, encrypted under the master key.
#ifndef RUSTIQ_SERVICES_KEYD_SOFT_BACKEND_H_
#define RUSTIQ_SERVICES_KEYD_SOFT_BACKEND_H_

#include <cstddef>
#include <memory>

#include "services/keyd/backend.h"

namespace rustiq::keyd {

struct SoftBackendOptions {
  // Precomputed ECDSA nonces kept ready per P-256 key version
  // (services/keyd/ecdsa_presigner.h); 0 signs every digest inline. They are
  // computed by a thread that StartWorkers() starts.
  size_t presign_nonces = 0;
};

std::unique_ptr<KeyBackend> NewSoftBackend(
    const SoftBackendOptions& options = {});

}  // namespace rustiq::keyd

#endif  // RUSTIQ_SERVICES_KEYD_SOFT_BACKEND_H_
