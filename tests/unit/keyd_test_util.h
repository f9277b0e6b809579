// Helpers shared by keyd's unit tests (keyd_*_test.cc): a key manager on the
// soft backend over a store and master key in a temporary directory, and
// independent OpenSSL checks of what keyd returns (signatures verified and
// ciphertexts made from the exported public key, never by keyd itself).
#ifndef RUSTIQ_TESTS_UNIT_KEYD_TEST_UTIL_H_
#define RUSTIQ_TESTS_UNIT_KEYD_TEST_UTIL_H_

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/audit/security_event.h"
#include "common/pki/openssl_util.h"
#include "gtest/gtest.h"
#include "services/keyd/backend.h"
#include "services/keyd/key_manager.h"
#include "services/keyd/key_policy.h"
#include "services/keyd/key_store.h"
#include "services/keyd/soft_backend.h"
#include "tests/support/recording_sink.h"
#include "tests/support/temp_dir.h"

namespace rustiq::keyd::test {

inline constexpr char kDeviceId[] = "test-device";

// Passes when `status` has `code` and its message contains every one of
// `parts`; says what it got otherwise.
inline ::testing::AssertionResult IsError(
    const absl::Status& status, absl::StatusCode code,
    const std::vector<absl::string_view>& parts = {}) {
  if (status.code() != code) {
    return ::testing::AssertionFailure()
           << "expected " << absl::StatusCodeToString(code) << ", got "
           << status;
  }
  for (absl::string_view part : parts) {
    if (status.message().find(part) == absl::string_view::npos) {
      return ::testing::AssertionFailure()
             << "message of " << status << " lacks \"" << part << "\"";
    }
  }
  return ::testing::AssertionSuccess();
}
template <typename T>
::testing::AssertionResult IsError(
    const absl::StatusOr<T>& result, absl::StatusCode code,
    const std::vector<absl::string_view>& parts = {}) {
  return IsError(result.status(), code, parts);
}

using ::rustiq::testing::RecordingSink;

// The value of an event attribute ("" when absent).
inline std::string Attribute(const audit::SecurityEvent& event,
                             absl::string_view name) {
  for (const auto& [k, v] : event.attributes) {
    if (k == name) return v;
  }
  return "";
}

// <dir>/master.key (created on construction, 0400) and <dir>/keys.store.
struct KeydFiles {
  explicit KeydFiles(const rustiq::testing::TempDir& dir)
      : master_key(dir / "master.key"), store(dir / "keys.store") {
    absl::Status s = CreateMasterKey(master_key);
    EXPECT_TRUE(s.ok()) << s;
  }
  std::unique_ptr<KeyStoreFile> Store() const {
    absl::StatusOr<SecretBytes> key = LoadMasterKey(master_key);
    EXPECT_TRUE(key.ok()) << key.status();
    return std::make_unique<KeyStoreFile>(
        store, key.ok() ? *std::move(key) : SecretBytes(kMasterKeyBytes));
  }
  std::string master_key;
  std::string store;
};

inline std::vector<WellKnownKey> CompiledKeys() {
  absl::StatusOr<std::vector<WellKnownKey>> keys =
      ParseWellKnownKeys(CompiledWellKnownKeys(), "policies/keyd/keys.toml");
  EXPECT_TRUE(keys.ok()) << keys.status();
  return keys.ok() ? *std::move(keys) : std::vector<WellKnownKey>();
}

inline absl::StatusOr<std::unique_ptr<KeyManager>> OpenManager(
    const KeydFiles& files, audit::SecurityEventSink* sink,
    std::vector<WellKnownKey> well_known, bool create_store = true,
    const std::string& device_id = kDeviceId) {
  return KeyManager::Open(NewSoftBackend(), files.Store(),
                          std::move(well_known), device_id, sink, create_store);
}

inline std::string Sha256(absl::string_view data) {
  std::string digest(SHA256_DIGEST_LENGTH, '\0');
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(),
         reinterpret_cast<unsigned char*>(digest.data()));
  return digest;
}

inline pki::EvpPkeyPtr PublicFromDer(absl::string_view der) {
  const auto* in = reinterpret_cast<const unsigned char*>(der.data());
  return pki::EvpPkeyPtr(
      d2i_PUBKEY(nullptr, &in, static_cast<long>(der.size())));
}

inline std::string PublicDerOf(const EVP_PKEY* key) {
  int len = i2d_PUBKEY(key, nullptr);
  if (len <= 0) return "";
  std::string der(static_cast<size_t>(len), '\0');
  auto* out = reinterpret_cast<unsigned char*>(der.data());
  i2d_PUBKEY(key, &out);
  return der;
}

inline std::string PublicPemOf(const EVP_PKEY* key) {
  pki::BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PUBKEY(bio.get(), key);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

inline pki::EvpPkeyPtr GenerateKey(const char* type) {
  return pki::EvpPkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, type));
}

// Verifies `signature` over `message` (the whole message: OpenSSL hashes it)
// under the SubjectPublicKeyInfo `der`, with OpenSSL alone.
inline bool OpenSslVerifies(absl::string_view der, v1::SignatureAlgorithm alg,
                            absl::string_view message,
                            absl::string_view signature) {
  pki::EvpPkeyPtr key = PublicFromDer(der);
  if (key == nullptr) return false;
  std::unique_ptr<EVP_MD_CTX, pki::OpenSslDeleter<EVP_MD_CTX, EVP_MD_CTX_free>>
      ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  const EVP_MD* md =
      alg == v1::SIGNATURE_ALGORITHM_ED25519 ? nullptr : EVP_sha256();
  if (EVP_DigestVerifyInit(ctx.get(), &pctx, md, nullptr, key.get()) != 1) {
    ERR_clear_error();
    return false;
  }
  if (alg == v1::SIGNATURE_ALGORITHM_RSA_PSS_SHA256 &&
      (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
       EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) != 1 ||
       EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32) != 1)) {
    return false;
  }
  if (alg == v1::SIGNATURE_ALGORITHM_RSA_PKCS1_SHA256 &&
      EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1) {
    return false;
  }
  int rc = EVP_DigestVerify(
      ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
      signature.size(), reinterpret_cast<const unsigned char*>(message.data()),
      message.size());
  ERR_clear_error();
  return rc == 1;
}

// An ECDSA-SHA256 (or, for Ed25519 keys, pure Ed25519) signature over
// `message` with a private key OpenSSL holds.
inline std::string OpenSslSign(EVP_PKEY* key, absl::string_view message) {
  std::unique_ptr<EVP_MD_CTX, pki::OpenSslDeleter<EVP_MD_CTX, EVP_MD_CTX_free>>
      ctx(EVP_MD_CTX_new());
  const EVP_MD* md =
      EVP_PKEY_is_a(key, "ED25519") == 1 ? nullptr : EVP_sha256();
  size_t len = 0;
  const auto* in = reinterpret_cast<const unsigned char*>(message.data());
  if (EVP_DigestSignInit(ctx.get(), nullptr, md, nullptr, key) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len, in, message.size()) != 1) {
    return "";
  }
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()),
                     &len, in, message.size()) != 1) {
    return "";
  }
  sig.resize(len);
  return sig;
}

// RSA-OAEP (SHA-256, MGF1-SHA256, empty label) with OpenSSL alone.
inline std::string OaepEncrypt(absl::string_view der,
                               absl::string_view plaintext) {
  pki::EvpPkeyPtr key = PublicFromDer(der);
  if (key == nullptr) return "";
  pki::EvpPkeyCtxPtr ctx(
      EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
  if (ctx == nullptr || EVP_PKEY_encrypt_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_OAEP_PADDING) != 1 ||
      EVP_PKEY_CTX_set_rsa_oaep_md(ctx.get(), EVP_sha256()) != 1 ||
      EVP_PKEY_CTX_set_rsa_mgf1_md(ctx.get(), EVP_sha256()) != 1) {
    return "";
  }
  const auto* in = reinterpret_cast<const unsigned char*>(plaintext.data());
  size_t len = 0;
  if (EVP_PKEY_encrypt(ctx.get(), nullptr, &len, in, plaintext.size()) != 1) {
    return "";
  }
  std::string out(len, '\0');
  if (EVP_PKEY_encrypt(ctx.get(), reinterpret_cast<unsigned char*>(out.data()),
                       &len, in, plaintext.size()) != 1) {
    return "";
  }
  out.resize(len);
  return out;
}

}  // namespace rustiq::keyd::test

#endif  // RUSTIQ_TESTS_UNIT_KEYD_TEST_UTIL_H_
