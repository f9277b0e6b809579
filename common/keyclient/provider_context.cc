#include "common/keyclient/provider_context.h"

#include <cstdarg>
#include <string>

namespace rustiq::keyclient::internal {
namespace {

// The core's error up-call takes a printf format and a va_list; this makes
// the va_list for a fixed "%s".
__attribute__((format(printf, 3, 4))) void SetError(const ProviderContext* ctx,
                                                    uint32_t reason,
                                                    const char* fmt, ...) {
  va_list args;
  va_start(args, fmt);
  ctx->vset_error(ctx->handle, reason, fmt, args);
  va_end(args);
}

}  // namespace

void RaiseError(const ProviderContext* ctx, ProviderReason reason,
                absl::string_view message) {
  if (ctx == nullptr || ctx->new_error == nullptr ||
      ctx->set_error_debug == nullptr || ctx->vset_error == nullptr) {
    return;
  }
  ctx->new_error(ctx->handle);
  ctx->set_error_debug(ctx->handle, __FILE__, __LINE__, __func__);
  SetError(ctx, reason, "%s", std::string(message).c_str());
}

}  // namespace rustiq::keyclient::internal
