// The device CA inside keyd, opened the way the daemon and provisioning open
// it (OpenKeyd on a configuration whose state directory is a temporary
// one, soft backend): certificates only for the caller's own ID and for a key
// the CSR proves it holds, checked with OpenSSL against the trust bundle.
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/config/config.h"
#include "common/identity/spiffe_id.h"
#include "common/pki/csr.h"
#include "common/pki/openssl_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/keyd/device_ca.h"
#include "services/keyd/keyd_setup.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/keyd_test_util.h"

namespace rustiq::keyd {
namespace {

using test::IsError;
using ::testing::ElementsAre;
using Code = absl::StatusCode;

using X509ReqPtr =
    std::unique_ptr<X509_REQ, pki::OpenSslDeleter<X509_REQ, X509_REQ_free>>;

constexpr char kCaller[] = "svc/cloudd";
constexpr char kCallerUri[] = "spiffe://test-device/svc/cloudd";
constexpr int64_t kMaxLifetimeSeconds = 24 * 7 * 3600;

config::StackConfig ConfigIn(const rustiq::testing::TempDir& dir) {
  config::StackConfig c;
  c.device_id = test::kDeviceId;
  c.paths.state_dir = dir.path();
  // Explicit, so that a $CREDENTIALS_DIRECTORY around the test changes nothing.
  c.keyd.master_key_file = dir / "keyd/master.key";
  return c;
}

// A CSR with exactly `uris` as URI SANs (none: no SAN at all), signed by
// `key` with `md` (nullptr for Ed25519); the subjectAltName extension
// appears `san_extensions` times.
std::string MakeRequest(EVP_PKEY* key, const std::vector<std::string>& uris,
                        const EVP_MD* md = EVP_sha256(),
                        int san_extensions = 1) {
  X509ReqPtr req(X509_REQ_new());
  EXPECT_EQ(X509_REQ_set_version(req.get(), 0), 1);
  EXPECT_EQ(X509_REQ_set_pubkey(req.get(), key), 1);
  if (!uris.empty()) {
    pki::GeneralNamesPtr names(GENERAL_NAMES_new());
    for (const std::string& uri : uris) {
      GENERAL_NAME* gn = GENERAL_NAME_new();
      ASN1_IA5STRING* s = ASN1_IA5STRING_new();
      ASN1_STRING_set(s, uri.data(), static_cast<int>(uri.size()));
      GENERAL_NAME_set0_value(gn, GEN_URI, s);
      sk_GENERAL_NAME_push(names.get(), gn);
    }
    STACK_OF(X509_EXTENSION)* exts = sk_X509_EXTENSION_new_null();
    for (int i = 0; i < san_extensions; ++i) {
      sk_X509_EXTENSION_push(
          exts, X509V3_EXT_i2d(NID_subject_alt_name, 0, names.get()));
    }
    EXPECT_EQ(X509_REQ_add_extensions(req.get(), exts), 1);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  }
  EXPECT_GT(X509_REQ_sign(req.get(), key, md), 0);
  pki::BioPtr bio(BIO_new(BIO_s_mem()));
  EXPECT_EQ(PEM_write_bio_X509_REQ(bio.get(), req.get()), 1);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

// Decodes a PEM CSR, lets `edit` change its DER bytes, and re-encodes it.
std::string EditRequestDer(const std::string& pem,
                           const std::function<void(std::string*)>& edit) {
  pki::BioPtr in(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  X509ReqPtr req(PEM_read_bio_X509_REQ(in.get(), nullptr, nullptr, nullptr));
  EXPECT_NE(req, nullptr);
  int len = i2d_X509_REQ(req.get(), nullptr);
  std::string der(static_cast<size_t>(len), '\0');
  auto* p = reinterpret_cast<unsigned char*>(der.data());
  i2d_X509_REQ(req.get(), &p);
  edit(&der);
  const auto* q = reinterpret_cast<const unsigned char*>(der.data());
  X509ReqPtr edited(d2i_X509_REQ(nullptr, &q, static_cast<long>(der.size())));
  EXPECT_NE(edited, nullptr);
  pki::BioPtr out(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509_REQ(out.get(), edited.get());
  char* data = nullptr;
  long n = BIO_get_mem_data(out.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

v1::IssueCertificateRequest Request(const std::string& csr,
                                    uint32_t lifetime_seconds = 0) {
  v1::IssueCertificateRequest r;
  r.set_csr_pem(csr);
  r.set_lifetime_seconds(lifetime_seconds);
  return r;
}

// X509_verify_cert of `cert_pem` against `bundle_pem` alone ("" when valid,
// else OpenSSL's reason).
std::string VerifyAgainst(const std::string& cert_pem,
                          const std::string& bundle_pem) {
  absl::StatusOr<pki::X509Ptr> cert = pki::CertificateFromPem(cert_pem);
  absl::StatusOr<pki::X509Ptr> ca = pki::CertificateFromPem(bundle_pem);
  if (!cert.ok() || !ca.ok()) return "does not parse";
  pki::X509StorePtr store(X509_STORE_new());
  X509_STORE_add_cert(store.get(), ca->get());
  pki::X509StoreCtxPtr ctx(X509_STORE_CTX_new());
  X509_STORE_CTX_init(ctx.get(), store.get(), cert->get(), nullptr);
  if (X509_verify_cert(ctx.get()) == 1) return "";
  return X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get()));
}

int64_t SecondsUntil(const ASN1_TIME* t) {
  int day = 0;
  int sec = 0;
  EXPECT_EQ(ASN1_TIME_diff(&day, &sec, nullptr, t), 1);
  return int64_t{day} * 86400 + sec;
}

class KeydDeviceCaTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(/*provision=*/true); }

  void Open(bool provision) {
    keyd_.reset();
    absl::StatusOr<Keyd> k = OpenKeyd(ConfigIn(dir_), &sink_, provision);
    ASSERT_TRUE(k.ok()) << k.status();
    keyd_ = std::make_unique<Keyd>(*std::move(k));
  }
  DeviceCa& ca() { return *keyd_->ca; }

  std::string OwnCsr(EVP_PKEY* key, const std::string& path = kCaller) {
    absl::StatusOr<identity::SpiffeId> id =
        identity::SpiffeId::FromParts(test::kDeviceId, path);
    EXPECT_TRUE(id.ok()) << id.status();
    absl::StatusOr<std::string> csr = pki::MakeCsr(key, *id);
    EXPECT_TRUE(csr.ok()) << csr.status();
    return csr.value_or("");
  }

  pki::EvpPkeyPtr NewP256() {
    absl::StatusOr<pki::EvpPkeyPtr> key = pki::GenerateP256Key();
    EXPECT_TRUE(key.ok());
    return key.ok() ? *std::move(key) : nullptr;
  }

  rustiq::testing::TempDir dir_{"keyd-ca"};
  test::RecordingSink sink_;
  std::unique_ptr<Keyd> keyd_;
};

TEST_F(KeydDeviceCaTest, IssuesForTheCallersOwnId) {
  pki::EvpPkeyPtr key = NewP256();
  const int64_t now = absl::ToUnixSeconds(absl::Now());
  absl::StatusOr<v1::IssueCertificateResponse> issued =
      ca().IssueForCaller(kCaller, Request(OwnCsr(key.get()), 3600));
  ASSERT_TRUE(issued.ok()) << issued.status();
  EXPECT_EQ(issued->trust_bundle_pem(), ca().TrustBundlePem());
  EXPECT_EQ(VerifyAgainst(issued->certificate_pem(), ca().TrustBundlePem()),
            "");
  EXPECT_NEAR(issued->not_after_unix_seconds(), now + 3600, 5);

  absl::StatusOr<pki::X509Ptr> cert =
      pki::CertificateFromPem(issued->certificate_pem());
  ASSERT_TRUE(cert.ok());
  EXPECT_THAT(pki::UriSans(cert->get()), ElementsAre(kCallerUri));
  pki::EvpPkeyPtr cert_key(X509_get_pubkey(cert->get()));
  EXPECT_EQ(EVP_PKEY_eq(cert_key.get(), key.get()), 1);
  EXPECT_NEAR(SecondsUntil(X509_get0_notAfter(cert->get())), 3600, 5);
  // Valid from a little before now (clock skew), no earlier.
  EXPECT_NEAR(SecondsUntil(X509_get0_notBefore(cert->get())), -300, 5);

  // Lifetime 0: the configured default (24 hours).
  issued = ca().IssueForCaller(kCaller, Request(OwnCsr(key.get())));
  ASSERT_TRUE(issued.ok()) << issued.status();
  cert = pki::CertificateFromPem(issued->certificate_pem());
  ASSERT_TRUE(cert.ok());
  EXPECT_NEAR(SecondsUntil(X509_get0_notAfter(cert->get())), 24 * 3600, 5);

  // People's clients too, for their own ID.
  issued = ca().IssueForCaller("client/rustiqctl",
                               Request(OwnCsr(key.get(), "client/rustiqctl")));
  ASSERT_TRUE(issued.ok()) << issued.status();
  cert = pki::CertificateFromPem(issued->certificate_pem());
  ASSERT_TRUE(cert.ok());
  EXPECT_THAT(pki::UriSans(cert->get()),
              ElementsAre("spiffe://test-device/client/rustiqctl"));
}

TEST_F(KeydDeviceCaTest, TheCaIsKeydsDeviceCaKey) {
  absl::StatusOr<pki::X509Ptr> ca_cert =
      pki::CertificateFromPem(ca().TrustBundlePem());
  ASSERT_TRUE(ca_cert.ok());
  EXPECT_THAT(pki::UriSans(ca_cert->get()),
              ElementsAre("spiffe://test-device"));
  EXPECT_EQ(X509_check_ca(ca_cert->get()), 1);
  pki::EvpPkeyPtr ca_key(X509_get_pubkey(ca_cert->get()));
  v1::GetPublicKeyRequest r;
  r.set_name(kDeviceCaKey);
  absl::StatusOr<v1::PublicKey> pk =
      keyd_->keys->GetPublicKey({"svc/supervisord", false}, r);
  ASSERT_TRUE(pk.ok()) << pk.status();
  EXPECT_EQ(test::PublicDerOf(ca_key.get()), pk->der());
  // Stored with the keys.
  EXPECT_EQ(keyd_->keys->CaCertificatePem(), ca().TrustBundlePem());

  // Another device's CA does not vouch for this one's certificates.
  rustiq::testing::TempDir other_dir("keyd-ca-other");
  absl::StatusOr<Keyd> other = OpenKeyd(ConfigIn(other_dir), &sink_, true);
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_NE(other->ca->TrustBundlePem(), ca().TrustBundlePem());
  pki::EvpPkeyPtr key = NewP256();
  absl::StatusOr<v1::IssueCertificateResponse> issued =
      ca().IssueForCaller(kCaller, Request(OwnCsr(key.get())));
  ASSERT_TRUE(issued.ok());
  EXPECT_NE(
      VerifyAgainst(issued->certificate_pem(), other->ca->TrustBundlePem()),
      "");
}

TEST_F(KeydDeviceCaTest, RefusesCsrsForAnyOtherId) {
  pki::EvpPkeyPtr key = NewP256();
  const std::vector<std::vector<std::string>> others = {
      {"spiffe://test-device/svc/authd"},
      {"spiffe://other-device/svc/cloudd"},
      {"spiffe://test-device/svc/cloudd/x"},
      {"spiffe://test-device/client/cloudd"},
      {},
      {kCallerUri, kCallerUri},
      {kCallerUri, "spiffe://test-device/svc/authd"},
      {"spiffe://test-device/svc/authd", kCallerUri},
  };
  for (const std::vector<std::string>& uris : others) {
    SCOPED_TRACE(uris.empty() ? "no SAN"
                              : absl::StrCat(uris[0], " +", uris.size() - 1));
    EXPECT_TRUE(IsError(
        ca().IssueForCaller(kCaller, Request(MakeRequest(key.get(), uris))),
        Code::kPermissionDenied,
        {"only be issued for the caller's own ID", kCallerUri,
         "exactly that one URI SAN"}));
  }
  // pki::MakeCsr for another daemon.
  EXPECT_TRUE(IsError(
      ca().IssueForCaller(kCaller, Request(OwnCsr(key.get(), "svc/authd"))),
      Code::kPermissionDenied));
  // The same CSR from the ID it names is fine.
  EXPECT_TRUE(ca().IssueForCaller(kCaller,
                                  Request(MakeRequest(key.get(), {kCallerUri})))
                  .ok());
}

TEST_F(KeydDeviceCaTest, RefusesLifetimesAboveTheMaximum) {
  pki::EvpPkeyPtr key = NewP256();
  const std::string csr = OwnCsr(key.get());
  for (uint32_t seconds :
       {static_cast<uint32_t>(kMaxLifetimeSeconds + 1), 0xffffffffu}) {
    EXPECT_TRUE(IsError(
        ca().IssueForCaller(kCaller, Request(csr, seconds)),
        Code::kInvalidArgument,
        {"exceeds the maximum 168h", "keyd.max_identity_lifetime_hours"}))
        << seconds;
  }
  absl::StatusOr<v1::IssueCertificateResponse> longest = ca().IssueForCaller(
      kCaller, Request(csr, static_cast<uint32_t>(kMaxLifetimeSeconds)));
  ASSERT_TRUE(longest.ok()) << longest.status();
  absl::StatusOr<pki::X509Ptr> cert =
      pki::CertificateFromPem(longest->certificate_pem());
  ASSERT_TRUE(cert.ok());
  EXPECT_NEAR(SecondsUntil(X509_get0_notAfter(cert->get())),
              kMaxLifetimeSeconds, 5);
  EXPECT_TRUE(ca().IssueForCaller(kCaller, Request(csr, 1)).ok());
}

TEST_F(KeydDeviceCaTest, RefusesMalformedCsrs) {
  pki::EvpPkeyPtr key = NewP256();
  const std::string good = OwnCsr(key.get());
  const size_t body = good.find('\n') + 1;
  struct Case {
    const char* what;
    std::string pem;
    const char* says;
  };
  const Case cases[] = {
      {"empty", "", "not a PEM certificate request"},
      {"garbage", "garbage", "not a PEM certificate request"},
      {"truncated PEM", good.substr(0, good.size() / 2),
       "not a PEM certificate request"},
      {"without its end line", good.substr(0, good.rfind("-----END")),
       "not a PEM certificate request"},
      {"base64 of nothing",
       "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n"
       "-----END CERTIFICATE REQUEST-----\n",
       "not a PEM certificate request"},
      {"a byte of the body changed",
       good.substr(0, body) + (good[body] == 'M' ? 'N' : 'M') +
           good.substr(body + 1),
       "not a PEM certificate request"},
      {"altered signature",
       EditRequestDer(good,
                      [](std::string* der) {
                        der->back() = static_cast<char>(der->back() ^ 0x01);
                      }),
       "CSR signature does not verify"},
      {"SAN changed after signing",
       EditRequestDer(good,
                      [](std::string* der) {
                        size_t at = der->find("svc/cloudd");
                        ASSERT_NE(at, std::string::npos);
                        (*der)[at + 9] = 'x';  // svc/cloudx
                      }),
       "CSR signature does not verify"},
      {"oversized", std::string(pki::kMaxCsrPemBytes + 1, 'A'), "larger than"},
      {"the caller's own URI in two subjectAltName extensions",
       MakeRequest(key.get(), {kCallerUri}, EVP_sha256(), 2),
       "more than one subjectAltName extension"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    EXPECT_TRUE(IsError(ca().IssueForCaller(kCaller, Request(c.pem)),
                        Code::kInvalidArgument, {c.says}));
  }
  // The relabelled CSR is refused for the ID it now names too.
  std::string relabelled = EditRequestDer(good, [](std::string* der) {
    (*der)[der->find("svc/cloudd") + 9] = 'x';
  });
  EXPECT_FALSE(ca().IssueForCaller("svc/cloudx", Request(relabelled)).ok());
  EXPECT_TRUE(ca().IssueForCaller(kCaller, Request(good)).ok());
}

TEST_F(KeydDeviceCaTest, RefusesKeysOtherThanP256) {
  pki::EvpPkeyPtr ed(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  pki::EvpPkeyPtr p384(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384"));
  pki::EvpPkeyPtr rsa(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048}));
  ASSERT_NE(ed, nullptr);
  ASSERT_NE(p384, nullptr);
  ASSERT_NE(rsa, nullptr);
  const std::pair<const char*, std::string> csrs[] = {
      {"ed25519", MakeRequest(ed.get(), {kCallerUri}, nullptr)},
      {"p-384", MakeRequest(p384.get(), {kCallerUri})},
      {"rsa-2048", MakeRequest(rsa.get(), {kCallerUri})},
  };
  for (const auto& [what, csr] : csrs) {
    SCOPED_TRACE(what);
    // Each is a well-formed CSR that proves possession of its key.
    ASSERT_TRUE(pki::ParseCsr(csr).ok());
    EXPECT_TRUE(IsError(ca().IssueForCaller(kCaller, Request(csr)),
                        Code::kInvalidArgument,
                        {"the CSR's key must be EC P-256"}));
  }
}

TEST_F(KeydDeviceCaTest, TheCaCertificatePersistsAcrossReopening) {
  const std::string pem = ca().TrustBundlePem();
  ASSERT_FALSE(pem.empty());
  pki::EvpPkeyPtr key = NewP256();
  absl::StatusOr<v1::IssueCertificateResponse> before =
      ca().IssueForCaller(kCaller, Request(OwnCsr(key.get())));
  ASSERT_TRUE(before.ok());

  Open(/*provision=*/false);
  EXPECT_EQ(ca().TrustBundlePem(), pem);
  EXPECT_EQ(VerifyAgainst(before->certificate_pem(), ca().TrustBundlePem()),
            "");
  absl::StatusOr<v1::IssueCertificateResponse> after =
      ca().IssueForCaller(kCaller, Request(OwnCsr(key.get())));
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(VerifyAgainst(after->certificate_pem(), pem), "");
  // Provisioning again changes nothing either.
  Open(/*provision=*/true);
  EXPECT_EQ(ca().TrustBundlePem(), pem);
}

TEST_F(KeydDeviceCaTest, ARotatedCaKeyGetsANewCertificate) {
  const std::string old_pem = ca().TrustBundlePem();
  ASSERT_TRUE(
      keyd_->keys->RotateKey({"client/rustiqctl", true}, kDeviceCaKey).ok());
  Open(/*provision=*/false);
  const std::string new_pem = ca().TrustBundlePem();
  EXPECT_NE(new_pem, old_pem);
  EXPECT_EQ(keyd_->keys->CaCertificatePem(), new_pem);
  absl::StatusOr<pki::X509Ptr> ca_cert = pki::CertificateFromPem(new_pem);
  ASSERT_TRUE(ca_cert.ok());
  pki::EvpPkeyPtr ca_key(X509_get_pubkey(ca_cert->get()));
  v1::GetPublicKeyRequest r;
  r.set_name(kDeviceCaKey);
  absl::StatusOr<v1::PublicKey> pk =
      keyd_->keys->GetPublicKey({"svc/supervisord", false}, r);
  ASSERT_TRUE(pk.ok());
  EXPECT_EQ(pk->version(), 2u);
  EXPECT_EQ(test::PublicDerOf(ca_key.get()), pk->der());

  pki::EvpPkeyPtr key = NewP256();
  absl::StatusOr<v1::IssueCertificateResponse> issued =
      ca().IssueForCaller(kCaller, Request(OwnCsr(key.get())));
  ASSERT_TRUE(issued.ok());
  EXPECT_EQ(VerifyAgainst(issued->certificate_pem(), new_pem), "");
  EXPECT_NE(VerifyAgainst(issued->certificate_pem(), old_pem), "");
  // And it is kept from then on.
  Open(/*provision=*/false);
  EXPECT_EQ(ca().TrustBundlePem(), new_pem);
}

TEST_F(KeydDeviceCaTest, ARetiredCaKeyVersionNoLongerSigns) {
  // Until keyd restarts, the CA signs with the version its certificate
  // names, even after a rotation; once that version is retired, with none.
  const Caller person{"client/rustiqctl", true};
  const std::string old_pem = ca().TrustBundlePem();
  ASSERT_TRUE(keyd_->keys->RotateKey(person, kDeviceCaKey).ok());
  pki::EvpPkeyPtr key = NewP256();
  const std::string csr = OwnCsr(key.get());
  absl::StatusOr<v1::IssueCertificateResponse> issued =
      ca().IssueForCaller(kCaller, Request(csr));
  ASSERT_TRUE(issued.ok()) << issued.status();
  EXPECT_EQ(VerifyAgainst(issued->certificate_pem(), old_pem), "");

  ASSERT_TRUE(keyd_->keys->RetireKeyVersion(person, kDeviceCaKey, 1).ok());
  EXPECT_TRUE(IsError(
      ca().IssueForCaller(kCaller, Request(csr)), Code::kFailedPrecondition,
      {"version 1 of the device-ca key", "was retired", "restart keyd"}));
  // A restart makes a CA certificate for version 2, which signs.
  Open(/*provision=*/false);
  issued = ca().IssueForCaller(kCaller, Request(csr));
  ASSERT_TRUE(issued.ok()) << issued.status();
  EXPECT_EQ(VerifyAgainst(issued->certificate_pem(), ca().TrustBundlePem()),
            "");
  EXPECT_NE(VerifyAgainst(issued->certificate_pem(), old_pem), "");
}

TEST_F(KeydDeviceCaTest, ProvisioningIssuesAnyIdentityOfTheTrustDomain) {
  pki::EvpPkeyPtr key = NewP256();
  absl::StatusOr<identity::SpiffeId> id =
      identity::SpiffeId::ForService(test::kDeviceId, "authd");
  ASSERT_TRUE(id.ok());
  absl::StatusOr<std::string> cert =
      ca().issuer().IssueCertificate(key.get(), *id, absl::Hours(1));
  ASSERT_TRUE(cert.ok()) << cert.status();
  EXPECT_EQ(VerifyAgainst(*cert, ca().TrustBundlePem()), "");
  absl::StatusOr<identity::SpiffeId> foreign =
      identity::SpiffeId::ForService("other-device", "authd");
  ASSERT_TRUE(foreign.ok());
  EXPECT_FALSE(
      ca().issuer().IssueCertificate(key.get(), *foreign, absl::Hours(1)).ok());
}

TEST_F(KeydDeviceCaTest, OpeningWithoutProvisioningNeedsTheState) {
  rustiq::testing::TempDir empty("keyd-ca-empty");
  ASSERT_EQ(mkdir((empty / "keyd").c_str(), 0700), 0);
  EXPECT_TRUE(IsError(OpenKeyd(ConfigIn(empty), &sink_, /*provision=*/false),
                      Code::kNotFound, {"master key", "does not exist"}));
  // A master key but no store: not provisioned either.
  ASSERT_TRUE(CreateMasterKey(empty / "keyd/master.key").ok());
  EXPECT_TRUE(IsError(OpenKeyd(ConfigIn(empty), &sink_, /*provision=*/false),
                      Code::kFailedPrecondition,
                      {"keys.store does not exist", "provision the device"}));
}

TEST_F(KeydDeviceCaTest, NothingIsIssuedAfterZeroize) {
  pki::EvpPkeyPtr key = NewP256();
  const std::string csr = OwnCsr(key.get());
  ASSERT_TRUE(ca().IssueForCaller(kCaller, Request(csr)).ok());
  // Nothing but the key manager may keep the CA key alive: zeroize drops
  // the manager's reference, and the key (a soft key is its private
  // material, with presigned nonces) must then be freed.
  std::weak_ptr<BackendKey> ca_key;
  {
    absl::StatusOr<KeyManager::InternalVersion> held =
        keyd_->keys->InternalKey(kDeviceCaKey);
    ASSERT_TRUE(held.ok()) << held.status();
    ca_key = held->key;
  }
  ASSERT_FALSE(ca_key.expired());
  v1::ZeroizeRequest zeroize;
  zeroize.set_confirm(kZeroizeConfirmation);
  absl::StatusOr<uint32_t> destroyed = keyd_->keys->Zeroize(
      {"svc/supervisord", false}, zeroize, keyd_->paths.master_key);
  ASSERT_TRUE(destroyed.ok()) << destroyed.status();
  EXPECT_TRUE(ca_key.expired());
  // The CA key is destroyed with the others: no certificate, for a caller
  // or for provisioning.
  EXPECT_TRUE(IsError(ca().IssueForCaller(kCaller, Request(csr)),
                      Code::kFailedPrecondition, {"keyd was zeroized"}));
  absl::StatusOr<identity::SpiffeId> id =
      identity::SpiffeId::ForService(test::kDeviceId, "authd");
  ASSERT_TRUE(id.ok());
  EXPECT_FALSE(
      ca().issuer().IssueCertificate(key.get(), *id, absl::Hours(1)).ok());
  // Nor the trust bundle (GetTrustBundle): every call fails.
  EXPECT_TRUE(IsError(ca().TrustBundle(), Code::kFailedPrecondition,
                      {"keyd was zeroized"}));
}

}  // namespace
}  // namespace rustiq::keyd
