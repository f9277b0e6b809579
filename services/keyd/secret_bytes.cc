#include "services/keyd/secret_bytes.h"

#include <openssl/crypto.h>

#include <cstdlib>
#include <cstring>
#include <utility>

namespace rustiq::keyd {
namespace {

uint8_t* Allocate(size_t size) {
  if (size == 0) return nullptr;
  void* p = OPENSSL_secure_zalloc(size);
  if (p == nullptr) std::abort();  // out of memory: never continue half-built
  return static_cast<uint8_t*>(p);
}

}  // namespace

SecretBytes::SecretBytes(size_t size) : data_(Allocate(size)), size_(size) {}

SecretBytes::SecretBytes(absl::string_view bytes)
    : data_(Allocate(bytes.size())), size_(bytes.size()) {
  if (size_ > 0) std::memcpy(data_, bytes.data(), size_);
}

SecretBytes::~SecretBytes() { Release(); }

SecretBytes::SecretBytes(SecretBytes&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)) {}

SecretBytes& SecretBytes::operator=(SecretBytes&& other) noexcept {
  if (this != &other) {
    Release();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

void SecretBytes::Truncate(size_t size) {
  if (size >= size_) return;
  OPENSSL_cleanse(data_ + size, size_ - size);
  size_ = size;
}

void SecretBytes::Release() {
  if (data_ != nullptr) {
    // Frees from whichever heap it came from, cleansing first.
    OPENSSL_secure_clear_free(data_, size_);
  }
  data_ = nullptr;
  size_ = 0;
}

bool InitSecureHeap(size_t bytes) {
  if (CRYPTO_secure_malloc_initialized()) return true;
  // Minimum allocation 16 bytes; the heap size must be a power of two.
  size_t size = 4096;
  while (size < bytes) size <<= 1;
  return CRYPTO_secure_malloc_init(size, 16) == 1;
}

}  // namespace rustiq::keyd
