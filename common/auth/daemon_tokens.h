// What a daemon needs to check people's tokens, in one object: the key
// source, the revocation set and its follower, and the verifier that the
// enforcement point (rpc::CallAuthorizer) and handlers (rpc::PersonOf) use.
//
//   DaemonTokens tokens(config.device_id, keyd_channel, authd_channel);
//   tokens.Start();                 // before serving
//   ... CallAuthorizer(..., tokens.verifier()) ...
//   tokens.Stop();                  // after the server has shut down
//
// Without an authd channel nothing follows revocations, and the set is
// always fresh: that is right for authd itself, which feeds revocations()
// with its own (logout, deletions, role changes), and for tests. Any other
// daemon built that way accepts a revoked token until it expires.
#ifndef RUSTIQ_COMMON_AUTH_DAEMON_TOKENS_H_
#define RUSTIQ_COMMON_AUTH_DAEMON_TOKENS_H_

#include <grpcpp/channel.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/auth/keyd_token_key_source.h"
#include "common/auth/public_key_source.h"
#include "common/auth/revocation_follower.h"
#include "common/auth/revocation_set.h"
#include "common/auth/token_verifier.h"
#include "common/config/config.h"

namespace rustiq::auth {

class DaemonTokens {
 public:
  struct Options {
    LocalTokenVerifier::Options verifier;  // device_id is set from the ctor
    RevocationSet::Options revocations;
    RevocationFollower::Options follower;
  };

  // Every daemon but keyd: the token-signing key from `keyd`
  // (KeydTokenKeySource). `authd` may be null (see above).
  DaemonTokens(std::string device_id, std::shared_ptr<grpc::Channel> keyd,
               std::shared_ptr<grpc::Channel> authd);
  DaemonTokens(std::string device_id, std::shared_ptr<grpc::Channel> keyd,
               std::shared_ptr<grpc::Channel> authd, Options options);
  // keyd, which reads its own key, and tests: `keys` is not owned and must
  // outlive this object.
  DaemonTokens(std::string device_id, TokenKeySource* keys,
               std::shared_ptr<grpc::Channel> authd);
  DaemonTokens(std::string device_id, TokenKeySource* keys,
               std::shared_ptr<grpc::Channel> authd, Options options);
  // authd: the key from `keyd`, no follower, an always-fresh set that authd
  // feeds itself through revocations().
  static DaemonTokens ForAuthd(std::string device_id,
                               std::shared_ptr<grpc::Channel> keyd);

  ~DaemonTokens();  // Stop()s
  // Movable (verifier() and revocations() keep pointing at the same
  // objects); not assignable, which would free a key source in use.
  DaemonTokens(DaemonTokens&&) = default;
  DaemonTokens& operator=(DaemonTokens&&) = delete;
  DaemonTokens(const DaemonTokens&) = delete;
  DaemonTokens& operator=(const DaemonTokens&) = delete;

  // Starts following revocations (no-op without authd). Until the first
  // snapshot arrives, Verify answers UNAVAILABLE.
  void Start();
  // Stops following; returns promptly. Idempotent.
  void Stop();

  // Valid for the life of this object; thread-safe.
  rpc::TokenVerifier* verifier() { return verifier_.get(); }
  RevocationSet* revocations() { return revocations_.get(); }

 private:
  DaemonTokens(std::string device_id, std::unique_ptr<TokenKeySource> owned,
               TokenKeySource* keys, std::shared_ptr<grpc::Channel> authd,
               Options options);

  std::unique_ptr<TokenKeySource> owned_keys_;  // null when not ours
  // owned_keys_ when it is one: its background fetching follows Start().
  KeydTokenKeySource* keyd_keys_ = nullptr;
  std::unique_ptr<RevocationSet> revocations_;
  std::unique_ptr<RevocationFollower> follower_;  // null without authd
  std::unique_ptr<LocalTokenVerifier> verifier_;
};

// The tokens of a daemon of the stack other than authd, started: it follows
// authd's revocations on a stream channel (rpc::RevocationChannel), and
// reads the token-signing key from `keys` when given (keyd, from its own
// store), else from keyd over `keyd`.
absl::StatusOr<std::unique_ptr<DaemonTokens>> StartDaemonTokens(
    const config::StackConfig& config, absl::string_view daemon,
    std::shared_ptr<grpc::Channel> keyd, TokenKeySource* keys = nullptr);

}  // namespace rustiq::auth

#endif  // RUSTIQ_COMMON_AUTH_DAEMON_TOKENS_H_
