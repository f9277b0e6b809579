#include "services/keyd/pkcs11/key_handle.h"

#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace rustiq::keyd::pkcs11 {
namespace {

constexpr absl::string_view kMagic = "RQP";
constexpr uint8_t kVersion = 1;
constexpr size_t kHandleBytes = kMagic.size() + 2 + kObjectIdBytes;

uint8_t AlgorithmCode(Algorithm algorithm) {
  switch (algorithm) {
    case Algorithm::kEcP256:
      return 1;
    case Algorithm::kEd25519:
      return 2;
    case Algorithm::kRsa3072:
      return 3;
    case Algorithm::kAes256:
      return 4;
  }
  return 0;
}

}  // namespace

SecretBytes EncodeKeyHandle(Algorithm algorithm, absl::string_view object_id) {
  std::string handle(kMagic);
  handle.push_back(static_cast<char>(kVersion));
  handle.push_back(static_cast<char>(AlgorithmCode(algorithm)));
  handle.append(object_id.data(), object_id.size());
  return SecretBytes(handle);
}

absl::StatusOr<TokenKeyRef> DecodeKeyHandle(const SecretBytes& handle,
                                            Algorithm expected) {
  absl::string_view bytes = handle.view();
  if (bytes.size() != kHandleBytes ||
      bytes.substr(0, kMagic.size()) != kMagic) {
    return absl::DataLossError("not a PKCS#11 backend key handle");
  }
  bytes.remove_prefix(kMagic.size());
  if (static_cast<uint8_t>(bytes[0]) != kVersion) {
    return absl::DataLossError(
        absl::StrCat("PKCS#11 key handle of unknown version ",
                     static_cast<int>(static_cast<uint8_t>(bytes[0]))));
  }
  if (static_cast<uint8_t>(bytes[1]) != AlgorithmCode(expected)) {
    return absl::DataLossError(
        absl::StrCat("the PKCS#11 key handle is not of a ",
                     AlgorithmName(expected), " key"));
  }
  bytes.remove_prefix(2);
  return TokenKeyRef{expected, std::string(bytes)};
}

}  // namespace rustiq::keyd::pkcs11
