// The success paths of 'rustiqctl keys' for a person holding keys.manage or
// keys.read. Tokens come with authd (issue 6); until then the keyd services
// run in this test process on a real socket with real mTLS, behind the real
// enforcement point, with a test token verifier standing in for authd's. The
// CLI is the real binary, reading its token from the file 'rustiqctl login'
// will write.
#include <openssl/pem.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/audit/security_event.h"
#include "common/pki/openssl_util.h"
#include "common/rpc/server.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/keyd/certificates_service.h"
#include "services/keyd/keyd_setup.h"
#include "services/keyd/keys_service.h"
#include "tests/support/cli_runner.h"
#include "tests/support/test_device.h"

namespace rustiq::testing {
namespace {

using ::testing::HasSubstr;

// Stands in for authd's verifier: "admin" holds every permission, "reader"
// only keys.read, anything else is not a valid token.
class TestTokens : public rpc::TokenVerifier {
 public:
  absl::StatusOr<rpc::TokenClaims> Verify(absl::string_view token) override {
    rpc::TokenClaims claims;
    claims.subject = std::string(token);
    if (token == "admin") {
      claims.permissions = {"keys.read", "keys.manage", "keys.zeroize"};
    } else if (token == "reader") {
      claims.permissions = {"keys.read"};
    } else {
      return absl::UnauthenticatedError("the token is not valid");
    }
    return claims;
  }
};

class CliKeysAdminTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<keyd::Keyd> keyd =
        keyd::OpenKeyd(device_.config(), &sink_, /*provision=*/false);
    ASSERT_TRUE(keyd.ok()) << keyd.status();
    keyd_ = std::make_unique<keyd::Keyd>(*std::move(keyd));
    keys_ = std::make_unique<keyd::KeysService>(keyd_->keys.get(),
                                                keyd_->paths.master_key);
    certs_ =
        std::make_unique<keyd::CertificatesService>(keyd_->ca.get(), &sink_);
    auto server = rpc::RpcServer::Start(
        rpc::ServerOptionsFromConfig(device_.config(), "keyd"),
        {rpc::Serve<v1::Keys>(keys_.get()),
         rpc::Serve<v1::Certificates>(certs_.get())},
        &sink_, &tokens_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    runtime_ = device_.root() + "/xdg";
    std::filesystem::create_directories(runtime_ + "/rustiq");
    chmod(runtime_.c_str(), 0700);
  }
  void TearDown() override {
    if (server_ != nullptr) server_->Shutdown(absl::Seconds(1));
  }

  void LogIn(const std::string& token, mode_t mode = 0600) {
    std::string path = runtime_ + "/rustiq/token";
    unlink(path.c_str());
    std::ofstream(path) << token << "\n";
    chmod(path.c_str(), mode);
  }

  CtlRun Run(const std::string& args) {
    return Ctl(absl::StrCat("--config ", device_.config_path(), " ", args),
               absl::StrCat("XDG_RUNTIME_DIR=", runtime_));
  }

  TestDevice device_;
  audit::LogSecurityEventSink sink_;
  TestTokens tokens_;
  std::unique_ptr<keyd::Keyd> keyd_;
  std::unique_ptr<keyd::KeysService> keys_;
  std::unique_ptr<keyd::CertificatesService> certs_;
  std::unique_ptr<rpc::RpcServer> server_;
  std::string runtime_;
};

TEST_F(CliKeysAdminTest, AnAdminCreatesListsRotatesRetiresAndDeletesAKey) {
  LogIn("admin");
  CtlRun r =
      Run("keys create app-signing --algorithm ed25519 --grant "
          "'client/alice=sign,public-key'");
  ASSERT_EQ(r.exit_code, 0) << r.err;

  r = Run("keys list");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("app-signing"));
  EXPECT_THAT(r.out, HasSubstr("device-ca"));  // a person sees every key

  r = Run("keys rotate app-signing");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = Run("--json keys show app-signing");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("client/alice"));

  r = Run("keys retire app-signing --version 1");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = Run("keys retire app-signing --version 2");  // the current one
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr("rotate first"));

  r = Run("keys delete app-signing --yes");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = Run("keys show app-signing");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("no key named 'app-signing'"));

  r = Run("keys delete device-identity --yes");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("well-known"));
}

TEST_F(CliKeysAdminTest, AReaderListsButCannotManage) {
  LogIn("reader");
  CtlRun r = Run("--json keys list");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("\"event-checkpoint\""));
  r = Run("keys create x --algorithm ec-p256");
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_THAT(r.err, HasSubstr("keys.manage"));
}

TEST_F(CliKeysAdminTest, ABadOrUnsafeTokenIsNotAccepted) {
  LogIn("forged");
  CtlRun r = Run("keys list");
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_THAT(r.err, HasSubstr("not valid"));

  LogIn("admin", 0644);  // readable by others: not used at all
  r = Run("keys list");
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_THAT(r.err, HasSubstr("mode 0600"));
  EXPECT_THAT(r.err, HasSubstr("log in first"));
}

TEST_F(CliKeysAdminTest, ImportsTheUpdateAnchorAndZeroizes) {
  LogIn("admin");
  auto key = pki::GenerateP256Key();
  ASSERT_TRUE(key.ok());
  pki::BioPtr bio(BIO_new(BIO_s_mem()));
  ASSERT_EQ(PEM_write_bio_PUBKEY(bio.get(), key->get()), 1);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  std::string pem_path = device_.root() + "/vendor.pem";
  std::ofstream(pem_path) << std::string(data, static_cast<size_t>(len));

  CtlRun r = Run("keys import update-anchor --pem-file " + pem_path);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = Run("--json keys show update-anchor");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("svc/updated"));  // the declared policy

  r = Run("keys zeroize --reason 'test tamper' --yes");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = Run("keys list");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("zeroized"));
}

}  // namespace
}  // namespace rustiq::testing
