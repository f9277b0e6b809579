// The sealed-blob format and the associated data that binds a blob to its
// key, its sealer and its context:
//
//   blob = 0x01 | key version (u32, big-endian) | nonce | ciphertext | tag
//   aad  = "rustiq-seal-v1" | len|key name | version | len|caller | len|context
//
// (len: u32 big-endian.) A blob sealed by svc/authd cannot be unsealed by
// svc/cloudd, under another key or context, or after any byte changed.
#ifndef RUSTIQ_SERVICES_KEYD_SEAL_FORMAT_H_
#define RUSTIQ_SERVICES_KEYD_SEAL_FORMAT_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace rustiq::keyd {

std::string SealAad(absl::string_view key_name, uint32_t version,
                    absl::string_view caller, absl::string_view context);

std::string EncodeSealedBlob(uint32_t version, absl::string_view sealed);

struct SealedBlob {
  uint32_t version;
  absl::string_view sealed;  // nonce | ciphertext | tag, into the input
};
// InvalidArgument for anything that is not a blob of this format.
absl::StatusOr<SealedBlob> DecodeSealedBlob(absl::string_view blob);

}  // namespace rustiq::keyd

#endif  // RUSTIQ_SERVICES_KEYD_SEAL_FORMAT_H_
