#include "services/keyd/soft_backend.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/pki/openssl_util.h"
#include "services/keyd/ecdsa_presigner.h"

namespace rustiq::keyd {
namespace {

using pki::EvpPkeyCtxPtr;
using pki::EvpPkeyPtr;
using pki::OpenSslErrors;

using CipherCtxPtr =
    std::unique_ptr<EVP_CIPHER_CTX,
                    pki::OpenSslDeleter<EVP_CIPHER_CTX, EVP_CIPHER_CTX_free>>;
using MdCtxPtr =
    std::unique_ptr<EVP_MD_CTX,
                    pki::OpenSslDeleter<EVP_MD_CTX, EVP_MD_CTX_free>>;

constexpr size_t kAesKeyBytes = 32;
constexpr char kUnsealFailed[] =
    "sealed blob does not open: wrong key, wrong caller or context, or the "
    "blob was altered";

absl::Status Crypto(absl::string_view what) {
  return absl::InternalError(absl::StrCat(what, ": ", OpenSslErrors()));
}

absl::StatusOr<EvpPkeyPtr> GenerateAsymmetric(Algorithm algorithm) {
  EvpPkeyPtr key;
  switch (algorithm) {
    case Algorithm::kEcP256:
      return pki::GenerateP256Key();
    case Algorithm::kEd25519:
      key.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
      break;
    case Algorithm::kRsa3072:
      key.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{3072}));
      break;
    case Algorithm::kAes256:
      return absl::InternalError("AES keys have no key pair");
  }
  if (key == nullptr) return Crypto("key generation failed");
  return key;
}

// Serialises a private key as PKCS#8 DER straight into secret memory.
absl::StatusOr<SecretBytes> PrivateKeyDer(const EVP_PKEY* key) {
  // PKCS#8 for every type, so that Open parses them all alike.
  std::unique_ptr<
      PKCS8_PRIV_KEY_INFO,
      pki::OpenSslDeleter<PKCS8_PRIV_KEY_INFO, PKCS8_PRIV_KEY_INFO_free>>
      p8(EVP_PKEY2PKCS8(key));
  if (p8 == nullptr) return Crypto("cannot encode the private key");
  int len = i2d_PKCS8_PRIV_KEY_INFO(p8.get(), nullptr);
  if (len <= 0) return Crypto("cannot encode the private key");
  SecretBytes der(static_cast<size_t>(len));
  unsigned char* out = der.data();
  if (i2d_PKCS8_PRIV_KEY_INFO(p8.get(), &out) != len) {
    return Crypto("cannot encode the private key");
  }
  return der;
}

absl::Status CheckAlgorithm(Algorithm have, Algorithm need,
                            absl::string_view operation) {
  if (have == need) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(operation, " needs a ", AlgorithmName(need),
                   " key; this is a ", AlgorithmName(have), " key"));
}

class SoftAsymmetricKey final : public BackendKey {
 public:
  // `presigner` and `worker`: precomputed ECDSA nonces for a P-256 key, or
  // both null.
  SoftAsymmetricKey(Algorithm algorithm, EvpPkeyPtr key,
                    std::shared_ptr<EcdsaPresigner> presigner = nullptr,
                    std::shared_ptr<PresignWorker> worker = nullptr)
      : algorithm_(algorithm),
        key_(std::move(key)),
        presigner_(std::move(presigner)),
        worker_(std::move(worker)) {
    if (presigner_ != nullptr) worker_->Request(presigner_);
  }

  Algorithm algorithm() const override { return algorithm_; }

  absl::StatusOr<std::string> PublicKeyDer() const override {
    int len = i2d_PUBKEY(key_.get(), nullptr);
    if (len <= 0) return Crypto("cannot encode the public key");
    std::string der(static_cast<size_t>(len), '\0');
    auto* out = reinterpret_cast<unsigned char*>(der.data());
    if (i2d_PUBKEY(key_.get(), &out) != len) {
      return Crypto("cannot encode the public key");
    }
    return der;
  }

  absl::StatusOr<std::string> Sign(SignatureScheme scheme,
                                   absl::string_view input) const override {
    if (absl::Status s =
            CheckAlgorithm(algorithm_, SchemeAlgorithm(scheme), "this scheme");
        !s.ok()) {
      return s;
    }
    if (scheme == SignatureScheme::kEd25519) return SignMessage(input);
    if (input.size() != 32) {
      return absl::InvalidArgumentError(
          absl::StrCat("a SHA-256 digest is 32 bytes, got ", input.size()));
    }
    if (presigner_ != nullptr) {
      std::optional<absl::StatusOr<std::string>> fast =
          presigner_->TrySign(input);
      if (presigner_->NeedsRefill()) worker_->Request(presigner_);
      if (fast.has_value()) return *std::move(fast);
    }
    EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key_.get(), nullptr));
    if (ctx == nullptr || EVP_PKEY_sign_init(ctx.get()) != 1 ||
        EVP_PKEY_CTX_set_signature_md(ctx.get(), EVP_sha256()) != 1) {
      return Crypto("cannot start signing");
    }
    if (scheme == SignatureScheme::kRsaPssSha256) {
      if (EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PSS_PADDING) != 1 ||
          EVP_PKEY_CTX_set_rsa_mgf1_md(ctx.get(), EVP_sha256()) != 1 ||
          EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx.get(), 32) != 1) {
        return Crypto("cannot set RSA-PSS parameters");
      }
    } else if (scheme == SignatureScheme::kRsaPkcs1Sha256) {
      if (EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PADDING) != 1) {
        return Crypto("cannot set RSA PKCS#1 padding");
      }
    }
    const auto* digest = reinterpret_cast<const unsigned char*>(input.data());
    size_t len = 0;
    if (EVP_PKEY_sign(ctx.get(), nullptr, &len, digest, input.size()) != 1) {
      return Crypto("signing failed");
    }
    std::string sig(len, '\0');
    if (EVP_PKEY_sign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()),
                      &len, digest, input.size()) != 1) {
      return Crypto("signing failed");
    }
    sig.resize(len);
    return sig;
  }

  absl::StatusOr<SecretBytes> Decrypt(
      DecryptScheme /*scheme*/, absl::string_view ciphertext) const override {
    if (absl::Status s =
            CheckAlgorithm(algorithm_, Algorithm::kRsa3072, "RSA-OAEP");
        !s.ok()) {
      return s;
    }
    EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key_.get(), nullptr));
    if (ctx == nullptr || EVP_PKEY_decrypt_init(ctx.get()) != 1 ||
        EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_OAEP_PADDING) != 1 ||
        EVP_PKEY_CTX_set_rsa_oaep_md(ctx.get(), EVP_sha256()) != 1 ||
        EVP_PKEY_CTX_set_rsa_mgf1_md(ctx.get(), EVP_sha256()) != 1) {
      return Crypto("cannot start decryption");
    }
    const auto* in = reinterpret_cast<const unsigned char*>(ciphertext.data());
    size_t len = 0;
    if (EVP_PKEY_decrypt(ctx.get(), nullptr, &len, in, ciphertext.size()) !=
        1) {
      ERR_clear_error();
      return absl::InvalidArgumentError(
          "ciphertext does not decrypt with this key");
    }
    SecretBytes out(len);
    if (EVP_PKEY_decrypt(ctx.get(), out.data(), &len, in, ciphertext.size()) !=
        1) {
      ERR_clear_error();
      return absl::InvalidArgumentError(
          "ciphertext does not decrypt with this key");
    }
    out.Truncate(len);
    return out;
  }

  absl::StatusOr<std::string> SealGcm(absl::string_view,
                                      absl::string_view) const override {
    return absl::InvalidArgumentError(
        absl::StrCat("sealing needs an aes-256 key; this is a ",
                     AlgorithmName(algorithm_), " key"));
  }
  absl::StatusOr<SecretBytes> UnsealGcm(absl::string_view,
                                        absl::string_view) const override {
    return absl::InvalidArgumentError(
        absl::StrCat("unsealing needs an aes-256 key; this is a ",
                     AlgorithmName(algorithm_), " key"));
  }

 private:
  absl::StatusOr<std::string> SignMessage(absl::string_view message) const {
    MdCtxPtr ctx(EVP_MD_CTX_new());
    if (ctx == nullptr ||
        EVP_DigestSignInit_ex(ctx.get(), nullptr, nullptr, nullptr, nullptr,
                              key_.get(), nullptr) != 1) {
      return Crypto("cannot start signing");
    }
    const auto* in = reinterpret_cast<const unsigned char*>(message.data());
    size_t len = 0;
    if (EVP_DigestSign(ctx.get(), nullptr, &len, in, message.size()) != 1) {
      return Crypto("signing failed");
    }
    std::string sig(len, '\0');
    if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()),
                       &len, in, message.size()) != 1) {
      return Crypto("signing failed");
    }
    sig.resize(len);
    return sig;
  }

  const Algorithm algorithm_;
  const EvpPkeyPtr key_;
  const std::shared_ptr<EcdsaPresigner> presigner_;
  const std::shared_ptr<PresignWorker> worker_;
};

class SoftAesKey final : public BackendKey {
 public:
  explicit SoftAesKey(SecretBytes key) : key_(std::move(key)) {}

  Algorithm algorithm() const override { return Algorithm::kAes256; }

  absl::StatusOr<std::string> PublicKeyDer() const override {
    return absl::FailedPreconditionError("an aes-256 key has no public half");
  }
  absl::StatusOr<std::string> Sign(SignatureScheme scheme,
                                   absl::string_view) const override {
    return CheckAlgorithm(Algorithm::kAes256, SchemeAlgorithm(scheme),
                          "this scheme");
  }
  absl::StatusOr<SecretBytes> Decrypt(DecryptScheme,
                                      absl::string_view) const override {
    return CheckAlgorithm(Algorithm::kAes256, Algorithm::kRsa3072, "RSA-OAEP");
  }

  absl::StatusOr<std::string> SealGcm(absl::string_view plaintext,
                                      absl::string_view aad) const override {
    std::string out(kGcmNonceBytes + plaintext.size() + kGcmTagBytes, '\0');
    auto* nonce = reinterpret_cast<unsigned char*>(out.data());
    if (RAND_bytes(nonce, kGcmNonceBytes) != 1) {
      return Crypto("no random nonce");
    }
    CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
    int len = 0;
    if (ctx == nullptr ||
        EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key_.data(),
                           nonce) != 1 ||
        EVP_EncryptUpdate(ctx.get(), nullptr, &len,
                          reinterpret_cast<const unsigned char*>(aad.data()),
                          static_cast<int>(aad.size())) != 1 ||
        EVP_EncryptUpdate(
            ctx.get(), nonce + kGcmNonceBytes, &len,
            reinterpret_cast<const unsigned char*>(plaintext.data()),
            static_cast<int>(plaintext.size())) != 1 ||
        EVP_EncryptFinal_ex(ctx.get(), nonce + kGcmNonceBytes + len, &len) !=
            1 ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kGcmTagBytes,
                            nonce + kGcmNonceBytes + plaintext.size()) != 1) {
      return Crypto("sealing failed");
    }
    return out;
  }

  absl::StatusOr<SecretBytes> UnsealGcm(absl::string_view sealed,
                                        absl::string_view aad) const override {
    if (sealed.size() < kGcmNonceBytes + kGcmTagBytes) {
      return absl::InvalidArgumentError(kUnsealFailed);
    }
    const auto* nonce = reinterpret_cast<const unsigned char*>(sealed.data());
    size_t ct_len = sealed.size() - kGcmNonceBytes - kGcmTagBytes;
    SecretBytes out(ct_len);
    std::string tag(sealed.substr(kGcmNonceBytes + ct_len));
    CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
    int len = 0;
    int final_len = 0;
    bool ok =
        ctx != nullptr &&
        EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key_.data(),
                           nonce) == 1 &&
        EVP_DecryptUpdate(ctx.get(), nullptr, &len,
                          reinterpret_cast<const unsigned char*>(aad.data()),
                          static_cast<int>(aad.size())) == 1 &&
        EVP_DecryptUpdate(ctx.get(), out.data(), &len, nonce + kGcmNonceBytes,
                          static_cast<int>(ct_len)) == 1 &&
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kGcmTagBytes,
                            tag.data()) == 1 &&
        EVP_DecryptFinal_ex(ctx.get(), out.data() + len, &final_len) == 1;
    if (!ok) {
      ERR_clear_error();
      return absl::InvalidArgumentError(kUnsealFailed);
    }
    return out;
  }

 private:
  const SecretBytes key_;
};

class SoftBackend final : public KeyBackend {
 public:
  explicit SoftBackend(const SoftBackendOptions& options)
      : presign_nonces_(options.presign_nonces),
        worker_(options.presign_nonces > 0 ? std::make_shared<PresignWorker>()
                                           : nullptr) {}

  const char* name() const override { return "soft"; }

  void StartWorkers() override {
    if (worker_ != nullptr) worker_->Start();
  }

  absl::StatusOr<SecretBytes> Generate(Algorithm algorithm,
                                       absl::string_view /*label*/) override {
    if (algorithm == Algorithm::kAes256) {
      SecretBytes key(kAesKeyBytes);
      if (RAND_priv_bytes(key.data(), static_cast<int>(key.size())) != 1) {
        return Crypto("no random key");
      }
      return key;
    }
    absl::StatusOr<EvpPkeyPtr> key = GenerateAsymmetric(algorithm);
    if (!key.ok()) return key.status();
    return PrivateKeyDer(key->get());
  }

  absl::StatusOr<std::unique_ptr<BackendKey>> Open(
      Algorithm algorithm, const SecretBytes& handle) override {
    if (algorithm == Algorithm::kAes256) {
      if (handle.size() != kAesKeyBytes) {
        return absl::DataLossError("stored aes-256 key has the wrong length");
      }
      return std::make_unique<SoftAesKey>(handle.Copy());
    }
    const unsigned char* in = handle.data();
    EvpPkeyPtr key(
        d2i_AutoPrivateKey(nullptr, &in, static_cast<long>(handle.size())));
    if (key == nullptr) {
      ERR_clear_error();
      return absl::DataLossError(absl::StrCat(
          "stored ", AlgorithmName(algorithm), " key does not parse"));
    }
    bool fits = false;
    switch (algorithm) {
      case Algorithm::kEcP256:
        fits = pki::IsP256Key(key.get());
        break;
      case Algorithm::kEd25519:
        fits = EVP_PKEY_is_a(key.get(), "ED25519") == 1;
        break;
      case Algorithm::kRsa3072:
        fits = EVP_PKEY_is_a(key.get(), "RSA") == 1 &&
               EVP_PKEY_get_bits(key.get()) == 3072;
        break;
      case Algorithm::kAes256:
        break;
    }
    if (!fits) {
      return absl::DataLossError(absl::StrCat("stored key is not the ",
                                              AlgorithmName(algorithm),
                                              " key it claims"));
    }
    if (algorithm == Algorithm::kEcP256 && worker_ != nullptr) {
      absl::StatusOr<std::unique_ptr<EcdsaPresigner>> presigner =
          EcdsaPresigner::Create(key.get(), presign_nonces_);
      if (!presigner.ok()) return presigner.status();
      return std::make_unique<SoftAsymmetricKey>(
          algorithm, std::move(key),
          std::shared_ptr<EcdsaPresigner>(*std::move(presigner)), worker_);
    }
    return std::make_unique<SoftAsymmetricKey>(algorithm, std::move(key));
  }

  absl::Status Destroy(Algorithm, const SecretBytes&) override {
    // The handle is the key: once the store forgets it, it is gone.
    return absl::OkStatus();
  }
  absl::Status DestroyAll() override { return absl::OkStatus(); }

 private:
  const size_t presign_nonces_;
  // Shared with the keys it opened, which may outlive the backend.
  const std::shared_ptr<PresignWorker> worker_;
};

}  // namespace

std::unique_ptr<KeyBackend> NewSoftBackend(const SoftBackendOptions& options) {
  return std::make_unique<SoftBackend>(options);
}

}  // namespace rustiq::keyd
