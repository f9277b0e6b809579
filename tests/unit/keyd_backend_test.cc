// The conformance suite every keyd key backend passes: the same tests, run
// against `soft` and against `pkcs11` on a fresh SoftHSM2 token. What they
// check is the contract in services/keyd/backend.h; every signature and
// ciphertext is checked with OpenSSL from the exported public key, never by
// the backend under test.
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "common/pki/openssl_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/keyd/backend.h"
#include "services/keyd/pkcs11/pkcs11_backend.h"
#include "services/keyd/soft_backend.h"
#include "tests/support/softhsm_token.h"

namespace rustiq::keyd {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr Algorithm kAllAlgorithms[] = {Algorithm::kEcP256, Algorithm::kEd25519,
                                        Algorithm::kRsa3072,
                                        Algorithm::kAes256};
constexpr SignatureScheme kAllSchemes[] = {
    SignatureScheme::kEcdsaP256Sha256, SignatureScheme::kEd25519,
    SignatureScheme::kRsaPssSha256, SignatureScheme::kRsaPkcs1Sha256};

struct BackendParam {
  const char* name;  // of the instance: "soft", "soft_presign", "pkcs11"
  const char* backend_name;  // KeyBackend::name()
  // False for backends whose handle is the key material: Destroy and
  // DestroyAll are then no-ops (backend.h), and an old handle still opens.
  bool destroy_removes_material;
};

std::string PrintBackend(const ::testing::TestParamInfo<BackendParam>& info) {
  return info.param.name;
}

// ---------------------------------------------------------------------------
// One backend per kind for the whole test process, with one key per
// algorithm made on first use and shared by the tests: RSA-3072 generation
// takes a second or more, on the token as in software.

struct SharedKey {
  SecretBytes handle;
  std::unique_ptr<BackendKey> key;
};

class BackendUnderTest {
 public:
  static absl::StatusOr<std::unique_ptr<BackendUnderTest>> Create(
      const std::string& name) {
    auto under_test = std::make_unique<BackendUnderTest>();
    if (name == "soft") {
      under_test->backend_ = NewSoftBackend();
      return under_test;
    }
    if (name == "soft_presign") {
      // P-256 signatures with precomputed nonces, kept scarce so that the
      // suite signs both with and without one.
      SoftBackendOptions options;
      options.presign_nonces = 2;
      under_test->backend_ = NewSoftBackend(options);
      under_test->backend_->StartWorkers();
      return under_test;
    }
    absl::StatusOr<std::unique_ptr<testing::SoftHsmToken>> token =
        testing::SoftHsmToken::Create();
    if (!token.ok()) return token.status();
    Pkcs11Options options;
    options.module_path = (*token)->module_path();
    options.token_label = (*token)->label();
    options.pin = SecretBytes((*token)->user_pin());
    absl::StatusOr<std::unique_ptr<KeyBackend>> backend =
        NewPkcs11Backend(options);
    if (!backend.ok()) return backend.status();
    under_test->token_ = *std::move(token);
    under_test->backend_ = *std::move(backend);
    return under_test;
  }

  ~BackendUnderTest() {
    // Keys and backend release the module before the token's files go.
    keys_.clear();
    backend_.reset();
  }

  KeyBackend& backend() { return *backend_; }

  // The shared key of `algorithm`, generated and opened on first use.
  absl::StatusOr<const BackendKey*> Key(Algorithm algorithm) {
    auto it = keys_.find(algorithm);
    if (it == keys_.end()) {
      absl::StatusOr<SecretBytes> handle =
          backend_->Generate(algorithm, "conformance.v1");
      if (!handle.ok()) return handle.status();
      absl::StatusOr<std::unique_ptr<BackendKey>> key =
          backend_->Open(algorithm, *handle);
      if (!key.ok()) return key.status();
      it = keys_
               .emplace(algorithm,
                        SharedKey{*std::move(handle), *std::move(key)})
               .first;
    }
    return it->second.key.get();
  }
  const SecretBytes& Handle(Algorithm algorithm) {
    return keys_.at(algorithm).handle;
  }

  // After DestroyAll the shared keys may be gone.
  void ForgetKeys() { keys_.clear(); }

 private:
  std::unique_ptr<testing::SoftHsmToken> token_;  // pkcs11 only
  std::unique_ptr<KeyBackend> backend_;
  std::map<Algorithm, SharedKey> keys_;
};

// Holds the backends until every test has run, then tears them down before
// static destruction (which would otherwise finalise SoftHSM in no
// particular order).
class Backends : public ::testing::Environment {
 public:
  static absl::StatusOr<BackendUnderTest*> Get(const std::string& name) {
    auto& all = All();
    auto it = all.find(name);
    if (it == all.end()) {
      absl::StatusOr<std::unique_ptr<BackendUnderTest>> created =
          BackendUnderTest::Create(name);
      if (!created.ok()) return created.status();
      it = all.emplace(name, *std::move(created)).first;
    }
    return it->second.get();
  }
  void TearDown() override { All().clear(); }

 private:
  static std::map<std::string, std::unique_ptr<BackendUnderTest>>& All() {
    static auto* all =
        new std::map<std::string, std::unique_ptr<BackendUnderTest>>();
    return *all;
  }
};
[[maybe_unused]] ::testing::Environment* const kBackends =
    ::testing::AddGlobalTestEnvironment(new Backends);

// ---------------------------------------------------------------------------
// OpenSSL on the verifying side.

std::string Sha256(absl::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(),
         digest);
  return std::string(reinterpret_cast<const char*>(digest), sizeof(digest));
}

const unsigned char* Bytes(absl::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

pki::EvpPkeyPtr ParsePublicKey(const std::string& der) {
  const unsigned char* p = Bytes(der);
  pki::EvpPkeyPtr key(d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size())));
  EXPECT_NE(key, nullptr) << "PublicKeyDer does not parse";
  if (key != nullptr) {
    EXPECT_EQ(p, Bytes(der) + der.size()) << "trailing bytes";
  }
  return key;
}

pki::EvpPkeyPtr PublicKeyOf(const BackendKey& key) {
  absl::StatusOr<std::string> der = key.PublicKeyDer();
  EXPECT_TRUE(der.ok()) << der.status();
  if (!der.ok()) return nullptr;
  return ParsePublicKey(*der);
}

// Verifies `signature` over `input` (a digest, or the Ed25519 message) as
// `scheme` says.
bool Verifies(EVP_PKEY* key, SignatureScheme scheme, absl::string_view input,
              absl::string_view signature) {
  if (key == nullptr) return false;
  if (scheme == SignatureScheme::kEd25519) {
    std::unique_ptr<EVP_MD_CTX,
                    pki::OpenSslDeleter<EVP_MD_CTX, EVP_MD_CTX_free>>
        ctx(EVP_MD_CTX_new());
    return EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key) ==
               1 &&
           EVP_DigestVerify(ctx.get(), Bytes(signature), signature.size(),
                            Bytes(input), input.size()) == 1;
  }
  pki::EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new(key, nullptr));
  if (EVP_PKEY_verify_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_signature_md(ctx.get(), EVP_sha256()) != 1) {
    return false;
  }
  if (scheme == SignatureScheme::kRsaPssSha256 &&
      (EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PSS_PADDING) != 1 ||
       EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx.get(), 32) != 1 ||
       EVP_PKEY_CTX_set_rsa_mgf1_md(ctx.get(), EVP_sha256()) != 1)) {
    return false;
  }
  if (scheme == SignatureScheme::kRsaPkcs1Sha256 &&
      EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PADDING) != 1) {
    return false;
  }
  return EVP_PKEY_verify(ctx.get(), Bytes(signature), signature.size(),
                         Bytes(input), input.size()) == 1;
}

// RSA-OAEP encryption with `md` for both the label hash and MGF1.
std::string OaepEncrypt(EVP_PKEY* key, absl::string_view plaintext,
                        const EVP_MD* md = EVP_sha256()) {
  pki::EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new(key, nullptr));
  size_t length = 0;
  if (ctx == nullptr || EVP_PKEY_encrypt_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_OAEP_PADDING) != 1 ||
      EVP_PKEY_CTX_set_rsa_oaep_md(ctx.get(), md) != 1 ||
      EVP_PKEY_CTX_set_rsa_mgf1_md(ctx.get(), md) != 1 ||
      EVP_PKEY_encrypt(ctx.get(), nullptr, &length, Bytes(plaintext),
                       plaintext.size()) != 1) {
    ADD_FAILURE() << "OpenSSL OAEP encryption failed: " << pki::OpenSslErrors();
    return "";
  }
  std::string ciphertext(length, '\0');
  EXPECT_EQ(EVP_PKEY_encrypt(
                ctx.get(), reinterpret_cast<unsigned char*>(ciphertext.data()),
                &length, Bytes(plaintext), plaintext.size()),
            1);
  ciphertext.resize(length);
  return ciphertext;
}

std::string Flipped(std::string bytes, size_t index) {
  bytes[index] = static_cast<char>(bytes[index] ^ 0x01);
  return bytes;
}

// A digest or message fitting `scheme`.
std::string InputFor(SignatureScheme scheme, absl::string_view message) {
  return SchemeTakesDigest(scheme) ? Sha256(message) : std::string(message);
}

// ---------------------------------------------------------------------------

class KeyBackendConformance : public ::testing::TestWithParam<BackendParam> {
 protected:
  void SetUp() override {
    absl::StatusOr<BackendUnderTest*> under_test =
        Backends::Get(GetParam().name);
    ASSERT_TRUE(under_test.ok()) << under_test.status();
    under_test_ = *under_test;
  }

  KeyBackend& backend() { return under_test_->backend(); }

  // The shared key of `algorithm`, or null (and a failure) when there is
  // none. Tests use KEY_OR_RETURN.
  const BackendKey* Key(Algorithm algorithm) {
    absl::StatusOr<const BackendKey*> key = under_test_->Key(algorithm);
    if (!key.ok()) {
      ADD_FAILURE() << AlgorithmName(algorithm) << ": " << key.status();
      return nullptr;
    }
    return *key;
  }

  // A key of its own (cheap algorithms only), for tests that destroy.
  std::unique_ptr<BackendKey> FreshKey(Algorithm algorithm,
                                       SecretBytes* handle_out = nullptr) {
    absl::StatusOr<SecretBytes> handle =
        backend().Generate(algorithm, "conformance-fresh.v1");
    EXPECT_TRUE(handle.ok()) << handle.status();
    if (!handle.ok()) return nullptr;
    absl::StatusOr<std::unique_ptr<BackendKey>> key =
        backend().Open(algorithm, *handle);
    EXPECT_TRUE(key.ok()) << key.status();
    if (handle_out != nullptr) *handle_out = *std::move(handle);
    return key.ok() ? *std::move(key) : nullptr;
  }

  BackendUnderTest* under_test_ = nullptr;
};

// Binds `var` to the shared key of `algorithm`, ending the test if there is
// none.
#define KEY_OR_RETURN(var, algorithm)           \
  const BackendKey* var##_ptr = Key(algorithm); \
  ASSERT_NE(var##_ptr, nullptr);                \
  const BackendKey& var = *var##_ptr

TEST_P(KeyBackendConformance, ReportsItsName) {
  EXPECT_STREQ(backend().name(), GetParam().backend_name);
}

TEST_P(KeyBackendConformance, GeneratesOpensAndExportsEveryAlgorithm) {
  for (Algorithm algorithm : kAllAlgorithms) {
    SCOPED_TRACE(AlgorithmName(algorithm));
    KEY_OR_RETURN(key, algorithm);
    EXPECT_EQ(key.algorithm(), algorithm);
    EXPECT_FALSE(under_test_->Handle(algorithm).empty());
    // Opening the same handle again gives the same key.
    absl::StatusOr<std::unique_ptr<BackendKey>> again =
        backend().Open(algorithm, under_test_->Handle(algorithm));
    ASSERT_TRUE(again.ok()) << again.status();
    if (algorithm == Algorithm::kAes256) {
      EXPECT_EQ(key.PublicKeyDer().status().code(),
                absl::StatusCode::kFailedPrecondition);
      continue;
    }
    absl::StatusOr<std::string> der = key.PublicKeyDer();
    ASSERT_TRUE(der.ok()) << der.status();
    EXPECT_EQ((*again)->PublicKeyDer().value_or(""), *der);
    pki::EvpPkeyPtr public_key = ParsePublicKey(*der);
    ASSERT_NE(public_key, nullptr);
    switch (algorithm) {
      case Algorithm::kEcP256:
        EXPECT_TRUE(pki::IsP256Key(public_key.get()));
        break;
      case Algorithm::kEd25519:
        EXPECT_EQ(EVP_PKEY_get_base_id(public_key.get()), EVP_PKEY_ED25519);
        break;
      case Algorithm::kRsa3072:
        EXPECT_EQ(EVP_PKEY_get_base_id(public_key.get()), EVP_PKEY_RSA);
        EXPECT_EQ(EVP_PKEY_get_bits(public_key.get()), 3072);
        break;
      case Algorithm::kAes256:
        break;
    }
  }
}

TEST_P(KeyBackendConformance, AesKeyHasNoPublicKey) {
  KEY_OR_RETURN(key, Algorithm::kAes256);
  absl::StatusOr<std::string> der = key.PublicKeyDer();
  EXPECT_EQ(der.status().code(), absl::StatusCode::kFailedPrecondition)
      << der.status();
}

TEST_P(KeyBackendConformance, EcdsaSignatureOfADigestVerifies) {
  KEY_OR_RETURN(key, Algorithm::kEcP256);
  pki::EvpPkeyPtr public_key = PublicKeyOf(key);
  std::string digest = Sha256("attest this");
  absl::StatusOr<std::string> signature =
      key.Sign(SignatureScheme::kEcdsaP256Sha256, digest);
  ASSERT_TRUE(signature.ok()) << signature.status();
  EXPECT_TRUE(Verifies(public_key.get(), SignatureScheme::kEcdsaP256Sha256,
                       digest, *signature));
  EXPECT_FALSE(Verifies(public_key.get(), SignatureScheme::kEcdsaP256Sha256,
                        Sha256("something else"), *signature));
}

TEST_P(KeyBackendConformance, Ed25519SignatureOfTheMessageVerifies) {
  KEY_OR_RETURN(key, Algorithm::kEd25519);
  pki::EvpPkeyPtr public_key = PublicKeyOf(key);
  // Any length, the empty message included: Ed25519 hashes it itself.
  for (std::string message :
       {std::string("attest this"), std::string(), std::string(5000, 'm')}) {
    absl::StatusOr<std::string> signature =
        key.Sign(SignatureScheme::kEd25519, message);
    ASSERT_TRUE(signature.ok()) << signature.status();
    EXPECT_EQ(signature->size(), 64u);
    EXPECT_TRUE(Verifies(public_key.get(), SignatureScheme::kEd25519, message,
                         *signature));
    EXPECT_FALSE(Verifies(public_key.get(), SignatureScheme::kEd25519,
                          message + "!", *signature));
  }
}

TEST_P(KeyBackendConformance, RsaPssAndPkcs1SignaturesOfADigestVerify) {
  KEY_OR_RETURN(key, Algorithm::kRsa3072);
  pki::EvpPkeyPtr public_key = PublicKeyOf(key);
  std::string digest = Sha256("attest this");
  for (SignatureScheme scheme :
       {SignatureScheme::kRsaPssSha256, SignatureScheme::kRsaPkcs1Sha256}) {
    SCOPED_TRACE(static_cast<int>(scheme));
    absl::StatusOr<std::string> signature = key.Sign(scheme, digest);
    ASSERT_TRUE(signature.ok()) << signature.status();
    EXPECT_EQ(signature->size(), 384u);
    EXPECT_TRUE(Verifies(public_key.get(), scheme, digest, *signature));
    EXPECT_FALSE(
        Verifies(public_key.get(), scheme, Sha256("else"), *signature));
  }
  // PSS is randomised (salt 32), PKCS#1 v1.5 is not.
  EXPECT_NE(key.Sign(SignatureScheme::kRsaPssSha256, digest).value_or("a"),
            key.Sign(SignatureScheme::kRsaPssSha256, digest).value_or("a"));
  EXPECT_EQ(key.Sign(SignatureScheme::kRsaPkcs1Sha256, digest).value_or("a"),
            key.Sign(SignatureScheme::kRsaPkcs1Sha256, digest).value_or("b"));
}

TEST_P(KeyBackendConformance, RefusesSchemesThatDoNotFitTheKey) {
  for (Algorithm algorithm : kAllAlgorithms) {
    KEY_OR_RETURN(key, algorithm);
    for (SignatureScheme scheme : kAllSchemes) {
      if (SchemeAlgorithm(scheme) == algorithm) continue;
      SCOPED_TRACE(absl::StrCat(AlgorithmName(algorithm), " scheme ",
                                static_cast<int>(scheme)));
      absl::StatusOr<std::string> signature =
          key.Sign(scheme, InputFor(scheme, "m"));
      EXPECT_EQ(signature.status().code(), absl::StatusCode::kInvalidArgument)
          << signature.status();
    }
    if (algorithm != Algorithm::kRsa3072) {
      EXPECT_EQ(
          key.Decrypt(DecryptScheme::kRsaOaepSha256, std::string(384, 'c'))
              .status()
              .code(),
          absl::StatusCode::kInvalidArgument);
    }
    if (algorithm != Algorithm::kAes256) {
      EXPECT_EQ(key.SealGcm("p", "aad").status().code(),
                absl::StatusCode::kInvalidArgument);
      EXPECT_EQ(key.UnsealGcm(std::string(40, 's'), "aad").status().code(),
                absl::StatusCode::kInvalidArgument);
    }
  }
}

TEST_P(KeyBackendConformance, RefusesDigestsOfTheWrongLength) {
  KEY_OR_RETURN(ec, Algorithm::kEcP256);
  for (size_t length : {0, 20, 31, 33, 48, 64}) {
    SCOPED_TRACE(length);
    std::string digest(length, 'd');
    EXPECT_EQ(
        ec.Sign(SignatureScheme::kEcdsaP256Sha256, digest).status().code(),
        absl::StatusCode::kInvalidArgument);
  }
  KEY_OR_RETURN(rsa, Algorithm::kRsa3072);
  for (SignatureScheme scheme :
       {SignatureScheme::kRsaPssSha256, SignatureScheme::kRsaPkcs1Sha256}) {
    for (size_t length : {0, 20, 31, 51, 64}) {
      SCOPED_TRACE(length);
      EXPECT_EQ(rsa.Sign(scheme, std::string(length, 'd')).status().code(),
                absl::StatusCode::kInvalidArgument);
    }
  }
}

TEST_P(KeyBackendConformance, RsaOaepDecryptsWhatOpenSslEncrypted) {
  KEY_OR_RETURN(key, Algorithm::kRsa3072);
  pki::EvpPkeyPtr public_key = PublicKeyOf(key);
  ASSERT_NE(public_key, nullptr);
  // Empty, short, and the longest OAEP-SHA256 allows (384 - 2*32 - 2).
  for (std::string plaintext :
       {std::string(), std::string("wrapped key"), std::string(318, '\x7f')}) {
    SCOPED_TRACE(plaintext.size());
    std::string ciphertext = OaepEncrypt(public_key.get(), plaintext);
    absl::StatusOr<SecretBytes> decrypted =
        key.Decrypt(DecryptScheme::kRsaOaepSha256, ciphertext);
    ASSERT_TRUE(decrypted.ok()) << decrypted.status();
    EXPECT_EQ(decrypted->view(), plaintext);
  }
}

TEST_P(KeyBackendConformance, RsaOaepRefusesCorruptedCiphertextAlike) {
  KEY_OR_RETURN(key, Algorithm::kRsa3072);
  pki::EvpPkeyPtr public_key = PublicKeyOf(key);
  ASSERT_NE(public_key, nullptr);
  std::string ciphertext = OaepEncrypt(public_key.get(), "wrapped key");
  ASSERT_EQ(ciphertext.size(), 384u);
  std::vector<std::string> bad = {
      Flipped(ciphertext, 0),
      Flipped(ciphertext, 200),
      Flipped(ciphertext, 383),
      ciphertext.substr(0, 383),
      ciphertext + "x",
      std::string(),
      std::string(384, '\xff'),  // larger than the modulus
      // Valid OAEP, but with SHA-1: a different scheme must not open.
      OaepEncrypt(public_key.get(), "wrapped key", EVP_sha1()),
  };
  std::string first_message;
  for (size_t i = 0; i < bad.size(); ++i) {
    SCOPED_TRACE(i);
    absl::StatusOr<SecretBytes> decrypted =
        key.Decrypt(DecryptScheme::kRsaOaepSha256, bad[i]);
    ASSERT_EQ(decrypted.status().code(), absl::StatusCode::kInvalidArgument)
        << decrypted.status();
    // One message whatever went wrong: no padding oracle.
    if (i == 0) first_message = std::string(decrypted.status().message());
    EXPECT_EQ(decrypted.status().message(), first_message);
  }
}

TEST_P(KeyBackendConformance, SealGcmRoundTripsWithFreshNonces) {
  KEY_OR_RETURN(key, Algorithm::kAes256);
  for (size_t size : {0, 1, 15, 16, 17, 1000}) {
    for (std::string aad : {std::string(), std::string("caller=alice")}) {
      SCOPED_TRACE(absl::StrCat(size, " bytes, aad ", aad));
      std::string plaintext(size, 'p');
      absl::StatusOr<std::string> sealed = key.SealGcm(plaintext, aad);
      ASSERT_TRUE(sealed.ok()) << sealed.status();
      EXPECT_EQ(sealed->size(), kGcmNonceBytes + size + kGcmTagBytes);
      absl::StatusOr<SecretBytes> opened = key.UnsealGcm(*sealed, aad);
      ASSERT_TRUE(opened.ok()) << opened.status();
      EXPECT_EQ(opened->view(), plaintext);
      // Same input, new nonce, new ciphertext.
      EXPECT_NE(key.SealGcm(plaintext, aad).value_or(*sealed), *sealed);
    }
  }
}

TEST_P(KeyBackendConformance, UnsealRefusesAlteredBlobsAlike) {
  KEY_OR_RETURN(key, Algorithm::kAes256);
  absl::StatusOr<std::string> sealed = key.SealGcm("the secret", "aad");
  ASSERT_TRUE(sealed.ok()) << sealed.status();
  struct Case {
    const char* what;
    std::string blob;
    std::string aad;
  };
  std::vector<Case> cases = {
      {"wrong aad", *sealed, "aae"},
      {"no aad", *sealed, ""},
      {"flipped nonce", Flipped(*sealed, 0), "aad"},
      {"flipped ciphertext", Flipped(*sealed, kGcmNonceBytes + 1), "aad"},
      {"flipped tag", Flipped(*sealed, sealed->size() - 1), "aad"},
      {"truncated tag", sealed->substr(0, sealed->size() - 1), "aad"},
      {"tag only", sealed->substr(0, kGcmNonceBytes + kGcmTagBytes), "aad"},
      {"shorter than nonce and tag", sealed->substr(0, 20), "aad"},
      {"empty", "", "aad"},
      {"extended", *sealed + "x", "aad"},
  };
  std::string first_message;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    absl::StatusOr<SecretBytes> opened = key.UnsealGcm(c.blob, c.aad);
    ASSERT_EQ(opened.status().code(), absl::StatusCode::kInvalidArgument)
        << opened.status();
    if (first_message.empty()) {
      first_message = std::string(opened.status().message());
    }
    EXPECT_EQ(opened.status().message(), first_message);
    EXPECT_THAT(std::string(opened.status().message()),
                Not(HasSubstr("the secret")));
  }
}

TEST_P(KeyBackendConformance, OpenRefusesMalformedHandles) {
  for (Algorithm algorithm : {Algorithm::kEcP256, Algorithm::kAes256}) {
    SCOPED_TRACE(AlgorithmName(algorithm));
    for (std::string garbage : {std::string(), std::string("x"),
                                std::string(21, '\0'), std::string(500, 'g')}) {
      absl::StatusOr<std::unique_ptr<BackendKey>> key =
          backend().Open(algorithm, SecretBytes(garbage));
      EXPECT_EQ(key.status().code(), absl::StatusCode::kDataLoss)
          << key.status();
    }
  }
}

// Two keys of one algorithm share nothing: distinct handles and public keys,
// neither verifies the other's signatures or opens the other's blobs, and
// destroying one leaves the other working.
TEST_P(KeyBackendConformance, TwoKeysAreIndependent) {
  SecretBytes handle_a;
  SecretBytes handle_b;
  std::unique_ptr<BackendKey> a = FreshKey(Algorithm::kEcP256, &handle_a);
  std::unique_ptr<BackendKey> b = FreshKey(Algorithm::kEcP256, &handle_b);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_NE(handle_a.view(), handle_b.view());
  EXPECT_NE(a->PublicKeyDer().value_or("a"), b->PublicKeyDer().value_or("a"));
  std::string digest = Sha256("m");
  absl::StatusOr<std::string> signature =
      a->Sign(SignatureScheme::kEcdsaP256Sha256, digest);
  ASSERT_TRUE(signature.ok()) << signature.status();
  EXPECT_FALSE(Verifies(PublicKeyOf(*b).get(),
                        SignatureScheme::kEcdsaP256Sha256, digest, *signature));

  std::unique_ptr<BackendKey> aes_a = FreshKey(Algorithm::kAes256);
  std::unique_ptr<BackendKey> aes_b = FreshKey(Algorithm::kAes256);
  ASSERT_NE(aes_a, nullptr);
  ASSERT_NE(aes_b, nullptr);
  absl::StatusOr<std::string> sealed = aes_a->SealGcm("secret", "aad");
  ASSERT_TRUE(sealed.ok()) << sealed.status();
  EXPECT_EQ(aes_b->UnsealGcm(*sealed, "aad").status().code(),
            absl::StatusCode::kInvalidArgument);

  ASSERT_TRUE(backend().Destroy(Algorithm::kEcP256, handle_a).ok());
  EXPECT_TRUE(b->Sign(SignatureScheme::kEcdsaP256Sha256, digest).ok());
  EXPECT_TRUE(backend().Open(Algorithm::kEcP256, handle_b).ok());
}

TEST_P(KeyBackendConformance, OpenFailsAfterDestroy) {
  SecretBytes ec_handle;
  SecretBytes aes_handle;
  ASSERT_NE(FreshKey(Algorithm::kEcP256, &ec_handle), nullptr);
  ASSERT_NE(FreshKey(Algorithm::kAes256, &aes_handle), nullptr);
  absl::Status destroyed = backend().Destroy(Algorithm::kEcP256, ec_handle);
  ASSERT_TRUE(destroyed.ok()) << destroyed;
  destroyed = backend().Destroy(Algorithm::kAes256, aes_handle);
  ASSERT_TRUE(destroyed.ok()) << destroyed;
  if (!GetParam().destroy_removes_material) {
    GTEST_SKIP() << GetParam().name
                 << ": the handle is the material; Destroy is a no-op";
  }
  EXPECT_EQ(backend().Open(Algorithm::kEcP256, ec_handle).status().code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(backend().Open(Algorithm::kAes256, aes_handle).status().code(),
            absl::StatusCode::kDataLoss);
}

TEST_P(KeyBackendConformance, SignsFromFourThreadsAtOnce) {
  KEY_OR_RETURN(ec, Algorithm::kEcP256);
  KEY_OR_RETURN(ed, Algorithm::kEd25519);
  pki::EvpPkeyPtr ec_public = PublicKeyOf(ec);
  pki::EvpPkeyPtr ed_public = PublicKeyOf(ed);
  constexpr int kThreads = 4;
  constexpr int kSignaturesPerThread = 25;
  std::atomic<int> good{0};
  std::vector<std::string> failures(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kSignaturesPerThread; ++i) {
        std::string message = absl::StrCat("thread ", t, " message ", i);
        // Alternate keys so that both share the backend at once.
        bool use_ec = (t + i) % 2 == 0;
        SignatureScheme scheme = use_ec ? SignatureScheme::kEcdsaP256Sha256
                                        : SignatureScheme::kEd25519;
        std::string input = InputFor(scheme, message);
        absl::StatusOr<std::string> signature =
            (use_ec ? ec : ed).Sign(scheme, input);
        if (!signature.ok()) {
          failures[t] = signature.status().ToString();
          return;
        }
        if (!Verifies(use_ec ? ec_public.get() : ed_public.get(), scheme, input,
                      *signature)) {
          failures[t] = absl::StrCat("signature ", i, " does not verify");
          return;
        }
        good.fetch_add(1);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int t = 0; t < kThreads; ++t)
    EXPECT_EQ(failures[t], "") << "thread " << t;
  EXPECT_EQ(good.load(), kThreads * kSignaturesPerThread);
}

// Last on purpose: it destroys the shared keys (they are made again if a
// later test, under --gtest_shuffle, needs them).
TEST_P(KeyBackendConformance, DestroyAllDestroysEveryKey) {
  // Make sure the shared keys of cheap algorithms exist, then two more.
  ASSERT_NE(Key(Algorithm::kEcP256), nullptr);
  ASSERT_NE(Key(Algorithm::kAes256), nullptr);
  SecretBytes ed_handle;
  SecretBytes aes_handle;
  ASSERT_NE(FreshKey(Algorithm::kEd25519, &ed_handle), nullptr);
  ASSERT_NE(FreshKey(Algorithm::kAes256, &aes_handle), nullptr);
  SecretBytes shared_ec = under_test_->Handle(Algorithm::kEcP256).Copy();

  absl::Status destroyed = backend().DestroyAll();
  under_test_->ForgetKeys();
  ASSERT_TRUE(destroyed.ok()) << destroyed;
  if (!GetParam().destroy_removes_material) {
    GTEST_SKIP() << GetParam().name
                 << ": the handle is the material; DestroyAll is a no-op";
  }
  EXPECT_EQ(backend().Open(Algorithm::kEd25519, ed_handle).status().code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(backend().Open(Algorithm::kAes256, aes_handle).status().code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(backend().Open(Algorithm::kEcP256, shared_ec).status().code(),
            absl::StatusCode::kDataLoss);
  // The backend is still usable afterwards.
  EXPECT_NE(FreshKey(Algorithm::kEcP256), nullptr);
}

INSTANTIATE_TEST_SUITE_P(
    AllBackends, KeyBackendConformance,
    ::testing::Values(
        BackendParam{"soft", "soft", /*destroy_removes_material=*/false},
        BackendParam{"soft_presign", "soft",
                     /*destroy_removes_material=*/false},
        BackendParam{"pkcs11", "pkcs11", /*destroy_removes_material=*/true}),
    PrintBackend);

}  // namespace
}  // namespace rustiq::keyd
