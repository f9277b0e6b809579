// Signs people's tokens. The private half of the token-signing key never
// leaves keyd: KeydTokenSigner asks keyd to sign each token's signing input
// (PASETO v4.public, common/auth/token_issuer.h) and names the key version
// that signed it in the footer, so that verifiers pick the right public key
// across rotations.
#ifndef RUSTIQ_SERVICES_AUTHD_TOKEN_SIGNER_H_
#define RUSTIQ_SERVICES_AUTHD_TOKEN_SIGNER_H_

#include <grpcpp/channel.h>

#include <cstdint>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/rpc/token_verifier.h"

namespace rustiq::authd {

// keyd's well-known key for people's tokens (policies/keyd/keys.toml).
inline constexpr char kTokenSigningKey[] = "token-signing";

class TokenSigner {
 public:
  virtual ~TokenSigner() = default;
  // The token for `claims`; UNAVAILABLE when the signer cannot be reached.
  virtual absl::StatusOr<std::string> Sign(const rpc::TokenClaims& claims) = 0;
};

class KeydTokenSigner final : public TokenSigner {
 public:
  KeydTokenSigner(std::shared_ptr<grpc::Channel> keyd, std::string device_id);
  absl::StatusOr<std::string> Sign(const rpc::TokenClaims& claims) override;

 private:
  // The current version of the key, asked of keyd once and again after a
  // rotation (a signature made by another version than the footer names).
  absl::StatusOr<uint32_t> CurrentVersion(bool refresh);

  std::shared_ptr<grpc::Channel> keyd_;
  const std::string device_id_;
  absl::Mutex mu_;
  uint32_t version_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace rustiq::authd

#endif  // RUSTIQ_SERVICES_AUTHD_TOKEN_SIGNER_H_
