// rustiqctl keys / certs as a user runs them: the real rustiqctl binary
// against the real, confined rustiq-keyd on a provisioned test device.
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/pki/identity_files.h"
#include "common/pki/openssl_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/cli_runner.h"
#include "tests/support/test_device.h"

namespace rustiq::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

bool OneLine(const std::string& text) {
  return !text.empty() && text.find('\n') == text.size() - 1;
}

// Parses `text` as JSON; a parse failure fails the test and gives null.
nlohmann::json Json(const std::string& text) {
  nlohmann::json j =
      nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  EXPECT_FALSE(j.is_discarded()) << "not JSON: " << text;
  return j.is_discarded() ? nlohmann::json() : j;
}

pki::EvpPkeyPtr PublicKeyFromPem(const std::string& pem) {
  pki::BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return pki::EvpPkeyPtr(
      PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
}

std::string SerialOf(const X509* cert) {
  pki::BignumPtr bn(ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr));
  char* hex = BN_bn2hex(bn.get());
  std::string s = hex;
  OPENSSL_free(hex);
  return s;
}

class CliKeysTest : public ::testing::Test {
 protected:
  void SetUp() override {
    keyd_ = std::make_unique<ServerProcess>(device_, "keyd");
    ASSERT_TRUE(keyd_->WaitServing(absl::Seconds(15))) << keyd_->Log();
  }

  // rustiqctl on this device.
  CtlRun Run(const std::string& args) {
    return Ctl(absl::StrCat("--config ", device_.config_path(), " ", args));
  }

  std::string Temp(absl::string_view name) const {
    return absl::StrCat(device_.root(), "/", name);
  }

  TestDevice device_;
  std::unique_ptr<ServerProcess> keyd_;
};

TEST_F(CliKeysTest, PubkeyOfTheDeviceIdentityIsRefusedNamingTheKey) {
  CtlRun r = Run("keys pubkey device-identity");
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_TRUE(OneLine(r.err)) << r.err;
  EXPECT_THAT(r.err, HasSubstr("rustiqctl: keyd: "));
  EXPECT_THAT(r.err, HasSubstr("client/rustiqctl may not public-key with key "
                               "'device-identity'"));
  EXPECT_EQ(r.out, "");

  r = Run("--json keys pubkey device-identity");
  EXPECT_EQ(r.exit_code, 4);
  nlohmann::json err = Json(r.err);
  EXPECT_EQ(err.value("code", ""), "PERMISSION_DENIED");
  EXPECT_EQ(err.value("exit_code", 0), 4);
  EXPECT_THAT(err.value("error", ""), HasSubstr("device-identity"));
}

TEST_F(CliKeysTest, PubkeyOfTheEventCheckpointKeyIsAPemOpenSslParses) {
  CtlRun r = Run("keys pubkey event-checkpoint");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("-----BEGIN PUBLIC KEY-----"));
  pki::EvpPkeyPtr key = PublicKeyFromPem(r.out);
  ASSERT_NE(key, nullptr) << r.out;
  EXPECT_EQ(EVP_PKEY_id(key.get()), EVP_PKEY_ED25519);
  // And the openssl tool agrees.
  std::string pem_file = Temp("event-checkpoint.pem");
  std::ofstream(pem_file) << r.out;
  EXPECT_EQ(system(absl::StrCat("openssl pkey -pubin -in ", pem_file,
                                " -noout 2>/dev/null")
                       .c_str()),
            0);

  // --json, and the DER written beside it is the same key.
  std::string der_file = Temp("event-checkpoint.der");
  r = Run("--json keys pubkey event-checkpoint --der-out " + der_file);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json pub = Json(r.out);
  EXPECT_EQ(pub.value("name", ""), "event-checkpoint");
  EXPECT_EQ(pub.value("algorithm", ""), "ed25519");
  EXPECT_EQ(pub.value("version", 0), 1);
  EXPECT_TRUE(pub.value("current", false));
  pki::EvpPkeyPtr from_json = PublicKeyFromPem(pub.value("pem", ""));
  ASSERT_NE(from_json, nullptr);
  std::string der = ReadFile(der_file);
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  pki::EvpPkeyPtr from_der(
      d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size())));
  ASSERT_NE(from_der, nullptr);
  EXPECT_EQ(EVP_PKEY_eq(from_der.get(), key.get()), 1);

  // A version that does not exist.
  r = Run("keys pubkey event-checkpoint --version 7");
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr("no version 7"));
}

TEST_F(CliKeysTest, ShowGivesMetadataAndGrants) {
  CtlRun r = Run("keys show event-checkpoint");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("algorithm:   ed25519"));
  EXPECT_THAT(r.out, HasSubstr("well-known:  yes"));
  EXPECT_THAT(r.out, HasSubstr("(current)"));
  EXPECT_THAT(r.out, HasSubstr("svc/eventd: sign, public-key"));
  EXPECT_THAT(r.out, HasSubstr("client/*: public-key, verify"));

  r = Run("keys show event-checkpoint --json");  // global flags may follow
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json key = Json(r.out);
  EXPECT_EQ(key.value("name", ""), "event-checkpoint");
  EXPECT_TRUE(key.value("well_known", false));
  ASSERT_TRUE(key["versions"].is_array());
  ASSERT_EQ(key["versions"].size(), 1u);
  EXPECT_TRUE(key["versions"][0].value("current", false));
  EXPECT_EQ(key["policy"]["grants"].size(), 3u);

  // Not named by device-identity's policy: not even its metadata.
  r = Run("keys show device-identity");
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_THAT(r.err, HasSubstr("device-identity"));
  r = Run("keys show no-such-key");
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr("no key named 'no-such-key'"));
}

// The harness runs rustiqctl logged out unless a test logs in: a token
// that whoever runs the tests holds (after scripts/demo's 'rustiqctl login')
// must not reach the commands, or tests of refusals would see another
// device's token instead of none.
TEST_F(CliKeysTest, TheCallersOwnTokenDoesNotReachTheCommands) {
  char runtime_template[] = "/tmp/rustiq-user-runtime-XXXXXX";
  ASSERT_NE(mkdtemp(runtime_template), nullptr);
  std::string runtime = runtime_template;
  ASSERT_EQ(mkdir((runtime + "/rustiq").c_str(), 0700), 0);
  {
    std::ofstream token(runtime + "/rustiq/token");
    token << "v4.public.not-a-token-of-this-device";
  }
  ASSERT_EQ(chmod((runtime + "/rustiq/token").c_str(), 0600), 0);
  const char* saved = getenv("XDG_RUNTIME_DIR");
  std::optional<std::string> old =
      saved == nullptr ? std::nullopt : std::optional<std::string>(saved);
  ASSERT_EQ(setenv("XDG_RUNTIME_DIR", runtime.c_str(), 1), 0);
  CtlRun r = Run("keys list");
  if (old.has_value()) {
    setenv("XDG_RUNTIME_DIR", old->c_str(), 1);
  } else {
    unsetenv("XDG_RUNTIME_DIR");
  }
  std::filesystem::remove_all(runtime);
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_THAT(r.err, HasSubstr("log in first ('rustiqctl login')"));
}

TEST_F(CliKeysTest, PeoplesCommandsNeedALogin) {
  // A public key to import (a real one).
  CtlRun pub = Run("keys pubkey event-checkpoint");
  ASSERT_EQ(pub.exit_code, 0) << pub.err;
  std::string pem_file = Temp("anchor.pem");
  std::ofstream(pem_file) << pub.out;

  for (const std::string& args : std::vector<std::string>{
           "keys list", "keys create k1 --algorithm ec-p256",
           "keys create k2 --algorithm aes-256 --grant 'svc/*=seal,unseal'",
           "keys zeroize --reason 'tamper drill' --yes",
           "keys rotate event-checkpoint",
           "keys retire event-checkpoint --version 1", "keys delete k1 --yes",
           "keys import anchor --pem-file " + pem_file}) {
    CtlRun r = Run(args);
    EXPECT_EQ(r.exit_code, 4) << args << ": " << r.err;
    EXPECT_TRUE(OneLine(r.err)) << args << ": " << r.err;
    EXPECT_THAT(r.err, HasSubstr("log in first ('rustiqctl login')")) << args;
    EXPECT_EQ(r.out, "") << args;
  }
  CtlRun r = Run("--json keys list");
  EXPECT_EQ(r.exit_code, 4);
  nlohmann::json err = Json(r.err);
  EXPECT_EQ(err.value("code", ""), "UNAUTHENTICATED");
  EXPECT_EQ(err.value("exit_code", 0), 4);
  EXPECT_THAT(err.value("error", ""), HasSubstr("rustiqctl login"));
  // keyd recorded the refusals, and nothing was zeroized.
  EXPECT_THAT(keyd_->Log(), HasSubstr("/rustiq.v1.Keys/Zeroize"));
  EXPECT_EQ(Run("keys pubkey event-checkpoint").exit_code, 0);
}

TEST_F(CliKeysTest, BadArgumentsAreUsageErrorsAndNothingIsSent) {
  std::string key_file = Temp("private.pem");
  auto key = pki::GenerateP256Key();
  ASSERT_TRUE(key.ok());
  std::ofstream(key_file) << *pki::PrivateKeyToPem(key->get());

  struct Case {
    std::string args;
    std::string says;
  };
  const Case cases[] = {
      {"keys create k --algorithm dsa-1024", "--algorithm"},
      {"keys create k --algorithm EC-P256", "ec-p256, ed25519"},
      {"keys create k --algorithm ec-p256 --grant svc/cloudd", "CALLER=OP"},
      {"keys create k --algorithm ec-p256 --grant =sign", "CALLER=OP"},
      {"keys create k --algorithm ec-p256 --grant svc/cloudd=", "CALLER=OP"},
      {"keys create k --algorithm ec-p256 --grant svc/cloudd=fly",
       "unknown operation"},
      {"keys create k --algorithm ec-p256 --grant 'client/a*=sign'", "--grant"},
      {"keys create k --algorithm ec-p256 --grant svc/cloudd=decrypt",
       "cannot decrypt"},
      {"keys create k --algorithm aes-256 --grant svc/cloudd=seal,sign",
       "cannot sign"},
      {"keys create k", "--algorithm"},
      {"keys delete k", "--yes"},
      {"keys zeroize --reason drill", "--yes"},
      {"keys zeroize --yes", "--reason"},
      {"keys retire k", "--version"},
      {"keys retire k --version 0", "--version"},
      {"keys import k --pem-file /nonexistent/anchor.pem", "--pem-file"},
      {"keys import k --pem-file " + key_file, "private key"},
      {"keys import k --pem-file " + Temp("private.pem") +
           " --grant svc/updated=sign",
       "private key"},
      {"keys pubkey event-checkpoint --der-out /nonexistent/dir/k.der",
       "--der-out"},
      {"keys frobnicate", "subcommand"},
  };
  std::string log_before = keyd_->Log();
  for (const Case& c : cases) {
    CtlRun r = Run(c.args);
    EXPECT_EQ(r.exit_code, 2) << c.args << ": " << r.err;
    EXPECT_TRUE(OneLine(r.err)) << c.args << ": " << r.err;
    EXPECT_THAT(r.err, HasSubstr(c.says)) << c.args;
  }
  CtlRun del = Run("keys delete k");
  EXPECT_THAT(del.err, HasSubstr("add --yes"));
  // keyd saw none of it: each of these calls, sent, would have been
  // refused and recorded (no token).
  std::string log_after = keyd_->Log();
  EXPECT_THAT(log_after.substr(log_before.size()),
              Not(HasSubstr("rustiq.v1.Keys")))
      << log_after;
  // ...as this one is.
  EXPECT_EQ(Run("keys create k --algorithm ec-p256").exit_code, 4);
  EXPECT_THAT(keyd_->Log(), HasSubstr("/rustiq.v1.Keys/CreateKey"));
}

TEST_F(CliKeysTest, HostileKeyNamesAreRefusedByKeyd) {
  // A NUL cannot travel in argv; control bytes, a newline, a path and an
  // overlong name can.
  for (const std::string& name :
       {std::string(200, 'a'), std::string("../x"), std::string("'a/b'"),
        std::string("\"$(printf 'a\\001b')\""),
        std::string("\"$(printf 'a\\nb')\""), std::string("UPPER"),
        std::string("-- -dash")}) {
    for (const char* cmd : {"keys show ", "keys pubkey "}) {
      CtlRun r = Run(cmd + name);
      EXPECT_EQ(r.exit_code, 2) << cmd << name << ": " << r.err;
      EXPECT_TRUE(OneLine(r.err)) << r.err;
      EXPECT_THAT(r.err, HasSubstr("keyd: a key name is 1-64 characters"))
          << cmd << name;
    }
  }
}

TEST_F(CliKeysTest, CertsBundleIsTheDevicesTrustBundle) {
  std::string file =
      ReadFile(pki::TrustBundlePath(device_.config().paths.state_dir));
  ASSERT_THAT(file, HasSubstr("BEGIN CERTIFICATE"));
  CtlRun r = Run("certs bundle");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto printed = pki::CertificateFromPem(r.out);
  auto on_disk = pki::CertificateFromPem(file);
  ASSERT_TRUE(printed.ok() && on_disk.ok());
  EXPECT_EQ(X509_cmp(printed->get(), on_disk->get()), 0);
  EXPECT_EQ(X509_cmp(printed->get(), device_.ca().certificate()), 0);

  r = Run("--json certs bundle");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto from_json = pki::CertificateFromPem(Json(r.out).value("pem", ""));
  ASSERT_TRUE(from_json.ok());
  EXPECT_EQ(X509_cmp(from_json->get(), on_disk->get()), 0);
}

TEST_F(CliKeysTest, CertsRenewReplacesTheCliCertificateAndItStillWorks) {
  const std::string own_id = absl::StrCat(
      "spiffe://", device_.config().device_id, "/client/rustiqctl");
  pki::IdentityPaths paths =
      pki::ForClient(device_.config().paths.state_dir, "rustiqctl");
  std::string old_pem = ReadFile(paths.cert_path);
  auto old_cert = pki::CertificateFromPem(old_pem);
  ASSERT_TRUE(old_cert.ok());

  CtlRun show = Run("certs show");
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_THAT(show.out, HasSubstr("identity:   " + own_id));
  EXPECT_THAT(show.out, HasSubstr("not after:"));
  EXPECT_THAT(show.out, HasSubstr("time left:"));
  EXPECT_THAT(show.out, HasSubstr(SerialOf(old_cert->get())));
  nlohmann::json before = Json(Run("--json certs show").out);
  EXPECT_EQ(before.value("id", ""), own_id);
  EXPECT_GT(before.value("seconds_left", 0), 0);
  EXPECT_FALSE(before.value("expired", true));

  CtlRun renew = Run("certs renew");
  ASSERT_EQ(renew.exit_code, 0) << renew.err << keyd_->Log();
  EXPECT_THAT(renew.out, HasSubstr("renewed " + own_id + ": valid until "));

  std::string new_pem = ReadFile(paths.cert_path);
  auto new_cert = pki::CertificateFromPem(new_pem);
  ASSERT_TRUE(new_cert.ok());
  EXPECT_NE(new_pem, old_pem);
  EXPECT_NE(SerialOf(new_cert->get()), SerialOf(old_cert->get()));
  EXPECT_THAT(pki::UriSans(new_cert->get()), ::testing::ElementsAre(own_id));
  EXPECT_GE(ASN1_TIME_compare(X509_get0_notAfter(new_cert->get()),
                              X509_get0_notAfter(old_cert->get())),
            0);
  EXPECT_NE(ReadFile(paths.key_path), "");
  EXPECT_THAT(renew.out, HasSubstr(SerialOf(new_cert->get())));

  // The renewed identity is the one the CLI now presents, and it works.
  CtlRun ping = Run("ping keyd");
  EXPECT_EQ(ping.exit_code, 0) << ping.err;
  EXPECT_THAT(ping.out, HasSubstr("keyd: SERVING"));
  nlohmann::json after = Json(Run("--json certs show").out);
  EXPECT_EQ(after.value("serial", ""), SerialOf(new_cert->get()));
  EXPECT_GE(after.value("not_after_unix_seconds", int64_t{0}),
            before.value("not_after_unix_seconds", int64_t{0}));

  // Another client renews its own identity only (--as after the command).
  CtlRun alice = Run("--json certs renew --as alice");
  ASSERT_EQ(alice.exit_code, 0) << alice.err;
  EXPECT_EQ(
      Json(alice.out).value("id", ""),
      absl::StrCat("spiffe://", device_.config().device_id, "/client/alice"));
  EXPECT_EQ(ReadFile(paths.cert_path), new_pem);
  CtlRun bad = Run("certs show --as ../keyd");
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
  EXPECT_THAT(bad.err, HasSubstr("--as"));
  CtlRun missing = Run("certs show --as nobody");
  EXPECT_EQ(missing.exit_code, 6) << missing.err;
  EXPECT_THAT(missing.err, HasSubstr("rustiqctl provision identity"));
}

TEST(CliKeysAbsentKeyd, UnreachableExitsThree) {
  TestDevice device;
  CtlRun r = Ctl(absl::StrCat("--config ", device.config_path(),
                              " --timeout 500 keys list"));
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_THAT(r.err, HasSubstr("keyd"));
  r = Ctl(absl::StrCat("--config ", device.config_path(),
                       " --timeout 500 certs renew"));
  EXPECT_EQ(r.exit_code, 3) << r.err;
}

}  // namespace
}  // namespace rustiq::testing
