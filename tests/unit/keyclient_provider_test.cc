// The remote-key provider: an EVP_PKEY whose signatures come from a
// RemoteSigner. The signer here is a test double holding a real P-256 key
// (standing in for keyd); the proof is a real TLS handshake with client
// authentication against `openssl s_server`.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/keyclient/keyd_signer.h"
#include "common/keyclient/remote_key.h"
#include "common/keyclient/remote_signer.h"
#include "common/pki/certificate_authority.h"
#include "common/pki/openssl_util.h"
#include "common/rpc/client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_device.h"

namespace rustiq::keyclient {
namespace {

using pki::EvpPkeyPtr;
using pki::OpenSslDeleter;
using ::testing::HasSubstr;

using EvpMdCtxPtr =
    std::unique_ptr<EVP_MD_CTX, OpenSslDeleter<EVP_MD_CTX, EVP_MD_CTX_free>>;
using SslCtxPtr =
    std::unique_ptr<SSL_CTX, OpenSslDeleter<SSL_CTX, SSL_CTX_free>>;
using SslPtr = std::unique_ptr<SSL, OpenSslDeleter<SSL, SSL_free>>;
using X509ReqPtr =
    std::unique_ptr<X509_REQ, OpenSslDeleter<X509_REQ, X509_REQ_free>>;

constexpr absl::string_view kMessage = "the quick brown fox, signed remotely";

EvpPkeyPtr NewP256Key() {
  absl::StatusOr<EvpPkeyPtr> key = pki::GenerateP256Key();
  EXPECT_TRUE(key.ok()) << key.status();
  return *std::move(key);
}

std::string PublicKeyDer(EVP_PKEY* key) {
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(key, &der);
  EXPECT_GT(len, 0) << pki::OpenSslErrors();
  if (len <= 0) return "";
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

// Stands in for keyd: signs with a real key it holds (or with another key,
// or not at all) and counts the calls.
class LocalSigner : public RemoteSigner {
 public:
  enum class Mode { kSign, kFail, kSignWithOtherKey };

  explicit LocalSigner(Mode mode = Mode::kSign)
      : key_(NewP256Key()),
        other_key_(NewP256Key()),
        der_(PublicKeyDer(key_.get())),
        mode_(mode) {}

  const std::string& public_key_der() const override { return der_; }

  absl::StatusOr<std::string> SignDigest(absl::string_view digest) override {
    calls_.fetch_add(1);
    if (digest.size() != 32) {
      return absl::InvalidArgumentError("digest must be 32 bytes");
    }
    if (mode_ == Mode::kFail) {
      return absl::UnavailableError("keyd is not reachable (test double)");
    }
    EVP_PKEY* key = mode_ == Mode::kSign ? key_.get() : other_key_.get();
    pki::EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key, nullptr));
    std::string sig(80, '\0');
    size_t sig_len = sig.size();
    if (ctx == nullptr || EVP_PKEY_sign_init(ctx.get()) != 1 ||
        EVP_PKEY_sign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()),
                      &sig_len,
                      reinterpret_cast<const unsigned char*>(digest.data()),
                      digest.size()) != 1) {
      return absl::InternalError(pki::OpenSslErrors());
    }
    sig.resize(sig_len);
    return sig;
  }

  EVP_PKEY* key() const { return key_.get(); }
  int calls() const { return calls_.load(); }

 private:
  EvpPkeyPtr key_;
  EvpPkeyPtr other_key_;
  std::string der_;
  Mode mode_;
  std::atomic<int> calls_{0};
};

// A public-only copy of `key` (default provider), as a certificate holds it.
EvpPkeyPtr PublicOnly(EVP_PKEY* key) {
  std::string der = PublicKeyDer(key);
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  return EvpPkeyPtr(d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size())));
}

EvpPkeyPtr MakeKey(const std::shared_ptr<RemoteSigner>& signer) {
  absl::StatusOr<EvpPkeyPtr> key = MakeRemoteKey(signer);
  EXPECT_TRUE(key.ok()) << key.status();
  return key.ok() ? *std::move(key) : nullptr;
}

// EVP_DigestSign with SHA-256; empty on failure (the error queue is left
// for the caller).
std::string DigestSign(EVP_PKEY* key, absl::string_view message,
                       const char* md = "SHA256") {
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  size_t len = 0;
  const auto* data = reinterpret_cast<const unsigned char*>(message.data());
  if (EVP_DigestSignInit_ex(ctx.get(), nullptr, md, nullptr, nullptr, key,
                            nullptr) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len, data, message.size()) != 1) {
    return "";
  }
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()),
                     &len, data, message.size()) != 1) {
    return "";
  }
  sig.resize(len);
  return sig;
}

bool DigestVerify(EVP_PKEY* key, absl::string_view message,
                  absl::string_view sig) {
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  return EVP_DigestVerifyInit_ex(ctx.get(), nullptr, "SHA256", nullptr, nullptr,
                                 key, nullptr) == 1 &&
         EVP_DigestVerify(
             ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()),
             sig.size(), reinterpret_cast<const unsigned char*>(message.data()),
             message.size()) == 1;
}

TEST(RemoteKeyTest, LooksLikeAnEcP256Key) {
  auto signer = std::make_shared<LocalSigner>();
  EvpPkeyPtr key = MakeKey(signer);
  ASSERT_NE(key, nullptr);
  EXPECT_TRUE(EVP_PKEY_is_a(key.get(), "EC"));
  EXPECT_TRUE(pki::IsP256Key(key.get()));
  EXPECT_EQ(EVP_PKEY_get_bits(key.get()), 256);
  EXPECT_EQ(EVP_PKEY_get_security_bits(key.get()), 128);
  EXPECT_EQ(EVP_PKEY_get_size(key.get()), 72);
  std::array<char, 32> digest{};
  EXPECT_GE(
      EVP_PKEY_get_default_digest_name(key.get(), digest.data(), digest.size()),
      1);
  EXPECT_STREQ(digest.data(), "SHA256");
  EXPECT_TRUE(EVP_PKEY_can_sign(key.get()));
  // The public half encodes back to the signer's DER (encoders of the
  // "base" provider, fed by our export).
  EXPECT_EQ(PublicKeyDer(key.get()), signer->public_key_der());
  EXPECT_EQ(signer->calls(), 0);
}

TEST(RemoteKeyTest, EqualsItsPublicKeyBothWaysAndNoOther) {
  auto signer = std::make_shared<LocalSigner>();
  EvpPkeyPtr key = MakeKey(signer);
  ASSERT_NE(key, nullptr);
  EvpPkeyPtr pub = PublicOnly(signer->key());
  EXPECT_EQ(EVP_PKEY_eq(pub.get(), key.get()), 1) << pki::OpenSslErrors();
  EXPECT_EQ(EVP_PKEY_eq(key.get(), pub.get()), 1) << pki::OpenSslErrors();
  EXPECT_EQ(EVP_PKEY_eq(signer->key(), key.get()), 1) << pki::OpenSslErrors();
  EXPECT_EQ(EVP_PKEY_eq(key.get(), signer->key()), 1) << pki::OpenSslErrors();
  EvpPkeyPtr other = NewP256Key();
  EXPECT_NE(EVP_PKEY_eq(other.get(), key.get()), 1);
  EXPECT_NE(EVP_PKEY_eq(key.get(), other.get()), 1);
  ERR_clear_error();
  // Two remote keys over the same signer are the same key.
  EvpPkeyPtr again = MakeKey(signer);
  EXPECT_EQ(EVP_PKEY_eq(key.get(), again.get()), 1);
}

TEST(RemoteKeyTest, DigestSignVerifiesWithThePublicKey) {
  auto signer = std::make_shared<LocalSigner>();
  EvpPkeyPtr key = MakeKey(signer);
  ASSERT_NE(key, nullptr);
  std::string sig = DigestSign(key.get(), kMessage);
  ASSERT_FALSE(sig.empty()) << pki::OpenSslErrors();
  EXPECT_EQ(signer->calls(), 1);  // the size query does not sign
  EXPECT_TRUE(DigestVerify(PublicOnly(signer->key()).get(), kMessage, sig));
  EXPECT_FALSE(DigestVerify(signer->key(), "another message", sig));
  // Verification with the remote key itself (delegated to the default
  // provider) works too.
  EXPECT_TRUE(DigestVerify(key.get(), kMessage, sig)) << pki::OpenSslErrors();
  EXPECT_FALSE(DigestVerify(key.get(), "another message", sig));
  ERR_clear_error();
}

TEST(RemoteKeyTest, StreamingDigestSign) {
  auto signer = std::make_shared<LocalSigner>();
  EvpPkeyPtr key = MakeKey(signer);
  ASSERT_NE(key, nullptr);
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  ASSERT_EQ(
      EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()),
      1)
      << pki::OpenSslErrors();
  ASSERT_EQ(EVP_DigestSignUpdate(ctx.get(), kMessage.data(), 10), 1);
  ASSERT_EQ(EVP_DigestSignUpdate(ctx.get(), kMessage.data() + 10,
                                 kMessage.size() - 10),
            1);
  size_t len = 0;
  ASSERT_EQ(EVP_DigestSignFinal(ctx.get(), nullptr, &len), 1);
  std::string sig(len, '\0');
  ASSERT_EQ(EVP_DigestSignFinal(
                ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len),
            1)
      << pki::OpenSslErrors();
  sig.resize(len);
  EXPECT_TRUE(DigestVerify(signer->key(), kMessage, sig));
  EXPECT_EQ(signer->calls(), 1);
}

// SHA-256 of kMessage, as EVP_PKEY_sign takes it.
std::array<unsigned char, 32> MessageDigest() {
  std::array<unsigned char, 32> digest{};
  unsigned int digest_len = 0;
  EXPECT_EQ(EVP_Digest(kMessage.data(), kMessage.size(), digest.data(),
                       &digest_len, EVP_sha256(), nullptr),
            1);
  return digest;
}

// A context on `key` ready for EVP_PKEY_sign; nullptr when it cannot start.
pki::EvpPkeyCtxPtr SignContext(EVP_PKEY* key) {
  pki::EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key, nullptr));
  if (ctx == nullptr || EVP_PKEY_sign_init(ctx.get()) != 1) return nullptr;
  return ctx;
}

TEST(RemoteKeyTest, SignsAPrecomputedDigest) {
  auto signer = std::make_shared<LocalSigner>();
  EvpPkeyPtr key = MakeKey(signer);
  ASSERT_NE(key, nullptr);
  const std::array<unsigned char, 32> digest = MessageDigest();
  pki::EvpPkeyCtxPtr ctx = SignContext(key.get());
  ASSERT_NE(ctx, nullptr) << pki::OpenSslErrors();
  ASSERT_EQ(EVP_PKEY_CTX_set_signature_md(ctx.get(), EVP_sha256()), 1);
  size_t len = 0;
  ASSERT_EQ(EVP_PKEY_sign(ctx.get(), nullptr, &len, digest.data(), 32), 1);
  std::string sig(len, '\0');
  ASSERT_EQ(
      EVP_PKEY_sign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()),
                    &len, digest.data(), 32),
      1)
      << pki::OpenSslErrors();
  sig.resize(len);
  EXPECT_TRUE(DigestVerify(signer->key(), kMessage, sig));
  // Not a SHA-256 digest: refused before the signer is asked.
  EXPECT_NE(
      EVP_PKEY_sign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()),
                    &len, digest.data(), 20),
      1);
  EXPECT_EQ(signer->calls(), 1);
  ERR_clear_error();
}

// A caller's buffer that may not hold the signature is refused, and nothing
// is written past it (OpenSSL passes the buffer's size in *siglen).
TEST(RemoteKeyTest, ASignatureBufferTooSmallIsRefusedUntouched) {
  auto signer = std::make_shared<LocalSigner>();
  EvpPkeyPtr key = MakeKey(signer);
  ASSERT_NE(key, nullptr);
  const std::array<unsigned char, 32> digest = MessageDigest();
  pki::EvpPkeyCtxPtr ctx = SignContext(key.get());
  ASSERT_NE(ctx, nullptr) << pki::OpenSslErrors();
  constexpr size_t kGiven = 8;  // an ECDSA P-256 signature is 70-72 bytes
  std::string buffer(128, '\xa5');
  size_t len = kGiven;
  EXPECT_NE(
      EVP_PKEY_sign(ctx.get(), reinterpret_cast<unsigned char*>(buffer.data()),
                    &len, digest.data(), digest.size()),
      1);
  EXPECT_EQ(buffer.substr(kGiven), std::string(128 - kGiven, '\xa5'))
      << "the provider wrote past the buffer it was given";
  // Refused before keyd is asked: no signature is made for nothing.
  EXPECT_EQ(signer->calls(), 0);
  ERR_clear_error();
}

TEST(RemoteKeyTest, RefusesOtherDigests) {
  auto signer = std::make_shared<LocalSigner>();
  EvpPkeyPtr key = MakeKey(signer);
  ASSERT_NE(key, nullptr);
  for (const char* md : {"SHA384", "SHA512", "SHA1", "SHA3-256"}) {
    EXPECT_EQ(DigestSign(key.get(), kMessage, md), "") << md;
    EXPECT_EQ(
        EVP_PKEY_digestsign_supports_digest(key.get(), nullptr, md, nullptr), 0)
        << md;
  }
  EXPECT_EQ(EVP_PKEY_digestsign_supports_digest(key.get(), nullptr, "SHA256",
                                                nullptr),
            1);
  pki::EvpPkeyCtxPtr ctx = SignContext(key.get());
  ASSERT_NE(ctx, nullptr);
  EXPECT_NE(EVP_PKEY_CTX_set_signature_md(ctx.get(), EVP_sha384()), 1);
  EXPECT_EQ(signer->calls(), 0);
  ERR_clear_error();
}

TEST(RemoteKeyTest, FailingSignerFailsTheSignatureWithItsMessage) {
  auto signer = std::make_shared<LocalSigner>(LocalSigner::Mode::kFail);
  EvpPkeyPtr key = MakeKey(signer);
  ASSERT_NE(key, nullptr);
  ERR_clear_error();
  EXPECT_EQ(DigestSign(key.get(), kMessage), "");
  EXPECT_THAT(pki::OpenSslErrors(), HasSubstr("keyd is not reachable"));
  EXPECT_EQ(signer->calls(), 1);
}

TEST(RemoteKeyTest, SignatureByAnotherKeyIsRefused) {
  // What a signer made before a key rotation would produce.
  auto signer =
      std::make_shared<LocalSigner>(LocalSigner::Mode::kSignWithOtherKey);
  EvpPkeyPtr key = MakeKey(signer);
  ASSERT_NE(key, nullptr);
  ERR_clear_error();
  EXPECT_EQ(DigestSign(key.get(), kMessage), "");
  EXPECT_THAT(pki::OpenSslErrors(), HasSubstr("does not verify"));
}

TEST(RemoteKeyTest, SignsCertificatesAndRequests) {
  auto signer = std::make_shared<LocalSigner>();
  EvpPkeyPtr key = MakeKey(signer);
  ASSERT_NE(key, nullptr);
  // A PKCS#10 request for the remote key, signed by it (proof of possession
  // for a certificate renewal).
  X509ReqPtr req(X509_REQ_new());
  ASSERT_EQ(X509_REQ_set_version(req.get(), 0), 1);
  ASSERT_EQ(X509_REQ_set_pubkey(req.get(), key.get()), 1)
      << pki::OpenSslErrors();
  ASSERT_GT(X509_REQ_sign(req.get(), key.get(), EVP_sha256()), 0)
      << pki::OpenSslErrors();
  EvpPkeyPtr pub = PublicOnly(signer->key());
  EXPECT_EQ(X509_REQ_verify(req.get(), pub.get()), 1) << pki::OpenSslErrors();
  // A certificate signed by the remote key (as keyd's CA will).
  pki::X509Ptr cert(X509_new());
  ASSERT_EQ(X509_set_version(cert.get(), X509_VERSION_3), 1);
  ASSERT_EQ(X509_set_pubkey(cert.get(), pub.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600);
  ASSERT_GT(X509_sign(cert.get(), key.get(), EVP_sha256()), 0)
      << pki::OpenSslErrors();
  EXPECT_EQ(X509_verify(cert.get(), pub.get()), 1) << pki::OpenSslErrors();
  EXPECT_EQ(X509_check_private_key(cert.get(), key.get()), 1);
  EXPECT_EQ(signer->calls(), 2);
}

TEST(RemoteKeyTest, SignsFromManyThreads) {
  auto signer = std::make_shared<LocalSigner>();
  EvpPkeyPtr key = MakeKey(signer);
  ASSERT_NE(key, nullptr);
  constexpr int kThreads = 4;
  constexpr int kEach = 25;
  std::atomic<int> good{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kEach; ++i) {
        std::string sig = DigestSign(key.get(), kMessage);
        if (!sig.empty() && DigestVerify(signer->key(), kMessage, sig)) {
          good.fetch_add(1);
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(good.load(), kThreads * kEach);
  EXPECT_EQ(signer->calls(), kThreads * kEach);
}

TEST(RemoteKeyTest, DuplicateSignsToo) {
  auto signer = std::make_shared<LocalSigner>();
  EvpPkeyPtr key = MakeKey(signer);
  ASSERT_NE(key, nullptr);
  EvpPkeyPtr copy(EVP_PKEY_dup(key.get()));
  ASSERT_NE(copy, nullptr) << pki::OpenSslErrors();
  key.reset();
  std::string sig = DigestSign(copy.get(), kMessage);
  EXPECT_TRUE(DigestVerify(signer->key(), kMessage, sig));
}

TEST(RemoteKeyTest, NeverYieldsPrivateKeyBytes) {
  auto signer = std::make_shared<LocalSigner>();
  EvpPkeyPtr key = MakeKey(signer);
  ASSERT_NE(key, nullptr);
  EXPECT_FALSE(pki::PrivateKeyToPem(key.get()).ok());
  OSSL_PARAM* params = nullptr;
  ASSERT_EQ(EVP_PKEY_todata(key.get(), EVP_PKEY_KEYPAIR, &params), 1);
  EXPECT_EQ(OSSL_PARAM_locate(params, OSSL_PKEY_PARAM_PRIV_KEY), nullptr);
  EXPECT_NE(OSSL_PARAM_locate(params, OSSL_PKEY_PARAM_PUB_KEY), nullptr);
  OSSL_PARAM_free(params);
  ERR_clear_error();
}

TEST(RemoteKeyTest, RefusesBadSigners) {
  EXPECT_EQ(MakeRemoteKey(nullptr).status().code(),
            absl::StatusCode::kInvalidArgument);

  class FixedDer : public RemoteSigner {
   public:
    explicit FixedDer(std::string der) : der_(std::move(der)) {}
    const std::string& public_key_der() const override { return der_; }
    absl::StatusOr<std::string> SignDigest(absl::string_view) override {
      return absl::UnimplementedError("never called");
    }

   private:
    std::string der_;
  };
  absl::StatusOr<EvpPkeyPtr> garbage =
      MakeRemoteKey(std::make_shared<FixedDer>("not DER"));
  EXPECT_EQ(garbage.status().code(), absl::StatusCode::kInvalidArgument);

  pki::EvpPkeyPtr ed25519(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  ASSERT_NE(ed25519, nullptr);
  absl::StatusOr<EvpPkeyPtr> wrong_type =
      MakeRemoteKey(std::make_shared<FixedDer>(PublicKeyDer(ed25519.get())));
  EXPECT_EQ(wrong_type.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(wrong_type.status().message(), HasSubstr("P-256"));

  pki::EvpPkeyPtr p384(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384"));
  ASSERT_NE(p384, nullptr);
  absl::StatusOr<EvpPkeyPtr> wrong_curve =
      MakeRemoteKey(std::make_shared<FixedDer>(PublicKeyDer(p384.get())));
  EXPECT_EQ(wrong_curve.status().code(), absl::StatusCode::kInvalidArgument);

  std::string trailing = LocalSigner().public_key_der() + "x";
  EXPECT_EQ(MakeRemoteKey(std::make_shared<FixedDer>(trailing)).status().code(),
            absl::StatusCode::kInvalidArgument);
  ERR_clear_error();
}

// ---------------------------------------------------------------------------
// TLS client authentication with the remote key, against `openssl s_server`.

// `openssl s_server -www` on 127.0.0.1, demanding a client certificate from
// the test CA; stopped (SIGTERM, then SIGKILL) when destroyed.
class SServer {
 public:
  SServer(const testing::TempDir& dir, const std::string& version_flag) {
    port_ = FreePort();
    log_path_ = dir / absl::StrCat("s_server", version_flag, ".log");
    std::vector<std::string> args = {
        "openssl",    "s_server",
        "-accept",    absl::StrCat("127.0.0.1:", port_),
        version_flag, "-Verify",
        "1",          "-verify_return_error",
        "-CAfile",    dir / "ca.pem",
        "-cert",      dir / "server.pem",
        "-key",       dir / "server.key",
        "-www"};
    pid_ = fork();
    if (pid_ == 0) {
      int log = open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      int null = open("/dev/null", O_RDONLY);
      dup2(null, 0);
      dup2(log, 1);
      dup2(log, 2);
      std::vector<char*> argv;
      for (std::string& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execvp("openssl", argv.data());
      _exit(127);
    }
  }
  ~SServer() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    for (int i = 0; i < 50; ++i) {
      if (waitpid(pid_, nullptr, WNOHANG) == pid_) return;
      absl::SleepFor(absl::Milliseconds(20));
    }
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  SServer(const SServer&) = delete;
  SServer& operator=(const SServer&) = delete;

  // Polls until the server accepts TCP connections (each probe is a
  // connection s_server drops as a failed handshake, and carries on).
  bool WaitReady() const {
    for (int i = 0; i < 200; ++i) {
      int fd = Connect();
      if (fd >= 0) {
        close(fd);
        return true;
      }
      if (waitpid(pid_, nullptr, WNOHANG) == pid_) return false;
      absl::SleepFor(absl::Milliseconds(50));
    }
    return false;
  }

  // A TCP connection with 10 s send and receive timeouts, so no test hangs.
  int Connect() const {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port_));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      close(fd);
      return -1;
    }
    timeval timeout{10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
    return fd;
  }

  std::string Log() const { return testing::ReadAll(log_path_); }

 private:
  static int FreePort() {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      close(fd);
      return 0;
    }
    close(fd);
    return ntohs(addr.sin_port);
  }

  pid_t pid_ = -1;
  int port_ = 0;
  std::string log_path_;
};

void WriteFile(const std::string& path, const std::string& data) {
  FILE* f = fopen(path.c_str(), "w");
  ASSERT_NE(f, nullptr) << path;
  fwrite(data.data(), 1, data.size(), f);
  fclose(f);
}

pki::LeafSpec Spec(const std::string& id, const std::string& cn) {
  pki::LeafSpec spec;
  spec.uri_sans = {id};
  spec.common_name = cn;
  spec.not_before = absl::Now() - absl::Minutes(1);
  spec.not_after = absl::Now() + absl::Hours(1);
  return spec;
}

struct HandshakeResult {
  bool connected = false;
  std::string page;    // what the server answered to GET /
  std::string errors;  // the client's OpenSSL errors
};

class RemoteKeyTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<pki::CertificateAuthority> ca =
        pki::CertificateAuthority::Create("dev-kc", absl::Hours(1));
    ASSERT_TRUE(ca.ok()) << ca.status();
    ca_ = std::make_unique<pki::CertificateAuthority>(*std::move(ca));
    EvpPkeyPtr server_key = NewP256Key();
    absl::StatusOr<std::string> server_pem = ca_->IssueLeaf(
        server_key.get(), Spec("spiffe://dev-kc/svc/broker", "broker"));
    ASSERT_TRUE(server_pem.ok()) << server_pem.status();
    absl::StatusOr<std::string> server_key_pem =
        pki::PrivateKeyToPem(server_key.get());
    ASSERT_TRUE(server_key_pem.ok());
    WriteFile(dir_ / "ca.pem", ca_->cert_pem());
    WriteFile(dir_ / "server.pem", *server_pem);
    WriteFile(dir_ / "server.key", *server_key_pem);
  }

  // A client certificate for `key` (a remote key: the CA reads only its
  // public half, through our export and the base provider's encoder).
  pki::X509Ptr ClientCert(EVP_PKEY* key) {
    absl::StatusOr<std::string> pem =
        ca_->IssueLeaf(key, Spec("spiffe://dev-kc/svc/cloudd", "cloudd"));
    EXPECT_TRUE(pem.ok()) << pem.status();
    if (!pem.ok()) return nullptr;
    absl::StatusOr<pki::X509Ptr> cert = pki::CertificateFromPem(*pem);
    EXPECT_TRUE(cert.ok()) << cert.status();
    return cert.ok() ? *std::move(cert) : nullptr;
  }

  // Connects with `cert` and `key` as the client identity (verifying the
  // server against the CA), sends GET / and reads the answer.
  HandshakeResult Handshake(const SServer& server, int version, X509* cert,
                            EVP_PKEY* key) {
    HandshakeResult result;
    ERR_clear_error();
    SslCtxPtr ctx(SSL_CTX_new_ex(nullptr, nullptr, TLS_client_method()));
    EXPECT_NE(ctx, nullptr);
    SSL_CTX_set_min_proto_version(ctx.get(), version);
    SSL_CTX_set_max_proto_version(ctx.get(), version);
    EXPECT_EQ(SSL_CTX_use_certificate(ctx.get(), cert), 1)
        << pki::OpenSslErrors();
    EXPECT_EQ(SSL_CTX_use_PrivateKey(ctx.get(), key), 1)
        << pki::OpenSslErrors();
    EXPECT_EQ(SSL_CTX_check_private_key(ctx.get()), 1) << pki::OpenSslErrors();
    X509_STORE* store = SSL_CTX_get_cert_store(ctx.get());
    EXPECT_EQ(X509_STORE_add_cert(store, const_cast<X509*>(ca_->certificate())),
              1);
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);

    int fd = server.Connect();
    EXPECT_GE(fd, 0);
    if (fd < 0) return result;
    SslPtr ssl(SSL_new(ctx.get()));
    SSL_set_fd(ssl.get(), fd);
    if (SSL_connect(ssl.get()) == 1) {
      result.connected = true;
      const char kGet[] = "GET / HTTP/1.0\r\n\r\n";
      if (SSL_write(ssl.get(), kGet, sizeof(kGet) - 1) > 0) {
        std::array<char, 4096> buf;
        int n;
        while ((n = SSL_read(ssl.get(), buf.data(),
                             static_cast<int>(buf.size()))) > 0) {
          result.page.append(buf.data(), static_cast<size_t>(n));
        }
      }
    }
    result.errors = pki::OpenSslErrors();
    ssl.reset();
    close(fd);
    return result;
  }

  testing::TempDir dir_{"keyclient-tls"};
  std::unique_ptr<pki::CertificateAuthority> ca_;
};

TEST_F(RemoteKeyTlsTest, Tls13ClientAuthenticationWithARemoteKey) {
  SServer server(dir_, "-tls1_3");
  ASSERT_TRUE(server.WaitReady()) << server.Log();
  auto signer = std::make_shared<LocalSigner>();
  EvpPkeyPtr key = MakeKey(signer);
  ASSERT_NE(key, nullptr);
  pki::X509Ptr cert = ClientCert(key.get());
  ASSERT_NE(cert, nullptr);

  HandshakeResult r = Handshake(server, TLS1_3_VERSION, cert.get(), key.get());
  ASSERT_TRUE(r.connected) << r.errors << "\n" << server.Log();
  // s_server -www answers only after it verified the client's certificate
  // and CertificateVerify (-verify_return_error), and shows the certificate.
  EXPECT_THAT(r.page, HasSubstr("HTTP/1.0 200 ok")) << r.errors;
  EXPECT_THAT(r.page, HasSubstr("TLSv1.3"));
  EXPECT_THAT(r.page, HasSubstr("Client certificate"));
  EXPECT_THAT(r.page, HasSubstr("Subject: CN=cloudd"));
  EXPECT_EQ(signer->calls(), 1);  // one CertificateVerify
}

TEST_F(RemoteKeyTlsTest, Tls12ClientAuthenticationWithARemoteKey) {
  SServer server(dir_, "-tls1_2");
  ASSERT_TRUE(server.WaitReady()) << server.Log();
  auto signer = std::make_shared<LocalSigner>();
  EvpPkeyPtr key = MakeKey(signer);
  ASSERT_NE(key, nullptr);
  pki::X509Ptr cert = ClientCert(key.get());
  ASSERT_NE(cert, nullptr);

  HandshakeResult r = Handshake(server, TLS1_2_VERSION, cert.get(), key.get());
  ASSERT_TRUE(r.connected) << r.errors << "\n" << server.Log();
  EXPECT_THAT(r.page, HasSubstr("HTTP/1.0 200 ok")) << r.errors;
  EXPECT_THAT(r.page, HasSubstr("TLSv1.2"));
  EXPECT_THAT(r.page, HasSubstr("Client certificate"));
  EXPECT_EQ(signer->calls(), 1);
}

TEST_F(RemoteKeyTlsTest, FailingSignerFailsTheHandshakeCleanly) {
  SServer server(dir_, "-tls1_3");
  ASSERT_TRUE(server.WaitReady()) << server.Log();
  auto signer = std::make_shared<LocalSigner>(LocalSigner::Mode::kFail);
  EvpPkeyPtr key = MakeKey(signer);
  ASSERT_NE(key, nullptr);
  pki::X509Ptr cert = ClientCert(key.get());
  ASSERT_NE(cert, nullptr);

  absl::Time start = absl::Now();
  HandshakeResult r = Handshake(server, TLS1_3_VERSION, cert.get(), key.get());
  EXPECT_FALSE(r.connected);
  EXPECT_EQ(r.page, "");
  EXPECT_THAT(r.errors, HasSubstr("keyd is not reachable"));
  EXPECT_EQ(signer->calls(), 1);
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));

  // The server is unharmed: the next client, with a working key, gets in.
  auto good_signer = std::make_shared<LocalSigner>();
  EvpPkeyPtr good_key = MakeKey(good_signer);
  pki::X509Ptr good_cert = ClientCert(good_key.get());
  ASSERT_NE(good_cert, nullptr);
  HandshakeResult ok =
      Handshake(server, TLS1_3_VERSION, good_cert.get(), good_key.get());
  EXPECT_THAT(ok.page, HasSubstr("Client certificate")) << ok.errors;
}

TEST_F(RemoteKeyTlsTest, StaleSignerFailsTheHandshakeCleanly) {
  SServer server(dir_, "-tls1_3");
  ASSERT_TRUE(server.WaitReady()) << server.Log();
  auto signer =
      std::make_shared<LocalSigner>(LocalSigner::Mode::kSignWithOtherKey);
  EvpPkeyPtr key = MakeKey(signer);
  ASSERT_NE(key, nullptr);
  pki::X509Ptr cert = ClientCert(key.get());
  ASSERT_NE(cert, nullptr);
  HandshakeResult r = Handshake(server, TLS1_3_VERSION, cert.get(), key.get());
  EXPECT_FALSE(r.connected);
  EXPECT_THAT(r.errors, HasSubstr("does not verify"));
}

// The real proof: the device identity key held by a running rustiq-keyd,
// used by cloudd's identity through KeydSigner, in a TLS 1.3 handshake with
// client authentication. The key never leaves keyd.
TEST_F(RemoteKeyTlsTest, Tls13ClientAuthenticationWithTheKeyHeldByKeyd) {
  testing::TestDevice device;
  testing::ServerProcess keyd(device, "keyd");
  ASSERT_TRUE(keyd.WaitServing(absl::Seconds(15))) << keyd.Log();
  rpc::ChannelFactory factory(device.ClientFor("svc/cloudd"));
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel =
      factory.ForDaemon("keyd");
  ASSERT_TRUE(channel.ok()) << channel.status();
  absl::StatusOr<std::shared_ptr<KeydSigner>> signer =
      KeydSigner::Create(*channel, "device-identity");
  ASSERT_TRUE(signer.ok()) << signer.status();
  EvpPkeyPtr key = MakeKey(*signer);
  ASSERT_NE(key, nullptr);
  pki::X509Ptr cert = ClientCert(key.get());
  ASSERT_NE(cert, nullptr);

  SServer server(dir_, "-tls1_3");
  ASSERT_TRUE(server.WaitReady()) << server.Log();
  HandshakeResult r = Handshake(server, TLS1_3_VERSION, cert.get(), key.get());
  ASSERT_TRUE(r.connected) << r.errors << "\n" << server.Log() << keyd.Log();
  EXPECT_THAT(r.page, HasSubstr("TLSv1.3"));
  EXPECT_THAT(r.page, HasSubstr("Subject: CN=cloudd"));

  // A daemon outside the key's policy cannot even build the signer.
  rpc::ChannelFactory authd(device.ClientFor("svc/authd"));
  absl::StatusOr<std::shared_ptr<KeydSigner>> refused =
      KeydSigner::Create(*authd.ForDaemon("keyd"), "device-identity");
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kPermissionDenied);
}

}  // namespace
}  // namespace rustiq::keyclient
