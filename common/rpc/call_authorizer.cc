#include "common/rpc/call_authorizer.h"

#include <grpc/grpc_security_constants.h>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/identity/spiffe_id.h"
#include "common/logging/escape.h"
#include "common/rpc/status.h"

namespace rustiq::rpc {
namespace {

// Hostile strings (method paths, URIs) are shown truncated and escaped.
std::string Shown(absl::string_view s) { return log::EscapeUntrusted(s, 200); }

}  // namespace

CallAuthorizer::CallAuthorizer(std::string daemon, std::string trust_domain,
                               const MethodAccessTable* table,
                               CallerLimiter* limiter,
                               audit::SecurityEventSink* sink,
                               TokenVerifier* tokens)
    : daemon_(std::move(daemon)),
      trust_domain_(std::move(trust_domain)),
      table_(table),
      limiter_(limiter),
      sink_(sink),
      tokens_(tokens) {}

absl::StatusOr<std::string> CallAuthorizer::IdentifyPeer(
    absl::Span<const std::string> peer_uris) const {
  if (peer_uris.empty()) {
    return absl::UnauthenticatedError(
        "client certificate has no URI SAN; a rustiq identity needs exactly "
        "one spiffe:// URI SAN");
  }
  if (peer_uris.size() > 1) {
    return absl::UnauthenticatedError(
        absl::StrCat("client certificate has ", peer_uris.size(),
                     " URI SANs; a rustiq identity needs exactly one"));
  }
  absl::StatusOr<identity::SpiffeId> id =
      identity::SpiffeId::Parse(peer_uris[0]);
  if (!id.ok()) {
    return absl::UnauthenticatedError(absl::StrCat(
        "client certificate identity is not valid: ", id.status().message()));
  }
  if (id->trust_domain() != trust_domain_) {
    return absl::UnauthenticatedError(absl::StrCat(
        "client identity ", Shown(peer_uris[0]),
        " is not in this device's trust domain \"", trust_domain_, "\""));
  }
  return id->path();
}

absl::Status CallAuthorizer::Deny(absl::Status status, absl::string_view method,
                                  absl::string_view actor) {
  audit::SecurityEvent event;
  event.category = "rpc";
  event.action = status.code() == absl::StatusCode::kUnauthenticated
                     ? "call.unauthenticated"
                     : "call.denied";
  event.outcome = audit::Outcome::kDenied;
  event.actor = std::string(actor);
  event.attributes = {{"daemon", daemon_},
                      {"method", Shown(method)},
                      {"code", absl::StatusCodeToString(status.code())},
                      {"reason", std::string(status.message())}};
  sink_->Record(event);
  return status;
}

absl::StatusOr<std::string> CallAuthorizer::Authorize(
    absl::string_view method_path, absl::Span<const std::string> peer_uris,
    std::optional<absl::string_view> token) {
  absl::StatusOr<std::string> caller = IdentifyPeer(peer_uris);
  if (!caller.ok()) {
    return Deny(caller.status(), method_path, "unauthenticated");
  }
  const MethodAccess* access = table_->Find(method_path);
  if (access == nullptr) {
    return Deny(
        absl::UnimplementedError(absl::StrCat("method ", Shown(method_path),
                                              " does not exist on ", daemon_)),
        method_path, *caller);
  }
  if (!access->declared) {
    return Deny(absl::PermissionDeniedError(absl::StrCat(
                    "caller ", *caller, " may not call ", method_path,
                    ": the method declares no allowed callers")),
                method_path, *caller);
  }
  if (!access->AllowsCaller(*caller)) {
    return Deny(
        absl::PermissionDeniedError(absl::StrCat(
            "caller ", *caller, " is not allowed to call ", method_path)),
        method_path, *caller);
  }
  // A permission is asked of people, who call through clients with a token.
  // A daemon (svc/...) acts for itself: its identity and the declaration
  // are the whole authorization.
  if (!access->permission.empty() && absl::StartsWith(*caller, "client/")) {
    if (!token.has_value() ||
        token->substr(0, kBearerPrefix.size()) != kBearerPrefix) {
      return Deny(
          absl::UnauthenticatedError(absl::StrCat(
              method_path, " acts for a person and needs permission ",
              access->permission, ": log in first ('rustiqctl login')")),
          method_path, *caller);
    }
    if (tokens_ == nullptr) {
      return Deny(absl::UnauthenticatedError(absl::StrCat(
                      method_path, " needs permission ", access->permission,
                      " but ", daemon_, " has no token verifier configured")),
                  method_path, *caller);
    }
    absl::Status s = tokens_->CheckPermission(
        token->substr(kBearerPrefix.size()), access->permission);
    if (!s.ok()) return Deny(s, method_path, *caller);
  }
  if (!limiter_->TryAcquire(*caller)) {
    return Deny(
        absl::ResourceExhaustedError(absl::StrCat(
            "caller ", *caller, " already has ", limiter_->max(),
            " calls in flight on ", daemon_, "; retry when some complete")),
        method_path, *caller);
  }
  return caller;
}

grpc::Status AuthorizingProcessor::Process(const InputMetadata& auth_metadata,
                                           grpc::AuthContext* context,
                                           OutputMetadata* /*consumed*/,
                                           OutputMetadata* /*response*/) {
  absl::string_view path;
  if (auto it = auth_metadata.find(":path"); it != auth_metadata.end()) {
    path = absl::string_view(it->second.data(), it->second.size());
  }
  std::vector<std::string> uris;
  for (const grpc::string_ref& v :
       context->FindPropertyValues(GRPC_PEER_URI_PROPERTY_NAME)) {
    uris.emplace_back(v.data(), v.size());
  }
  std::optional<absl::string_view> token;
  if (auto it = auth_metadata.find(kTokenMetadataKey);
      it != auth_metadata.end()) {
    // Left in the call's metadata: handlers that act for the person get
    // the verified claims through PersonOf(), never the raw token in logs.
    token = absl::string_view(it->second.data(), it->second.size());
  }
  absl::StatusOr<std::string> caller =
      authorizer_->Authorize(path, uris, token);
  return ToGrpcStatus(caller.status());
}

}  // namespace rustiq::rpc
