// IdentityRenewer against a real device CA: when it renews, what it writes,
// and that a failure leaves the current identity untouched.
#include <openssl/x509.h>

#include "absl/strings/str_cat.h"
#include "common/pki/certificate_authority.h"
#include "common/pki/csr.h"
#include "common/pki/file_ca_issuer.h"
#include "common/pki/provisioner.h"
#include "common/rpc/identity_renewer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/temp_dir.h"

namespace rustiq::rpc {
namespace {

using ::testing::HasSubstr;

// Issues through a real CA, as keyd's DeviceCa does, for the CSR's own ID.
class CaSource : public CertificateSource {
 public:
  explicit CaSource(pki::FileCaIssuer* issuer) : issuer_(issuer) {}
  absl::StatusOr<std::string> Issue(absl::string_view csr_pem) override {
    ++calls;
    if (fail) return absl::UnavailableError("keyd is not running");
    absl::StatusOr<pki::ParsedCsr> csr = pki::ParseCsr(csr_pem);
    if (!csr.ok()) return csr.status();
    auto id = identity::SpiffeId::Parse(csr->uri_sans.at(0));
    if (!id.ok()) return id.status();
    if (wrong_key) {
      auto other = pki::GenerateP256Key();
      return issuer_->IssueCertificate(other->get(), *id, absl::Hours(3));
    }
    return issuer_->IssueCertificate(csr->public_key.get(), *id,
                                     absl::Hours(3));
  }
  int calls = 0;
  bool fail = false;
  bool wrong_key = false;

 private:
  pki::FileCaIssuer* issuer_;
};

class RenewerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto ca = pki::CertificateAuthority::Create("dev-1", absl::Hours(24 * 30));
    ASSERT_TRUE(ca.ok());
    issuer_ = std::make_unique<pki::FileCaIssuer>(*std::move(ca));
    id_ = *identity::SpiffeId::ForService("dev-1", "cloudd");
    auto paths = pki::IssueIdentity(*issuer_, dir_.path(), id_, absl::Hours(3));
    ASSERT_TRUE(paths.ok()) << paths.status();
    paths_ = *paths;
  }
  std::string CurrentCert() {
    return *pki::ReadSmallFile(paths_.cert_path, 1 << 16);
  }

  testing::TempDir dir_;
  std::unique_ptr<pki::FileCaIssuer> issuer_;
  identity::SpiffeId id_ = *identity::SpiffeId::ForService("dev-1", "x");
  pki::IdentityPaths paths_;
};

TEST_F(RenewerTest, RenewsOnlyOnceTwoThirdsOfTheLifetimeHavePassed) {
  CaSource source(issuer_.get());
  IdentityRenewer renewer(paths_, id_, &source);
  absl::StatusOr<absl::Time> due = renewer.RenewalTime();
  ASSERT_TRUE(due.ok()) << due.status();
  // Issued with notBefore 5 minutes back and 3 hours ahead.
  EXPECT_GT(*due, absl::Now() + absl::Minutes(100));
  EXPECT_LT(*due, absl::Now() + absl::Minutes(120));

  std::string before = CurrentCert();
  EXPECT_FALSE(*renewer.RenewIfDue(absl::Now()));
  EXPECT_EQ(source.calls, 0);
  EXPECT_EQ(CurrentCert(), before);

  absl::StatusOr<bool> renewed = renewer.RenewIfDue(*due + absl::Seconds(1));
  ASSERT_TRUE(renewed.ok()) << renewed.status();
  EXPECT_TRUE(*renewed);
  std::string after = CurrentCert();
  EXPECT_NE(after, before);
  // The new pair matches and names the same ID.
  auto cert = pki::CertificateFromPem(after);
  auto key =
      pki::PrivateKeyFromPem(*pki::ReadSmallFile(paths_.key_path, 1 << 16));
  ASSERT_TRUE(cert.ok() && key.ok());
  EXPECT_EQ(X509_check_private_key(cert->get(), key->get()), 1);
  EXPECT_THAT(pki::UriSans(cert->get()),
              ::testing::ElementsAre("spiffe://dev-1/svc/cloudd"));
}

TEST_F(RenewerTest, AFailedRenewalLeavesTheCurrentIdentityInPlace) {
  CaSource source(issuer_.get());
  source.fail = true;
  IdentityRenewer renewer(paths_, id_, &source);
  std::string before = CurrentCert();
  absl::StatusOr<bool> renewed = renewer.RenewIfDue(absl::Now(), true);
  EXPECT_EQ(renewed.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(renewed.status().message(),
              HasSubstr("spiffe://dev-1/svc/cloudd"));
  EXPECT_EQ(CurrentCert(), before);

  // A certificate for another key is refused before anything is swapped.
  source.fail = false;
  source.wrong_key = true;
  renewed = renewer.RenewIfDue(absl::Now(), true);
  EXPECT_FALSE(renewed.ok());
  EXPECT_EQ(CurrentCert(), before);
}

TEST_F(RenewerTest, TheBackgroundThreadRenewsWhenDueAndStops) {
  CaSource source(issuer_.get());
  RenewalPolicy policy;
  policy.renew_after_fraction = 0.0;  // due at once
  policy.check_interval = absl::Milliseconds(50);
  IdentityRenewer renewer(paths_, id_, &source, policy);
  std::string before = CurrentCert();
  renewer.Start();
  for (int i = 0; i < 100 && CurrentCert() == before; ++i) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  renewer.Stop();
  EXPECT_NE(CurrentCert(), before);
  EXPECT_GE(source.calls, 1);
}

}  // namespace
}  // namespace rustiq::rpc
