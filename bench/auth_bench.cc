// auth_bench: what people's tokens and logins cost: a token's verification
// inside a daemon with and without the cache of verified tokens, the
// enforcement point's cost for a call that carries a token, and the time of
// a login with the default argon2id parameters.
//
// One run measures, interleaved in rounds:
//   1. in this process, on 1 and 4 threads sharing one verifier as a
//      daemon's gRPC threads do: auth::LocalTokenVerifier::Verify of the
//      same valid token again and again with the cache on (a cache hit:
//      SHA-256 of the token, the lookup, expiry and revocation) and with the
//      cache off (envelope, signature and JSON every time), against the
//      Ed25519 verification alone (EVP_DigestVerify of the same signing
//      input, as paseto::VerifyParts makes it): the baseline;
//   2. over real mTLS on a Unix socket, each client thread with its own
//      channel and connection (as rpc_bench and keyd_bench do), as
//      client/rustiqctl: the test Echo service served by rpc::RpcServer with
//      a LocalTokenVerifier (a fixed Ed25519 key, an always-fresh revocation
//      set), Echo without a token (the baseline: no permission declared)
//      against PersonOnly (permission test.admin) with a valid token, on a
//      server whose verifier caches and on one whose verifier does not, and
//      Echo with the token (sent but not verified: what the header alone
//      costs); p50/p99 latency, calls/s and CPU per call of the server and
//      of this process;
//   3. --logins successful Auth/Login calls, one after the other from one
//      client, through real, confined rustiq-authd, rustiq-keyd (which signs
//      each token) and rustiq-eventd (which records each login) with the
//      DEFAULT [authd] configuration (argon2id 19456 KiB, t=2, p=1): the
//      brute-force defence, reported and not minimised; and the same
//      hasher's PasswordHasher::Hash and Verify in this process, so that
//      what the RPC adds to the argon2id work is visible; CPU and minor
//      page faults per operation.
// The ratios against the baselines of the same run are printed; there are no
// targets.
//
//   auth_bench [--quick] [--keep] [--seconds 2] [--rounds 3]
//              [--warmup 0.5] [--threads 1,4] [--logins 100]
//              [--max-other-load 0.1]
//              [--keyd PATH] [--eventd PATH] [--authd PATH]
//
// Everything runs on a throw-away device under a temporary directory,
// provisioned through keyd; the first admin is created with
// authd::ProvisionFirstAdmin before rustiq-authd starts and logs in once
// with new_password to get past the forced change (the token it gets is
// verified here with keyd's token-signing key). The daemons are started
// from this build, confined as they confine themselves. The two Echo servers
// are this binary again (auth_bench --serve-echo NAME, in child processes of
// their own, not confined), so that their CPU is measured apart from the
// clients'. The token is what authd would issue to an admin (the admin
// role's permissions) plus test.admin, valid for 6 hours, signed by a key
// made for the run. Every reply is checked; a failed call or verification,
// a denial in a daemon's log or a daemon that does not stop cleanly fails
// the run. The tables go to stdout, per-measurement figures to stderr. Exit
// status: 0 when the run completed, 1 on any error, 2 on bad flags.
#include <grpcpp/grpcpp.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <numeric>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bench/bench_flags.h"
#include "bench/bench_support.h"
#include "common/audit/security_event.h"
#include "common/auth/keyd_token_key_source.h"
#include "common/auth/paseto.h"
#include "common/auth/public_key_source.h"
#include "common/auth/revocation_set.h"
#include "common/auth/token_claims.h"
#include "common/auth/token_issuer.h"
#include "common/auth/token_verifier.h"
#include "common/config/config.h"
#include "common/pki/identity_files.h"
#include "common/pki/openssl_util.h"
#include "common/rpc/client.h"
#include "common/rpc/server.h"
#include "common/rpc/token_verifier.h"
#include "rustiq/test/v1/echo.grpc.pb.h"
#include "rustiq/v1/auth.grpc.pb.h"
#include "services/authd/authd_setup.h"
#include "services/authd/password_hasher.h"
#include "services/authd/roles.h"
#include "tests/testserver/echo_service.h"

#ifndef RUSTIQ_BINARY_DIR
#define RUSTIQ_BINARY_DIR "."
#endif

namespace rustiq::bench {
namespace {

using AuthApi = rustiq::v1::Auth;
using EchoApi = rustiq::test::v1::Echo;
using MdCtxPtr =
    std::unique_ptr<EVP_MD_CTX,
                    pki::OpenSslDeleter<EVP_MD_CTX, EVP_MD_CTX_free>>;

constexpr char kTool[] = "auth_bench";
constexpr char kDeviceId[] = "bench-device";
// The Echo servers (svc/<name>, <name>.sock): their verifiers cache, or not.
constexpr char kEchoCached[] = "echo-cache";
constexpr char kEchoUncached[] = "echo-nocache";
constexpr char kHealthCaller[] = "supervisord";  // svc/supervisord
constexpr char kClient[] = "rustiqctl";          // client/rustiqctl: every call
constexpr char kExpectedCaller[] = "client/rustiqctl";
// The first admin: provisioned with kInitialPassword, changed at the first
// login to kAdminPassword, which every timed login gives.
constexpr char kAdmin[] = "admin";
constexpr char kInitialPassword[] = "Provisioned-cred-4Rt8-Lw2Q";
constexpr char kAdminPassword[] = "Copper-Harbour-7302-Lichen";
// The person of the benchmark's own token, and what PersonOnly asks of it.
constexpr char kTokenUser[] = "bench";
constexpr char kPersonPermission[] = "test.admin";
constexpr uint32_t kTokenKeyVersion = 1;
constexpr absl::Duration kTokenLifetime = absl::Hours(6);

// ---------------------------------------------------------------------------
// What is measured.

// Sections 1 (in-process verification) and 2 (calls through the
// enforcement point): loads of RunLoad.
enum class Op {
  kRawEd25519 = 0,
  kVerifyCached,
  kVerifyUncached,
  kEcho,
  kEchoToken,
  kPersonCached,
  kPersonUncached,
};
constexpr int kNumOps = 7;
const std::vector<Op> kVerifyOps = {Op::kRawEd25519, Op::kVerifyCached,
                                    Op::kVerifyUncached};
const std::vector<Op> kCallOps = {Op::kEcho, Op::kEchoToken, Op::kPersonCached,
                                  Op::kPersonUncached};
int Index(Op op) { return static_cast<int>(op); }

const char* OpName(Op op) {
  switch (op) {
    case Op::kRawEd25519:
      return "raw-ed25519-verify";
    case Op::kVerifyCached:
      return "verify-cached";
    case Op::kVerifyUncached:
      return "verify-uncached";
    case Op::kEcho:
      return "base-echo";
    case Op::kEchoToken:
      return "echo-token-unverified";
    case Op::kPersonCached:
      return "person-token-cached";
    case Op::kPersonUncached:
      return "person-token-uncached";
  }
  return "?";
}

const char* OpLabel(Op op) {
  switch (op) {
    case Op::kRawEd25519:
      return "(base) Ed25519 verify of the signing input";
    case Op::kVerifyCached:
      return "LocalTokenVerifier::Verify, cache hit";
    case Op::kVerifyUncached:
      return "LocalTokenVerifier::Verify, cache off";
    case Op::kEcho:
      return "(base) Echo, no token";
    case Op::kEchoToken:
      return "Echo + token, not verified";
    case Op::kPersonCached:
      return "PersonOnly + token, cache on";
    case Op::kPersonUncached:
      return "PersonOnly + token, cache off";
  }
  return "?";
}

bool InProcess(Op op) {
  return op == Op::kRawEd25519 || op == Op::kVerifyCached ||
         op == Op::kVerifyUncached;
}

// Section 3: sequences of single operations, each timed on its own.
enum class Step { kLogin = 0, kHash, kPasswordVerify };
constexpr int kNumSteps = 3;
const std::vector<Step> kSteps = {Step::kLogin, Step::kHash,
                                  Step::kPasswordVerify};
int Index(Step s) { return static_cast<int>(s); }

const char* StepName(Step s) {
  switch (s) {
    case Step::kLogin:
      return "login";
    case Step::kHash:
      return "argon2id-hash";
    case Step::kPasswordVerify:
      return "argon2id-verify";
  }
  return "?";
}

const char* StepLabel(Step s) {
  switch (s) {
    case Step::kLogin:
      return "Auth/Login through rustiq-authd";
    case Step::kHash:
      return "(base) in-process PasswordHasher::Hash";
    case Step::kPasswordVerify:
      return "(base) in-process PasswordHasher::Verify";
  }
  return "?";
}

// The child processes' CPU clocks, in this order in every measurement.
enum ChildClock : size_t {
  kKeydClock = 0,
  kEventdClock,
  kAuthdClock,
  kEchoCachedClock,
  kEchoUncachedClock,
  kNumChildClocks,
};

// The server an operation calls (its CPU is the server CPU); none for the
// in-process ones.
std::optional<size_t> ServerClock(Op op) {
  switch (op) {
    case Op::kEcho:
    case Op::kEchoToken:
    case Op::kPersonCached:
      return kEchoCachedClock;
    case Op::kPersonUncached:
      return kEchoUncachedClock;
    case Op::kRawEd25519:
    case Op::kVerifyCached:
    case Op::kVerifyUncached:
      break;
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------
// The token-signing key of the run.

// Version kTokenKeyVersion of the token-signing key is `key`; there is no
// other (a fixed key source, as the tests use).
class FixedTokenKey final : public auth::TokenKeySource {
 public:
  explicit FixedTokenKey(auth::SharedPublicKey key) : key_(std::move(key)) {}
  absl::StatusOr<auth::SharedPublicKey> Key(uint32_t version) override {
    if (version != kTokenKeyVersion) {
      return absl::UnauthenticatedError("no such token-signing key version");
    }
    return key_;
  }

 private:
  const auth::SharedPublicKey key_;
};

absl::Status Crypto(absl::string_view what) {
  return absl::InternalError(absl::StrCat(what, ": ", pki::OpenSslErrors()));
}

// The DER SubjectPublicKeyInfo of `key`.
absl::StatusOr<std::string> PublicKeyDer(EVP_PKEY* key) {
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(key, &der);
  if (len <= 0) return Crypto("cannot encode the token key");
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

// The public key the parent wrote to `path` (DER), shared.
absl::StatusOr<auth::SharedPublicKey> ReadPublicKey(const std::string& path) {
  const std::string der = ReadWholeFile(path);
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  EVP_PKEY* key = d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size()));
  if (key == nullptr) {
    return Crypto(absl::StrCat("cannot read the token key from ", path));
  }
  return auth::ShareKey(key);
}

// A verifier as a daemon holds it, over `keys` and `revocations` (not
// owned), with the cache on or off.
std::unique_ptr<auth::LocalTokenVerifier> NewVerifier(
    bool cache, auth::TokenKeySource* keys, auth::RevocationSet* revocations) {
  auth::LocalTokenVerifier::Options options;
  options.device_id = kDeviceId;
  options.cache = cache;
  return std::make_unique<auth::LocalTokenVerifier>(std::move(options), keys,
                                                    revocations);
}

// authd's own revocation set is always fresh; here nothing is revoked and
// no follower is needed.
std::unique_ptr<auth::RevocationSet> NewRevocations() {
  return std::make_unique<auth::RevocationSet>(
      auth::RevocationSet::Options{.always_fresh = true});
}

// ---------------------------------------------------------------------------
// The Echo server (a child process: auth_bench --config FILE --serve-echo
// NAME --cache on|off --token-key FILE).

bool IsServeEcho(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    absl::string_view a = argv[i];
    if (a == "--serve-echo" || absl::StartsWith(a, "--serve-echo=")) {
      return true;
    }
  }
  return false;
}

struct ServeFlags {
  std::string config;
  std::string name;
  std::string cache = "on";
  std::string token_key;
};

// Serves Echo as svc/<name> on <runtime>/<name>.sock until SIGTERM, the
// token verifier over the parent's key.
absl::Status ServeEcho(const ServeFlags& flags) {
  // Stop signals are taken by sigwait below; blocked before gRPC starts its
  // threads so that they inherit the mask.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  absl::StatusOr<config::StackConfig> cfg = config::LoadConfig(flags.config);
  if (!cfg.ok()) return cfg.status();
  absl::StatusOr<auth::SharedPublicKey> key = ReadPublicKey(flags.token_key);
  if (!key.ok()) return key.status();
  FixedTokenKey keys(*std::move(key));
  std::unique_ptr<auth::RevocationSet> revocations = NewRevocations();
  std::unique_ptr<auth::LocalTokenVerifier> verifier =
      NewVerifier(flags.cache == "on", &keys, revocations.get());
  testing::EchoService echo;
  audit::LogSecurityEventSink sink;  // a denial in the log fails the run
  absl::StatusOr<std::unique_ptr<rpc::RpcServer>> server =
      rpc::RpcServer::Start(rpc::ServerOptionsFromConfig(*cfg, flags.name),
                            {rpc::Serve<EchoApi>(&echo)}, &sink,
                            verifier.get());
  if (!server.ok()) return server.status();
  fprintf(stderr, "%s: serving Echo as svc/%s, token cache %s\n", kTool,
          flags.name.c_str(), flags.cache.c_str());
  int sig = 0;
  sigwait(&stop, &sig);
  (*server)->Shutdown(absl::Seconds(1));
  return absl::OkStatus();
}

int ServeEchoMain(int argc, char** argv) {
  ServeFlags flags;
  FlagParser parser;
  parser.NonEmpty("--config", &flags.config);
  parser.NonEmpty("--serve-echo", &flags.name);
  parser.Valued("--cache", [&flags](const std::string& v) {
    flags.cache = v;
    return v == "on" || v == "off";
  });
  parser.NonEmpty("--token-key", &flags.token_key);
  absl::Status s = parser.Parse(argc, argv);
  if (s.ok() && (flags.config.empty() || flags.token_key.empty())) {
    s = absl::InvalidArgumentError("--serve-echo needs --config, --token-key");
  }
  if (s.ok()) s = ServeEcho(flags);
  if (!s.ok()) return RunFailed("auth_bench --serve-echo", s);
  return 0;
}

// ---------------------------------------------------------------------------
// What the measurements share, prepared once.

struct Setup {
  config::StackConfig config;
  pki::EvpPkeyPtr token_key;   // the private half; signs the run's token
  std::string token_key_path;  // its public half (DER) for the servers
  std::string token;
  size_t token_permissions = 0;
  // The raw baseline: what the token's signature covers, and the signature.
  std::string signing_input;
  std::string signature;
  auth::SharedPublicKey token_public;  // read back from token_key_path
  std::unique_ptr<FixedTokenKey> keys;
  std::unique_ptr<auth::RevocationSet> revocations;
  std::unique_ptr<auth::LocalTokenVerifier> cached;
  std::unique_ptr<auth::LocalTokenVerifier> uncached;
  std::vector<clockid_t> clocks;  // ChildClock order
  pid_t authd_pid = -1;
};

// What authd issues an admin, plus what PersonOnly asks for.
rpc::TokenClaims BenchClaims() {
  const authd::RoleCatalog& roles = authd::RoleCatalog::Compiled();
  rpc::TokenClaims c;
  c.subject = kTokenUser;
  c.token_id = auth::NewTokenId();
  c.roles = {authd::kAdminRole};
  c.permissions = roles.PermissionsOf(c.roles);
  c.permissions.push_back(kPersonPermission);
  std::sort(c.permissions.begin(), c.permissions.end());
  c.issued = absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now()));
  c.expires = c.issued + kTokenLifetime;
  return c;
}

// The run's key, its public half on disk for the servers, the token, its
// signing input, and the in-process verifiers.
absl::Status PrepareToken(const std::string& root, Setup* setup) {
  setup->token_key.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  if (setup->token_key == nullptr) return Crypto("Ed25519 key generation");
  absl::StatusOr<std::string> der = PublicKeyDer(setup->token_key.get());
  if (!der.ok()) return der.status();
  setup->token_key_path = absl::StrCat(root, "/token-key.der");
  if (absl::Status s =
          pki::WriteFileAtomically(setup->token_key_path, *der, 0644);
      !s.ok()) {
    return s;
  }
  rpc::TokenClaims claims = BenchClaims();
  setup->token_permissions = claims.permissions.size();
  absl::StatusOr<std::string> token =
      auth::IssueToken(claims, kDeviceId, kTokenKeyVersion,
                       auth::LocalEd25519Signer(setup->token_key.get()));
  if (!token.ok()) return token.status();
  setup->token = *std::move(token);
  absl::StatusOr<auth::paseto::V4PublicParts> parts =
      auth::paseto::Parse(setup->token);
  if (!parts.ok()) return parts.status();
  setup->signing_input = auth::paseto::SigningInput(
      parts->message, parts->footer, auth::ImplicitAssertion(kDeviceId));
  setup->signature = parts->signature;

  absl::StatusOr<auth::SharedPublicKey> pub =
      ReadPublicKey(setup->token_key_path);
  if (!pub.ok()) return pub.status();
  setup->token_public = *std::move(pub);
  setup->keys = std::make_unique<FixedTokenKey>(setup->token_public);
  setup->revocations = NewRevocations();
  setup->cached =
      NewVerifier(/*cache=*/true, setup->keys.get(), setup->revocations.get());
  setup->uncached =
      NewVerifier(/*cache=*/false, setup->keys.get(), setup->revocations.get());
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// Section 1: in-process workers.

// Verify() of the run's token; checks the claims a handler would use.
class VerifyWorker final : public Worker {
 public:
  VerifyWorker(auth::LocalTokenVerifier* verifier, const std::string& token)
      : verifier_(verifier), token_(token) {}
  absl::Status Call(bool) override {
    absl::StatusOr<rpc::TokenClaims> claims = verifier_->Verify(token_);
    if (!claims.ok()) return claims.status();
    if (claims->subject != kTokenUser ||
        !claims->HasPermission(kPersonPermission)) {
      return absl::InternalError("the token verified with the wrong claims");
    }
    return absl::OkStatus();
  }

 private:
  auth::LocalTokenVerifier* const verifier_;  // not owned
  const std::string& token_;
};

// The Ed25519 verification alone, made as paseto::VerifyParts makes it (a
// context per verification) over the signing input computed once.
class RawEd25519Worker final : public Worker {
 public:
  RawEd25519Worker(EVP_PKEY* key, const Setup& setup)
      : key_(key), setup_(setup) {}
  absl::Status Call(bool) override {
    MdCtxPtr ctx(EVP_MD_CTX_new());
    const auto* sig =
        reinterpret_cast<const unsigned char*>(setup_.signature.data());
    const auto* in =
        reinterpret_cast<const unsigned char*>(setup_.signing_input.data());
    if (ctx == nullptr ||
        EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key_) != 1 ||
        EVP_DigestVerify(ctx.get(), sig, setup_.signature.size(), in,
                         setup_.signing_input.size()) != 1) {
      return Crypto("the token's signature does not verify");
    }
    return absl::OkStatus();
  }

 private:
  EVP_PKEY* const key_;  // not owned
  const Setup& setup_;
};

// ---------------------------------------------------------------------------
// Section 2: Echo and PersonOnly as client/rustiqctl.

// A channel of its own (its own connection) to `daemon` as
// client/rustiqctl, connected.
absl::StatusOr<std::shared_ptr<grpc::Channel>> ClientChannel(
    const config::StackConfig& cfg, absl::string_view daemon) {
  return PrivateChannel(rpc::ClientOptionsForClient(cfg, kClient), daemon);
}

void AddToken(grpc::ClientContext* ctx, absl::string_view token) {
  ctx->AddMetadata(rpc::kTokenMetadataKey,
                   absl::StrCat(rpc::kBearerPrefix, token));
}

using EchoMethod = grpc::Status (EchoApi::Stub::*)(
    grpc::ClientContext*, const rustiq::test::v1::EchoRequest&,
    rustiq::test::v1::EchoReply*);

// `method`("x") with the run's token: PersonOnly, whose permission the
// enforcement point checks, or Echo, which declares none (the token is
// sent but not verified: what the header alone costs).
class TokenCallWorker final : public StubWorker<EchoApi> {
 public:
  TokenCallWorker(std::shared_ptr<grpc::Channel> ch, const std::string& token,
                  EchoMethod method, const char* name)
      : StubWorker(std::move(ch)), token_(token), method_(method), name_(name) {
    req_.set_text("x");
  }
  absl::Status Call(bool) override {
    grpc::ClientContext ctx;
    SetDeadline(&ctx);
    AddToken(&ctx, token_);
    rustiq::test::v1::EchoReply reply;
    grpc::Status s = (stub()->*method_)(&ctx, req_, &reply);
    if (!s.ok()) return absl::UnavailableError(GrpcError(name_, s));
    if (reply.text() != "x" || reply.caller() != kExpectedCaller) {
      return absl::InternalError(
          absl::StrCat("unexpected ", name_, " reply text=\"", reply.text(),
                       "\" caller=\"", reply.caller(), "\""));
    }
    return absl::OkStatus();
  }

 private:
  const std::string& token_;
  const EchoMethod method_;
  const char* const name_;
  rustiq::test::v1::EchoRequest req_;
};

absl::StatusOr<std::unique_ptr<Worker>> NewWorker(const Setup& setup, Op op) {
  switch (op) {
    case Op::kRawEd25519:
      return std::make_unique<RawEd25519Worker>(setup.token_public.get(),
                                                setup);
    case Op::kVerifyCached:
      return std::make_unique<VerifyWorker>(setup.cached.get(), setup.token);
    case Op::kVerifyUncached:
      return std::make_unique<VerifyWorker>(setup.uncached.get(), setup.token);
    case Op::kEcho:
    case Op::kEchoToken:
    case Op::kPersonCached:
    case Op::kPersonUncached:
      break;
  }
  absl::StatusOr<std::shared_ptr<grpc::Channel>> ch = ClientChannel(
      setup.config, op == Op::kPersonUncached ? kEchoUncached : kEchoCached);
  if (!ch.ok()) return ch.status();
  if (op == Op::kEcho) return NewEchoWorker(*std::move(ch), kExpectedCaller);
  if (op == Op::kEchoToken) {
    return std::make_unique<TokenCallWorker>(*std::move(ch), setup.token,
                                             &EchoApi::Stub::Echo, "Echo");
  }
  return std::make_unique<TokenCallWorker>(
      *std::move(ch), setup.token, &EchoApi::Stub::PersonOnly, "PersonOnly");
}

// `threads` threads, each with its own Worker (a connection of its own for
// the calls), run `op` back to back: `warmup` unrecorded, then `measure`.
absl::StatusOr<CallFigures> RunOp(const Setup& setup, Op op, int threads,
                                  absl::Duration warmup,
                                  absl::Duration measure) {
  absl::StatusOr<std::vector<std::unique_ptr<Worker>>> workers =
      NewCheckedWorkers(threads, [&](int) { return NewWorker(setup, op); });
  if (!workers.ok()) return workers.status();
  absl::StatusOr<LoadResult> load = RunLoad(
      *workers,
      {.warmup = warmup, .measure = measure, .daemon_clocks = setup.clocks});
  if (!load.ok()) return load.status();
  std::optional<size_t> server = ServerClock(op);
  return PerCall(*load, server.has_value() ? load->daemon_cpu_s[*server] : 0);
}

// ---------------------------------------------------------------------------
// Section 3: logins and the hasher.

absl::Status CheckLogin(const v1::LoginResponse& resp) {
  if (resp.password_change_required() ||
      !absl::StartsWith(resp.token(), auth::paseto::kV4PublicHeader) ||
      resp.user() != kAdmin ||
      std::find(resp.roles().begin(), resp.roles().end(), authd::kAdminRole) ==
          resp.roles().end()) {
    return absl::InternalError(absl::StrCat(
        "unexpected Login reply: user \"", resp.user(), "\", ",
        resp.roles_size(), " roles, a token of ", resp.token().size(),
        " bytes, password_change_required ", resp.password_change_required()));
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::LoginResponse> Login(AuthApi::Stub* auth,
                                        absl::string_view password,
                                        absl::string_view new_password) {
  v1::LoginRequest req;
  req.set_user(kAdmin);
  req.set_password(std::string(password));
  req.set_new_password(std::string(new_password));
  v1::LoginResponse resp;
  if (absl::Status s =
          CallUnary("Login", auth, &AuthApi::Stub::Login, req, &resp);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckLogin(resp); !s.ok()) return s;
  return resp;
}

// The provisioned admin's first login, which changes the provisioned
// password; its token is then verified here as every daemon verifies one:
// the key fetched from keyd (as svc/supervisord), signature and claims.
absl::Status FirstLogin(const config::StackConfig& cfg, AuthApi::Stub* auth) {
  absl::StatusOr<v1::LoginResponse> first =
      Login(auth, kInitialPassword, kAdminPassword);
  if (!first.ok()) return first.status();
  absl::StatusOr<std::shared_ptr<grpc::Channel>> keyd =
      PrivateChannel(cfg, kHealthCaller, "keyd");
  if (!keyd.ok()) return keyd.status();
  auth::KeydTokenKeySource keys(*std::move(keyd));
  std::unique_ptr<auth::RevocationSet> revocations = NewRevocations();
  std::unique_ptr<auth::LocalTokenVerifier> verifier =
      NewVerifier(/*cache=*/false, &keys, revocations.get());
  absl::StatusOr<rpc::TokenClaims> claims = verifier->Verify(first->token());
  if (!claims.ok()) return claims.status();
  if (claims->subject != kAdmin || !claims->HasPermission("users.manage")) {
    return absl::InternalError(absl::StrCat(
        "authd's token names \"", claims->subject, "\" with ",
        claims->permissions.size(), " permissions, not the admin"));
  }
  return absl::OkStatus();
}

// One sequence of `n` operations, each timed on its own, after one
// unrecorded.
struct SeqFigures {
  double p50_ms = 0;
  double p99_ms = 0;
  double mean_ms = 0;
  // CPU per operation: each child process (ChildClock order), this process
  // (all threads).
  std::vector<double> child_cpu_ms;
  double own_cpu_ms = 0;
  // Minor page faults per operation: authd's, this process's.
  double authd_faults = 0;
  double own_faults = 0;
  double foreign_cores = 0;  // the rest of the machine, in cores
};

struct SeqCell {
  std::vector<double> p50, p99, mean, authd_cpu, keyd_cpu, eventd_cpu, own_cpu,
      authd_faults, own_faults;
  void Add(const SeqFigures& f) {
    authd_faults.push_back(f.authd_faults);
    own_faults.push_back(f.own_faults);
    p50.push_back(f.p50_ms);
    p99.push_back(f.p99_ms);
    mean.push_back(f.mean_ms);
    authd_cpu.push_back(f.child_cpu_ms[kAuthdClock]);
    keyd_cpu.push_back(f.child_cpu_ms[kKeydClock]);
    eventd_cpu.push_back(f.child_cpu_ms[kEventdClock]);
    own_cpu.push_back(f.own_cpu_ms);
  }
};

// Minor page faults of process `pid` so far (field 10 of /proc/<pid>/stat);
// 0 when they cannot be read.
double MinorFaults(pid_t pid) {
  const std::string stat = ReadWholeFile(absl::StrCat("/proc/", pid, "/stat"));
  const size_t paren = stat.rfind(')');  // the command may hold spaces
  if (paren == std::string::npos || paren + 2 > stat.size()) return 0;
  // After ") ": field 3 (state) onwards, so field 10 is the eighth.
  std::vector<absl::string_view> fields =
      absl::StrSplit(absl::string_view(stat).substr(paren + 2), ' ');
  uint64_t faults = 0;
  if (fields.size() < 8 || !absl::SimpleAtoi(fields[7], &faults)) return 0;
  return static_cast<double>(faults);
}

absl::StatusOr<SeqFigures> TimeSequence(
    int n, const Setup& setup, const std::function<absl::Status()>& op) {
  const std::vector<clockid_t>& clocks = setup.clocks;
  if (absl::Status s = op(); !s.ok()) return s;  // warm-up
  ForeignLoad foreign(clocks);
  std::vector<double> child0;
  for (clockid_t c : clocks) child0.push_back(CpuSeconds(c));
  const double own0 = CpuSeconds(CLOCK_PROCESS_CPUTIME_ID);
  const double authd_faults0 = MinorFaults(setup.authd_pid);
  const double own_faults0 = MinorFaults(getpid());
  std::vector<double> ms;
  for (int i = 0; i < n; ++i) {
    if (Interrupted()) return absl::CancelledError("interrupted");
    const Clock::time_point t0 = Clock::now();
    if (absl::Status s = op(); !s.ok()) return s;
    ms.push_back(
        std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  SeqFigures f;
  f.foreign_cores = foreign.Cores();
  const double per_op_ms = 1000.0 / n;
  for (size_t i = 0; i < clocks.size(); ++i) {
    f.child_cpu_ms.push_back((CpuSeconds(clocks[i]) - child0[i]) * per_op_ms);
  }
  f.own_cpu_ms = (CpuSeconds(CLOCK_PROCESS_CPUTIME_ID) - own0) * per_op_ms;
  f.authd_faults = (MinorFaults(setup.authd_pid) - authd_faults0) / n;
  f.own_faults = (MinorFaults(getpid()) - own_faults0) / n;
  f.mean_ms = std::accumulate(ms.begin(), ms.end(), 0.0) / n;
  std::sort(ms.begin(), ms.end());
  f.p50_ms = Percentile(ms, 0.50);
  f.p99_ms = Percentile(ms, 0.99);
  return f;
}

// What section 3 uses: authd's Auth as client/rustiqctl, and the hasher
// authd itself builds from the configuration.
struct LoginSetup {
  std::unique_ptr<AuthApi::Stub> auth;
  std::optional<authd::PasswordHasher> hasher;
  std::string encoded;  // kAdminPassword hashed by `hasher`
};

absl::StatusOr<SeqFigures> RunStep(const Setup& setup, LoginSetup* login,
                                   Step step, int n) {
  std::function<absl::Status()> op;
  switch (step) {
    case Step::kLogin:
      op = [&] {
        return Login(login->auth.get(), kAdminPassword, "").status();
      };
      break;
    case Step::kHash:
      op = [&]() -> absl::Status {
        absl::StatusOr<std::string> h = login->hasher->Hash(kAdminPassword);
        if (!h.ok()) return h.status();
        if (!absl::StartsWith(*h, "$argon2id$")) {
          return absl::InternalError("Hash gave no argon2id PHC string");
        }
        return absl::OkStatus();
      };
      break;
    case Step::kPasswordVerify:
      op = [&]() -> absl::Status {
        absl::StatusOr<bool> v =
            login->hasher->Verify(login->encoded, kAdminPassword);
        if (!v.ok()) return v.status();
        if (!*v) return absl::InternalError("Verify refused the password");
        return absl::OkStatus();
      };
      break;
  }
  return TimeSequence(n, setup, op);
}

absl::Status PrepareLogins(const Setup& setup, LoginSetup* login) {
  absl::StatusOr<std::shared_ptr<grpc::Channel>> ch =
      ClientChannel(setup.config, "authd");
  if (!ch.ok()) return ch.status();
  login->auth = AuthApi::NewStub(*std::move(ch));
  if (absl::Status s = FirstLogin(setup.config, login->auth.get()); !s.ok())
    return s;
  absl::StatusOr<authd::PasswordHasher> hasher =
      authd::PasswordHasher::Create(authd::Argon2ParamsFrom(setup.config));
  if (!hasher.ok()) return hasher.status();
  login->hasher.emplace(*std::move(hasher));
  absl::StatusOr<std::string> encoded = login->hasher->Hash(kAdminPassword);
  if (!encoded.ok()) return encoded.status();
  login->encoded = *std::move(encoded);
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// Flags.

// Per round: 7 loads of 2.5 s at each of 2 thread counts and 3 sequences of
// 100 argon2id operations: about 45 s, 2.5 minutes for 3 rounds.
struct Flags : RunFlags {
  int logins = 100;
  bool quick = false;
  bool keep = false;  // --keep: leave the run's directory in place
  std::string keyd =
      absl::StrCat(RUSTIQ_BINARY_DIR, "/services/keyd/rustiq-keyd");
  std::string eventd =
      absl::StrCat(RUSTIQ_BINARY_DIR, "/services/eventd/rustiq-eventd");
  std::string authd =
      absl::StrCat(RUSTIQ_BINARY_DIR, "/services/authd/rustiq-authd");
};

constexpr char kUsage[] =
    "usage: auth_bench [--quick] [--keep] [--seconds S] [--rounds N]\n"
    "       [--warmup S] [--threads 1,4] [--logins N] [--max-other-load C]\n"
    "       [--keyd PATH] [--eventd PATH] [--authd PATH]\n"
    "  --quick       a short smoke run: --rounds 1 --seconds 0.3 --warmup 0.1\n"
    "                --logins 5 --max-other-load 0 (flags given override "
    "these)\n"
    "  --seconds     measured seconds per verification or call load, thread\n"
    "                count and round (default 2)\n"
    "  --rounds      interleaved rounds; the tables show their median "
    "(default 3)\n"
    "  --warmup      unrecorded seconds before each load (default 0.5)\n"
    "  --threads     verifying threads and client threads (default 1,4)\n"
    "  --logins      timed successful logins per round, one after the other\n"
    "                (default 100); as many in-process argon2id hashes and\n"
    "                verifications\n"
    "  --max-other-load  repeat a measurement (up to 5 times) when other\n"
    "                processes used more than C cores meanwhile (default 0.1;\n"
    "                0: never)\n"
    "  --keyd, --eventd, --authd  the daemons' binaries (default: this "
    "build's)\n"
    "  --keep        leave the run's directory (device, logs, databases) in\n"
    "                place\n";

absl::StatusOr<Flags> ParseFlags(int argc, char** argv) {
  Flags f;
  FlagParser parser;
  AddRunFlags(&parser, &f, 16);
  parser.Switch("--quick", &f.quick);
  parser.Switch("--keep", &f.keep);
  parser.Valued("--logins", [&f](const std::string& v) {
    return absl::SimpleAtoi(v, &f.logins) && f.logins > 0 && f.logins <= 100000;
  });
  parser.NonEmpty("--keyd", &f.keyd);
  parser.NonEmpty("--eventd", &f.eventd);
  parser.NonEmpty("--authd", &f.authd);
  if (absl::Status s = parser.Parse(argc, argv); !s.ok()) return s;
  if (f.quick) {
    ApplyQuickRun(parser, &f, /*seconds=*/0.3, /*warmup=*/0.1);
    if (!parser.Given("--logins")) f.logins = 5;
  }
  return f;
}

// ---------------------------------------------------------------------------
// The report.

// cells[threads index][op]
using OpCells = std::vector<std::array<CallCell, kNumOps>>;

std::string VerifySection(const Flags& flags, const OpCells& cells,
                          const Setup& setup) {
  std::string out = absl::StrFormat(
      "\n### 1. Token verification in a daemon's process\n\n"
      "One verifier shared by all threads, as a daemon's gRPC threads share "
      "it; the same valid token (%d bytes, %d permissions) every time. "
      "\"client CPU\": this process's CPU per verification (all threads).\n\n",
      setup.token.size(), setup.token_permissions);
  absl::StrAppend(&out, CallTableHead("verification"));
  for (size_t ti = 0; ti < flags.threads.size(); ++ti) {
    for (Op op : kVerifyOps) {
      absl::StrAppend(&out,
                      CallTableRow(OpLabel(op), flags.threads[ti],
                                   cells[ti][Index(op)], /*with_calls=*/true,
                                   /*with_server=*/false));
    }
  }
  return out;
}

std::string CallSection(const Flags& flags, const OpCells& cells) {
  std::string out =
      "\n### 2. Calls through the enforcement point\n\n"
      "Echo (declares no permission) and PersonOnly (permission "
      "test.admin, the token checked by CallAuthorizer through the "
      "server's LocalTokenVerifier) on rpc::RpcServer over mTLS, as "
      "client/rustiqctl; each client thread on its own connection. \"Echo + "
      "token\" sends the same \"authorization: Bearer\" metadata to a "
      "method that declares no permission, so the token travels but is not "
      "verified: what the header alone costs. \"server CPU\": the Echo "
      "server process called; \"client CPU\": this process.\n\n";
  absl::StrAppend(&out, CallTableHead("call"));
  for (size_t ti = 0; ti < flags.threads.size(); ++ti) {
    for (Op op : kCallOps) {
      absl::StrAppend(&out, CallTableRow(OpLabel(op), flags.threads[ti],
                                         cells[ti][Index(op)]));
    }
  }
  absl::StrAppend(
      &out,
      "\nWhat the token costs: CPU per call minus Echo's (no token) on the "
      "same thread count, server and client, beside the same verification "
      "in-process (section 1's CPU per verification).\n\n"
      "| call | threads | server CPU µs/call | server adds µs/call | client "
      "adds µs/call | in-process Verify µs |\n"
      "|---|---:|---:|---:|---:|---:|\n");
  for (size_t ti = 0; ti < flags.threads.size(); ++ti) {
    const auto& c = cells[ti];
    const CallCell& base = c[Index(Op::kEcho)];
    for (auto [call, local] :
         {std::pair<Op, std::optional<Op>>{Op::kEchoToken, std::nullopt},
          {Op::kPersonCached, Op::kVerifyCached},
          {Op::kPersonUncached, Op::kVerifyUncached}}) {
      const double server = Median(c[Index(call)].server_cpu);
      const double client = Median(c[Index(call)].client_cpu);
      absl::StrAppend(
          &out,
          absl::StrFormat(
              "| %s | %d | %.1f | %+.1f | %+.1f | %s |\n", OpLabel(call),
              flags.threads[ti], server, server - Median(base.server_cpu),
              client - Median(base.client_cpu),
              local.has_value()
                  ? absl::StrFormat("%.2f", Median(c[Index(*local)].client_cpu))
                  : std::string("–")));
    }
  }
  return out;
}

std::string LoginSection(const Flags& flags, const Setup& setup,
                         const std::array<SeqCell, kNumSteps>& steps) {
  const config::AuthdConfig& a = setup.config.authd;
  std::string out = absl::StrFormat(
      "\n### 3. Login with the default argon2id parameters\n\n"
      "[authd] as shipped: argon2id %u KiB, t=%u, p=%u. %d timed operations "
      "per round, one after the other (one unrecorded before them); Login "
      "as client/rustiqctl on one connection, each a successful login of "
      "the admin (argon2id verification, the token signed by keyd, the "
      "issue stored, the login recorded in eventd); Hash and Verify with "
      "the same parameters on this process's main thread. p99 is the "
      "nearest rank of %d values%s. CPU and minor page faults per "
      "operation.\n\n"
      "| measurement | p50 ms | p99 ms | mean ms | authd CPU ms | keyd CPU ms "
      "| eventd CPU ms | this process CPU ms | authd page faults | this "
      "process page faults |\n"
      "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
      a.argon2_memory_kib, a.argon2_iterations, a.argon2_parallelism,
      flags.logins, flags.logins,
      flags.logins < 100 ? " (the slowest, below 100)" : "");
  for (Step s : kSteps) {
    const SeqCell& c = steps[Index(s)];
    const bool rpc = s == Step::kLogin;
    auto daemon = [rpc](const std::vector<double>& v, int decimals) {
      return rpc ? absl::StrFormat("%.*f", decimals, Median(v))
                 : std::string("–");
    };
    absl::StrAppend(
        &out,
        absl::StrFormat(
            "| %s | %.2f | %.2f | %.2f | %s | %s | %s | %.2f | %s | %.0f |\n",
            StepLabel(s), Median(c.p50), Median(c.p99), Median(c.mean),
            daemon(c.authd_cpu, 2), daemon(c.keyd_cpu, 2),
            daemon(c.eventd_cpu, 2), Median(c.own_cpu),
            daemon(c.authd_faults, 0), Median(c.own_faults)));
  }
  const SeqCell& login = steps[Index(Step::kLogin)];
  const SeqCell& verify = steps[Index(Step::kPasswordVerify)];
  absl::StrAppend(
      &out,
      absl::StrFormat(
          "\nLogin minus the in-process Verify: %+.2f ms at p50, %+.2f ms in "
          "the mean. That is what a login adds to the argon2id work as this "
          "process does it: the RPC, keyd's signature, authd's store and "
          "event, and argon2id's %u KiB inside authd (page faults: memory "
          "that was not reused).\n",
          Median(login.p50) - Median(verify.p50),
          Median(login.mean) - Median(verify.mean), a.argon2_memory_kib));
  return out;
}

RatioTable Ratios(const Flags& flags, const OpCells& cells,
                  const std::array<SeqCell, kNumSteps>& steps) {
  RatioTable ratios(kTool);
  auto add = [&ratios](absl::string_view label, absl::string_view key, int t,
                       const std::vector<double>& num,
                       const std::vector<double>& den) {
    ratios.AddRatio(label, key, t, num, den, /*min_target=*/0);
  };
  for (size_t ti = 0; ti < flags.threads.size(); ++ti) {
    const auto& c = cells[ti];
    const int t = flags.threads[ti];
    const CallCell& raw = c[Index(Op::kRawEd25519)];
    const CallCell& hit = c[Index(Op::kVerifyCached)];
    const CallCell& full = c[Index(Op::kVerifyUncached)];
    add("Verify cache hit / raw Ed25519 verify, per s", "verify-cached/raw", t,
        hit.cps, raw.cps);
    add("Verify cache off / raw Ed25519 verify, per s", "verify-uncached/raw",
        t, full.cps, raw.cps);
    add("Verify cache hit / cache off, per s", "verify-cached/uncached", t,
        hit.cps, full.cps);
    const CallCell& base = c[Index(Op::kEcho)];
    for (auto [op, key] :
         {std::pair<Op, const char*>{Op::kEchoToken, "echo-token"},
          {Op::kPersonCached, "person-cached"},
          {Op::kPersonUncached, "person-uncached"}}) {
      const CallCell& call = c[Index(op)];
      const std::string label = OpLabel(op);
      add(absl::StrCat(label, " / (base) Echo calls/s"),
          absl::StrCat(key, "/base-calls"), t, call.cps, base.cps);
      add(absl::StrCat(label, " / (base) Echo p50 latency"),
          absl::StrCat(key, "/base-p50"), t, call.p50, base.p50);
      add(absl::StrCat(label, " / (base) Echo p99 latency"),
          absl::StrCat(key, "/base-p99"), t, call.p99, base.p99);
    }
  }
  const SeqCell& login = steps[Index(Step::kLogin)];
  const SeqCell& verify = steps[Index(Step::kPasswordVerify)];
  add("Login / in-process argon2id Verify, p50", "login/argon2-verify-p50", 1,
      login.p50, verify.p50);
  add("Login / in-process argon2id Verify, mean", "login/argon2-verify-mean", 1,
      login.mean, verify.mean);
  add("in-process argon2id Hash / Verify, mean", "argon2-hash/verify-mean", 1,
      steps[Index(Step::kHash)].mean, verify.mean);
  return ratios;
}

std::vector<std::string> MachineLines(
    const Flags& flags, const OpCells& cells,
    const std::array<SeqCell, kNumSteps>& steps, const RatioTable& ratios) {
  std::vector<std::string> lines;
  for (size_t ti = 0; ti < flags.threads.size(); ++ti) {
    for (int i = 0; i < kNumOps; ++i) {
      const Op op = static_cast<Op>(i);
      const CallCell& c = cells[ti][i];
      lines.push_back(absl::StrFormat(
          "%s op=%s threads=%d rounds=%d seconds=%.1f p50_us=%.2f "
          "p99_us=%.2f calls_per_s=%.0f server_cpu_us=%s client_cpu_us=%.2f",
          kTool, OpName(op), flags.threads[ti], flags.rounds, flags.seconds,
          Median(c.p50), Median(c.p99), Median(c.cps),
          InProcess(op) ? std::string("-")
                        : absl::StrFormat("%.1f", Median(c.server_cpu)),
          Median(c.client_cpu)));
    }
  }
  for (Step s : kSteps) {
    const SeqCell& c = steps[Index(s)];
    lines.push_back(absl::StrFormat(
        "%s op=%s n=%d rounds=%d p50_ms=%.2f p99_ms=%.2f mean_ms=%.2f "
        "authd_cpu_ms=%.2f keyd_cpu_ms=%.2f eventd_cpu_ms=%.2f "
        "own_cpu_ms=%.2f authd_minor_faults=%.0f own_minor_faults=%.0f",
        kTool, StepName(s), flags.logins, flags.rounds, Median(c.p50),
        Median(c.p99), Median(c.mean), Median(c.authd_cpu), Median(c.keyd_cpu),
        Median(c.eventd_cpu), Median(c.own_cpu), Median(c.authd_faults),
        Median(c.own_faults)));
  }
  lines.insert(lines.end(), ratios.machine_lines().begin(),
               ratios.machine_lines().end());
  return lines;
}

// ---------------------------------------------------------------------------
// The run.

// The daemons of the run, declared after the temporary directory so that
// they stop before it goes.
struct Children {
  Daemon keyd, eventd, authd, echo_cached, echo_uncached;

  std::array<Daemon*, kNumChildClocks> InClockOrder() {
    return {&keyd, &eventd, &authd, &echo_cached, &echo_uncached};
  }
};

Children MakeChildren(const Flags& flags, const Setup& setup) {
  auto echo = [&setup](const char* name, const char* cache) {
    return Daemon{name,
                  "/proc/self/exe",
                  "",
                  -1,
                  {"--serve-echo", name, "--cache", cache, "--token-key",
                   setup.token_key_path}};
  };
  return Children{Daemon{"keyd", flags.keyd, "", -1, {}},
                  Daemon{"eventd", flags.eventd, "", -1, {}},
                  Daemon{"authd", flags.authd, "", -1, {}},
                  echo(kEchoCached, "on"), echo(kEchoUncached, "off")};
}

int RunBenchmark(const Flags& flags, int argc, char** argv) {
  const std::string command = CommandLine(argc, argv);
  InstallStopSignals();
  auto fail = [](const absl::Status& s) { return RunFailed(kTool, s); };

  absl::StatusOr<std::unique_ptr<TempDir>> dir = TempDir::Create("auth-bench");
  if (!dir.ok()) return fail(dir.status());
  const std::string root = (*dir)->path();
  if (flags.keep) {
    (*dir)->Keep();
    fprintf(stderr, "%s: the run's directory %s is kept\n", kTool,
            root.c_str());
  }

  Setup setup;
  absl::StatusOr<config::StackConfig> cfg = ProvisionDevice(
      root, DeviceSpec{kDeviceId,
                       {"keyd", "eventd", "authd", kHealthCaller, kEchoCached,
                        kEchoUncached},
                       {kClient},
                       [](config::StackConfig* c) {
                         // The journal copy is eventd's convenience, not the
                         // log: off, whoever started the benchmark. [authd]
                         // stays as shipped.
                         c->eventd.journal = "off";
                       }});
  if (!cfg.ok()) return fail(cfg.status());
  setup.config = *std::move(cfg);
  // authd is stopped: its first admin is made offline, as provisioning does.
  if (absl::StatusOr<authd::FirstAdmin> admin =
          authd::ProvisionFirstAdmin(setup.config, kAdmin, kInitialPassword);
      !admin.ok()) {
    return fail(admin.status());
  }
  if (absl::Status s = PrepareToken(root, &setup); !s.ok()) return fail(s);

  Children children = MakeChildren(flags, setup);
  Daemons daemons(setup.config, "rustiq-keyd rustiq-eventd rustiq-authd",
                  kHealthCaller);
  for (Daemon* d : children.InClockOrder()) {
    if (absl::Status s = daemons.Spawn(d, root); !s.ok()) return fail(s);
  }
  // gRPC starts here, in the parent, after the last fork.
  if (absl::Status s = daemons.WaitServing(absl::Seconds(60)); !s.ok()) {
    return fail(s);
  }
  std::array<std::string, kNumChildClocks> confinement;
  for (size_t i = 0; i < kNumChildClocks; ++i) {
    Daemon* d = children.InClockOrder()[i];
    absl::StatusOr<clockid_t> clock = ProcessCpuClock(d->pid);
    if (!clock.ok()) return fail(clock.status());
    setup.clocks.push_back(*clock);
    if (i == kAuthdClock) setup.authd_pid = d->pid;
    confinement[i] = AnnounceDaemon(*d);
  }
  fprintf(stderr, "client: pid %d\n", getpid());
  LoginSetup login;
  if (absl::Status s = PrepareLogins(setup, &login); !s.ok()) return fail(s);

  const absl::Duration warmup = absl::Seconds(flags.warmup);
  const absl::Duration measure = absl::Seconds(flags.seconds);
  OpCells cells(flags.threads.size());
  std::array<SeqCell, kNumSteps> steps;
  QuietCheck quiet(flags.max_other_load);
  for (int round = 0; round < flags.rounds; ++round) {
    for (const std::vector<Op>* section : {&kVerifyOps, &kCallOps}) {
      for (size_t ti = 0; ti < flags.threads.size(); ++ti) {
        const int threads = flags.threads[ti];
        // The order rotates each round so that no load always runs first
        // or right after the same other one.
        for (Op op : Rotated(*section, round)) {
          absl::StatusOr<CallFigures> r = quiet.Run(
              [&] { return RunOp(setup, op, threads, warmup, measure); },
              [&](double cores) {
                fprintf(stderr,
                        "round=%d/%d threads=%d op=%s other_cores=%.2f: "
                        "measuring again\n",
                        round + 1, flags.rounds, threads, OpName(op), cores);
              });
          if (!r.ok()) return fail(r.status());
          cells[ti][Index(op)].Add(*r);
          fprintf(stderr,
                  "%s round=%d/%d threads=%d op=%s p50_us=%.2f p99_us=%.2f "
                  "calls_per_s=%.0f server_cpu_us=%.1f client_cpu_us=%.2f "
                  "calls=%llu other_cores=%.2f\n",
                  kTool, round + 1, flags.rounds, threads, OpName(op),
                  r->p50_us, r->p99_us, r->calls_per_s, r->server_cpu_us,
                  r->client_cpu_us, static_cast<unsigned long long>(r->calls),
                  r->foreign_cores);
        }
      }
    }
    for (Step s : Rotated(kSteps, round)) {
      absl::StatusOr<SeqFigures> r = quiet.Run(
          [&] { return RunStep(setup, &login, s, flags.logins); },
          [&](double cores) {
            fprintf(stderr,
                    "round=%d/%d op=%s other_cores=%.2f: measuring again\n",
                    round + 1, flags.rounds, StepName(s), cores);
          });
      if (!r.ok()) return fail(r.status());
      steps[Index(s)].Add(*r);
      fprintf(stderr,
              "%s round=%d/%d op=%s n=%d p50_ms=%.2f p99_ms=%.2f "
              "mean_ms=%.2f authd_cpu_ms=%.2f own_cpu_ms=%.2f "
              "authd_minor_faults=%.0f own_minor_faults=%.0f "
              "other_cores=%.2f\n",
              kTool, round + 1, flags.rounds, StepName(s), flags.logins,
              r->p50_ms, r->p99_ms, r->mean_ms, r->child_cpu_ms[kAuthdClock],
              r->own_cpu_ms, r->authd_faults, r->own_faults, r->foreign_cores);
    }
  }

  // The daemons must stop cleanly, without a single denial, for the tables
  // to count.
  if (absl::Status s = daemons.Stop(); !s.ok()) return fail(s);

  std::string out = ReportHead(
      "People's tokens and logins: LocalTokenVerifier, the enforcement "
      "point, rustiq-authd",
      command);
  absl::StrAppend(
      &out, "- daemons: rustiq-keyd (", confinement[kKeydClock],
      "), rustiq-eventd (", confinement[kEventdClock], "), rustiq-authd (",
      confinement[kAuthdClock],
      "), each confined by its own policy, on a device provisioned through "
      "keyd; the two Echo servers are this binary in child processes (not "
      "confined), rpc::RpcServer with a LocalTokenVerifier (cache on, cache "
      "off) over the run's fixed Ed25519 key and an always-fresh revocation "
      "set\n");
  absl::StrAppend(
      &out,
      absl::StrFormat(
          "- method: %d interleaved rounds; per round, load and thread count "
          "%.1f s warm-up then %.1f s back to back; then %d logins, hashes "
          "and verifications each; figures are the median across rounds\n",
          flags.rounds, flags.warmup, flags.seconds, flags.logins));
  absl::StrAppend(&out,
                  quiet.Summary("the benchmark's and its five children's"),
                  "; ", quiet.Repeats(), "\n");
  absl::StrAppend(&out, VerifySection(flags, cells, setup),
                  CallSection(flags, cells), LoginSection(flags, setup, steps));
  RatioTable ratios = Ratios(flags, cells, steps);
  absl::StrAppend(&out,
                  ratios.Section("Ratios",
                                 "From the medians above; \"per round\" lists "
                                 "the same ratio within each round, to show "
                                 "the noise. No targets: for context."));
  absl::StrAppend(
      &out, MachineReadable("One line per measurement (medians across rounds) "
                            "and per ratio.",
                            MachineLines(flags, cells, steps, ratios)));
  PrintReport(out);
  return 0;
}

}  // namespace
}  // namespace rustiq::bench

int main(int argc, char** argv) {
  using namespace rustiq::bench;  // NOLINT(build/namespaces)
  if (IsServeEcho(argc, argv)) return ServeEchoMain(argc, argv);
  absl::StatusOr<Flags> flags = ParseFlags(argc, argv);
  if (!flags.ok()) return UsageExit(kTool, flags.status(), kUsage);
  return RunBenchmark(*flags, argc, argv);
}
