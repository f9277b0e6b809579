// FileCaIssuer: the policy in front of the device CA.
#include <openssl/x509.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "absl/time/clock.h"
#include "common/identity/spiffe_id.h"
#include "common/pki/certificate_authority.h"
#include "common/pki/file_ca_issuer.h"
#include "common/pki/identity_files.h"
#include "common/pki/openssl_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/temp_dir.h"

namespace rustiq::pki {
namespace {

using ::rustiq::testing::TempDir;

using ::testing::HasSubstr;

CertificateAuthority MakeCa(absl::Duration validity = absl::Hours(24 * 365)) {
  absl::StatusOr<CertificateAuthority> ca =
      CertificateAuthority::Create("dev-1", validity);
  EXPECT_TRUE(ca.ok()) << ca.status();
  return *std::move(ca);
}

identity::SpiffeId Service(absl::string_view td, absl::string_view name) {
  return *identity::SpiffeId::ForService(td, name);
}

EvpPkeyPtr NewKey() { return *GenerateP256Key(); }

TEST(FileCaIssuer, IssuesOneSanCertificateForItsTrustDomain) {
  FileCaIssuer issuer(MakeCa());
  EvpPkeyPtr key = NewKey();
  const absl::Time before = absl::FromTimeT(absl::ToTimeT(absl::Now()));
  absl::StatusOr<std::string> pem = issuer.IssueCertificate(
      key.get(), Service("dev-1", "keyd"), absl::Hours(1));
  ASSERT_TRUE(pem.ok()) << pem.status();
  X509Ptr cert = *CertificateFromPem(*pem);

  EXPECT_EQ(UriSans(cert.get()),
            std::vector<std::string>{"spiffe://dev-1/svc/keyd"});
  EXPECT_EQ(X509_check_private_key(cert.get(), key.get()), 1);
  // notBefore five minutes back for clock skew; notAfter now + lifetime.
  int day = 0;
  int sec = 0;
  ASSERT_EQ(ASN1_TIME_diff(&day, &sec, X509_get0_notBefore(cert.get()),
                           X509_get0_notAfter(cert.get())),
            1);
  EXPECT_NEAR(day * 86400 + sec, 3600 + 300, 2);
  EXPECT_GE(X509_cmp_time(X509_get0_notAfter(cert.get()), nullptr), 0);
  EXPECT_GE(ASN1_TIME_cmp_time_t(X509_get0_notBefore(cert.get()),
                                 absl::ToTimeT(before - absl::Minutes(5))),
            0);

  X509Ptr ca_cert = *CertificateFromPem(*issuer.TrustBundlePem());
  X509StorePtr store(X509_STORE_new());
  X509_STORE_add_cert(store.get(), ca_cert.get());
  X509StoreCtxPtr ctx(X509_STORE_CTX_new());
  X509_STORE_CTX_init(ctx.get(), store.get(), cert.get(), nullptr);
  EXPECT_EQ(X509_verify_cert(ctx.get()), 1)
      << X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get()));
}

TEST(FileCaIssuer, RefusesAnotherTrustDomainNamingBoth) {
  FileCaIssuer issuer(MakeCa());
  EvpPkeyPtr key = NewKey();
  absl::StatusOr<std::string> pem = issuer.IssueCertificate(
      key.get(), Service("other-device", "keyd"), absl::Hours(1));
  ASSERT_FALSE(pem.ok());
  EXPECT_EQ(pem.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(pem.status().message(), HasSubstr("\"dev-1\""));
  EXPECT_THAT(pem.status().message(), HasSubstr("\"other-device\""));
}

TEST(FileCaIssuer, RefusesNonPositiveAndOverLongLifetimes) {
  FileCaIssuer issuer(MakeCa());
  EXPECT_EQ(issuer.max_lifetime(), absl::Hours(24 * 90));
  EvpPkeyPtr key = NewKey();
  const identity::SpiffeId id = Service("dev-1", "keyd");
  for (absl::Duration bad :
       {absl::ZeroDuration(), -absl::Hours(1), absl::Hours(24 * 90 + 1)}) {
    absl::StatusOr<std::string> pem =
        issuer.IssueCertificate(key.get(), id, bad);
    ASSERT_FALSE(pem.ok()) << bad;
    EXPECT_EQ(pem.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(pem.status().message(), HasSubstr("lifetime"));
  }
  EXPECT_TRUE(
      issuer.IssueCertificate(key.get(), id, absl::Hours(24 * 90)).ok());
}

TEST(FileCaIssuer, HonoursTheBoundGivenAtConstruction) {
  FileCaIssuer issuer(MakeCa(), absl::Hours(1));
  EvpPkeyPtr key = NewKey();
  const identity::SpiffeId id = Service("dev-1", "keyd");
  EXPECT_TRUE(issuer.IssueCertificate(key.get(), id, absl::Hours(1)).ok());
  EXPECT_FALSE(issuer.IssueCertificate(key.get(), id, absl::Hours(2)).ok());
}

TEST(FileCaIssuer, RefusesCertificateOutlivingTheCa) {
  FileCaIssuer issuer(MakeCa(absl::Hours(24)));
  EvpPkeyPtr key = NewKey();
  absl::StatusOr<std::string> pem = issuer.IssueCertificate(
      key.get(), Service("dev-1", "keyd"), absl::Hours(48));
  ASSERT_FALSE(pem.ok());
  EXPECT_EQ(pem.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(pem.status().message(), HasSubstr("device CA expires"));
}

TEST(FileCaIssuer, RefusesKeysOtherThanP256) {
  FileCaIssuer issuer(MakeCa());
  EvpPkeyPtr p384(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384"));
  ASSERT_NE(p384, nullptr);
  absl::StatusOr<std::string> pem = issuer.IssueCertificate(
      p384.get(), Service("dev-1", "keyd"), absl::Hours(1));
  ASSERT_FALSE(pem.ok());
  EXPECT_THAT(pem.status().message(), HasSubstr("P-256"));
  EXPECT_FALSE(
      issuer.IssueCertificate(nullptr, Service("dev-1", "keyd"), absl::Hours(1))
          .ok());
}

TEST(FileCaIssuer, TrustBundleIsTheCaCertificate) {
  CertificateAuthority ca = MakeCa();
  const std::string ca_pem = ca.cert_pem();
  FileCaIssuer issuer(std::move(ca));
  EXPECT_EQ(*issuer.TrustBundlePem(), ca_pem);
}

TEST(FileCaIssuer, LoadsTheCaFromItsFiles) {
  TempDir state;
  CertificateAuthority ca = MakeCa();
  DeviceCaPaths paths = DeviceCaPathsFor(state.path());
  ASSERT_TRUE(EnsureDirectory(paths.dir, 0700).ok());
  ASSERT_TRUE(WriteFileAtomically(paths.key_path, *ca.key_pem(), 0600).ok());
  ASSERT_TRUE(WriteFileAtomically(paths.cert_path, ca.cert_pem(), 0644).ok());

  absl::StatusOr<std::unique_ptr<FileCaIssuer>> issuer =
      FileCaIssuer::Load(paths);
  ASSERT_TRUE(issuer.ok()) << issuer.status();
  EXPECT_EQ((*issuer)->authority().trust_domain(), "dev-1");
  EXPECT_EQ(*(*issuer)->TrustBundlePem(), ca.cert_pem());
}

TEST(FileCaIssuer, LoadErrorsNameTheFiles) {
  TempDir state;
  DeviceCaPaths paths = DeviceCaPathsFor(state.path());
  absl::StatusOr<std::unique_ptr<FileCaIssuer>> missing =
      FileCaIssuer::Load(paths);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr(paths.key_path));

  // Key and certificate of two different CAs.
  CertificateAuthority a = MakeCa();
  CertificateAuthority b = MakeCa();
  ASSERT_TRUE(EnsureDirectory(paths.dir, 0700).ok());
  ASSERT_TRUE(WriteFileAtomically(paths.key_path, *a.key_pem(), 0600).ok());
  ASSERT_TRUE(WriteFileAtomically(paths.cert_path, b.cert_pem(), 0644).ok());
  absl::StatusOr<std::unique_ptr<FileCaIssuer>> mismatched =
      FileCaIssuer::Load(paths);
  ASSERT_FALSE(mismatched.ok());
  EXPECT_THAT(mismatched.status().message(), HasSubstr(paths.key_path));
  EXPECT_THAT(mismatched.status().message(), HasSubstr(paths.cert_path));
  EXPECT_THAT(mismatched.status().message(), HasSubstr("does not match"));
}

}  // namespace
}  // namespace rustiq::pki
