// The handle the PKCS#11 backend gives the key store for a key: which token
// objects hold it. Not secret (it names objects, the material never leaves
// the token), but returned as SecretBytes because the interface treats every
// handle alike.
//
// Layout, version 1 (21 bytes):
//   "RQP" | version 0x01 | algorithm (1 byte) | CKA_ID (16 bytes)
// The algorithm byte has fixed values of its own (not the enum's order), so
// stored handles survive a reordering of Algorithm.
#ifndef RUSTIQ_SERVICES_KEYD_PKCS11_KEY_HANDLE_H_
#define RUSTIQ_SERVICES_KEYD_PKCS11_KEY_HANDLE_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/keyd/backend.h"
#include "services/keyd/secret_bytes.h"

namespace rustiq::keyd::pkcs11 {

inline constexpr size_t kObjectIdBytes = 16;

struct TokenKeyRef {
  Algorithm algorithm;
  std::string object_id;  // CKA_ID of every object of the key
};

// `object_id` must be kObjectIdBytes long.
SecretBytes EncodeKeyHandle(Algorithm algorithm, absl::string_view object_id);

// DataLoss when the handle is not one of ours, of another version, or names
// another algorithm than `expected`.
absl::StatusOr<TokenKeyRef> DecodeKeyHandle(const SecretBytes& handle,
                                            Algorithm expected);

}  // namespace rustiq::keyd::pkcs11

#endif  // RUSTIQ_SERVICES_KEYD_PKCS11_KEY_HANDLE_H_
