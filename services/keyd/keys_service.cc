#include "services/keyd/keys_service.h"

#include "absl/strings/match.h"
#include "common/rpc/peer.h"
#include "common/rpc/status.h"

namespace rustiq::keyd {
namespace {

template <typename T>
grpc::Status Answer(absl::StatusOr<T> result, T* out) {
  if (!result.ok()) return rpc::ToGrpcStatus(result.status());
  *out = *std::move(result);
  return grpc::Status::OK;
}

}  // namespace

Caller KeysService::CallerFor(const grpc::ServerContext& ctx,
                              bool method_has_permission) const {
  Caller caller;
  caller.path = rpc::CallerOf(ctx);
  caller.person =
      method_has_permission && absl::StartsWith(caller.path, "client/");
  if (caller.person && tokens_ != nullptr) {
    absl::StatusOr<rpc::TokenClaims> person = rpc::PersonOf(ctx, tokens_);
    if (person.ok()) caller.person_actor = person->Actor();
  }
  return caller;
}

grpc::Status KeysService::CreateKey(grpc::ServerContext* ctx,
                                    const v1::CreateKeyRequest* req,
                                    v1::KeyInfo* out) {
  return Answer(manager_->CreateKey(CallerFor(*ctx, true), *req), out);
}

grpc::Status KeysService::ImportPublicKey(grpc::ServerContext* ctx,
                                          const v1::ImportPublicKeyRequest* req,
                                          v1::KeyInfo* out) {
  return Answer(manager_->ImportPublicKey(CallerFor(*ctx, true), *req), out);
}

grpc::Status KeysService::GetKey(grpc::ServerContext* ctx,
                                 const v1::GetKeyRequest* req,
                                 v1::KeyInfo* out) {
  return Answer(manager_->GetKey(CallerFor(*ctx, false), req->name()), out);
}

grpc::Status KeysService::ListKeys(grpc::ServerContext* ctx,
                                   const v1::ListKeysRequest* /*req*/,
                                   v1::ListKeysResponse* out) {
  return Answer(manager_->ListKeys(CallerFor(*ctx, true)), out);
}

grpc::Status KeysService::DeleteKey(grpc::ServerContext* ctx,
                                    const v1::DeleteKeyRequest* req,
                                    v1::DeleteKeyResponse* /*out*/) {
  return rpc::ToGrpcStatus(
      manager_->DeleteKey(CallerFor(*ctx, true), req->name()));
}

grpc::Status KeysService::RotateKey(grpc::ServerContext* ctx,
                                    const v1::RotateKeyRequest* req,
                                    v1::KeyInfo* out) {
  return Answer(manager_->RotateKey(CallerFor(*ctx, true), req->name()), out);
}

grpc::Status KeysService::RetireKeyVersion(
    grpc::ServerContext* ctx, const v1::RetireKeyVersionRequest* req,
    v1::KeyInfo* out) {
  return Answer(manager_->RetireKeyVersion(CallerFor(*ctx, true), req->name(),
                                           req->version()),
                out);
}

grpc::Status KeysService::GetPublicKey(grpc::ServerContext* ctx,
                                       const v1::GetPublicKeyRequest* req,
                                       v1::PublicKey* out) {
  return Answer(manager_->GetPublicKey(CallerFor(*ctx, false), *req), out);
}

grpc::Status KeysService::Sign(grpc::ServerContext* ctx,
                               const v1::SignRequest* req,
                               v1::SignResponse* out) {
  return Answer(manager_->Sign(CallerFor(*ctx, false), *req), out);
}

grpc::Status KeysService::Verify(grpc::ServerContext* ctx,
                                 const v1::VerifyRequest* req,
                                 v1::VerifyResponse* out) {
  return Answer(manager_->Verify(CallerFor(*ctx, false), *req), out);
}

grpc::Status KeysService::Decrypt(grpc::ServerContext* ctx,
                                  const v1::DecryptRequest* req,
                                  v1::DecryptResponse* out) {
  absl::StatusOr<SecretBytes> plain =
      manager_->Decrypt(CallerFor(*ctx, false), *req);
  if (!plain.ok()) return rpc::ToGrpcStatus(plain.status());
  // The plaintext belongs to the caller from here on.
  out->set_plaintext(plain->ToString());
  return grpc::Status::OK;
}

grpc::Status KeysService::Seal(grpc::ServerContext* ctx,
                               const v1::SealRequest* req,
                               v1::SealResponse* out) {
  return Answer(manager_->Seal(CallerFor(*ctx, false), *req), out);
}

grpc::Status KeysService::Unseal(grpc::ServerContext* ctx,
                                 const v1::UnsealRequest* req,
                                 v1::UnsealResponse* out) {
  absl::StatusOr<SecretBytes> plain =
      manager_->Unseal(CallerFor(*ctx, false), *req);
  if (!plain.ok()) return rpc::ToGrpcStatus(plain.status());
  out->set_plaintext(plain->ToString());
  return grpc::Status::OK;
}

grpc::Status KeysService::RandomBytes(grpc::ServerContext* /*ctx*/,
                                      const v1::RandomBytesRequest* req,
                                      v1::RandomBytesResponse* out) {
  absl::StatusOr<std::string> data = manager_->RandomBytes(req->length());
  if (!data.ok()) return rpc::ToGrpcStatus(data.status());
  out->set_data(*std::move(data));
  return grpc::Status::OK;
}

grpc::Status KeysService::Zeroize(grpc::ServerContext* ctx,
                                  const v1::ZeroizeRequest* req,
                                  v1::ZeroizeResponse* out) {
  absl::StatusOr<uint32_t> n =
      manager_->Zeroize(CallerFor(*ctx, true), *req, master_key_path_);
  if (!n.ok()) return rpc::ToGrpcStatus(n.status());
  out->set_keys_destroyed(*n);
  return grpc::Status::OK;
}

}  // namespace rustiq::keyd
