// PEM conversions, key generation and SAN extraction of common/pki.
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "common/pki/certificate_authority.h"
#include "common/pki/openssl_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace rustiq::pki {
namespace {

using ::testing::HasSubstr;

CertificateAuthority MakeCa() {
  absl::StatusOr<CertificateAuthority> ca =
      CertificateAuthority::Create("dev-1", absl::Hours(24));
  EXPECT_TRUE(ca.ok()) << ca.status();
  return *std::move(ca);
}

X509Ptr MakeLeaf(const CertificateAuthority& ca,
                 std::vector<std::string> uri_sans) {
  absl::StatusOr<EvpPkeyPtr> key = GenerateP256Key();
  EXPECT_TRUE(key.ok()) << key.status();
  LeafSpec spec;
  spec.uri_sans = std::move(uri_sans);
  spec.not_before = absl::Now() - absl::Minutes(1);
  spec.not_after = absl::Now() + absl::Hours(1);
  absl::StatusOr<std::string> pem = ca.IssueLeaf(key->get(), spec);
  EXPECT_TRUE(pem.ok()) << pem.status();
  absl::StatusOr<X509Ptr> cert = CertificateFromPem(*pem);
  EXPECT_TRUE(cert.ok()) << cert.status();
  return *std::move(cert);
}

TEST(OpenSslUtil, GeneratesDistinctP256Keys) {
  absl::StatusOr<EvpPkeyPtr> a = GenerateP256Key();
  absl::StatusOr<EvpPkeyPtr> b = GenerateP256Key();
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_TRUE(IsP256Key(a->get()));
  EXPECT_EQ(EVP_PKEY_get_bits(a->get()), 256);
  EXPECT_NE(EVP_PKEY_eq(a->get(), b->get()), 1);
}

TEST(OpenSslUtil, IsP256KeyRejectsOtherKeys) {
  EvpPkeyPtr p384(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384"));
  EvpPkeyPtr ed25519(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  ASSERT_NE(p384, nullptr);
  ASSERT_NE(ed25519, nullptr);
  EXPECT_FALSE(IsP256Key(p384.get()));
  EXPECT_FALSE(IsP256Key(ed25519.get()));
  EXPECT_FALSE(IsP256Key(nullptr));
}

TEST(OpenSslUtil, PrivateKeyPemIsUnencryptedPkcs8AndRoundTrips) {
  absl::StatusOr<EvpPkeyPtr> key = GenerateP256Key();
  ASSERT_TRUE(key.ok()) << key.status();
  absl::StatusOr<std::string> pem = PrivateKeyToPem(key->get());
  ASSERT_TRUE(pem.ok()) << pem.status();
  EXPECT_TRUE(absl::StartsWith(*pem, "-----BEGIN PRIVATE KEY-----\n")) << *pem;
  absl::StatusOr<EvpPkeyPtr> parsed = PrivateKeyFromPem(*pem);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(EVP_PKEY_eq(key->get(), parsed->get()), 1);
}

// An encrypted key must fail, not make OpenSSL prompt on the terminal.
TEST(OpenSslUtil, PrivateKeyFromPemRefusesEncryptedKey) {
  absl::StatusOr<EvpPkeyPtr> key = GenerateP256Key();
  ASSERT_TRUE(key.ok()) << key.status();
  BioPtr bio(BIO_new(BIO_s_mem()));
  char pass[] = "secret";
  ASSERT_EQ(
      PEM_write_bio_PKCS8PrivateKey(bio.get(), key->get(), EVP_aes_256_cbc(),
                                    pass, sizeof(pass) - 1, nullptr, nullptr),
      1);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  std::string pem(data, static_cast<size_t>(len));
  ASSERT_THAT(pem, HasSubstr("ENCRYPTED PRIVATE KEY"));
  absl::StatusOr<EvpPkeyPtr> parsed = PrivateKeyFromPem(pem);
  EXPECT_FALSE(parsed.ok());
}

// The error names the problem and never echoes the (possibly secret) input.
TEST(OpenSslUtil, PrivateKeyFromPemErrorDoesNotEchoInput) {
  const std::string input = "-----BEGIN PRIVATE KEY-----\nU0VDUkVUU0VDUkVU\n";
  absl::StatusOr<EvpPkeyPtr> parsed = PrivateKeyFromPem(input);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(parsed.status().message(), HasSubstr("private key"));
  EXPECT_THAT(parsed.status().message(), ::testing::Not(HasSubstr("U0VDUkVU")));
  EXPECT_EQ(parsed.status().message().find('\n'), absl::string_view::npos);
  EXPECT_EQ(ERR_peek_error(), 0u) << "error queue left behind";
}

TEST(OpenSslUtil, CertificatePemRoundTrips) {
  CertificateAuthority ca = MakeCa();
  absl::StatusOr<X509Ptr> cert = CertificateFromPem(ca.cert_pem());
  ASSERT_TRUE(cert.ok()) << cert.status();
  absl::StatusOr<std::string> pem = CertificateToPem(cert->get());
  ASSERT_TRUE(pem.ok()) << pem.status();
  EXPECT_EQ(*pem, ca.cert_pem());
}

TEST(OpenSslUtil, CertificateFromPemRejectsGarbage) {
  for (absl::string_view bad : {"", "hello", "-----BEGIN CERTIFICATE-----\n"}) {
    absl::StatusOr<X509Ptr> cert = CertificateFromPem(bad);
    EXPECT_FALSE(cert.ok()) << bad;
    EXPECT_THAT(cert.status().message(), HasSubstr("not a PEM certificate"));
  }
}

TEST(OpenSslUtil, UriSansReturnsEveryUriInOrder) {
  CertificateAuthority ca = MakeCa();
  X509Ptr none = MakeLeaf(ca, {});
  X509Ptr one = MakeLeaf(ca, {"spiffe://dev-1/svc/keyd"});
  X509Ptr two = MakeLeaf(ca, {"spiffe://dev-1/svc/b", "spiffe://dev-1/svc/a"});
  EXPECT_TRUE(UriSans(none.get()).empty());
  EXPECT_EQ(UriSans(one.get()),
            std::vector<std::string>{"spiffe://dev-1/svc/keyd"});
  EXPECT_EQ(UriSans(two.get()),
            (std::vector<std::string>{"spiffe://dev-1/svc/b",
                                      "spiffe://dev-1/svc/a"}));
  EXPECT_TRUE(UriSans(nullptr).empty());
}

TEST(OpenSslUtil, UriSansKeepsEmbeddedNulByteForByte) {
  CertificateAuthority ca = MakeCa();
  const std::string hostile("spiffe://dev-1/svc/ke\0yd", 24);
  X509Ptr cert = MakeLeaf(ca, {hostile});
  EXPECT_EQ(UriSans(cert.get()), std::vector<std::string>{hostile});
}

// Two subjectAltName extensions: which one a peer reads is ambiguous.
TEST(OpenSslUtil, UriSansIsEmptyForDuplicateSanExtensions) {
  CertificateAuthority ca = MakeCa();
  X509Ptr cert = MakeLeaf(ca, {"spiffe://dev-1/svc/a"});
  GeneralNamesPtr names(sk_GENERAL_NAME_new_null());
  GENERAL_NAME* name = GENERAL_NAME_new();
  ASN1_IA5STRING* uri = ASN1_IA5STRING_new();
  ASN1_STRING_set(uri, "spiffe://dev-1/svc/b", -1);
  GENERAL_NAME_set0_value(name, GEN_URI, uri);
  sk_GENERAL_NAME_push(names.get(), name);
  ASSERT_EQ(X509_add1_ext_i2d(cert.get(), NID_subject_alt_name, names.get(), 0,
                              X509V3_ADD_APPEND),
            1);
  EXPECT_TRUE(UriSans(cert.get()).empty());
  EXPECT_EQ(ERR_peek_error(), 0u);
}

TEST(OpenSslUtil, OpenSslErrorsDrainsTheQueue) {
  EXPECT_EQ(OpenSslErrors(), "no OpenSSL error reported");
  BioPtr bio(BIO_new_mem_buf("junk", 4));
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  ASSERT_EQ(cert, nullptr);
  std::string errors = OpenSslErrors();
  EXPECT_THAT(errors, HasSubstr("PEM"));
  EXPECT_EQ(errors.find('\n'), std::string::npos);
  EXPECT_EQ(ERR_peek_error(), 0u);
}

}  // namespace
}  // namespace rustiq::pki
