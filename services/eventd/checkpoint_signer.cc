#include "services/eventd/checkpoint_signer.h"

#include <grpcpp/client_context.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <chrono>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/pki/openssl_util.h"
#include "rustiq/v1/keys.grpc.pb.h"

namespace rustiq::eventd {
namespace {

constexpr auto kTimeout = std::chrono::seconds(5);

absl::Status FromKeyd(const grpc::Status& s, absl::string_view call) {
  return absl::Status(
      static_cast<absl::StatusCode>(s.error_code()),
      absl::StrCat("keyd ", call, " of key '", kCheckpointKeyName,
                   "': ", s.error_message()));
}

absl::StatusOr<std::string> RawEd25519(const std::string& der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  pki::EvpPkeyPtr key(d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size())));
  size_t len = 32;
  std::string raw(32, '\0');
  if (key == nullptr || EVP_PKEY_is_a(key.get(), "ED25519") != 1 ||
      EVP_PKEY_get_raw_public_key(
          key.get(), reinterpret_cast<unsigned char*>(raw.data()), &len) != 1 ||
      len != 32) {
    pki::OpenSslErrors();
    return absl::FailedPreconditionError(absl::StrCat(
        "keyd key '", kCheckpointKeyName, "' is not an Ed25519 key"));
  }
  return raw;
}

}  // namespace

KeydCheckpointSigner::KeydCheckpointSigner(std::shared_ptr<grpc::Channel> keyd)
    : keyd_(std::move(keyd)) {}

absl::StatusOr<CheckpointSignature> KeydCheckpointSigner::Sign(
    absl::string_view body) {
  auto stub = v1::Keys::NewStub(keyd_);
  v1::SignRequest req;
  req.set_name(kCheckpointKeyName);
  req.set_algorithm(v1::SIGNATURE_ALGORITHM_ED25519);
  req.set_message(std::string(body));
  v1::SignResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + kTimeout);
  grpc::Status s = stub->Sign(&ctx, req, &resp);
  if (!s.ok()) return FromKeyd(s, "Sign");
  CheckpointSignature out;
  out.signature = resp.signature();
  out.key_version = resp.version();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (cached_version_ == resp.version() && !cached_key_.empty()) {
      out.public_key = cached_key_;
      return out;
    }
  }
  v1::GetPublicKeyRequest preq;
  preq.set_name(kCheckpointKeyName);
  preq.set_version(resp.version());
  v1::PublicKey pub;
  grpc::ClientContext pctx;
  pctx.set_deadline(std::chrono::system_clock::now() + kTimeout);
  s = stub->GetPublicKey(&pctx, preq, &pub);
  if (!s.ok()) return FromKeyd(s, "GetPublicKey");
  absl::StatusOr<std::string> raw = RawEd25519(pub.der());
  if (!raw.ok()) return raw.status();
  std::lock_guard<std::mutex> lock(mu_);
  cached_version_ = resp.version();
  cached_key_ = *raw;
  out.public_key = *std::move(raw);
  return out;
}

}  // namespace rustiq::eventd
