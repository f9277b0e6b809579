// The `soft` backend: keys generated with OpenSSL in this process, private
// numbers in OpenSSL's secure heap. A key's handle is its private key itself
// (PKCS#8 DER, or the raw 32 bytes of an AES key), which exists at rest only
// inside the key store, encrypted under the master key.
#ifndef RUSTIQ_SERVICES_KEYD_SOFT_BACKEND_H_
#define RUSTIQ_SERVICES_KEYD_SOFT_BACKEND_H_

#include <memory>

#include "services/keyd/backend.h"

namespace rustiq::keyd {

std::unique_ptr<KeyBackend> NewSoftBackend();

}  // namespace rustiq::keyd

#endif  // RUSTIQ_SERVICES_KEYD_SOFT_BACKEND_H_
