// KeydSigner against an in-process fake of keyd's Keys service: what it asks
// keyd, what it does with the answers, and that a remote key over it signs.
#include <grpcpp/grpcpp.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/keyclient/keyd_signer.h"
#include "common/keyclient/remote_key.h"
#include "common/pki/openssl_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rustiq/v1/keys.grpc.pb.h"
#include "tests/support/public_key_der.h"

namespace rustiq::keyclient {
namespace {

using ::rustiq::testing::PublicKeyDer;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kKeyName[] = "cloudd-identity";

// Holds one P-256 key at `version`; records the requests it gets.
class FakeKeys final : public v1::Keys::Service {
 public:
  FakeKeys() {
    absl::StatusOr<pki::EvpPkeyPtr> key = pki::GenerateP256Key();
    EXPECT_TRUE(key.ok());
    key_ = *std::move(key);
  }

  grpc::Status GetPublicKey(grpc::ServerContext*,
                            const v1::GetPublicKeyRequest* request,
                            v1::PublicKey* response) override {
    std::lock_guard<std::mutex> lock(mu_);
    public_key_requests_.push_back(*request);
    if (request->name() != kKeyName) {
      return grpc::Status(grpc::StatusCode::NOT_FOUND, "no such key");
    }
    response->set_name(request->name());
    response->set_version(version_);
    response->set_algorithm(algorithm_);
    response->set_der(PublicKeyDer(key_.get()));
    response->set_current(true);
    return grpc::Status::OK;
  }

  grpc::Status Sign(grpc::ServerContext*, const v1::SignRequest* request,
                    v1::SignResponse* response) override {
    std::lock_guard<std::mutex> lock(mu_);
    sign_requests_.push_back(*request);
    if (!sign_status_.ok()) return sign_status_;
    pki::EvpPkeyCtxPtr ctx(
        EVP_PKEY_CTX_new_from_pkey(nullptr, key_.get(), nullptr));
    std::string sig(80, '\0');
    size_t len = sig.size();
    const std::string& digest = request->digest();
    if (EVP_PKEY_sign_init(ctx.get()) != 1 ||
        EVP_PKEY_sign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()),
                      &len,
                      reinterpret_cast<const unsigned char*>(digest.data()),
                      digest.size()) != 1) {
      return grpc::Status(grpc::StatusCode::INTERNAL, "sign failed");
    }
    sig.resize(len);
    response->set_signature(sig);
    response->set_version(sign_version_);
    return grpc::Status::OK;
  }

  EVP_PKEY* key() const { return key_.get(); }
  void set_algorithm(v1::KeyAlgorithm a) { algorithm_ = a; }
  void set_sign_status(grpc::Status s) { sign_status_ = std::move(s); }
  void set_sign_version(uint32_t v) { sign_version_ = v; }
  std::vector<v1::GetPublicKeyRequest> public_key_requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return public_key_requests_;
  }
  std::vector<v1::SignRequest> sign_requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return sign_requests_;
  }

 private:
  pki::EvpPkeyPtr key_;
  const uint32_t version_ = 3;
  v1::KeyAlgorithm algorithm_ = v1::KEY_ALGORITHM_EC_P256;
  grpc::Status sign_status_;
  uint32_t sign_version_ = 3;
  std::mutex mu_;
  std::vector<v1::GetPublicKeyRequest> public_key_requests_;
  std::vector<v1::SignRequest> sign_requests_;
};

class KeydSignerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    builder.RegisterService(&keys_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    channel_ = server_->InProcessChannel(grpc::ChannelArguments());
  }
  void TearDown() override { server_->Shutdown(); }

  std::shared_ptr<KeydSigner> MakeSigner() {
    absl::StatusOr<std::shared_ptr<KeydSigner>> signer =
        KeydSigner::Create(channel_, kKeyName);
    EXPECT_TRUE(signer.ok()) << signer.status();
    return signer.ok() ? *signer : nullptr;
  }

  FakeKeys keys_;
  std::unique_ptr<grpc::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
};

TEST_F(KeydSignerTest, FetchesTheCurrentPublicKey) {
  std::shared_ptr<KeydSigner> signer = MakeSigner();
  ASSERT_NE(signer, nullptr);
  EXPECT_EQ(signer->public_key_der(), PublicKeyDer(keys_.key()));
  EXPECT_EQ(signer->key_name(), kKeyName);
  EXPECT_EQ(signer->key_version(), 3u);
  std::vector<v1::GetPublicKeyRequest> requests = keys_.public_key_requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].name(), kKeyName);
  EXPECT_EQ(requests[0].version(), 0u);  // current
}

TEST_F(KeydSignerTest, SignsADigestWithEcdsaP256Sha256) {
  std::shared_ptr<KeydSigner> signer = MakeSigner();
  ASSERT_NE(signer, nullptr);
  const std::string digest(32, '\x5a');
  absl::StatusOr<std::string> sig = signer->SignDigest(digest);
  ASSERT_TRUE(sig.ok()) << sig.status();
  std::vector<v1::SignRequest> requests = keys_.sign_requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].name(), kKeyName);
  EXPECT_EQ(requests[0].algorithm(), v1::SIGNATURE_ALGORITHM_ECDSA_P256_SHA256);
  EXPECT_EQ(requests[0].input_case(), v1::SignRequest::kDigest);
  EXPECT_EQ(requests[0].digest(), digest);
  pki::EvpPkeyCtxPtr ctx(
      EVP_PKEY_CTX_new_from_pkey(nullptr, keys_.key(), nullptr));
  ASSERT_EQ(EVP_PKEY_verify_init(ctx.get()), 1);
  EXPECT_EQ(
      EVP_PKEY_verify(
          ctx.get(), reinterpret_cast<const unsigned char*>(sig->data()),
          sig->size(), reinterpret_cast<const unsigned char*>(digest.data()),
          digest.size()),
      1);
}

TEST_F(KeydSignerTest, RemoteKeyOverKeydSigns) {
  std::shared_ptr<KeydSigner> signer = MakeSigner();
  ASSERT_NE(signer, nullptr);
  absl::StatusOr<pki::EvpPkeyPtr> key = MakeRemoteKey(signer);
  ASSERT_TRUE(key.ok()) << key.status();
  const std::string message = "CertificateVerify, more or less";
  using EvpMdCtxPtr =
      std::unique_ptr<EVP_MD_CTX,
                      pki::OpenSslDeleter<EVP_MD_CTX, EVP_MD_CTX_free>>;
  EvpMdCtxPtr sign_ctx(EVP_MD_CTX_new());
  std::string sig(72, '\0');
  size_t len = sig.size();
  ASSERT_EQ(EVP_DigestSignInit_ex(sign_ctx.get(), nullptr, "SHA256", nullptr,
                                  nullptr, key->get(), nullptr),
            1);
  ASSERT_EQ(EVP_DigestSign(
                sign_ctx.get(), reinterpret_cast<unsigned char*>(sig.data()),
                &len, reinterpret_cast<const unsigned char*>(message.data()),
                message.size()),
            1)
      << pki::OpenSslErrors();
  sig.resize(len);
  EvpMdCtxPtr verify_ctx(EVP_MD_CTX_new());
  ASSERT_EQ(EVP_DigestVerifyInit_ex(verify_ctx.get(), nullptr, "SHA256",
                                    nullptr, nullptr, keys_.key(), nullptr),
            1);
  EXPECT_EQ(
      EVP_DigestVerify(
          verify_ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()),
          sig.size(), reinterpret_cast<const unsigned char*>(message.data()),
          message.size()),
      1);
  EXPECT_EQ(keys_.sign_requests().size(), 1u);
}

TEST_F(KeydSignerTest, UnknownKeyKeepsKeydsCodeAndNamesKeydAndTheKey) {
  absl::StatusOr<std::shared_ptr<KeydSigner>> signer =
      KeydSigner::Create(channel_, "no-such-key");
  EXPECT_EQ(signer.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(signer.status().message(),
              HasSubstr("keyd GetPublicKey for key 'no-such-key'"));
}

TEST_F(KeydSignerTest, RefusesAKeyThatIsNotP256) {
  keys_.set_algorithm(v1::KEY_ALGORITHM_ED25519);
  absl::StatusOr<std::shared_ptr<KeydSigner>> signer =
      KeydSigner::Create(channel_, kKeyName);
  EXPECT_EQ(signer.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(signer.status().message(), HasSubstr("KEY_ALGORITHM_ED25519"));
}

TEST_F(KeydSignerTest, SignErrorsKeepKeydsCode) {
  std::shared_ptr<KeydSigner> signer = MakeSigner();
  ASSERT_NE(signer, nullptr);
  keys_.set_sign_status(
      grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "not granted SIGN"));
  absl::StatusOr<std::string> sig = signer->SignDigest(std::string(32, 'a'));
  EXPECT_EQ(sig.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(sig.status().message(),
              HasSubstr("keyd Sign for key 'cloudd-identity': not granted"));
}

TEST_F(KeydSignerTest, SignatureByAnotherVersionMeansRotated) {
  std::shared_ptr<KeydSigner> signer = MakeSigner();
  ASSERT_NE(signer, nullptr);
  keys_.set_sign_version(4);
  absl::StatusOr<std::string> sig = signer->SignDigest(std::string(32, 'a'));
  EXPECT_EQ(sig.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(sig.status().message(), HasSubstr("rotated"));
}

TEST_F(KeydSignerTest, WrongDigestSizeNeverReachesKeyd) {
  std::shared_ptr<KeydSigner> signer = MakeSigner();
  ASSERT_NE(signer, nullptr);
  EXPECT_EQ(signer->SignDigest("short").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(keys_.sign_requests().empty());
}

TEST_F(KeydSignerTest, UnreachableKeydIsUnavailable) {
  std::shared_ptr<grpc::Channel> nowhere = grpc::CreateChannel(
      "unix:/nonexistent/keyd.sock", grpc::InsecureChannelCredentials());
  absl::StatusOr<std::shared_ptr<KeydSigner>> signer =
      KeydSigner::Create(nowhere, kKeyName, absl::Seconds(2));
  EXPECT_EQ(signer.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(signer.status().message(), HasSubstr("keyd GetPublicKey"));
  EXPECT_THAT(signer.status().message(), Not(HasSubstr("BEGIN")));
}

TEST(KeydSignerArgsTest, RefusesMissingArguments) {
  EXPECT_EQ(KeydSigner::Create(nullptr, kKeyName).status().code(),
            absl::StatusCode::kInvalidArgument);
  std::shared_ptr<grpc::Channel> channel = grpc::CreateChannel(
      "unix:/nonexistent/keyd.sock", grpc::InsecureChannelCredentials());
  EXPECT_EQ(KeydSigner::Create(channel, "").status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace rustiq::keyclient
