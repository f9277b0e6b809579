// The one enforcement point of every rustiq server.
//
// For each incoming call it establishes the caller's identity from the mTLS
// peer certificate (exactly one URI SAN, a valid SPIFFE ID in the device's own
// trust domain), looks up the method's declaration, checks the caller against
// it, checks the person's token when the method declares a permission and the
// caller is a client (daemons act for themselves and carry no token), and
// takes a per-caller concurrency slot. Any "no" is recorded through the
// security-event sink and returned as a precise status:
//   UNAUTHENTICATED     no valid identity, or a required token is missing/bad
//   PERMISSION_DENIED   identity valid but not allowed (or undeclared method)
//   UNIMPLEMENTED       no such method on this server
//   RESOURCE_EXHAUSTED  the caller already has its maximum of calls in flight
//
// It runs as a gRPC AuthMetadataProcessor, inline on the transport thread
// before the call reaches any handler, so no handler can forget it. In gRPC
// 1.51 the AuthContext a processor receives is the connection's, shared by
// all its calls: the processor must not add per-call properties to it (they
// would pile up for the life of the connection). Handlers derive the caller
// from the peer certificate instead (CallerOf in peer.h).
#ifndef RUSTIQ_COMMON_RPC_CALL_AUTHORIZER_H_
#define RUSTIQ_COMMON_RPC_CALL_AUTHORIZER_H_

#include <grpcpp/security/auth_metadata_processor.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "common/audit/security_event.h"
#include "common/rpc/caller_limiter.h"
#include "common/rpc/method_access.h"
#include "common/rpc/token_verifier.h"

namespace rustiq::rpc {

class CallAuthorizer {
 public:
  // None of the pointers is owned; all must outlive the authorizer.
  // `tokens` may be null.
  CallAuthorizer(std::string daemon, std::string trust_domain,
                 const MethodAccessTable* table, CallerLimiter* limiter,
                 audit::SecurityEventSink* sink, TokenVerifier* tokens);

  // Decides one call. On success returns the caller path; a limiter slot has
  // then been taken and must be released with ReleaseSlot() when the call
  // ends. `token` is the raw "authorization" metadata value, if any.
  absl::StatusOr<std::string> Authorize(absl::string_view method_path,
                                        absl::Span<const std::string> peer_uris,
                                        std::optional<absl::string_view> token);
  void ReleaseSlot(absl::string_view caller) { limiter_->Release(caller); }

 private:
  absl::StatusOr<std::string> IdentifyPeer(
      absl::Span<const std::string> peer_uris) const;
  absl::Status Deny(absl::Status status, absl::string_view method,
                    absl::string_view actor);

  const std::string daemon_;
  const std::string trust_domain_;
  const MethodAccessTable* table_;
  CallerLimiter* limiter_;
  audit::SecurityEventSink* sink_;
  TokenVerifier* tokens_;
};

// Adapts CallAuthorizer to gRPC's per-call metadata processing hook.
class AuthorizingProcessor final : public grpc::AuthMetadataProcessor {
 public:
  explicit AuthorizingProcessor(CallAuthorizer* authorizer)
      : authorizer_(authorizer) {}
  // Runs inline on the transport thread: the checks are CPU-only.
  bool IsBlocking() const override { return false; }
  grpc::Status Process(const InputMetadata& auth_metadata,
                       grpc::AuthContext* context,
                       OutputMetadata* consumed_auth_metadata,
                       OutputMetadata* response_metadata) override;

 private:
  CallAuthorizer* authorizer_;
};

}  // namespace rustiq::rpc

#endif  // RUSTIQ_COMMON_RPC_CALL_AUTHORIZER_H_
