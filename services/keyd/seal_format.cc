#include "services/keyd/seal_format.h"

#include "absl/strings/str_cat.h"
#include "services/keyd/backend.h"

namespace rustiq::keyd {
namespace {

constexpr char kBlobFormat = 1;

void PutU32(std::string* out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) {
    out->push_back(static_cast<char>((v >> shift) & 0xff));
  }
}

void PutField(std::string* out, absl::string_view field) {
  PutU32(out, static_cast<uint32_t>(field.size()));
  out->append(field.data(), field.size());
}

}  // namespace

std::string SealAad(absl::string_view key_name, uint32_t version,
                    absl::string_view caller, absl::string_view context) {
  std::string aad = "rustiq-seal-v1";
  PutField(&aad, key_name);
  PutU32(&aad, version);
  PutField(&aad, caller);
  PutField(&aad, context);
  return aad;
}

std::string EncodeSealedBlob(uint32_t version, absl::string_view sealed) {
  std::string blob(1, kBlobFormat);
  PutU32(&blob, version);
  blob.append(sealed.data(), sealed.size());
  return blob;
}

absl::StatusOr<SealedBlob> DecodeSealedBlob(absl::string_view blob) {
  if (blob.size() < 5 + kGcmNonceBytes + kGcmTagBytes ||
      blob[0] != kBlobFormat) {
    return absl::InvalidArgumentError(
        "not a sealed blob made by keyd (too short or unknown format)");
  }
  uint32_t version = 0;
  for (int i = 1; i <= 4; ++i) {
    version = (version << 8) | static_cast<unsigned char>(blob[i]);
  }
  return SealedBlob{version, blob.substr(5)};
}

}  // namespace rustiq::keyd
