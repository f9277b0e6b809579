// rustiq.v1.Keys over gRPC: caller identity from the mTLS peer, then
// KeyManager. The declarations in keys.proto have been enforced before any
// method here runs.
#ifndef RUSTIQ_SERVICES_KEYD_KEYS_SERVICE_H_
#define RUSTIQ_SERVICES_KEYD_KEYS_SERVICE_H_

#include <string>

#include "common/rpc/token_verifier.h"
#include "rustiq/v1/keys.grpc.pb.h"
#include "services/keyd/key_manager.h"

namespace rustiq::keyd {

class KeysService final : public v1::Keys::Service {
 public:
  // `manager` and `tokens` are not owned. `master_key_path` is removed by
  // Zeroize. `tokens` (may be null) names the person of a call in events.
  KeysService(KeyManager* manager, std::string master_key_path,
              rpc::TokenVerifier* tokens = nullptr)
      : manager_(manager),
        master_key_path_(std::move(master_key_path)),
        tokens_(tokens) {}

  grpc::Status CreateKey(grpc::ServerContext* ctx,
                         const v1::CreateKeyRequest* req,
                         v1::KeyInfo* out) override;
  grpc::Status ImportPublicKey(grpc::ServerContext* ctx,
                               const v1::ImportPublicKeyRequest* req,
                               v1::KeyInfo* out) override;
  grpc::Status GetKey(grpc::ServerContext* ctx, const v1::GetKeyRequest* req,
                      v1::KeyInfo* out) override;
  grpc::Status ListKeys(grpc::ServerContext* ctx,
                        const v1::ListKeysRequest* req,
                        v1::ListKeysResponse* out) override;
  grpc::Status DeleteKey(grpc::ServerContext* ctx,
                         const v1::DeleteKeyRequest* req,
                         v1::DeleteKeyResponse* out) override;
  grpc::Status RotateKey(grpc::ServerContext* ctx,
                         const v1::RotateKeyRequest* req,
                         v1::KeyInfo* out) override;
  grpc::Status RetireKeyVersion(grpc::ServerContext* ctx,
                                const v1::RetireKeyVersionRequest* req,
                                v1::KeyInfo* out) override;
  grpc::Status GetPublicKey(grpc::ServerContext* ctx,
                            const v1::GetPublicKeyRequest* req,
                            v1::PublicKey* out) override;
  grpc::Status Sign(grpc::ServerContext* ctx, const v1::SignRequest* req,
                    v1::SignResponse* out) override;
  grpc::Status Verify(grpc::ServerContext* ctx, const v1::VerifyRequest* req,
                      v1::VerifyResponse* out) override;
  grpc::Status Decrypt(grpc::ServerContext* ctx, const v1::DecryptRequest* req,
                       v1::DecryptResponse* out) override;
  grpc::Status Seal(grpc::ServerContext* ctx, const v1::SealRequest* req,
                    v1::SealResponse* out) override;
  grpc::Status Unseal(grpc::ServerContext* ctx, const v1::UnsealRequest* req,
                      v1::UnsealResponse* out) override;
  grpc::Status RandomBytes(grpc::ServerContext* ctx,
                           const v1::RandomBytesRequest* req,
                           v1::RandomBytesResponse* out) override;
  grpc::Status Zeroize(grpc::ServerContext* ctx, const v1::ZeroizeRequest* req,
                       v1::ZeroizeResponse* out) override;

 private:
  // The caller of a call; `person` when it is a client and the method
  // declares a permission (which the enforcement point has then checked),
  // with the person's name from the token.
  Caller CallerFor(const grpc::ServerContext& ctx,
                   bool method_has_permission) const;

  KeyManager* manager_;
  const std::string master_key_path_;
  rpc::TokenVerifier* tokens_;
};

}  // namespace rustiq::keyd

#endif  // RUSTIQ_SERVICES_KEYD_KEYS_SERVICE_H_
