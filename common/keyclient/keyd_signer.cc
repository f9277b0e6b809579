#include "common/keyclient/keyd_signer.h"

#include <grpcpp/client_context.h>
#include <openssl/x509.h>

#include <chrono>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/pki/openssl_util.h"

namespace rustiq::keyclient {
namespace {

constexpr size_t kSha256Size = 32;

// The key name as it appears in messages: quoted, and escaped in case the
// caller's configuration put something odd in it.
std::string Quoted(absl::string_view key_name) {
  return absl::StrCat("'", absl::CHexEscape(key_name.substr(0, 64)), "'");
}

void SetDeadline(grpc::ClientContext& context, absl::Duration timeout) {
  context.set_deadline(std::chrono::system_clock::now() +
                       absl::ToChronoMilliseconds(timeout));
}

// keyd's status code, with a message naming keyd, the call and the key.
absl::Status FromKeyd(const grpc::Status& status, absl::string_view call,
                      absl::string_view key_name) {
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      absl::StrCat("keyd ", call, " for key ", Quoted(key_name),
                                   ": ", status.error_message()));
}

absl::Status CheckP256(const std::string& der, absl::string_view key_name) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  pki::EvpPkeyPtr key(d2i_PUBKEY_ex(nullptr, &p, static_cast<long>(der.size()),
                                    nullptr, nullptr));
  if (key == nullptr || !pki::IsP256Key(key.get())) {
    pki::OpenSslErrors();  // drop what the parser left in the queue
    return absl::FailedPreconditionError(
        absl::StrCat("keyd key ", Quoted(key_name),
                     ": public key is not an EC P-256 SubjectPublicKeyInfo"));
  }
  return absl::OkStatus();
}

}  // namespace

KeydSigner::KeydSigner(std::unique_ptr<v1::Keys::StubInterface> stub,
                       std::string key_name, uint32_t version, std::string der,
                       absl::Duration rpc_timeout)
    : stub_(std::move(stub)),
      key_name_(std::move(key_name)),
      version_(version),
      der_(std::move(der)),
      rpc_timeout_(rpc_timeout) {}

absl::StatusOr<std::shared_ptr<KeydSigner>> KeydSigner::Create(
    std::shared_ptr<grpc::Channel> keyd_channel, std::string key_name,
    absl::Duration rpc_timeout) {
  if (keyd_channel == nullptr) {
    return absl::InvalidArgumentError("KeydSigner needs a channel to keyd");
  }
  if (key_name.empty()) {
    return absl::InvalidArgumentError("KeydSigner needs a key name");
  }
  std::unique_ptr<v1::Keys::StubInterface> stub =
      v1::Keys::NewStub(std::move(keyd_channel));
  v1::GetPublicKeyRequest request;
  request.set_name(key_name);
  request.set_version(0);  // the current version
  v1::PublicKey response;
  grpc::ClientContext context;
  SetDeadline(context, rpc_timeout);
  grpc::Status status = stub->GetPublicKey(&context, request, &response);
  if (!status.ok()) return FromKeyd(status, "GetPublicKey", key_name);
  if (response.algorithm() != v1::KEY_ALGORITHM_EC_P256) {
    return absl::FailedPreconditionError(
        absl::StrCat("keyd key ", Quoted(key_name), " is ",
                     v1::KeyAlgorithm_Name(response.algorithm()),
                     ", not KEY_ALGORITHM_EC_P256"));
  }
  if (absl::Status s = CheckP256(response.der(), key_name); !s.ok()) return s;
  return std::shared_ptr<KeydSigner>(
      new KeydSigner(std::move(stub), std::move(key_name), response.version(),
                     std::move(*response.mutable_der()), rpc_timeout));
}

absl::StatusOr<std::string> KeydSigner::SignDigest(absl::string_view digest) {
  if (digest.size() != kSha256Size) {
    return absl::InvalidArgumentError(
        absl::StrCat("keyd Sign for key ", Quoted(key_name_),
                     ": a SHA-256 digest is 32 bytes, not ", digest.size()));
  }
  v1::SignRequest request;
  request.set_name(key_name_);
  request.set_algorithm(v1::SIGNATURE_ALGORITHM_ECDSA_P256_SHA256);
  request.set_digest(std::string(digest));
  v1::SignResponse response;
  grpc::ClientContext context;
  SetDeadline(context, rpc_timeout_);
  grpc::Status status = stub_->Sign(&context, request, &response);
  if (!status.ok()) return FromKeyd(status, "Sign", key_name_);
  if (response.version() != version_) {
    return absl::FailedPreconditionError(absl::StrCat(
        "keyd Sign for key ", Quoted(key_name_), ": signed with version ",
        response.version(), " but this signer holds version ", version_,
        " (key rotated; a new signer is needed)"));
  }
  if (response.signature().empty()) {
    return absl::InternalError(absl::StrCat(
        "keyd Sign for key ", Quoted(key_name_), ": empty signature"));
  }
  return std::move(*response.mutable_signature());
}

}  // namespace rustiq::keyclient
