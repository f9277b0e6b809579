#include "common/rpc/token_verifier.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace rustiq::rpc {

bool TokenClaims::HasPermission(absl::string_view permission) const {
  return std::find(permissions.begin(), permissions.end(), permission) !=
         permissions.end();
}

std::string TokenClaims::Actor() const {
  return absl::StrCat("user/", subject);
}

absl::Status TokenVerifier::CheckPermission(absl::string_view token,
                                            absl::string_view permission) {
  absl::StatusOr<TokenClaims> claims = Verify(token);
  if (!claims.ok()) return claims.status();
  if (claims->HasPermission(permission)) return absl::OkStatus();
  return absl::PermissionDeniedError(absl::StrCat(
      "user ", claims->subject, " does not have permission ", permission,
      " (roles: ",
      claims->roles.empty() ? "none" : absl::StrJoin(claims->roles, ", "),
      "); an admin can grant a role that has it"));
}

absl::string_view RawTokenOf(const grpc::ServerContext& context) {
  const auto& metadata = context.client_metadata();
  auto it = metadata.find(kTokenMetadataKey);
  if (it == metadata.end()) return {};
  absl::string_view value(it->second.data(), it->second.size());
  if (value.substr(0, kBearerPrefix.size()) != kBearerPrefix) return {};
  return value.substr(kBearerPrefix.size());
}

absl::StatusOr<TokenClaims> PersonOf(const grpc::ServerContext& context,
                                     TokenVerifier* verifier) {
  absl::string_view token = RawTokenOf(context);
  if (token.empty()) {
    return absl::UnauthenticatedError(
        "this call acts for a person and carries no token: log in first "
        "('rustiqctl login')");
  }
  if (verifier == nullptr) {
    return absl::UnauthenticatedError(
        "this daemon has no token verifier configured");
  }
  return verifier->Verify(token);
}

}  // namespace rustiq::rpc
