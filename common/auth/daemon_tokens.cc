#include "common/auth/daemon_tokens.h"

#include <utility>

#include "common/auth/keyd_token_key_source.h"
#include "common/rpc/client.h"

namespace rustiq::auth {

DaemonTokens::DaemonTokens(std::string device_id,
                           std::shared_ptr<grpc::Channel> keyd,
                           std::shared_ptr<grpc::Channel> authd)
    : DaemonTokens(std::move(device_id), std::move(keyd), std::move(authd),
                   Options()) {}

DaemonTokens::DaemonTokens(std::string device_id,
                           std::shared_ptr<grpc::Channel> keyd,
                           std::shared_ptr<grpc::Channel> authd,
                           Options options)
    : DaemonTokens(std::move(device_id),
                   std::make_unique<KeydTokenKeySource>(std::move(keyd)),
                   nullptr, std::move(authd), std::move(options)) {}

DaemonTokens::DaemonTokens(std::string device_id, TokenKeySource* keys,
                           std::shared_ptr<grpc::Channel> authd)
    : DaemonTokens(std::move(device_id), keys, std::move(authd), Options()) {}

DaemonTokens::DaemonTokens(std::string device_id, TokenKeySource* keys,
                           std::shared_ptr<grpc::Channel> authd,
                           Options options)
    : DaemonTokens(std::move(device_id), nullptr, keys, std::move(authd),
                   std::move(options)) {}

DaemonTokens::DaemonTokens(std::string device_id,
                           std::unique_ptr<TokenKeySource> owned,
                           TokenKeySource* keys,
                           std::shared_ptr<grpc::Channel> authd,
                           Options options)
    : owned_keys_(std::move(owned)) {
  if (owned_keys_ != nullptr) keys = owned_keys_.get();
  keyd_keys_ = dynamic_cast<KeydTokenKeySource*>(owned_keys_.get());
  if (authd == nullptr) {
    // Nobody to follow: nothing is ever revoked here but what the owner
    // adds (authd does; a test may).
    options.revocations.always_fresh = true;
  }
  revocations_ = std::make_unique<RevocationSet>(options.revocations);
  if (authd != nullptr) {
    follower_ = std::make_unique<RevocationFollower>(
        std::move(authd), revocations_.get(), std::move(options.follower));
  }
  options.verifier.device_id = std::move(device_id);
  verifier_ = std::make_unique<LocalTokenVerifier>(std::move(options.verifier),
                                                   keys, revocations_.get());
}

DaemonTokens DaemonTokens::ForAuthd(std::string device_id,
                                    std::shared_ptr<grpc::Channel> keyd) {
  return DaemonTokens(std::move(device_id), std::move(keyd), nullptr);
}

DaemonTokens::~DaemonTokens() { Stop(); }

void DaemonTokens::Start() {
  // Keys fetched off the transport threads (keyd_token_key_source.h).
  if (owned_keys_ != nullptr && keyd_keys_ != nullptr) {
    keyd_keys_->StartBackground();
  }
  if (follower_ != nullptr) follower_->Start();
}

void DaemonTokens::Stop() {
  if (follower_ != nullptr) follower_->Stop();
  // A moved-from object owns nothing and stops nothing.
  if (owned_keys_ != nullptr && keyd_keys_ != nullptr) {
    keyd_keys_->StopBackground();
  }
}

absl::StatusOr<std::unique_ptr<DaemonTokens>> StartDaemonTokens(
    const config::StackConfig& config, absl::string_view daemon,
    std::shared_ptr<grpc::Channel> keyd, TokenKeySource* keys) {
  absl::StatusOr<std::shared_ptr<grpc::Channel>> authd =
      rpc::RevocationChannel(config, daemon);
  if (!authd.ok()) return authd.status();
  auto tokens =
      keys != nullptr
          ? std::make_unique<DaemonTokens>(config.device_id, keys, *authd)
          : std::make_unique<DaemonTokens>(config.device_id, std::move(keyd),
                                           *authd);
  tokens->Start();
  return tokens;
}

}  // namespace rustiq::auth
