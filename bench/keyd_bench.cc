// keyd_bench: what a signature, a seal and an unseal through rustiq-keyd cost
// compared with the RPC layer's plain unary call, and with doing the same
// cryptography in-process.
//
// One run measures, for 1 and 4 client threads (each with its own channel and
// its own connection, as rpc_bench does), p50/p99 latency, calls/s and CPU
// time per call of:
//   (base)  Echo("x") on rustiq-testserver: the common/rpc layer's plain mTLS
//           unary call, in a confined daemon of its own (rpc_bench's (c),
//           as a real daemon);
//   health  grpc.health.v1 Check on rustiq-keyd: keyd's own server path with
//           no key work behind it;
//   Keys/Sign with P-256 (a 32-byte SHA-256 digest) and with Ed25519 (a
//   64-byte message), Keys/Seal and Keys/Unseal of 1 KiB (AES-256-GCM) on
//   rustiq-keyd;
//   the same P-256 and Ed25519 signatures made in this process with OpenSSL's
//   EVP API, the way keyd's soft backend makes them when no precomputed
//   nonce is ready (services/keyd/ecdsa_presigner.h).
// It then reports the ratios against the baseline (target: P-256 Sign
// calls/s >= 0.8 x the baseline's at the same thread count) and against the
// in-process signatures.
//
//   keyd_bench [--seconds 2] [--rounds 3] [--warmup 0.5] [--threads 1,4]
//              [--max-other-load 0.1] [--ops A,B] [--diagnose]
//              [--local-secure-heap] [--keyd PATH] [--testserver PATH]
//
// Everything runs on a throw-away device under a temporary directory:
// provisioned through keyd (keyd::ProvisionThroughKeyd: the device CA inside
// keyd's store), then rustiq-keyd and rustiq-testserver are started as child
// processes with that device's configuration, confined as they confine
// themselves for real, before this process initialises gRPC. The keys are
// created by the benchmark as svc/authd ("bench-p256", "bench-ed25519",
// "bench-aes") and used as svc/authd; the baselines are called as
// svc/supervisord. Every reply is checked, and each thread's first signature
// is verified; a failed call, a denial in a daemon's log or a daemon that does
// not stop cleanly fails the run. The tables go to stdout, per-round figures
// (one key=value line per measurement) to stderr. Exit status: 0 when the run
// completed (whether or not the target was met), 1 on any error, 2 on bad
// flags.
#include <grpcpp/grpcpp.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <time.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "bench/bench_flags.h"
#include "bench/bench_support.h"
#include "common/config/config.h"
#include "common/pki/openssl_util.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "rustiq/v1/keys.grpc.pb.h"

#ifndef RUSTIQ_BINARY_DIR
#define RUSTIQ_BINARY_DIR "."
#endif

namespace rustiq::bench {
namespace {

using HealthApi = grpc::health::v1::Health;
using KeysApi = rustiq::v1::Keys;
using pki::EvpPkeyCtxPtr;
using pki::EvpPkeyPtr;
using MdCtxPtr =
    std::unique_ptr<EVP_MD_CTX,
                    pki::OpenSslDeleter<EVP_MD_CTX, EVP_MD_CTX_free>>;

constexpr char kDeviceId[] = "bench-device";
constexpr char kKeyCaller[] = "authd";  // svc/authd creates and uses keys
constexpr char kBaseCaller[] = "supervisord";  // svc/supervisord: Echo, Check
constexpr char kP256Key[] = "bench-p256";
constexpr char kEd25519Key[] = "bench-ed25519";
constexpr char kAesKey[] = "bench-aes";
constexpr char kSealContext[] = "keyd-bench";
constexpr size_t kSealBytes = 1024;
constexpr size_t kEd25519MessageBytes = 64;

// ---------------------------------------------------------------------------
// What is measured.

enum class Op {
  kEcho = 0,
  kHealth,
  kSignP256,
  kSignEd25519,
  kSeal,
  kUnseal,
  kLocalP256,
  kLocalEd25519,
  // --diagnose: the same in-process signatures, each after the thread slept
  // for kIdle, as a server thread waits for its next request.
  kIdleP256,
  kIdleEd25519,
};
constexpr int kNumOps = 10;
constexpr std::array<Op, kNumOps> kAllOps = {
    Op::kEcho,     Op::kHealth,     Op::kSignP256,  Op::kSignEd25519,
    Op::kSeal,     Op::kUnseal,     Op::kLocalP256, Op::kLocalEd25519,
    Op::kIdleP256, Op::kIdleEd25519};
constexpr std::array<Op, 8> kDefaultOps = {
    Op::kEcho, Op::kHealth, Op::kSignP256,  Op::kSignEd25519,
    Op::kSeal, Op::kUnseal, Op::kLocalP256, Op::kLocalEd25519};
constexpr auto kIdle = std::chrono::microseconds(150);
int Index(Op op) { return static_cast<int>(op); }

const char* OpName(Op op) {
  switch (op) {
    case Op::kEcho:
      return "base-echo";
    case Op::kHealth:
      return "keyd-health";
    case Op::kSignP256:
      return "keyd-sign-p256";
    case Op::kSignEd25519:
      return "keyd-sign-ed25519";
    case Op::kSeal:
      return "keyd-seal-1k";
    case Op::kUnseal:
      return "keyd-unseal-1k";
    case Op::kLocalP256:
      return "local-sign-p256";
    case Op::kLocalEd25519:
      return "local-sign-ed25519";
    case Op::kIdleP256:
      return "idle-local-sign-p256";
    case Op::kIdleEd25519:
      return "idle-local-sign-ed25519";
  }
  return "?";
}

const char* OpLabel(Op op) {
  switch (op) {
    case Op::kEcho:
      return "(base) Echo, rustiq-testserver";
    case Op::kHealth:
      return "keyd health Check";
    case Op::kSignP256:
      return "keyd Sign P-256";
    case Op::kSignEd25519:
      return "keyd Sign Ed25519";
    case Op::kSeal:
      return "keyd Seal 1 KiB";
    case Op::kUnseal:
      return "keyd Unseal 1 KiB";
    case Op::kLocalP256:
      return "in-process P-256 sign";
    case Op::kLocalEd25519:
      return "in-process Ed25519 sign";
    case Op::kIdleP256:
      return "in-process P-256 sign, after 150 µs asleep";
    case Op::kIdleEd25519:
      return "in-process Ed25519 sign, after 150 µs asleep";
  }
  return "?";
}

std::optional<Op> ParseOp(absl::string_view name) {
  for (Op op : kAllOps) {
    if (name == OpName(op)) return op;
  }
  return std::nullopt;
}

bool InProcess(Op op) {
  return op == Op::kLocalP256 || op == Op::kLocalEd25519 ||
         op == Op::kIdleP256 || op == Op::kIdleEd25519;
}
bool OnKeyd(Op op) { return op != Op::kEcho && !InProcess(op); }
// Timed by the worker itself (the signature alone, not the sleep before it).
bool SelfTimed(Op op) { return op == Op::kIdleP256 || op == Op::kIdleEd25519; }
bool IsP256(Op op) {
  return op == Op::kSignP256 || op == Op::kLocalP256 || op == Op::kIdleP256;
}

// ---------------------------------------------------------------------------
// Small helpers.

std::string Sha256(absl::string_view data) {
  std::string d(SHA256_DIGEST_LENGTH, '\0');
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(),
         reinterpret_cast<unsigned char*>(d.data()));
  return d;
}

absl::Status Crypto(absl::string_view what) {
  return absl::InternalError(absl::StrCat(what, ": ", pki::OpenSslErrors()));
}

// A P-256 signature over a 32-byte digest, made exactly as keyd's soft
// backend makes it when no precomputed nonce is ready
// (services/keyd/soft_backend.cc): a fresh EVP_PKEY_CTX on the shared key
// for every signature.
absl::StatusOr<std::string> SignP256(EVP_PKEY* key, absl::string_view digest) {
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key, nullptr));
  if (ctx == nullptr || EVP_PKEY_sign_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_signature_md(ctx.get(), EVP_sha256()) != 1) {
    return Crypto("cannot start signing");
  }
  const auto* in = reinterpret_cast<const unsigned char*>(digest.data());
  size_t len = 0;
  if (EVP_PKEY_sign(ctx.get(), nullptr, &len, in, digest.size()) != 1) {
    return Crypto("signing failed");
  }
  std::string sig(len, '\0');
  if (EVP_PKEY_sign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()),
                    &len, in, digest.size()) != 1) {
    return Crypto("signing failed");
  }
  sig.resize(len);
  return sig;
}

// Pure Ed25519 over the message, as keyd's soft backend does it.
absl::StatusOr<std::string> SignEd25519(EVP_PKEY* key,
                                        absl::string_view message) {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (ctx == nullptr ||
      EVP_DigestSignInit_ex(ctx.get(), nullptr, nullptr, nullptr, nullptr, key,
                            nullptr) != 1) {
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

bool VerifyP256(EVP_PKEY* key, absl::string_view digest,
                absl::string_view sig) {
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key, nullptr));
  return ctx != nullptr && EVP_PKEY_verify_init(ctx.get()) == 1 &&
         EVP_PKEY_CTX_set_signature_md(ctx.get(), EVP_sha256()) == 1 &&
         EVP_PKEY_verify(
             ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()),
             sig.size(), reinterpret_cast<const unsigned char*>(digest.data()),
             digest.size()) == 1;
}

bool VerifyEd25519(EVP_PKEY* key, absl::string_view message,
                   absl::string_view sig) {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  return ctx != nullptr &&
         EVP_DigestVerifyInit_ex(ctx.get(), nullptr, nullptr, nullptr, nullptr,
                                 key, nullptr) == 1 &&
         EVP_DigestVerify(
             ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()),
             sig.size(), reinterpret_cast<const unsigned char*>(message.data()),
             message.size()) == 1;
}

absl::StatusOr<EvpPkeyPtr> PublicKeyFromDer(const std::string& der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  EvpPkeyPtr key(d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size())));
  if (key == nullptr) return Crypto("cannot parse a public key from keyd");
  return key;
}

// ---------------------------------------------------------------------------
// The load: per client thread a Worker with its own connection.

// Everything the workers share, prepared once.
struct Setup {
  config::StackConfig config;
  std::string digest;        // 32 bytes, P-256
  std::string message;       // 64 bytes, Ed25519
  std::string seal_payload;  // 1 KiB
  std::string sealed_blob;   // seal_payload sealed under kAesKey
  size_t sealed_size = 0;
  EvpPkeyPtr keyd_p256_pub;
  EvpPkeyPtr keyd_ed25519_pub;
  EvpPkeyPtr local_p256;
  EvpPkeyPtr local_ed25519;
};

class HealthWorker final : public StubWorker<HealthApi> {
 public:
  explicit HealthWorker(std::shared_ptr<grpc::Channel> ch)
      : StubWorker(std::move(ch)) {}
  absl::Status Call(bool) override {
    grpc::health::v1::HealthCheckResponse resp;
    if (absl::Status s =
            CallUnary("Check", stub(), &HealthApi::Stub::Check, req_, &resp);
        !s.ok()) {
      return s;
    }
    if (resp.status() != grpc::health::v1::HealthCheckResponse::SERVING) {
      return absl::InternalError("keyd is not SERVING");
    }
    return absl::OkStatus();
  }

 private:
  grpc::health::v1::HealthCheckRequest req_;
};

class SignWorker final : public StubWorker<KeysApi> {
 public:
  SignWorker(std::shared_ptr<grpc::Channel> ch, const Setup& setup, Op op)
      : StubWorker(std::move(ch)), setup_(setup), op_(op) {
    if (op == Op::kSignP256) {
      req_.set_name(kP256Key);
      req_.set_algorithm(v1::SIGNATURE_ALGORITHM_ECDSA_P256_SHA256);
      req_.set_digest(setup.digest);
    } else {
      req_.set_name(kEd25519Key);
      req_.set_algorithm(v1::SIGNATURE_ALGORITHM_ED25519);
      req_.set_message(setup.message);
    }
  }
  absl::Status Call(bool verify) override {
    v1::SignResponse resp;
    if (absl::Status s =
            CallUnary("Sign", stub(), &KeysApi::Stub::Sign, req_, &resp);
        !s.ok()) {
      return s;
    }
    const std::string& sig = resp.signature();
    bool shape_ok = resp.version() == 1 &&
                    (op_ == Op::kSignP256 ? sig.size() >= 8 && sig.size() <= 72
                                          : sig.size() == 64);
    if (!shape_ok) {
      return absl::InternalError(
          absl::StrCat(OpLabel(op_), ": unexpected signature of ", sig.size(),
                       " bytes, version ", resp.version()));
    }
    if (verify) {
      bool valid =
          op_ == Op::kSignP256
              ? VerifyP256(setup_.keyd_p256_pub.get(), setup_.digest, sig)
              : VerifyEd25519(setup_.keyd_ed25519_pub.get(), setup_.message,
                              sig);
      if (!valid) {
        return absl::InternalError(
            absl::StrCat(OpLabel(op_), ": the signature does not verify"));
      }
    }
    return absl::OkStatus();
  }

 private:
  const Setup& setup_;
  Op op_;
  v1::SignRequest req_;
};

// Keys/Unseal of `blob` (sealed under kAesKey with kSealContext).
v1::UnsealRequest UnsealRequestFor(const std::string& blob) {
  v1::UnsealRequest req;
  req.set_name(kAesKey);
  req.set_blob(blob);
  req.set_context(kSealContext);
  return req;
}

// The plaintext Keys/Unseal gives for `req`.
absl::StatusOr<std::string> Unseal(KeysApi::Stub* stub,
                                   const v1::UnsealRequest& req) {
  v1::UnsealResponse resp;
  if (absl::Status s =
          CallUnary("Unseal", stub, &KeysApi::Stub::Unseal, req, &resp);
      !s.ok()) {
    return s;
  }
  return std::move(*resp.mutable_plaintext());
}

class SealWorker final : public StubWorker<KeysApi> {
 public:
  SealWorker(std::shared_ptr<grpc::Channel> ch, const Setup& setup)
      : StubWorker(std::move(ch)), setup_(setup) {
    req_.set_name(kAesKey);
    req_.set_plaintext(setup.seal_payload);
    req_.set_context(kSealContext);
  }
  absl::Status Call(bool verify) override {
    v1::SealResponse resp;
    if (absl::Status s =
            CallUnary("Seal", stub(), &KeysApi::Stub::Seal, req_, &resp);
        !s.ok()) {
      return s;
    }
    if (resp.blob().size() != setup_.sealed_size) {
      return absl::InternalError(
          absl::StrCat("Seal: a blob of ", resp.blob().size(),
                       " bytes, expected ", setup_.sealed_size));
    }
    if (verify) {
      absl::StatusOr<std::string> plaintext =
          Unseal(stub(), UnsealRequestFor(resp.blob()));
      if (!plaintext.ok()) return plaintext.status();
      if (*plaintext != setup_.seal_payload) {
        return absl::InternalError("Seal: the blob does not open to the input");
      }
    }
    return absl::OkStatus();
  }

 private:
  const Setup& setup_;
  v1::SealRequest req_;
};

class UnsealWorker final : public StubWorker<KeysApi> {
 public:
  UnsealWorker(std::shared_ptr<grpc::Channel> ch, const Setup& setup)
      : StubWorker(std::move(ch)),
        setup_(setup),
        req_(UnsealRequestFor(setup.sealed_blob)) {}
  absl::Status Call(bool) override {
    absl::StatusOr<std::string> plaintext = Unseal(stub(), req_);
    if (!plaintext.ok()) return plaintext.status();
    if (*plaintext != setup_.seal_payload) {
      return absl::InternalError("Unseal: wrong plaintext");
    }
    return absl::OkStatus();
  }

 private:
  const Setup& setup_;
  v1::UnsealRequest req_;
};

class LocalSignWorker final : public Worker {
 public:
  LocalSignWorker(const Setup& setup, Op op) : setup_(setup), op_(op) {}
  absl::Status Call(bool verify) override {
    const bool p256 = IsP256(op_);
    if (SelfTimed(op_)) std::this_thread::sleep_for(kIdle);
    const Clock::time_point t0 = Clock::now();
    const double cpu0 = ThreadCpuMicros();
    absl::StatusOr<std::string> sig =
        p256 ? SignP256(setup_.local_p256.get(), setup_.digest)
             : SignEd25519(setup_.local_ed25519.get(), setup_.message);
    timing_.cpu_us = ThreadCpuMicros() - cpu0;
    timing_.wall_ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0)
            .count();
    if (!sig.ok()) return sig.status();
    if (sig->empty()) return absl::InternalError("empty signature");
    if (verify) {
      bool valid =
          p256
              ? VerifyP256(setup_.local_p256.get(), setup_.digest, *sig)
              : VerifyEd25519(setup_.local_ed25519.get(), setup_.message, *sig);
      if (!valid) {
        return absl::InternalError(
            absl::StrCat(OpLabel(op_), ": the signature does not verify"));
      }
    }
    return absl::OkStatus();
  }
  OwnTiming LastTiming() const override { return timing_; }

 private:
  const Setup& setup_;
  Op op_;
  OwnTiming timing_;
};

absl::StatusOr<std::unique_ptr<Worker>> NewWorker(const Setup& setup, Op op) {
  if (InProcess(op)) return std::make_unique<LocalSignWorker>(setup, op);
  absl::StatusOr<std::shared_ptr<grpc::Channel>> ch =
      op == Op::kEcho ? PrivateChannel(setup.config, kBaseCaller, "testserver")
      : op == Op::kHealth ? PrivateChannel(setup.config, kBaseCaller, "keyd")
                          : PrivateChannel(setup.config, kKeyCaller, "keyd");
  if (!ch.ok()) return ch.status();
  switch (op) {
    case Op::kEcho:
      return NewEchoWorker(*std::move(ch), absl::StrCat("svc/", kBaseCaller));
    case Op::kHealth:
      return std::make_unique<HealthWorker>(*std::move(ch));
    case Op::kSignP256:
    case Op::kSignEd25519:
      return std::make_unique<SignWorker>(*std::move(ch), setup, op);
    case Op::kSeal:
      return std::make_unique<SealWorker>(*std::move(ch), setup);
    case Op::kUnseal:
      return std::make_unique<UnsealWorker>(*std::move(ch), setup);
    case Op::kLocalP256:
    case Op::kLocalEd25519:
    case Op::kIdleP256:
    case Op::kIdleEd25519:
      break;
  }
  return absl::InvalidArgumentError("unknown operation");
}

// Creates the benchmark's keys as svc/authd, fetches their public halves and
// seals the blob that Unseal opens.
absl::Status PrepareKeys(Setup* setup) {
  absl::StatusOr<std::shared_ptr<grpc::Channel>> ch =
      PrivateChannel(setup->config, kKeyCaller, "keyd");
  if (!ch.ok()) return ch.status();
  std::unique_ptr<KeysApi::Stub> keys = KeysApi::NewStub(*ch);
  const std::array<std::pair<const char*, v1::KeyAlgorithm>, 3> wanted = {{
      {kP256Key, v1::KEY_ALGORITHM_EC_P256},
      {kEd25519Key, v1::KEY_ALGORITHM_ED25519},
      {kAesKey, v1::KEY_ALGORITHM_AES_256},
  }};
  for (const auto& [name, algorithm] : wanted) {
    v1::CreateKeyRequest req;
    req.set_name(name);
    req.set_algorithm(algorithm);  // default policy: svc/authd alone
    v1::KeyInfo info;
    if (absl::Status s = CallUnary(absl::StrCat("CreateKey ", name), keys.get(),
                                   &KeysApi::Stub::CreateKey, req, &info);
        !s.ok()) {
      return s;
    }
  }
  for (const auto& [name, out] :
       {std::pair<const char*, EvpPkeyPtr*>{kP256Key, &setup->keyd_p256_pub},
        std::pair<const char*, EvpPkeyPtr*>{kEd25519Key,
                                            &setup->keyd_ed25519_pub}}) {
    v1::GetPublicKeyRequest req;
    req.set_name(name);
    v1::PublicKey pub;
    if (absl::Status s =
            CallUnary(absl::StrCat("GetPublicKey ", name), keys.get(),
                      &KeysApi::Stub::GetPublicKey, req, &pub);
        !s.ok()) {
      return s;
    }
    absl::StatusOr<EvpPkeyPtr> key = PublicKeyFromDer(pub.der());
    if (!key.ok()) return key.status();
    *out = *std::move(key);
  }
  v1::SealRequest seal;
  seal.set_name(kAesKey);
  seal.set_plaintext(setup->seal_payload);
  seal.set_context(kSealContext);
  v1::SealResponse sealed;
  if (absl::Status s =
          CallUnary("Seal", keys.get(), &KeysApi::Stub::Seal, seal, &sealed);
      !s.ok()) {
    return s;
  }
  setup->sealed_blob = sealed.blob();
  setup->sealed_size = sealed.blob().size();
  return absl::OkStatus();
}

absl::Status PrepareLocal(Setup* setup) {
  absl::StatusOr<EvpPkeyPtr> p256 = pki::GenerateP256Key();
  if (!p256.ok()) return p256.status();
  setup->local_p256 = *std::move(p256);
  setup->local_ed25519.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  if (setup->local_ed25519 == nullptr) return Crypto("Ed25519 key generation");
  setup->digest = Sha256("keyd_bench: the digest every P-256 Sign signs");
  setup->message.assign(kEd25519MessageBytes, '\0');
  setup->seal_payload.assign(kSealBytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(setup->message.data()),
                 static_cast<int>(setup->message.size())) != 1 ||
      RAND_bytes(reinterpret_cast<unsigned char*>(setup->seal_payload.data()),
                 static_cast<int>(setup->seal_payload.size())) != 1) {
    return Crypto("RAND_bytes");
  }
  return absl::OkStatus();
}

struct Clocks {
  clockid_t keyd;
  clockid_t testserver;
};

// `threads` threads, each with its own Worker (own connection), run the
// operation back to back: `warmup` unrecorded, then `measure` recorded.
absl::StatusOr<CallFigures> RunOp(const Setup& setup, Op op,
                                  const Clocks& clocks, int threads,
                                  absl::Duration warmup,
                                  absl::Duration measure) {
  // The first call on each connection is checked in full (signature
  // verified, seal opened) and not timed.
  absl::StatusOr<std::vector<std::unique_ptr<Worker>>> workers =
      NewCheckedWorkers(threads, [&](int) { return NewWorker(setup, op); });
  if (!workers.ok()) return workers.status();
  absl::StatusOr<LoadResult> load =
      RunLoad(*workers, {.warmup = warmup,
                         .measure = measure,
                         .self_timed = SelfTimed(op),
                         .daemon_clocks = {clocks.keyd, clocks.testserver}});
  if (!load.ok()) return load.status();
  const double keyd_cpu = load->daemon_cpu_s[0];
  const double ts_cpu = load->daemon_cpu_s[1];
  CallFigures r =
      PerCall(*load, op == Op::kEcho ? ts_cpu : (OnKeyd(op) ? keyd_cpu : 0.0));
  if (SelfTimed(op)) {
    // Calls/s would count the sleeps: left out. CPU: the signatures alone.
    r.calls_per_s = 0;
    r.client_cpu_us = load->own_cpu_us / static_cast<double>(load->calls);
  }
  return r;
}

// ---------------------------------------------------------------------------
// Flags and report.

// 16 measurements of 2.5 s per round: about 2 minutes for 3 rounds.
struct Flags : RunFlags {
  // A subset of the operations (--ops), for profiling one of them.
  std::vector<Op> ops = {kDefaultOps.begin(), kDefaultOps.end()};
  // Initialise OpenSSL's secure heap in this process as keyd does, so that
  // the in-process keys and signing temporaries live where keyd's do.
  bool local_secure_heap = false;
  bool diagnose = false;  // adds the idle in-process signatures
  std::string keyd =
      absl::StrCat(RUSTIQ_BINARY_DIR, "/services/keyd/rustiq-keyd");
  std::string testserver =
      absl::StrCat(RUSTIQ_BINARY_DIR, "/tests/testserver/rustiq-testserver");
};

constexpr char kUsage[] =
    "usage: keyd_bench [--seconds S] [--rounds N] [--warmup S] "
    "[--threads 1,4] [--max-other-load C] [--ops A,B] [--keyd PATH]\n"
    "       [--testserver PATH] [--local-secure-heap] [--diagnose]\n"
    "  --seconds     measured seconds per operation, thread count and round "
    "(default 2)\n"
    "  --rounds      interleaved rounds; the tables show their median "
    "(default 3)\n"
    "  --warmup      unrecorded seconds before each measurement (default "
    "0.5)\n"
    "  --threads     client thread counts (default 1,4)\n"
    "  --max-other-load  repeat a measurement (up to 5 times) when other\n"
    "                processes used more than C cores meanwhile (default 0.1;\n"
    "                0: never)\n"
    "  --ops         only these operations (default: all of base-echo,\n"
    "                keyd-health, keyd-sign-p256, keyd-sign-ed25519,\n"
    "                keyd-seal-1k, keyd-unseal-1k, local-sign-p256,\n"
    "                local-sign-ed25519; with --diagnose also\n"
    "                idle-local-sign-p256, idle-local-sign-ed25519); ratios\n"
    "                need both of their sides\n"
    "  --diagnose    also time each in-process signature made after the\n"
    "                thread slept 150 µs (as a server thread waits for a\n"
    "                request), the signature alone\n"
    "  --local-secure-heap  sign in-process with OpenSSL's secure heap on\n"
    "                (1 MiB, as rustiq-keyd runs); default: the ordinary heap\n"
    "  --keyd, --testserver  the daemons' binaries (default: this build's)\n";

absl::StatusOr<Flags> ParseFlags(int argc, char** argv) {
  Flags f;
  FlagParser parser;
  AddRunFlags(&parser, &f, 64);
  parser.Switch("--diagnose", &f.diagnose);
  parser.Switch("--local-secure-heap", &f.local_secure_heap);
  parser.Valued("--ops", [&f](const std::string& v) {
    f.ops.clear();
    bool ok = true;
    for (absl::string_view o : absl::StrSplit(v, ',')) {
      std::optional<Op> op = ParseOp(o);
      ok = ok && op.has_value();
      if (op.has_value() &&
          std::find(f.ops.begin(), f.ops.end(), *op) == f.ops.end()) {
        f.ops.push_back(*op);
      }
    }
    return ok;
  });
  parser.NonEmpty("--keyd", &f.keyd);
  parser.NonEmpty("--testserver", &f.testserver);
  if (absl::Status s = parser.Parse(argc, argv); !s.ok()) return s;
  if (f.diagnose) {
    for (Op op : {Op::kIdleP256, Op::kIdleEd25519}) {
      if (std::find(f.ops.begin(), f.ops.end(), op) == f.ops.end()) {
        f.ops.push_back(op);
      }
    }
  }
  // Measured in the order of kAllOps, whatever the order given.
  std::sort(f.ops.begin(), f.ops.end(),
            [](Op a, Op b) { return Index(a) < Index(b); });
  return f;
}

int RunBenchmark(const Flags& flags, int argc, char** argv) {
  const std::string command = CommandLine(argc, argv);
  InstallStopSignals();
  auto fail = [](const absl::Status& s) { return RunFailed("keyd_bench", s); };

  absl::StatusOr<std::unique_ptr<TempDir>> dir = TempDir::Create("keyd-bench");
  if (!dir.ok()) return fail(dir.status());
  const std::string root = (*dir)->path();

  // keyd's figure (services/keyd/main.cc): 1 MiB, 16-byte minimum.
  if (flags.local_secure_heap && CRYPTO_secure_malloc_init(1 << 20, 16) != 1) {
    return fail(absl::UnavailableError(
        "OpenSSL's secure heap is unavailable (RLIMIT_MEMLOCK?)"));
  }
  Setup setup;
  absl::StatusOr<config::StackConfig> cfg = ProvisionDevice(
      root, DeviceSpec{kDeviceId,
                       {"keyd", "testserver", kBaseCaller, kKeyCaller},
                       {"rustiqctl"},
                       nullptr});
  if (!cfg.ok()) return fail(cfg.status());
  setup.config = *std::move(cfg);
  if (absl::Status s = PrepareLocal(&setup); !s.ok()) return fail(s);

  // Declared after `dir`, so the daemons stop before the directory goes.
  Daemon keyd{"keyd", flags.keyd, "", -1, {}};
  Daemon testserver{
      "testserver", flags.testserver, "", -1, {"--name", "testserver"}};
  Daemons daemons(setup.config, "rustiq-keyd rustiq-testserver", kBaseCaller);
  if (absl::Status s = daemons.Spawn(&keyd, root); !s.ok()) return fail(s);
  if (absl::Status s = daemons.Spawn(&testserver, root); !s.ok()) {
    return fail(s);
  }
  // gRPC starts here, in the parent, after the last fork.
  if (absl::Status s = daemons.WaitServing(absl::Seconds(30)); !s.ok()) {
    return fail(s);
  }
  Clocks clocks{};
  for (auto [d, out] :
       {std::pair<Daemon*, clockid_t*>{&keyd, &clocks.keyd},
        std::pair<Daemon*, clockid_t*>{&testserver, &clocks.testserver}}) {
    absl::StatusOr<clockid_t> clock = ProcessCpuClock(d->pid);
    if (!clock.ok()) return fail(clock.status());
    *out = *clock;
  }
  const std::string keyd_confinement = AnnounceDaemon(keyd);
  const std::string testserver_confinement = AnnounceDaemon(testserver);
  fprintf(stderr, "client: pid %d\n", getpid());
  if (absl::Status s = PrepareKeys(&setup); !s.ok()) return fail(s);

  const absl::Duration warmup = absl::Seconds(flags.warmup);
  const absl::Duration measure = absl::Seconds(flags.seconds);
  // cells[threads index][op]
  std::vector<std::array<CallCell, kNumOps>> cells(flags.threads.size());
  QuietCheck quiet(flags.max_other_load);
  for (int round = 0; round < flags.rounds; ++round) {
    for (size_t ti = 0; ti < flags.threads.size(); ++ti) {
      const int threads = flags.threads[ti];
      // The order rotates each round so that no operation always runs first
      // or right after the same other one.
      for (Op op : Rotated(flags.ops, round)) {
        absl::StatusOr<CallFigures> r = quiet.Run(
            [&] { return RunOp(setup, op, clocks, threads, warmup, measure); },
            [&](double cores) {
              fprintf(stderr,
                      "round=%d/%d threads=%d op=%s other_cores=%.2f: "
                      "measuring again\n",
                      round + 1, flags.rounds, threads, OpName(op), cores);
            });
        if (!r.ok()) return fail(r.status());
        cells[ti][Index(op)].Add(*r);
        fprintf(stderr,
                "keyd_bench round=%d/%d threads=%d op=%s p50_us=%.1f "
                "p99_us=%.1f calls_per_s=%.0f server_cpu_us=%.1f "
                "client_cpu_us=%.1f calls=%llu other_cores=%.2f\n",
                round + 1, flags.rounds, threads, OpName(op), r->p50_us,
                r->p99_us, r->calls_per_s, r->server_cpu_us, r->client_cpu_us,
                static_cast<unsigned long long>(r->calls), r->foreign_cores);
      }
    }
  }

  const std::string keyd_log = ReadWholeFile(keyd.log_path);
  const bool secure_heap =
      !absl::StrContains(keyd_log, "secure heap is unavailable");
  const size_t keyd_log_bytes = keyd_log.size();
  // The daemons must stop cleanly, without a single denial, for the tables
  // to count.
  if (absl::Status s = daemons.Stop(); !s.ok()) return fail(s);

  std::string out =
      ReportHead("Keys/Sign, Seal and Unseal through rustiq-keyd", command);
  absl::StrAppend(
      &out, "- daemons: rustiq-keyd (soft backend, OpenSSL secure heap ",
      secure_heap ? "on" : "OFF", "; ", keyd_confinement,
      ") and rustiq-testserver (", testserver_confinement,
      "), each confined by its own policy, on a device provisioned through "
      "keyd; keyd wrote ",
      keyd_log_bytes, " bytes of log during the run\n");
  absl::StrAppend(
      &out,
      absl::StrFormat(
          "- method: %d interleaved rounds; per round, operation and thread "
          "count %.1f s warm-up then %.1f s of back-to-back blocking calls; "
          "each client thread has its own channel and connection "
          "(common/rpc ChannelFactory, private_connection); keys used as "
          "svc/authd, baselines called as svc/supervisord; in-process "
          "signatures with keys in %s; figures are the median across "
          "rounds\n",
          flags.rounds, flags.warmup, flags.seconds,
          flags.local_secure_heap ? "OpenSSL's secure heap (as keyd)"
                                  : "the ordinary heap"));
  absl::StrAppend(&out, quiet.Summary("the benchmark's and both daemons'"),
                  "; ", quiet.Repeats(), "\n\n", CallTableHead("operation"));
  for (size_t ti = 0; ti < flags.threads.size(); ++ti) {
    for (Op op : flags.ops) {
      absl::StrAppend(&out, CallTableRow(OpLabel(op), flags.threads[ti],
                                         cells[ti][Index(op)],
                                         /*with_calls=*/!SelfTimed(op),
                                         /*with_server=*/!InProcess(op)));
    }
  }

  RatioTable ratios("keyd_bench");  // left out when empty
  auto ratio_row = [&](absl::string_view label, absl::string_view key,
                       int threads, const std::vector<double>& num,
                       const std::vector<double>& den, double min_target) {
    ratios.AddRatio(label, key, threads, num, den, min_target);
  };
  for (size_t ti = 0; ti < flags.threads.size(); ++ti) {
    const auto& c = cells[ti];
    const int t = flags.threads[ti];
    const CallCell& base = c[Index(Op::kEcho)];
    const CallCell& health = c[Index(Op::kHealth)];
    const CallCell& p256 = c[Index(Op::kSignP256)];
    const CallCell& ed = c[Index(Op::kSignEd25519)];
    ratio_row("Sign P-256 / (base) calls/s", "sign-p256/base-calls", t,
              p256.cps, base.cps, 0.8);
    ratio_row("Sign P-256 / (base) p50 latency", "sign-p256/base-p50", t,
              p256.p50, base.p50, 0);
    ratio_row("Sign Ed25519 / (base) calls/s", "sign-ed25519/base-calls", t,
              ed.cps, base.cps, 0);
    ratio_row("Seal 1 KiB / (base) calls/s", "seal/base-calls", t,
              c[Index(Op::kSeal)].cps, base.cps, 0);
    ratio_row("Unseal 1 KiB / (base) calls/s", "unseal/base-calls", t,
              c[Index(Op::kUnseal)].cps, base.cps, 0);
    ratio_row("keyd health / (base) calls/s", "health/base-calls", t,
              health.cps, base.cps, 0);
    ratio_row("Sign P-256 / keyd health calls/s", "sign-p256/health-calls", t,
              p256.cps, health.cps, 0);
    ratio_row("Sign P-256 keyd / in-process calls/s", "sign-p256/local-calls",
              t, p256.cps, c[Index(Op::kLocalP256)].cps, 0);
    ratio_row("Sign Ed25519 keyd / in-process calls/s",
              "sign-ed25519/local-calls", t, ed.cps,
              c[Index(Op::kLocalEd25519)].cps, 0);
  }

  if (!ratios.empty()) {
    absl::StrAppend(&out, ratios.Section("Ratios",
                                         "From the medians above; \"per "
                                         "round\" lists the same ratio within "
                                         "each round, to show the noise."));
  }

  std::string where_rows;
  for (size_t ti = 0; ti < flags.threads.size(); ++ti) {
    const auto& c = cells[ti];
    auto cpu_of = [&](Op op) {
      const CallCell& cell = c[Index(op)];
      return cell.p50.empty()
                 ? std::string("")
                 : absl::StrFormat("%.1f", Median(cell.client_cpu));
    };
    const CallCell& health = c[Index(Op::kHealth)];
    for (Op op : {Op::kEcho, Op::kHealth, Op::kSignP256, Op::kSignEd25519,
                  Op::kSeal, Op::kUnseal}) {
      const CallCell& cell = c[Index(op)];
      if (cell.p50.empty()) continue;  // not measured (--ops)
      const double server = Median(cell.server_cpu);
      const double client = Median(cell.client_cpu);
      std::string adds;
      if (OnKeyd(op) && op != Op::kHealth && !health.p50.empty()) {
        adds = absl::StrFormat("%+.1f", server - Median(health.server_cpu));
      }
      std::string local, idle;
      if (op == Op::kSignP256) {
        local = cpu_of(Op::kLocalP256);
        idle = cpu_of(Op::kIdleP256);
      } else if (op == Op::kSignEd25519) {
        local = cpu_of(Op::kLocalEd25519);
        idle = cpu_of(Op::kIdleEd25519);
      }
      absl::StrAppend(
          &where_rows,
          absl::StrFormat("| %s | %d | %.1f | %s | %s | %s | %.1f | %.1f |\n",
                          OpLabel(op), flags.threads[ti], server, adds, local,
                          idle, client, server + client));
    }
  }
  if (!where_rows.empty()) {
    absl::StrAppend(
        &out,
        "\n### Where the time goes\n\n"
        "CPU per call, medians across rounds. \"keyd adds\": the keyd "
        "server's CPU per call minus its CPU per health Check (the same "
        "server path with no key work). \"in-process\": this process's CPU per "
        "signature made with EVP directly, as keyd's soft backend makes it "
        "without a precomputed nonce, "
        "back to back; \"after sleep\" (--diagnose): the same signature made "
        "after the thread slept 150 µs, as a server thread waits for its next "
        "request. \"total\": server + client CPU per call; at 4 threads on 2 "
        "cores calls/s is roughly 2 cores divided by it.\n\n"
        "| operation | threads | server CPU µs/call | keyd adds µs | "
        "in-process "
        "µs/op | after sleep µs/op | client CPU µs/call | total µs/call |\n"
        "|---|---:|---:|---:|---:|---:|---:|---:|\n",
        where_rows);
  }

  std::vector<std::string> machine;
  for (size_t ti = 0; ti < flags.threads.size(); ++ti) {
    for (Op op : flags.ops) {
      const CallCell& c = cells[ti][Index(op)];
      machine.push_back(absl::StrFormat(
          "keyd_bench op=%s threads=%d rounds=%d seconds=%.1f p50_us=%.1f "
          "p99_us=%.1f calls_per_s=%.0f server_cpu_us=%.1f client_cpu_us=%.1f",
          OpName(op), flags.threads[ti], flags.rounds, flags.seconds,
          Median(c.p50), Median(c.p99), Median(c.cps), Median(c.server_cpu),
          Median(c.client_cpu)));
    }
  }
  machine.insert(machine.end(), ratios.machine_lines().begin(),
                 ratios.machine_lines().end());
  absl::StrAppend(
      &out, MachineReadable("One line per measurement (medians across rounds) "
                            "and per ratio.",
                            machine));
  PrintReport(out);
  return 0;
}

}  // namespace
}  // namespace rustiq::bench

int main(int argc, char** argv) {
  using namespace rustiq::bench;  // NOLINT(build/namespaces)
  absl::StatusOr<Flags> flags = ParseFlags(argc, argv);
  if (!flags.ok()) return UsageExit("keyd_bench", flags.status(), kUsage);
  return RunBenchmark(*flags, argc, argv);
}
