// State the remote-key provider shares between its algorithms: the core's
// handle and the error up-calls, so that a failure inside the provider lands
// in the caller's OpenSSL error queue like any other OpenSSL error.
//
// Internal to common/keyclient.
#ifndef RUSTIQ_COMMON_KEYCLIENT_PROVIDER_CONTEXT_H_
#define RUSTIQ_COMMON_KEYCLIENT_PROVIDER_CONTEXT_H_

#include <openssl/core.h>
#include <openssl/core_dispatch.h>

#include <cstdint>

#include "absl/strings/string_view.h"

namespace rustiq::keyclient::internal {

// The provider's own reason codes (its reason strings are in provider.cc).
enum ProviderReason : uint32_t {
  kReasonRemoteSignFailed = 1,
  kReasonUnsupportedDigest = 2,
  kReasonBadKey = 3,
  kReasonBadArgument = 4,
  kReasonNoSigner = 5,
  kReasonOpenSsl = 6,
};

struct ProviderContext {
  const OSSL_CORE_HANDLE* handle = nullptr;
  OSSL_FUNC_core_new_error_fn* new_error = nullptr;
  OSSL_FUNC_core_set_error_debug_fn* set_error_debug = nullptr;
  OSSL_FUNC_core_vset_error_fn* vset_error = nullptr;
};

// One OSSL_DISPATCH entry. The table stores every function as
// void(*)(void); OpenSSL casts it back to the type `id` stands for.
template <typename F>
OSSL_DISPATCH DispatchEntry(int id, F* function) {
  return {id, reinterpret_cast<void (*)()>(function)};
}

// Pushes one error with `message` onto the calling thread's error queue.
// Safe with a null context or missing up-calls (the error is then dropped;
// the failing return value still reaches the caller).
void RaiseError(const ProviderContext* ctx, ProviderReason reason,
                absl::string_view message);

}  // namespace rustiq::keyclient::internal

#endif  // RUSTIQ_COMMON_KEYCLIENT_PROVIDER_CONTEXT_H_
