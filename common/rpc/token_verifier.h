// What the enforcement point needs to know about a person's token, and the
// interface that verifies one. common/auth provides the implementation
// (PASETO v4.public tokens signed by keyd's "token-signing" key, cached,
// with revocations followed from authd); a daemon without one refuses every
// method that declares a permission.
#ifndef RUSTIQ_COMMON_RPC_TOKEN_VERIFIER_H_
#define RUSTIQ_COMMON_RPC_TOKEN_VERIFIER_H_

#include <grpcpp/server_context.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace rustiq::rpc {

// Call metadata carrying a person's token: "authorization: Bearer <token>".
inline constexpr char kTokenMetadataKey[] = "authorization";
inline constexpr absl::string_view kBearerPrefix = "Bearer ";

// What a verified token says.
struct TokenClaims {
  std::string subject;   // the user name ("alice")
  std::string token_id;  // unique per token (revocation works on it)
  std::vector<std::string> roles;
  std::vector<std::string> permissions;
  absl::Time issued;
  absl::Time expires;

  bool HasPermission(absl::string_view permission) const;
  // The event log's actor for this person: "user/alice".
  std::string Actor() const;
};

class TokenVerifier {
 public:
  virtual ~TokenVerifier() = default;
  // The claims of a valid token (signature, issuer, time window, not
  // revoked). UNAUTHENTICATED with what is wrong for a bad token;
  // UNAVAILABLE when validity cannot be decided now (the verification key or
  // the revocation list cannot be had).
  virtual absl::StatusOr<TokenClaims> Verify(absl::string_view token) = 0;

  // Verify, then OK when the token carries `permission`; PERMISSION_DENIED
  // naming the user and the permission otherwise.
  absl::Status CheckPermission(absl::string_view token,
                               absl::string_view permission);
};

// The token of a call (the "authorization: Bearer" metadata) verified: the
// person a handler acts for. UNAUTHENTICATED when the call carries none.
// The enforcement point has already verified it for methods that declare a
// permission; this repeats the (cached) check to hand the handler the claims.
absl::StatusOr<TokenClaims> PersonOf(const grpc::ServerContext& context,
                                     TokenVerifier* verifier);

// The raw token of a call, without the "Bearer " prefix; empty if none.
absl::string_view RawTokenOf(const grpc::ServerContext& context);

}  // namespace rustiq::rpc

#endif  // RUSTIQ_COMMON_RPC_TOKEN_VERIFIER_H_
