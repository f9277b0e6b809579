#include "services/authd/token_signer.h"

#include <grpcpp/client_context.h>

#include <chrono>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/auth/token_issuer.h"
#include "common/rpc/status.h"
#include "rustiq/v1/keys.grpc.pb.h"

namespace rustiq::authd {
namespace {

constexpr auto kKeydDeadline = std::chrono::seconds(5);

absl::Status KeydError(absl::string_view what, const grpc::Status& s) {
  return absl::UnavailableError(absl::StrCat(
      "cannot ", what, " the token: keyd answered ",
      absl::StatusCodeToString(static_cast<absl::StatusCode>(s.error_code())),
      ": ", s.error_message()));
}

}  // namespace

KeydTokenSigner::KeydTokenSigner(std::shared_ptr<grpc::Channel> keyd,
                                 std::string device_id)
    : keyd_(std::move(keyd)), device_id_(std::move(device_id)) {}

absl::StatusOr<uint32_t> KeydTokenSigner::CurrentVersion(bool refresh) {
  {
    absl::MutexLock lock(&mu_);
    if (version_ != 0 && !refresh) return version_;
  }
  v1::Keys::Stub stub(keyd_);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + kKeydDeadline);
  v1::GetPublicKeyRequest request;
  request.set_name(kTokenSigningKey);
  v1::PublicKey key;
  grpc::Status s = stub.GetPublicKey(&ctx, request, &key);
  if (!s.ok()) return KeydError("prepare", s);
  absl::MutexLock lock(&mu_);
  version_ = key.version();
  return version_;
}

absl::StatusOr<std::string> KeydTokenSigner::Sign(
    const rpc::TokenClaims& claims) {
  bool refresh = false;
  // Twice at most: a rotation between learning the version and signing
  // shows as a signature by a newer version; the second try names it.
  for (int attempt = 0; attempt < 2; ++attempt) {
    absl::StatusOr<uint32_t> version = CurrentVersion(refresh);
    if (!version.ok()) return version.status();
    uint32_t signed_by = 0;
    absl::StatusOr<std::string> token = auth::IssueToken(
        claims, device_id_, *version,
        [&](absl::string_view input) -> absl::StatusOr<std::string> {
          v1::Keys::Stub stub(keyd_);
          grpc::ClientContext ctx;
          ctx.set_deadline(std::chrono::system_clock::now() + kKeydDeadline);
          v1::SignRequest request;
          request.set_name(kTokenSigningKey);
          request.set_algorithm(v1::SIGNATURE_ALGORITHM_ED25519);
          request.set_message(std::string(input));
          v1::SignResponse response;
          grpc::Status s = stub.Sign(&ctx, request, &response);
          if (!s.ok()) return KeydError("sign", s);
          signed_by = response.version();
          if (signed_by != *version) {
            return absl::AbortedError("the token-signing key was rotated");
          }
          return response.signature();
        });
    if (token.ok() || !absl::IsAborted(token.status())) return token;
    refresh = true;
  }
  return absl::UnavailableError(
      "cannot sign the token: the token-signing key keeps being rotated");
}

}  // namespace rustiq::authd
