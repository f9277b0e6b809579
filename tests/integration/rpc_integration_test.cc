// The RPC layer end to end: a real rustiq-testserver process on a real Unix
// socket, real certificates from a real device CA, real mTLS.
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_credentials_options.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/pki/identity_files.h"
#include "common/pki/openssl_util.h"
#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "rustiq/test/v1/echo.grpc.pb.h"
#include "tests/support/test_device.h"

namespace rustiq::testing {
namespace {

using ::rustiq::test::v1::Echo;
using ::rustiq::test::v1::EchoReply;
using ::rustiq::test::v1::EchoRequest;
using ::testing::HasSubstr;

class RpcIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    device_ = std::make_unique<TestDevice>([](config::StackConfig& c) {
      c.rpc.max_concurrent_calls_per_caller = 2;
      c.rpc.max_message_bytes = 64 * 1024;
    });
    server_ = std::make_unique<ServerProcess>(*device_);
    ASSERT_TRUE(server_->WaitServing(absl::Seconds(15))) << server_->Log();
  }

  std::unique_ptr<Echo::Stub> StubAs(const rpc::ClientOptions& options,
                                     absl::string_view expect = "testserver") {
    rpc::ChannelFactory factory(options);
    auto channel = factory.ForDaemon(expect);
    EXPECT_TRUE(channel.ok()) << channel.status();
    if (!channel.ok()) return nullptr;
    // ForDaemon connects to <expect>.sock; to test a wrong expectation we
    // connect to the test server's socket explicitly instead.
    if (expect != "testserver") {
      auto id = identity::SpiffeId::ForService("test-device", expect);
      channel = factory.Connect(device_->SocketPath("testserver"), *id);
    }
    return Echo::NewStub(*channel);
  }
  std::unique_ptr<Echo::Stub> StubAs(absl::string_view caller) {
    return StubAs(device_->ClientFor(caller));
  }

  static grpc::Status Call(
      Echo::Stub* stub,
      grpc::Status (Echo::Stub::*method)(grpc::ClientContext*,
                                         const EchoRequest&, EchoReply*),
      EchoReply* reply = nullptr, const EchoRequest& req = EchoRequest()) {
    grpc::ClientContext ctx;
    EchoReply ignored;
    return (stub->*method)(&ctx, req, reply ? reply : &ignored);
  }

  std::unique_ptr<TestDevice> device_;
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(RpcIntegrationTest, AllowedCallerSucceedsAndServerKnowsWhoCalled) {
  auto stub = StubAs("client/alice");
  EchoRequest req;
  req.set_text("hello");
  EchoReply reply;
  grpc::Status s = Call(stub.get(), &Echo::Stub::Echo, &reply, req);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(reply.text(), "hello");
  EXPECT_EQ(reply.caller(), "client/alice");
}

// gRPC 1.51 shares one AuthContext between all calls of a connection; the
// caller must stay right (and slots must come back) for call after call.
TEST_F(RpcIntegrationTest, ManyCallsOnOneConnectionKeepTheirCaller) {
  auto stub = StubAs("client/alice");
  for (int i = 0; i < 50; ++i) {
    EchoReply reply;
    grpc::Status s = Call(stub.get(), &Echo::Stub::Echo, &reply);
    ASSERT_TRUE(s.ok()) << i << ": " << s.error_message();
    ASSERT_EQ(reply.caller(), "client/alice") << i;
  }
}

TEST_F(RpcIntegrationTest, CallerNotOnTheListIsDeniedByName) {
  auto stub = StubAs("client/alice");
  grpc::Status s = Call(stub.get(), &Echo::Stub::SupervisorOnly);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(s.error_message(), HasSubstr("client/alice"));
  EXPECT_THAT(s.error_message(),
              HasSubstr("/rustiq.test.v1.Echo/SupervisorOnly"));
  // The listed caller gets through.
  EchoReply reply;
  s = Call(StubAs("svc/supervisord").get(), &Echo::Stub::SupervisorOnly,
           &reply);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(reply.caller(), "svc/supervisord");
}

TEST_F(RpcIntegrationTest, DenialIsRecordedWithCallerAndMethod) {
  auto stub = StubAs("client/bob");
  ASSERT_EQ(Call(stub.get(), &Echo::Stub::SupervisorOnly).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  std::string log = server_->Log();
  EXPECT_THAT(log, HasSubstr("action=call.denied"));
  EXPECT_THAT(log, HasSubstr("actor=client/bob"));
  EXPECT_THAT(log, HasSubstr("method=/rustiq.test.v1.Echo/SupervisorOnly"));
}

TEST_F(RpcIntegrationTest, MethodWithoutDeclarationIsRefusedForEveryone) {
  for (const char* caller :
       {"client/alice", "svc/supervisord", "client/rustiqctl", "svc/keyd"}) {
    auto stub = StubAs(caller);
    EXPECT_EQ(Call(stub.get(), &Echo::Stub::Undeclared).error_code(),
              grpc::StatusCode::PERMISSION_DENIED)
        << caller;
    EXPECT_EQ(Call(stub.get(), &Echo::Stub::NobodyListed).error_code(),
              grpc::StatusCode::PERMISSION_DENIED)
        << caller;
  }
}

TEST_F(RpcIntegrationTest, ClientStarPatternMatchesClientsOnly) {
  EXPECT_TRUE(Call(StubAs("client/alice").get(), &Echo::Stub::Echo).ok());
  EXPECT_TRUE(Call(StubAs("client/rustiqctl").get(), &Echo::Stub::Echo).ok());
  // A daemon is not a client/*.
  EXPECT_EQ(Call(StubAs("svc/keyd").get(), &Echo::Stub::Echo).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // A deeper client path is not matched by client/* either.
  auto deep = device_->HostileClient(
      "deep", {"spiffe://test-device/client/a/b"}, absl::Now() - absl::Hours(1),
      absl::Now() + absl::Hours(1));
  EXPECT_EQ(Call(StubAs(deep).get(), &Echo::Stub::Echo).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(RpcIntegrationTest, UnknownMethodIsUnimplemented) {
  rpc::ChannelFactory factory(device_->ClientFor("client/alice"));
  auto channel = factory.ForDaemon("testserver");
  ASSERT_TRUE(channel.ok());
  grpc::GenericStub stub(*channel);
  grpc::ClientContext ctx;
  std::string bytes = EchoRequest().SerializeAsString();
  grpc::Slice slice(bytes);
  grpc::ByteBuffer request(&slice, 1);
  grpc::ByteBuffer response;
  std::promise<grpc::Status> done;
  stub.UnaryCall(&ctx, "/rustiq.test.v1.Echo/NoSuchMethod", {}, &request,
                 &response, [&](grpc::Status s) { done.set_value(s); });
  grpc::Status s = done.get_future().get();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNIMPLEMENTED);
}

TEST_F(RpcIntegrationTest, PermissionMethodFailsClosedWithoutTokenVerifier) {
  auto stub = StubAs("client/alice");
  grpc::Status s = Call(stub.get(), &Echo::Stub::PersonOnly);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(s.error_message(), HasSubstr("test.admin"));
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", "Bearer forged");
  EchoReply reply;
  s = stub->PersonOnly(&ctx, EchoRequest(), &reply);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(s.error_message(), HasSubstr("no token verifier"));
}

// --- Identity: every way of not having a valid one is refused. -------------

TEST_F(RpcIntegrationTest, ClientWithoutCertificateIsRefused) {
  grpc::experimental::TlsChannelCredentialsOptions options;
  auto bundle = pki::ReadSmallFile(
      device_->ClientFor("client/alice").tls.trust_bundle_path, 1 << 20);
  ASSERT_TRUE(bundle.ok());
  options.set_certificate_provider(
      std::make_shared<grpc::experimental::StaticDataCertificateProvider>(
          *bundle));
  options.watch_root_certs();
  options.set_check_call_host(false);
  auto channel =
      grpc::CreateChannel("unix:" + device_->SocketPath("testserver"),
                          grpc::experimental::TlsCredentials(options));
  auto stub = Echo::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  EchoReply reply;
  grpc::Status s = stub->Echo(&ctx, EchoRequest(), &reply);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_TRUE(reply.caller().empty());
}

TEST_F(RpcIntegrationTest, CertificateFromAnotherCaIsRefused) {
  auto other_ca =
      pki::CertificateAuthority::Create("test-device", absl::Hours(24));
  ASSERT_TRUE(other_ca.ok());
  auto options = device_->HostileClient(
      "other-ca", {"spiffe://test-device/client/alice"},
      absl::Now() - absl::Hours(1), absl::Now() + absl::Hours(1), &*other_ca);
  grpc::Status s = Call(StubAs(options).get(), &Echo::Stub::Echo);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(RpcIntegrationTest, ExpiredCertificateIsRefused) {
  auto options = device_->HostileClient(
      "expired", {"spiffe://test-device/client/alice"},
      absl::Now() - absl::Hours(48), absl::Now() - absl::Hours(24));
  grpc::Status s = Call(StubAs(options).get(), &Echo::Stub::Echo);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(RpcIntegrationTest, CertificateWithoutUriSanIsUnauthenticated) {
  auto options = device_->HostileClient(
      "no-san", {}, absl::Now() - absl::Hours(1), absl::Now() + absl::Hours(1));
  grpc::Status s = Call(StubAs(options).get(), &Echo::Stub::Echo);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(s.error_message(), HasSubstr("no URI SAN"));
  EXPECT_THAT(server_->Log(), HasSubstr("action=call.unauthenticated"));
}

TEST_F(RpcIntegrationTest, CertificateWithTwoUriSansIsUnauthenticated) {
  auto options = device_->HostileClient(
      "two-sans",
      {"spiffe://test-device/client/alice",
       "spiffe://test-device/svc/supervisord"},
      absl::Now() - absl::Hours(1), absl::Now() + absl::Hours(1));
  grpc::Status s = Call(StubAs(options).get(), &Echo::Stub::SupervisorOnly);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(s.error_message(), HasSubstr("2 URI SANs"));
}

TEST_F(RpcIntegrationTest, IdentityFromAnotherTrustDomainIsUnauthenticated) {
  auto options = device_->HostileClient(
      "other-td", {"spiffe://other-device/svc/supervisord"},
      absl::Now() - absl::Hours(1), absl::Now() + absl::Hours(1));
  grpc::Status s = Call(StubAs(options).get(), &Echo::Stub::SupervisorOnly);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(s.error_message(), HasSubstr("trust domain"));
}

TEST_F(RpcIntegrationTest, MalformedSpiffeIdIsUnauthenticated) {
  for (const char* uri : {"spiffe://test-device/svc/../supervisord",
                          "spiffe://test-device/SVC/supervisord",
                          "spiffe://test-device/svc/super%76isord",
                          "https://test-device/svc/supervisord"}) {
    auto options =
        device_->HostileClient("malformed", {uri}, absl::Now() - absl::Hours(1),
                               absl::Now() + absl::Hours(1));
    grpc::Status s = Call(StubAs(options).get(), &Echo::Stub::SupervisorOnly);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << uri;
  }
}

TEST_F(RpcIntegrationTest, ClientRefusesServerPresentingAnotherDaemonsId) {
  // The test server's certificate is valid, but the client expected keyd.
  auto stub = StubAs(device_->ClientFor("client/alice"), "keyd");
  grpc::Status s = Call(stub.get(), &Echo::Stub::Echo);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(server_->Log(), ::testing::Not(HasSubstr("client/alice")));
}

// --- Socket, limits, reload. ------------------------------------------------

TEST_F(RpcIntegrationTest, SocketAndDirectoryHaveRestrictiveModes) {
  struct stat st;
  ASSERT_EQ(stat(device_->config().paths.runtime_dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0750u);
  ASSERT_EQ(stat(device_->SocketPath("testserver").c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0660u);
}

TEST_F(RpcIntegrationTest, SecondInstanceOnTheSameSocketIsRefused) {
  ServerProcess second(*device_);
  int status = second.WaitExit(absl::Seconds(10));
  ASSERT_NE(status, -1) << "the second instance kept running";
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1) << status;
  EXPECT_THAT(second.Log(), HasSubstr("already serving"));
  // The first one is untouched.
  EXPECT_TRUE(Call(StubAs("client/alice").get(), &Echo::Stub::Echo).ok());
}

TEST_F(RpcIntegrationTest, StaleSocketIsReplacedAfterACrash) {
  pid_t pid = server_->pid();
  kill(pid, SIGKILL);  // leaves the socket file behind
  server_->Stop();
  struct stat st;
  ASSERT_EQ(stat(device_->SocketPath("testserver").c_str(), &st), 0);
  ServerProcess again(*device_);
  ASSERT_TRUE(again.WaitServing(absl::Seconds(15))) << again.Log();
  EXPECT_TRUE(Call(StubAs("client/alice").get(), &Echo::Stub::Echo).ok());
}

TEST_F(RpcIntegrationTest, HealthIsServedToSupervisorAndCliOnly) {
  for (auto [caller, code] :
       {std::pair{"client/rustiqctl", grpc::StatusCode::OK},
        std::pair{"svc/supervisord", grpc::StatusCode::OK},
        std::pair{"client/alice", grpc::StatusCode::PERMISSION_DENIED}}) {
    rpc::ChannelFactory factory(device_->ClientFor(caller));
    auto channel = factory.ForDaemon("testserver");
    ASSERT_TRUE(channel.ok());
    auto stub = grpc::health::v1::Health::NewStub(*channel);
    grpc::ClientContext ctx;
    grpc::health::v1::HealthCheckResponse resp;
    EXPECT_EQ(stub->Check(&ctx, {}, &resp).error_code(), code) << caller;
  }
}

TEST_F(RpcIntegrationTest, HealthKnowsTheServerAndItsServicesOnly) {
  rpc::ChannelFactory factory(device_->ClientFor("svc/supervisord"));
  auto stub =
      grpc::health::v1::Health::NewStub(*factory.ForDaemon("testserver"));
  for (const char* service : {"", "rustiq.test.v1.Echo"}) {
    grpc::ClientContext ctx;
    grpc::health::v1::HealthCheckRequest req;
    req.set_service(service);
    grpc::health::v1::HealthCheckResponse resp;
    ASSERT_TRUE(stub->Check(&ctx, req, &resp).ok()) << service;
    EXPECT_EQ(resp.status(), grpc::health::v1::HealthCheckResponse::SERVING);
  }
  grpc::ClientContext ctx;
  grpc::health::v1::HealthCheckRequest req;
  req.set_service("rustiq.v1.Nope");
  grpc::health::v1::HealthCheckResponse resp;
  EXPECT_EQ(stub->Check(&ctx, req, &resp).error_code(),
            grpc::StatusCode::NOT_FOUND);
  // Watch: the current status first, then NOT_SERVING and the end of the
  // stream when the server stops.
  grpc::ClientContext watch_ctx;
  watch_ctx.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(10));
  auto reader = stub->Watch(&watch_ctx, grpc::health::v1::HealthCheckRequest());
  ASSERT_TRUE(reader->Read(&resp));
  EXPECT_EQ(resp.status(), grpc::health::v1::HealthCheckResponse::SERVING);
  server_->Stop();
  while (reader->Read(&resp)) {
    EXPECT_NE(resp.status(), grpc::health::v1::HealthCheckResponse::SERVING);
  }
  grpc::Status end = reader->Finish();
  EXPECT_NE(end.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED)
      << "the stream did not end at shutdown";
}

TEST_F(RpcIntegrationTest, PerCallerConcurrencyBoundHolds) {
  // The device allows 2 calls in flight per caller.
  auto stub = StubAs("client/alice");
  EchoRequest hold;
  hold.set_hold_ms(1500);
  std::vector<std::future<grpc::Status>> holders;
  for (int i = 0; i < 2; ++i) {
    holders.push_back(std::async(std::launch::async, [&] {
      return Call(stub.get(), &Echo::Stub::Hold, nullptr, hold);
    }));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  grpc::Status third = Call(stub.get(), &Echo::Stub::Echo);
  EXPECT_EQ(third.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(third.error_message(), HasSubstr("client/alice"));
  // Another caller is not affected.
  EXPECT_TRUE(Call(StubAs("client/bob").get(), &Echo::Stub::Echo).ok());
  for (auto& h : holders) EXPECT_TRUE(h.get().ok());
  // The slots came back when the calls ended, including a denied one's.
  for (int i = 0; i < 5; ++i) {
    grpc::Status after = Call(stub.get(), &Echo::Stub::Echo);
    EXPECT_TRUE(after.ok()) << after.error_message();
  }
}

TEST_F(RpcIntegrationTest, OversizedMessageIsRefused) {
  EchoRequest req;
  req.set_payload(std::string(128 * 1024, 'x'));  // device max is 64 KiB
  grpc::Status s =
      Call(StubAs("client/alice").get(), &Echo::Stub::Echo, nullptr, req);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
}

TEST_F(RpcIntegrationTest, EveryCallGetsTheConfiguredDeadline) {
  rpc::ClientOptions options = device_->ClientFor("client/alice");
  options.call_deadline_ms = 300;
  rpc::ChannelFactory factory(options);
  auto stub = Echo::NewStub(*factory.ForDaemon("testserver"));
  EchoRequest req;
  req.set_hold_ms(3000);
  auto start = std::chrono::steady_clock::now();
  // The caller sets no deadline of its own.
  grpc::Status s = Call(stub.get(), &Echo::Stub::Hold, nullptr, req);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

TEST_F(RpcIntegrationTest, AShortConfiguredDeadlineDoesNotEndCallsEarly) {
  // gRPC 1.51's service-config timeout fires 1-2 s early; the channel's
  // backstop allows for it (rpc::kServiceConfigEarlyMs), so a call well
  // within the configured deadline completes.
  for (uint32_t deadline_ms : {300u, 1000u}) {
    rpc::ClientOptions options = device_->ClientFor("client/alice");
    options.call_deadline_ms = deadline_ms;
    rpc::ChannelFactory factory(options);
    auto stub = Echo::NewStub(*factory.ForDaemon("testserver"));
    EchoRequest req;
    req.set_hold_ms(deadline_ms / 3);
    grpc::Status s = Call(stub.get(), &Echo::Stub::Hold, nullptr, req);
    EXPECT_TRUE(s.ok()) << deadline_ms << " ms: " << s.error_message();
    // Set on the context, the configured figure is exact.
    grpc::ClientContext ctx;
    rpc::SetCallDeadline(&ctx, deadline_ms);
    req.set_hold_ms(deadline_ms * 4);
    EchoReply reply;
    auto start = std::chrono::steady_clock::now();
    s = stub->Hold(&ctx, req, &reply);
    auto took = std::chrono::steady_clock::now() - start;
    EXPECT_EQ(s.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
    EXPECT_GE(took, std::chrono::milliseconds(deadline_ms));
    EXPECT_LT(took, std::chrono::milliseconds(deadline_ms * 3));
  }
}

TEST(RpcClientDeadline, ServiceConfigTimeoutIsABackstop) {
  EXPECT_EQ(rpc::ServiceConfigTimeoutMs(1000),
            1000u + rpc::kServiceConfigEarlyMs);
  EXPECT_EQ(rpc::ServiceConfigTimeoutMs(rpc::kNoDeadline), rpc::kNoDeadline);
  grpc::ClientContext none;
  rpc::SetCallDeadline(&none, rpc::kNoDeadline);
  EXPECT_EQ(none.deadline(), std::chrono::system_clock::time_point::max());
}

std::string PeerCertificate(grpc::ClientContext& ctx) {
  auto values = ctx.auth_context()->FindPropertyValues("x509_pem_cert");
  return values.empty() ? "" : std::string(values[0].data(), values[0].size());
}

TEST_F(RpcIntegrationTest, ReplacedCertificateIsUsedWithoutRestart) {
  rpc::ClientOptions options = device_->ClientFor("client/alice");
  options.private_connection = true;
  std::string before;
  {
    auto stub =
        Echo::NewStub(*rpc::ChannelFactory(options).ForDaemon("testserver"));
    grpc::ClientContext ctx;
    EchoReply reply;
    ASSERT_TRUE(stub->Echo(&ctx, EchoRequest(), &reply).ok());
    before = PeerCertificate(ctx);
  }
  ASSERT_FALSE(before.empty());
  pid_t pid = server_->pid();
  device_->ReissueService("testserver");
  // The device refreshes credentials every second; allow a few.
  std::string after = before;
  for (int i = 0; i < 50 && after == before; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    auto stub =
        Echo::NewStub(*rpc::ChannelFactory(options).ForDaemon("testserver"));
    grpc::ClientContext ctx;
    EchoReply reply;
    grpc::Status s = stub->Echo(&ctx, EchoRequest(), &reply);
    ASSERT_TRUE(s.ok()) << s.error_message();
    after = PeerCertificate(ctx);
  }
  EXPECT_NE(after, before);
  EXPECT_EQ(server_->pid(), pid);  // same process: no restart
}

// gRPC's FileWatcherCertificateProvider threads in this process: their
// name, as /proc shows its first 15 characters.
int CertificateWatcherThreads() {
  int n = 0;
  for (const auto& task :
       std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream comm(task.path() / "comm");
    std::string name;
    std::getline(comm, name);
    if (absl::StartsWith(name, "FileWatcherCert")) ++n;
  }
  return n;
}

// The watcher count once it has reached `expected`: a new thread names itself
// only once it runs, so the count is polled (up to 5 s) and then read again a
// little later, to see any thread that was still unnamed.
int CertificateWatcherThreadsAtLeast(int expected) {
  for (int i = 0; i < 100 && CertificateWatcherThreads() < expected; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  return CertificateWatcherThreads();
}

// Every credential used to start a watcher thread of its own that re-reads
// the files each refresh: supervisord held seven. Credentials for the same
// files now share one, and a watcher lives only as long as its options and
// credentials.
TEST_F(RpcIntegrationTest, CredentialsOfOneIdentityShareOneCertificateWatcher) {
  // (The fixture's readiness check used a channel of its own.)
  const int before = CertificateWatcherThreadsAtLeast(0);
  {
    rpc::ClientOptions alice = device_->ClientFor("client/alice");
    alice.private_connection = true;
    // Options alone start no thread: a daemon makes them before it is
    // confined, and Landlock binds only the threads started after it.
    EXPECT_EQ(CertificateWatcherThreadsAtLeast(before), before);
    auto first = rpc::ChannelFactory(alice).ForDaemon("testserver");
    // Options made afresh for the same files, as a daemon makes its server's
    // and its channels', while the first ones live.
    rpc::ClientOptions alice_again = device_->ClientFor("client/alice");
    alice_again.private_connection = true;
    auto second = rpc::ChannelFactory(alice_again).ForDaemon("testserver");
    ASSERT_TRUE(first.ok() && second.ok());
    EXPECT_EQ(CertificateWatcherThreadsAtLeast(before + 1), before + 1);
    rpc::ClientOptions bob = device_->ClientFor("client/bob");
    bob.private_connection = true;
    auto other = rpc::ChannelFactory(bob).ForDaemon("testserver");
    ASSERT_TRUE(other.ok());
    EXPECT_EQ(CertificateWatcherThreadsAtLeast(before + 2), before + 2);
    // Each channel still presents its own identity.
    for (auto [channel, caller] :
         {std::pair{*first, "client/alice"}, std::pair{*second, "client/alice"},
          std::pair{*other, "client/bob"}}) {
      EchoReply reply;
      ASSERT_TRUE(
          Call(Echo::NewStub(channel).get(), &Echo::Stub::Echo, &reply).ok());
      EXPECT_EQ(reply.caller(), caller);
    }
  }
  // Channels release their credentials as their connections close.
  for (int i = 0; i < 100 && CertificateWatcherThreads() != before; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(CertificateWatcherThreads(), before);
}

}  // namespace
}  // namespace rustiq::testing
