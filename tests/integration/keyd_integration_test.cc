// rustiq-keyd as a real, confined process on a provisioned test device,
// called over real mTLS by the identities of the stack's daemons.
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/identity/spiffe_id.h"
#include "common/pki/csr.h"
#include "common/pki/identity_files.h"
#include "common/pki/openssl_util.h"
#include "common/rpc/client.h"
#include "common/rpc/identity_renewer.h"
#include "common/rpc/keyd_certificate_source.h"
#include "common/sandbox/posture.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rustiq/v1/keys.grpc.pb.h"
#include "tests/support/test_device.h"

namespace rustiq::testing {
namespace {

using ::testing::HasSubstr;

std::string Sha256(absl::string_view data) {
  std::string d(SHA256_DIGEST_LENGTH, '\0');
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(),
         reinterpret_cast<unsigned char*>(d.data()));
  return d;
}

bool VerifyEcdsa(const std::string& spki_der, const std::string& digest,
                 const std::string& sig) {
  const auto* p = reinterpret_cast<const unsigned char*>(spki_der.data());
  pki::EvpPkeyPtr key(
      d2i_PUBKEY(nullptr, &p, static_cast<long>(spki_der.size())));
  if (key == nullptr) return false;
  pki::EvpPkeyCtxPtr ctx(
      EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
  return EVP_PKEY_verify_init(ctx.get()) == 1 &&
         EVP_PKEY_verify(
             ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()),
             sig.size(), reinterpret_cast<const unsigned char*>(digest.data()),
             digest.size()) == 1;
}

class KeydTest : public ::testing::Test {
 protected:
  void SetUp() override {
    keyd_ = std::make_unique<ServerProcess>(device_, "keyd");
    ASSERT_TRUE(keyd_->WaitServing(absl::Seconds(15))) << keyd_->Log();
  }

  std::unique_ptr<v1::Keys::Stub> KeysAs(absl::string_view caller) {
    rpc::ChannelFactory factory(device_.ClientFor(caller));
    auto channel = factory.ForDaemon("keyd");
    EXPECT_TRUE(channel.ok()) << channel.status();
    return v1::Keys::NewStub(*channel);
  }
  std::unique_ptr<v1::Certificates::Stub> CertsAs(absl::string_view caller) {
    rpc::ChannelFactory factory(device_.ClientFor(caller));
    auto channel = factory.ForDaemon("keyd");
    EXPECT_TRUE(channel.ok()) << channel.status();
    return v1::Certificates::NewStub(*channel);
  }

  TestDevice device_;
  std::unique_ptr<ServerProcess> keyd_;
};

TEST_F(KeydTest,
       CloudSignsWithTheDeviceIdentityAndOthersAreRefusedAndRecorded) {
  auto cloudd = KeysAs("svc/cloudd");
  grpc::ClientContext pctx;
  v1::GetPublicKeyRequest preq;
  preq.set_name("device-identity");
  v1::PublicKey pub;
  ASSERT_TRUE(cloudd->GetPublicKey(&pctx, preq, &pub).ok());
  EXPECT_THAT(pub.pem(), HasSubstr("BEGIN PUBLIC KEY"));

  std::string digest = Sha256("hello from cloudd");
  v1::SignRequest req;
  req.set_name("device-identity");
  req.set_algorithm(v1::SIGNATURE_ALGORITHM_ECDSA_P256_SHA256);
  req.set_digest(digest);
  grpc::ClientContext sctx;
  v1::SignResponse sig;
  grpc::Status s = cloudd->Sign(&sctx, req, &sig);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_TRUE(VerifyEcdsa(pub.der(), digest, sig.signature()));

  auto authd = KeysAs("svc/authd");
  grpc::ClientContext dctx;
  s = authd->Sign(&dctx, req, &sig);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(s.error_message(), HasSubstr("svc/authd may not sign"));
  EXPECT_THAT(keyd_->Log(), HasSubstr("action=key.use.denied"));
  // No key material in keyd's log, ever: not the PEM markers of a private key.
  EXPECT_THAT(keyd_->Log(), ::testing::Not(HasSubstr("PRIVATE KEY")));
}

TEST_F(KeydTest, SealedBlobsAreBoundToTheSealerAndTheContext) {
  auto authd = KeysAs("svc/authd");
  v1::CreateKeyRequest create;
  create.set_name("authd-sealing");
  create.set_algorithm(v1::KEY_ALGORITHM_AES_256);
  v1::KeyGrant* grant = create.mutable_policy()->add_grants();
  grant->set_caller("svc/*");  // any daemon may seal and unseal...
  grant->add_operations(v1::KEY_OPERATION_SEAL);
  grant->add_operations(v1::KEY_OPERATION_UNSEAL);
  grpc::ClientContext cctx;
  v1::KeyInfo info;
  grpc::Status s = authd->CreateKey(&cctx, create, &info);
  ASSERT_TRUE(s.ok()) << s.error_message();

  v1::SealRequest seal;
  seal.set_name("authd-sealing");
  seal.set_plaintext("the users database key");
  seal.set_context("users.db");
  grpc::ClientContext sctx;
  v1::SealResponse sealed;
  ASSERT_TRUE(authd->Seal(&sctx, seal, &sealed).ok());

  v1::UnsealRequest unseal;
  unseal.set_name("authd-sealing");
  unseal.set_blob(sealed.blob());
  unseal.set_context("users.db");
  grpc::ClientContext uctx;
  v1::UnsealResponse plain;
  ASSERT_TRUE(authd->Unseal(&uctx, unseal, &plain).ok());
  EXPECT_EQ(plain.plaintext(), "the users database key");

  // ...but a blob sealed by authd opens for authd alone.
  auto cloudd = KeysAs("svc/cloudd");
  grpc::ClientContext xctx;
  s = cloudd->Unseal(&xctx, unseal, &plain);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("does not open"));

  unseal.set_context("other.db");
  grpc::ClientContext wctx;
  s = authd->Unseal(&wctx, unseal, &plain);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(KeydTest, PeopleNeedATokenToManageKeys) {
  auto cli = KeysAs("client/rustiqctl");
  grpc::ClientContext ctx;
  v1::ListKeysResponse keys;
  grpc::Status s = cli->ListKeys(&ctx, {}, &keys);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(s.error_message(), HasSubstr("keys.read"));
  // A local application is not even allowed to ask.
  auto alice = KeysAs("client/alice");
  grpc::ClientContext actx;
  s = alice->ListKeys(&actx, {}, &keys);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(KeydTest, RenewsOnlyTheCallersOwnIdentity) {
  auto certs = CertsAs("svc/cloudd");
  auto key = pki::GenerateP256Key();
  ASSERT_TRUE(key.ok());
  auto own = identity::SpiffeId::ForService("test-device", "cloudd");
  auto other = identity::SpiffeId::ForService("test-device", "keyd");
  ASSERT_TRUE(own.ok() && other.ok());

  v1::IssueCertificateRequest req;
  req.set_csr_pem(*pki::MakeCsr(key->get(), *own));
  req.set_lifetime_seconds(3600);
  grpc::ClientContext ctx;
  v1::IssueCertificateResponse resp;
  grpc::Status s = certs->IssueCertificate(&ctx, req, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  auto cert = pki::CertificateFromPem(resp.certificate_pem());
  ASSERT_TRUE(cert.ok());
  EXPECT_THAT(pki::UriSans(cert->get()),
              ::testing::ElementsAre("spiffe://test-device/svc/cloudd"));
  EXPECT_EQ(X509_check_private_key(cert->get(), key->get()), 1);
  EXPECT_THAT(resp.trust_bundle_pem(), HasSubstr("BEGIN CERTIFICATE"));

  req.set_csr_pem(*pki::MakeCsr(key->get(), *other));
  grpc::ClientContext octx;
  s = certs->IssueCertificate(&octx, req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(s.error_message(), HasSubstr("own ID"));

  req.set_csr_pem(*pki::MakeCsr(key->get(), *own));
  req.set_lifetime_seconds(3600 * 24 * 365);
  grpc::ClientContext lctx;
  s = certs->IssueCertificate(&lctx, req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("exceeds the maximum"));

  req.set_csr_pem("-----BEGIN CERTIFICATE REQUEST-----\nnot base64\n");
  grpc::ClientContext mctx;
  s = certs->IssueCertificate(&mctx, req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(KeydTest, ZeroizeDestroysEverythingAndIsRecordedFirst) {
  auto supervisor = KeysAs("svc/supervisord");
  v1::ZeroizeRequest req;
  req.set_confirm("destroy all keys");
  req.set_reason("enclosure opened");
  grpc::ClientContext ctx;
  v1::ZeroizeResponse resp;
  grpc::Status s = supervisor->Zeroize(&ctx, req, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_GE(resp.keys_destroyed(), 4u);
  EXPECT_THAT(keyd_->Log(), HasSubstr("action=keys.zeroize"));
  std::string keyd_dir = device_.config().paths.state_dir + "/keyd";
  EXPECT_FALSE(std::filesystem::exists(keyd_dir + "/keys.store"));
  EXPECT_FALSE(std::filesystem::exists(keyd_dir + "/master.key"));

  auto cloudd = KeysAs("svc/cloudd");
  v1::SignRequest sign;
  sign.set_name("device-identity");
  sign.set_algorithm(v1::SIGNATURE_ALGORITHM_ECDSA_P256_SHA256);
  sign.set_digest(Sha256("x"));
  grpc::ClientContext sctx;
  v1::SignResponse sig;
  s = cloudd->Sign(&sctx, sign, &sig);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("zeroized"));

  // Another daemon may not zeroize.
  grpc::ClientContext cctx;
  s = cloudd->Zeroize(&cctx, req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(KeydTest, RunsConfinedAsTheKernelReportsIt) {
  std::ifstream status(absl::StrCat("/proc/", keyd_->pid(), "/status"));
  std::stringstream text;
  text << status.rdbuf();
  EXPECT_THAT(text.str(), HasSubstr("NoNewPrivs:\t1"));
  EXPECT_THAT(text.str(), HasSubstr("Seccomp:\t2"));
  EXPECT_THAT(text.str(), HasSubstr("CapEff:\t0000000000000000"));
  EXPECT_THAT(keyd_->Log(), HasSubstr("landlock=applied"));
  // No core file with key material, as the kernel reports it from outside.
  // (Dumpable itself cannot be told from outside when keyd runs as root, as
  // here: its /proc entries are root's either way; confinement_test checks
  // it for a non-root daemon.)
  absl::StatusOr<sandbox::Posture> posture = sandbox::ReadPosture(keyd_->pid());
  ASSERT_TRUE(posture.ok()) << posture.status();
  ASSERT_TRUE(posture->core_limit.has_value());
  EXPECT_EQ(*posture->core_limit, 0u);
  if (posture->dumpable.has_value()) {
    EXPECT_FALSE(*posture->dumpable);
  }
}

// keyd's own threads (the ECDSA nonce precomputation among them) start only
// after confinement: every thread the kernel lists is filtered and has no
// capabilities, after signatures that used precomputed nonces.
TEST_F(KeydTest, EveryThreadIsConfinedAfterPresignedSignatures) {
  auto cloudd = KeysAs("svc/cloudd");
  grpc::ClientContext pctx;
  v1::GetPublicKeyRequest preq;
  preq.set_name("device-identity");
  v1::PublicKey pub;
  ASSERT_TRUE(cloudd->GetPublicKey(&pctx, preq, &pub).ok());
  std::set<std::string> signatures;
  for (int i = 0; i < 200; ++i) {
    std::string digest = Sha256("the same message every time");
    v1::SignRequest req;
    req.set_name("device-identity");
    req.set_algorithm(v1::SIGNATURE_ALGORITHM_ECDSA_P256_SHA256);
    req.set_digest(digest);
    grpc::ClientContext sctx;
    v1::SignResponse sig;
    grpc::Status s = cloudd->Sign(&sctx, req, &sig);
    ASSERT_TRUE(s.ok()) << s.error_message();
    ASSERT_TRUE(VerifyEcdsa(pub.der(), digest, sig.signature())) << i;
    signatures.insert(sig.signature());
  }
  // The same digest signed 200 times: a reused nonce would repeat a
  // signature (and reveal the key).
  EXPECT_EQ(signatures.size(), 200u);
  int threads = 0;
  bool presigner = false;  // the thread that precomputes the nonces
  for (const auto& task : std::filesystem::directory_iterator(
           absl::StrCat("/proc/", keyd_->pid(), "/task"))) {
    std::ifstream status(task.path() / "status");
    std::stringstream text;
    text << status.rdbuf();
    if (text.str().empty()) continue;  // the thread ended meanwhile
    ++threads;
    presigner =
        presigner || absl::StrContains(text.str(), "Name:\tkeyd-presign");
    EXPECT_THAT(text.str(), HasSubstr("Seccomp:\t2")) << task.path();
    EXPECT_THAT(text.str(), HasSubstr("NoNewPrivs:\t1")) << task.path();
    EXPECT_THAT(text.str(), HasSubstr("CapEff:\t0000000000000000"))
        << task.path();
  }
  EXPECT_GT(threads, 1);
  EXPECT_TRUE(presigner) << "no keyd-presign thread: nothing checked it";
}

TEST_F(KeydTest, ADaemonRenewsItsIdentityThroughKeydAndKeepsWorking) {
  rpc::ChannelFactory factory(device_.ClientFor("svc/cloudd"));
  auto channel = factory.ForDaemon("keyd");
  ASSERT_TRUE(channel.ok());
  rpc::KeydCertificateSource source(*channel);
  pki::IdentityPaths paths =
      pki::ForService(device_.config().paths.state_dir, "cloudd");
  rpc::IdentityRenewer renewer(
      paths, *identity::SpiffeId::ForService("test-device", "cloudd"), &source);
  auto before = pki::ReadSmallFile(paths.cert_path, 1 << 16);
  absl::StatusOr<bool> renewed = renewer.RenewIfDue(absl::Now(), true);
  ASSERT_TRUE(renewed.ok()) << renewed.status();
  auto after = pki::ReadSmallFile(paths.cert_path, 1 << 16);
  EXPECT_NE(*before, *after);
  // A fresh connection presents the renewed identity and is accepted.
  rpc::ClientOptions fresh = device_.ClientFor("svc/cloudd");
  fresh.private_connection = true;
  auto stub = v1::Keys::NewStub(*rpc::ChannelFactory(fresh).ForDaemon("keyd"));
  grpc::ClientContext ctx;
  v1::GetPublicKeyRequest req;
  req.set_name("device-identity");
  v1::PublicKey pub;
  grpc::Status s = stub->GetPublicKey(&ctx, req, &pub);
  EXPECT_TRUE(s.ok()) << s.error_message();
}

TEST(KeydRenewal, KeydRenewsItsOwnIdentityWhileConfined) {
  TestDevice device([](config::StackConfig& c) {
    c.rpc.identity_renewal_percent = 1;  // due at once
  });
  pki::IdentityPaths paths =
      pki::ForService(device.config().paths.state_dir, "keyd");
  auto before = pki::ReadSmallFile(paths.cert_path, 1 << 16);
  ASSERT_TRUE(before.ok());
  ServerProcess keyd(device, "keyd");
  ASSERT_TRUE(keyd.WaitServing(absl::Seconds(15))) << keyd.Log();
  bool changed = false;
  for (int i = 0; i < 100 && !changed; ++i) {
    auto now = pki::ReadSmallFile(paths.cert_path, 1 << 16);
    changed = now.ok() && *now != *before;
    if (!changed) absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_TRUE(changed) << keyd.Log();
  EXPECT_THAT(keyd.Log(), HasSubstr("identity renewed"));
  // Still alive (no sandbox violation) and serving with the new identity.
  rpc::ClientOptions fresh = device.ClientFor("client/rustiqctl");
  fresh.private_connection = true;
  EXPECT_TRUE(keyd.WaitServing(absl::Seconds(5))) << keyd.Log();
  EXPECT_THAT(keyd.Log(), ::testing::Not(HasSubstr("sandbox violation")));
}

TEST(KeydStore, ATamperedStoreStopsKeydWithAClearErrorAndNothingLoaded) {
  TestDevice device;
  std::string store = device.config().paths.state_dir + "/keyd/keys.store";
  std::string bytes;
  {
    std::ifstream in(store, std::ios::binary);
    std::stringstream b;
    b << in.rdbuf();
    bytes = b.str();
  }
  ASSERT_GT(bytes.size(), 100u);
  bytes[bytes.size() / 2] ^= 0x01;
  {
    std::ofstream out(store, std::ios::binary | std::ios::trunc);
    out << bytes;
  }
  ServerProcess keyd(device, "keyd");
  int status = keyd.WaitExit(absl::Seconds(10));
  ASSERT_TRUE(WIFEXITED(status)) << keyd.Log();
  EXPECT_EQ(WEXITSTATUS(status), 1);
  EXPECT_THAT(keyd.Log(), HasSubstr("fails authentication"));
  EXPECT_THAT(keyd.Log(), HasSubstr("nothing in it was loaded"));
}

}  // namespace
}  // namespace rustiq::testing
