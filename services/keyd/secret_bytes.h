// Secret bytes (private keys, sealing keys, unsealed plaintext) held in
// OpenSSL's secure heap when it is initialised (locked, excluded from core
// dumps) and always cleansed before the memory is released.
#ifndef RUSTIQ_SERVICES_KEYD_SECRET_BYTES_H_
#define RUSTIQ_SERVICES_KEYD_SECRET_BYTES_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace rustiq::keyd {

// Move-only. Copying secret material is always explicit (Copy()).
class SecretBytes {
 public:
  SecretBytes() = default;
  explicit SecretBytes(size_t size);  // zero-filled
  explicit SecretBytes(absl::string_view bytes);
  ~SecretBytes();
  SecretBytes(SecretBytes&& other) noexcept;
  SecretBytes& operator=(SecretBytes&& other) noexcept;
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;

  SecretBytes Copy() const { return SecretBytes(view()); }
  uint8_t* data() { return data_; }
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  absl::string_view view() const {
    return {reinterpret_cast<const char*>(data_), size_};
  }
  // Shrinks to `size` bytes (cleansing the tail); never grows.
  void Truncate(size_t size);
  // Leaves the secure heap (for a protobuf field sent to the caller who owns
  // the plaintext). The caller must cleanse the string when done.
  std::string ToString() const { return std::string(view()); }

 private:
  void Release();
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

// Initialises OpenSSL's secure heap (locked pages, excluded from core dumps)
// once per process. Keys created afterwards keep their private numbers there.
// Returns false when the kernel refused (RLIMIT_MEMLOCK): keys then live in
// the ordinary heap, still cleansed, and the caller should say so.
bool InitSecureHeap(size_t bytes);

}  // namespace rustiq::keyd

#endif  // RUSTIQ_SERVICES_KEYD_SECRET_BYTES_H_
