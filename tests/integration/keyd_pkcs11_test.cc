// rustiq-keyd with the pkcs11 backend on a real SoftHSM2 token, confined as
// it runs for real: the well-known keys, the device CA and sealing keys live
// on the token; the same operations as with the soft backend work.
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "common/identity/spiffe_id.h"
#include "common/pki/csr.h"
#include "common/pki/openssl_util.h"
#include "common/rpc/client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rustiq/v1/keys.grpc.pb.h"
#include "tests/support/softhsm_token.h"
#include "tests/support/test_device.h"

namespace rustiq::testing {
namespace {

using ::testing::HasSubstr;

class KeydPkcs11Test : public ::testing::Test {
 protected:
  void SetUp() override {
    auto token = SoftHsmToken::Create("rustiq");
    ASSERT_TRUE(token.ok()) << token.status();
    token_ = *std::move(token);
    pin_path_ = token_->conf_path() + ".pin";
    {
      std::ofstream pin(pin_path_);
      pin << token_->user_pin() << "\n";
    }
    chmod(pin_path_.c_str(), 0400);
    device_ = std::make_unique<TestDevice>([this](config::StackConfig& c) {
      c.keyd.backend = "pkcs11";
      c.keyd.pkcs11_module = token_->module_path();
      c.keyd.pkcs11_token_label = "rustiq";
      c.keyd.pkcs11_pin_file = pin_path_;
      c.keyd.pkcs11_state_dir = token_->token_dir();
    });
    keyd_ = std::make_unique<ServerProcess>(*device_, "keyd");
    ASSERT_TRUE(keyd_->WaitServing(absl::Seconds(15))) << keyd_->Log();
  }
  void TearDown() override {
    if (keyd_ != nullptr) {
      EXPECT_THAT(keyd_->Log(), ::testing::Not(HasSubstr("sandbox violation")));
    }
    keyd_.reset();
    device_.reset();
    token_.reset();
  }
  std::unique_ptr<v1::Keys::Stub> KeysAs(absl::string_view caller) {
    rpc::ChannelFactory factory(device_->ClientFor(caller));
    return v1::Keys::NewStub(*factory.ForDaemon("keyd"));
  }

  std::unique_ptr<SoftHsmToken> token_;
  std::string pin_path_;
  std::unique_ptr<TestDevice> device_;
  std::unique_ptr<ServerProcess> keyd_;
};

TEST_F(KeydPkcs11Test, SignsWithTheDeviceIdentityOnTheToken) {
  auto cloudd = KeysAs("svc/cloudd");
  grpc::ClientContext pctx;
  v1::GetPublicKeyRequest preq;
  preq.set_name("device-identity");
  v1::PublicKey pub;
  ASSERT_TRUE(cloudd->GetPublicKey(&pctx, preq, &pub).ok());

  std::string digest(SHA256_DIGEST_LENGTH, '\0');
  SHA256(reinterpret_cast<const unsigned char*>("m"), 1,
         reinterpret_cast<unsigned char*>(digest.data()));
  v1::SignRequest req;
  req.set_name("device-identity");
  req.set_algorithm(v1::SIGNATURE_ALGORITHM_ECDSA_P256_SHA256);
  req.set_digest(digest);
  grpc::ClientContext sctx;
  v1::SignResponse sig;
  grpc::Status s = cloudd->Sign(&sctx, req, &sig);
  ASSERT_TRUE(s.ok()) << s.error_message() << keyd_->Log();

  const auto* p = reinterpret_cast<const unsigned char*>(pub.der().data());
  pki::EvpPkeyPtr key(
      d2i_PUBKEY(nullptr, &p, static_cast<long>(pub.der().size())));
  ASSERT_NE(key, nullptr);
  pki::EvpPkeyCtxPtr ctx(
      EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
  ASSERT_EQ(EVP_PKEY_verify_init(ctx.get()), 1);
  EXPECT_EQ(
      EVP_PKEY_verify(
          ctx.get(),
          reinterpret_cast<const unsigned char*>(sig.signature().data()),
          sig.signature().size(),
          reinterpret_cast<const unsigned char*>(digest.data()), digest.size()),
      1);

  v1::KeyInfo info;
  grpc::ClientContext gctx;
  v1::GetKeyRequest get;
  get.set_name("device-identity");
  ASSERT_TRUE(cloudd->GetKey(&gctx, get, &info).ok());
  EXPECT_EQ(info.backend(), "pkcs11");
}

TEST_F(KeydPkcs11Test, SealsOnTheTokenAndRotatesKeepingOldBlobsReadable) {
  auto authd = KeysAs("svc/authd");
  v1::CreateKeyRequest create;
  create.set_name("authd-sealing");
  create.set_algorithm(v1::KEY_ALGORITHM_AES_256);
  grpc::ClientContext cctx;
  v1::KeyInfo info;
  ASSERT_TRUE(authd->CreateKey(&cctx, create, &info).ok()) << keyd_->Log();

  v1::SealRequest seal;
  seal.set_name("authd-sealing");
  seal.set_plaintext(std::string(1024, 'x'));
  seal.set_context("ctx");
  grpc::ClientContext sctx;
  v1::SealResponse sealed;
  ASSERT_TRUE(authd->Seal(&sctx, seal, &sealed).ok());

  grpc::ClientContext rctx;
  v1::RotateKeyRequest rotate;
  rotate.set_name("authd-sealing");
  ASSERT_TRUE(authd->RotateKey(&rctx, rotate, &info).ok());
  EXPECT_EQ(info.versions_size(), 2);

  v1::UnsealRequest unseal;
  unseal.set_name("authd-sealing");
  unseal.set_blob(sealed.blob());
  unseal.set_context("ctx");
  grpc::ClientContext uctx;
  v1::UnsealResponse plain;
  grpc::Status s = authd->Unseal(&uctx, unseal, &plain);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(plain.plaintext(), std::string(1024, 'x'));
}

TEST_F(KeydPkcs11Test, TheDeviceCaOnTheTokenIssuesRenewals) {
  rpc::ChannelFactory factory(device_->ClientFor("svc/cloudd"));
  auto certs = v1::Certificates::NewStub(*factory.ForDaemon("keyd"));
  auto key = pki::GenerateP256Key();
  ASSERT_TRUE(key.ok());
  v1::IssueCertificateRequest req;
  req.set_csr_pem(*pki::MakeCsr(
      key->get(), *identity::SpiffeId::ForService("test-device", "cloudd")));
  grpc::ClientContext ctx;
  v1::IssueCertificateResponse resp;
  grpc::Status s = certs->IssueCertificate(&ctx, req, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  auto cert = pki::CertificateFromPem(resp.certificate_pem());
  auto ca = pki::CertificateFromPem(resp.trust_bundle_pem());
  ASSERT_TRUE(cert.ok() && ca.ok());
  pki::EvpPkeyPtr ca_key(X509_get_pubkey(ca->get()));
  EXPECT_EQ(X509_verify(cert->get(), ca_key.get()), 1);
}

}  // namespace
}  // namespace rustiq::testing
