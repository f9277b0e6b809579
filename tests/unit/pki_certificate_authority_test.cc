// The device CA: what it creates, what it loads, and the leaves it signs
// (including the hostile ones the verifiers must refuse).
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "common/pki/certificate_authority.h"
#include "common/pki/openssl_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace rustiq::pki {
namespace {

using ::testing::HasSubstr;

using SslCtxPtr =
    std::unique_ptr<SSL_CTX, OpenSslDeleter<SSL_CTX, SSL_CTX_free>>;
using SslPtr = std::unique_ptr<SSL, OpenSslDeleter<SSL, SSL_free>>;
using BasicConstraintsPtr =
    std::unique_ptr<BASIC_CONSTRAINTS,
                    OpenSslDeleter<BASIC_CONSTRAINTS, BASIC_CONSTRAINTS_free>>;

constexpr absl::string_view kTrustDomain = "dev-1a2b";

CertificateAuthority MakeCa(absl::string_view trust_domain = kTrustDomain) {
  absl::StatusOr<CertificateAuthority> ca =
      CertificateAuthority::Create(trust_domain, absl::Hours(24 * 365));
  EXPECT_TRUE(ca.ok()) << ca.status();
  return *std::move(ca);
}

// Whole seconds, as X.509 stores them.
absl::Time Seconds(absl::Time t) { return absl::FromTimeT(absl::ToTimeT(t)); }

LeafSpec SpecFor(std::vector<std::string> uri_sans) {
  LeafSpec spec;
  spec.uri_sans = std::move(uri_sans);
  spec.common_name = "svc/keyd";
  spec.not_before = Seconds(absl::Now() - absl::Minutes(5));
  spec.not_after = Seconds(absl::Now() + absl::Hours(24));
  return spec;
}

struct Leaf {
  EvpPkeyPtr key;
  X509Ptr cert;
  std::string pem;
};

Leaf Issue(const CertificateAuthority& ca, const LeafSpec& spec) {
  Leaf leaf;
  absl::StatusOr<EvpPkeyPtr> key = GenerateP256Key();
  EXPECT_TRUE(key.ok()) << key.status();
  leaf.key = *std::move(key);
  absl::StatusOr<std::string> pem = ca.IssueLeaf(leaf.key.get(), spec);
  EXPECT_TRUE(pem.ok()) << pem.status();
  if (!pem.ok()) return leaf;
  leaf.pem = *pem;
  absl::StatusOr<X509Ptr> cert = CertificateFromPem(*pem);
  EXPECT_TRUE(cert.ok()) << cert.status();
  leaf.cert = *std::move(cert);
  return leaf;
}

X509Ptr ParseCert(absl::string_view pem) {
  absl::StatusOr<X509Ptr> cert = CertificateFromPem(pem);
  EXPECT_TRUE(cert.ok()) << cert.status();
  return *std::move(cert);
}

// X509_V_OK when `leaf` chains to the CA for `purpose`, else the error.
int VerifyAgainstCa(const std::string& ca_pem, X509* leaf, int purpose) {
  X509Ptr ca = ParseCert(ca_pem);
  X509StorePtr store(X509_STORE_new());
  X509_STORE_add_cert(store.get(), ca.get());
  X509StoreCtxPtr ctx(X509_STORE_CTX_new());
  X509_STORE_CTX_init(ctx.get(), store.get(), leaf, nullptr);
  X509_STORE_CTX_set_purpose(ctx.get(), purpose);
  X509_VERIFY_PARAM_set_flags(X509_STORE_CTX_get0_param(ctx.get()),
                              X509_V_FLAG_X509_STRICT);
  int rc = X509_verify_cert(ctx.get()) == 1
               ? X509_V_OK
               : X509_STORE_CTX_get_error(ctx.get());
  ERR_clear_error();
  return rc;
}

bool IsCritical(const X509* cert, int nid) {
  int index = X509_get_ext_by_NID(cert, nid, -1);
  if (index < 0) return false;
  return X509_EXTENSION_get_critical(X509_get_ext(cert, index)) == 1;
}

std::string CommonName(const X509* cert) {
  char buf[256] = {};
  int len = X509_NAME_get_text_by_NID(X509_get_subject_name(cert),
                                      NID_commonName, buf, sizeof(buf));
  return len < 0 ? "" : std::string(buf, static_cast<size_t>(len));
}

int SerialBits(const X509* cert) {
  BignumPtr serial(ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr));
  if (BN_is_negative(serial.get())) return -1;
  return BN_num_bits(serial.get());
}

TEST(CertificateAuthority, CreateMakesSelfSignedP256Ca) {
  const absl::Time before = Seconds(absl::Now());
  absl::StatusOr<CertificateAuthority> ca =
      CertificateAuthority::Create(kTrustDomain, absl::Hours(48));
  ASSERT_TRUE(ca.ok()) << ca.status();
  const absl::Time after = absl::Now();
  X509Ptr cert = ParseCert(ca->cert_pem());
  X509* c = cert.get();

  EXPECT_EQ(ca->trust_domain(), kTrustDomain);
  EXPECT_EQ(X509_get_version(c), X509_VERSION_3);
  EXPECT_EQ(X509_self_signed(c, 1), 1);
  EXPECT_EQ(X509_get_signature_nid(c), NID_ecdsa_with_SHA256);
  EXPECT_TRUE(IsP256Key(X509_get0_pubkey(c)));
  EXPECT_EQ(CommonName(c), "rustiq device CA dev-1a2b");
  EXPECT_EQ(UriSans(c), std::vector<std::string>{"spiffe://dev-1a2b"});
  EXPECT_GE(SerialBits(c), 120);

  BasicConstraintsPtr bc(static_cast<BASIC_CONSTRAINTS*>(
      X509_get_ext_d2i(c, NID_basic_constraints, nullptr, nullptr)));
  ASSERT_NE(bc, nullptr);
  EXPECT_TRUE(bc->ca);
  ASSERT_NE(bc->pathlen, nullptr);
  EXPECT_EQ(ASN1_INTEGER_get(bc->pathlen), 0);
  EXPECT_TRUE(IsCritical(c, NID_basic_constraints));
  EXPECT_EQ(X509_get_key_usage(c), uint32_t{KU_KEY_CERT_SIGN | KU_CRL_SIGN});
  EXPECT_TRUE(IsCritical(c, NID_key_usage));
  EXPECT_NE(X509_get0_subject_key_id(c), nullptr);

  // Backdated five minutes for clock skew; valid for the requested time.
  EXPECT_GE(ca->not_before(), before - absl::Minutes(5) - absl::Seconds(1));
  EXPECT_LE(ca->not_before(), after - absl::Minutes(5));
  EXPECT_GE(ca->not_after(), before + absl::Hours(48) - absl::Seconds(1));
  EXPECT_LE(ca->not_after(), after + absl::Hours(48));
  EXPECT_EQ(ASN1_TIME_cmp_time_t(X509_get0_notAfter(c),
                                 absl::ToTimeT(ca->not_after())),
            0);
}

TEST(CertificateAuthority, CreateCutsLongCommonNameButKeepsFullSan) {
  const std::string long_domain(200, 'a');
  CertificateAuthority ca = MakeCa(long_domain);
  X509Ptr cert = ParseCert(ca.cert_pem());
  EXPECT_EQ(CommonName(cert.get()).size(), 64u);
  EXPECT_EQ(UriSans(cert.get()),
            std::vector<std::string>{"spiffe://" + long_domain});
}

TEST(CertificateAuthority, CreateRejectsBadInput) {
  EXPECT_FALSE(CertificateAuthority::Create("", absl::Hours(1)).ok());
  EXPECT_FALSE(CertificateAuthority::Create("Dev/1", absl::Hours(1)).ok());
  absl::StatusOr<CertificateAuthority> zero =
      CertificateAuthority::Create("dev", absl::ZeroDuration());
  ASSERT_FALSE(zero.ok());
  EXPECT_THAT(zero.status().message(), HasSubstr("validity"));
  EXPECT_FALSE(CertificateAuthority::Create("dev", -absl::Hours(1)).ok());
}

TEST(CertificateAuthority, CreateUsesFreshKeyAndSerialEachTime) {
  CertificateAuthority a = MakeCa();
  CertificateAuthority b = MakeCa();
  X509Ptr ca = ParseCert(a.cert_pem());
  X509Ptr cb = ParseCert(b.cert_pem());
  EXPECT_NE(ASN1_INTEGER_cmp(X509_get0_serialNumber(ca.get()),
                             X509_get0_serialNumber(cb.get())),
            0);
  EXPECT_NE(EVP_PKEY_eq(X509_get0_pubkey(ca.get()), X509_get0_pubkey(cb.get())),
            1);
}

TEST(CertificateAuthority, FromPemRoundTrips) {
  CertificateAuthority ca = MakeCa();
  absl::StatusOr<std::string> key_pem = ca.key_pem();
  ASSERT_TRUE(key_pem.ok()) << key_pem.status();
  EXPECT_THAT(*key_pem, HasSubstr("-----BEGIN PRIVATE KEY-----"));

  absl::StatusOr<CertificateAuthority> loaded =
      CertificateAuthority::FromPem(*key_pem, ca.cert_pem());
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->cert_pem(), ca.cert_pem());
  EXPECT_EQ(loaded->trust_domain(), ca.trust_domain());
  EXPECT_EQ(loaded->not_before(), ca.not_before());
  EXPECT_EQ(loaded->not_after(), ca.not_after());
  EXPECT_EQ(*loaded->key_pem(), *key_pem);

  // What the loaded CA signs verifies against the original certificate.
  Leaf leaf = Issue(*loaded, SpecFor({"spiffe://dev-1a2b/svc/keyd"}));
  EXPECT_EQ(
      VerifyAgainstCa(ca.cert_pem(), leaf.cert.get(), X509_PURPOSE_SSL_SERVER),
      X509_V_OK);
}

TEST(CertificateAuthority, FromPemRejectsKeyOfAnotherCa) {
  CertificateAuthority a = MakeCa();
  CertificateAuthority b = MakeCa();
  absl::StatusOr<CertificateAuthority> loaded =
      CertificateAuthority::FromPem(*b.key_pem(), a.cert_pem());
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(loaded.status().message(),
              HasSubstr("CA key does not match the CA certificate"));
  EXPECT_EQ(ERR_peek_error(), 0u);
}

TEST(CertificateAuthority, FromPemRejectsLeafCertificate) {
  CertificateAuthority ca = MakeCa();
  Leaf leaf = Issue(ca, SpecFor({"spiffe://dev-1a2b/svc/keyd"}));
  absl::StatusOr<CertificateAuthority> loaded =
      CertificateAuthority::FromPem(*PrivateKeyToPem(leaf.key.get()), leaf.pem);
  ASSERT_FALSE(loaded.ok());
  EXPECT_THAT(loaded.status().message(), HasSubstr("is not a CA"));
}

TEST(CertificateAuthority, FromPemRejectsGarbageNamingWhichPart) {
  CertificateAuthority ca = MakeCa();
  absl::StatusOr<CertificateAuthority> bad_cert =
      CertificateAuthority::FromPem(*ca.key_pem(), "not a certificate");
  ASSERT_FALSE(bad_cert.ok());
  EXPECT_THAT(bad_cert.status().message(), HasSubstr("CA certificate"));
  absl::StatusOr<CertificateAuthority> bad_key =
      CertificateAuthority::FromPem("not a key", ca.cert_pem());
  ASSERT_FALSE(bad_key.ok());
  EXPECT_THAT(bad_key.status().message(), HasSubstr("CA key"));
}

TEST(CertificateAuthority, IssuedLeafVerifiesForServerAndClientAuth) {
  CertificateAuthority ca = MakeCa();
  Leaf leaf = Issue(ca, SpecFor({"spiffe://dev-1a2b/svc/keyd"}));
  EXPECT_EQ(
      VerifyAgainstCa(ca.cert_pem(), leaf.cert.get(), X509_PURPOSE_SSL_SERVER),
      X509_V_OK);
  EXPECT_EQ(
      VerifyAgainstCa(ca.cert_pem(), leaf.cert.get(), X509_PURPOSE_SSL_CLIENT),
      X509_V_OK);
  // And not against another CA.
  CertificateAuthority other = MakeCa();
  EXPECT_NE(VerifyAgainstCa(other.cert_pem(), leaf.cert.get(),
                            X509_PURPOSE_SSL_SERVER),
            X509_V_OK);
}

TEST(CertificateAuthority, IssuedLeafCarriesExactlyWhatWasAsked) {
  CertificateAuthority ca = MakeCa();
  LeafSpec spec = SpecFor({"spiffe://dev-1a2b/client/rustiqctl"});
  spec.common_name = "client/rustiqctl";
  Leaf leaf = Issue(ca, spec);
  X509* c = leaf.cert.get();
  X509Ptr ca_cert = ParseCert(ca.cert_pem());

  EXPECT_EQ(UriSans(c), spec.uri_sans);
  EXPECT_EQ(CommonName(c), "client/rustiqctl");
  EXPECT_EQ(X509_NAME_cmp(X509_get_issuer_name(c),
                          X509_get_subject_name(ca_cert.get())),
            0);
  EXPECT_EQ(ASN1_TIME_cmp_time_t(X509_get0_notBefore(c),
                                 absl::ToTimeT(spec.not_before)),
            0);
  EXPECT_EQ(ASN1_TIME_cmp_time_t(X509_get0_notAfter(c),
                                 absl::ToTimeT(spec.not_after)),
            0);
  EXPECT_EQ(X509_get_version(c), X509_VERSION_3);
  EXPECT_EQ(X509_get_signature_nid(c), NID_ecdsa_with_SHA256);
  EXPECT_EQ(EVP_PKEY_eq(X509_get0_pubkey(c), leaf.key.get()), 1);
  EXPECT_EQ(X509_check_private_key(c, leaf.key.get()), 1);
  EXPECT_GE(SerialBits(c), 120);

  const uint32_t flags = X509_get_extension_flags(c);
  EXPECT_NE(flags & EXFLAG_BCONS, 0u);
  EXPECT_EQ(flags & EXFLAG_CA, 0u);
  EXPECT_TRUE(IsCritical(c, NID_basic_constraints));
  EXPECT_EQ(X509_get_key_usage(c),
            uint32_t{KU_DIGITAL_SIGNATURE | KU_KEY_AGREEMENT});
  EXPECT_TRUE(IsCritical(c, NID_key_usage));
  EXPECT_EQ(X509_get_extended_key_usage(c),
            uint32_t{XKU_SSL_SERVER | XKU_SSL_CLIENT});
  EXPECT_FALSE(IsCritical(c, NID_subject_alt_name));
  ASSERT_NE(X509_get0_subject_key_id(c), nullptr);
  ASSERT_NE(X509_get0_authority_key_id(c), nullptr);
  EXPECT_EQ(ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(c),
                                  X509_get0_subject_key_id(ca_cert.get())),
            0);
}

TEST(CertificateAuthority, EachLeafGetsItsOwnSerial) {
  CertificateAuthority ca = MakeCa();
  Leaf a = Issue(ca, SpecFor({"spiffe://dev-1a2b/svc/keyd"}));
  Leaf b = Issue(ca, SpecFor({"spiffe://dev-1a2b/svc/keyd"}));
  EXPECT_NE(ASN1_INTEGER_cmp(X509_get0_serialNumber(a.cert.get()),
                             X509_get0_serialNumber(b.cert.get())),
            0);
}

// Hostile certificates for the verifiers' tests: the CA signs them all.
TEST(CertificateAuthority, IssuesLeafWithoutSanExtension) {
  CertificateAuthority ca = MakeCa();
  Leaf leaf = Issue(ca, SpecFor({}));
  ASSERT_NE(leaf.cert, nullptr);
  EXPECT_EQ(X509_get_ext_by_NID(leaf.cert.get(), NID_subject_alt_name, -1), -1);
  EXPECT_TRUE(UriSans(leaf.cert.get()).empty());
  EXPECT_EQ(
      VerifyAgainstCa(ca.cert_pem(), leaf.cert.get(), X509_PURPOSE_SSL_CLIENT),
      X509_V_OK);
}

TEST(CertificateAuthority, IssuesLeafWithTwoSans) {
  CertificateAuthority ca = MakeCa();
  Leaf leaf = Issue(ca, SpecFor({"spiffe://dev-1a2b/svc/keyd",
                                 "spiffe://dev-1a2b/svc/authd"}));
  ASSERT_NE(leaf.cert, nullptr);
  EXPECT_EQ(UriSans(leaf.cert.get()),
            (std::vector<std::string>{"spiffe://dev-1a2b/svc/keyd",
                                      "spiffe://dev-1a2b/svc/authd"}));
}

TEST(CertificateAuthority, IssuesLeafOfAnotherTrustDomain) {
  CertificateAuthority ca = MakeCa();
  Leaf leaf = Issue(ca, SpecFor({"spiffe://other-device/svc/keyd"}));
  ASSERT_NE(leaf.cert, nullptr);
  EXPECT_EQ(UriSans(leaf.cert.get()),
            std::vector<std::string>{"spiffe://other-device/svc/keyd"});
}

TEST(CertificateAuthority, IssuesExpiredAndNotYetValidLeaves) {
  CertificateAuthority ca = MakeCa();
  LeafSpec expired = SpecFor({"spiffe://dev-1a2b/svc/keyd"});
  expired.not_before = absl::Now() - absl::Hours(48);
  expired.not_after = absl::Now() - absl::Hours(24);
  Leaf old = Issue(ca, expired);
  ASSERT_NE(old.cert, nullptr);
  EXPECT_EQ(
      VerifyAgainstCa(ca.cert_pem(), old.cert.get(), X509_PURPOSE_SSL_SERVER),
      X509_V_ERR_CERT_HAS_EXPIRED);

  LeafSpec future = SpecFor({"spiffe://dev-1a2b/svc/keyd"});
  future.not_before = absl::Now() + absl::Hours(24);
  future.not_after = absl::Now() + absl::Hours(48);
  Leaf early = Issue(ca, future);
  ASSERT_NE(early.cert, nullptr);
  EXPECT_EQ(
      VerifyAgainstCa(ca.cert_pem(), early.cert.get(), X509_PURPOSE_SSL_SERVER),
      X509_V_ERR_CERT_NOT_YET_VALID);
}

TEST(CertificateAuthority, IssueLeafRejectsWhatCannotBeEncoded) {
  CertificateAuthority ca = MakeCa();
  absl::StatusOr<EvpPkeyPtr> key = GenerateP256Key();
  ASSERT_TRUE(key.ok());

  EXPECT_FALSE(ca.IssueLeaf(nullptr, SpecFor({})).ok());

  LeafSpec inverted = SpecFor({});
  std::swap(inverted.not_before, inverted.not_after);
  absl::StatusOr<std::string> pem = ca.IssueLeaf(key->get(), inverted);
  ASSERT_FALSE(pem.ok());
  EXPECT_THAT(pem.status().message(), HasSubstr("validity is empty"));

  LeafSpec infinite = SpecFor({});
  infinite.not_after = absl::InfiniteFuture();
  EXPECT_FALSE(ca.IssueLeaf(key->get(), infinite).ok());

  LeafSpec long_cn = SpecFor({});
  long_cn.common_name = std::string(65, 'x');
  pem = ca.IssueLeaf(key->get(), long_cn);
  ASSERT_FALSE(pem.ok());
  EXPECT_THAT(pem.status().message(), HasSubstr("common name"));
}

// Runs a TLS handshake in memory; true when both sides completed it.
bool Handshake(SSL* client, SSL* server) {
  for (int i = 0; i < 100; ++i) {
    int c = SSL_do_handshake(client);
    int s = SSL_do_handshake(server);
    if (c == 1 && s == 1) return true;
    int ce = SSL_get_error(client, c);
    int se = SSL_get_error(server, s);
    if ((c != 1 && ce != SSL_ERROR_WANT_READ && ce != SSL_ERROR_WANT_WRITE) ||
        (s != 1 && se != SSL_ERROR_WANT_READ && se != SSL_ERROR_WANT_WRITE)) {
      ERR_clear_error();
      return false;
    }
  }
  return false;
}

SslCtxPtr MakeTlsContext(bool server, const Leaf& identity,
                         const std::string& trusted_ca_pem) {
  SslCtxPtr ctx(
      SSL_CTX_new(server ? TLS_server_method() : TLS_client_method()));
  EXPECT_EQ(SSL_CTX_set_min_proto_version(ctx.get(), TLS1_3_VERSION), 1);
  EXPECT_EQ(SSL_CTX_use_certificate(ctx.get(), identity.cert.get()), 1);
  EXPECT_EQ(SSL_CTX_use_PrivateKey(ctx.get(), identity.key.get()), 1);
  X509Ptr ca = ParseCert(trusted_ca_pem);
  EXPECT_EQ(X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx.get()), ca.get()),
            1);
  SSL_CTX_set_verify(
      ctx.get(), SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  return ctx;
}

struct TlsPair {
  SslPtr client;
  SslPtr server;
};

TlsPair Connect(SSL_CTX* client_ctx, SSL_CTX* server_ctx) {
  TlsPair pair{SslPtr(SSL_new(client_ctx)), SslPtr(SSL_new(server_ctx))};
  BIO* client_bio = nullptr;
  BIO* server_bio = nullptr;
  EXPECT_EQ(BIO_new_bio_pair(&client_bio, 0, &server_bio, 0), 1);
  SSL_set_bio(pair.client.get(), client_bio, client_bio);
  SSL_set_bio(pair.server.get(), server_bio, server_bio);
  SSL_set_connect_state(pair.client.get());
  SSL_set_accept_state(pair.server.get());
  return pair;
}

TEST(CertificateAuthority, LeavesWorkForTls13MutualAuthentication) {
  CertificateAuthority ca = MakeCa();
  Leaf server_id = Issue(ca, SpecFor({"spiffe://dev-1a2b/svc/keyd"}));
  Leaf client_id = Issue(ca, SpecFor({"spiffe://dev-1a2b/client/rustiqctl"}));
  SslCtxPtr server_ctx = MakeTlsContext(true, server_id, ca.cert_pem());
  SslCtxPtr client_ctx = MakeTlsContext(false, client_id, ca.cert_pem());
  TlsPair tls = Connect(client_ctx.get(), server_ctx.get());

  ASSERT_TRUE(Handshake(tls.client.get(), tls.server.get()));
  EXPECT_EQ(SSL_version(tls.client.get()), TLS1_3_VERSION);
  EXPECT_EQ(SSL_get_verify_result(tls.client.get()), X509_V_OK);
  EXPECT_EQ(SSL_get_verify_result(tls.server.get()), X509_V_OK);
  X509* client_seen_by_server = SSL_get0_peer_certificate(tls.server.get());
  ASSERT_NE(client_seen_by_server, nullptr);
  EXPECT_EQ(UriSans(client_seen_by_server),
            std::vector<std::string>{"spiffe://dev-1a2b/client/rustiqctl"});
}

TEST(CertificateAuthority, TlsServerRefusesClientOfAnotherCa) {
  CertificateAuthority ca = MakeCa();
  CertificateAuthority rogue = MakeCa();
  Leaf server_id = Issue(ca, SpecFor({"spiffe://dev-1a2b/svc/keyd"}));
  Leaf client_id = Issue(rogue, SpecFor({"spiffe://dev-1a2b/client/x"}));
  SslCtxPtr server_ctx = MakeTlsContext(true, server_id, ca.cert_pem());
  // The client trusts the real CA, so only the server's check can fail.
  SslCtxPtr client_ctx = MakeTlsContext(false, client_id, ca.cert_pem());
  TlsPair tls = Connect(client_ctx.get(), server_ctx.get());
  EXPECT_FALSE(Handshake(tls.client.get(), tls.server.get()));
  EXPECT_NE(SSL_get_verify_result(tls.server.get()), X509_V_OK);
}

}  // namespace
}  // namespace rustiq::pki
