#include "common/rpc/peer.h"

#include <grpc/grpc_security_constants.h>

#include "common/identity/spiffe_id.h"

namespace rustiq::rpc {

std::string CallerOf(const grpc::ServerContextBase& context) {
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (auth == nullptr) return "";
  std::vector<grpc::string_ref> uris =
      auth->FindPropertyValues(GRPC_PEER_URI_PROPERTY_NAME);
  if (uris.size() != 1) return "";
  absl::StatusOr<identity::SpiffeId> id = identity::SpiffeId::Parse(
      absl::string_view(uris[0].data(), uris[0].size()));
  return id.ok() ? id->path() : "";
}

}  // namespace rustiq::rpc
