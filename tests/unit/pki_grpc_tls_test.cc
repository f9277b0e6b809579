// Provisioned identities as gRPC actually uses them: FileWatcher providers
// reading <identity>/current/{key,cert}.pem and the trust bundle, mutual TLS
// over a Unix socket, and a certificate swapped by WriteIdentity picked up
// without a restart. The server answers every method by echoing the request.
#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_certificate_verifier.h>
#include <grpcpp/security/tls_credentials_options.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/identity/spiffe_id.h"
#include "common/pki/file_ca_issuer.h"
#include "common/pki/identity_files.h"
#include "common/pki/provisioner.h"
#include "gtest/gtest.h"
#include "tests/support/temp_dir.h"

namespace rustiq::pki {
namespace {

using ::rustiq::testing::ReadAll;
using ::rustiq::testing::TempDir;

namespace fs = std::filesystem;
using grpc::experimental::FileWatcherCertificateProvider;

constexpr unsigned kRefreshSeconds = 1;

std::shared_ptr<FileWatcherCertificateProvider> Provider(
    const IdentityPaths& id, const std::string& bundle) {
  return std::make_shared<FileWatcherCertificateProvider>(
      id.key_path, id.cert_path, bundle, kRefreshSeconds);
}

std::shared_ptr<grpc::ServerCredentials> ServerCredentials(
    const IdentityPaths& id, const std::string& bundle) {
  grpc::experimental::TlsServerCredentialsOptions options(Provider(id, bundle));
  options.watch_root_certs();
  options.watch_identity_key_cert_pairs();
  options.set_cert_request_type(
      GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  return grpc::experimental::TlsServerCredentials(options);
}

// Verifies the chain against the bundle; no host name check (our
// certificates carry URI SANs only, which rustiq's own verifier checks).
std::shared_ptr<grpc::ChannelCredentials> ChannelCredentials(
    const IdentityPaths& id, const std::string& bundle) {
  grpc::experimental::TlsChannelCredentialsOptions options;
  options.set_certificate_provider(Provider(id, bundle));
  options.watch_root_certs();
  options.watch_identity_key_cert_pairs();
  options.set_verify_server_certs(true);
  options.set_certificate_verifier(
      std::make_shared<grpc::experimental::NoOpCertificateVerifier>());
  options.set_check_call_host(false);
  return grpc::experimental::TlsCredentials(options);
}

// Echoes one request message back, whatever the method.
class EchoService final : public grpc::CallbackGenericService {
  grpc::ServerGenericBidiReactor* CreateReactor(
      grpc::GenericCallbackServerContext* /*context*/) override {
    return new Reactor();  // deletes itself in OnDone
  }

  class Reactor final : public grpc::ServerGenericBidiReactor {
   public:
    Reactor() { StartRead(&message_); }
    void OnReadDone(bool ok) override {
      if (!ok) {
        Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "no request"));
        return;
      }
      StartWriteAndFinish(&message_, grpc::WriteOptions(), grpc::Status::OK);
    }
    void OnDone() override { delete this; }

   private:
    grpc::ByteBuffer message_;
  };
};

struct CallResult {
  grpc::Status status;
  std::vector<std::string> peer_spiffe_ids;
  std::string peer_pem;
};

// One call over a fresh channel, returning what the client saw.
CallResult Call(const std::string& target,
                std::shared_ptr<grpc::ChannelCredentials> creds) {
  std::shared_ptr<grpc::Channel> channel = grpc::CreateChannel(target, creds);
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(10));
  grpc::CompletionQueue cq;
  grpc::Slice payload("ping");
  grpc::ByteBuffer request(&payload, 1);
  grpc::ByteBuffer response;
  CallResult result;
  std::unique_ptr<grpc::GenericClientAsyncResponseReader> call =
      stub.PrepareUnaryCall(&context, "/rustiq.test.Echo/Echo", request, &cq);
  call->StartCall();
  call->Finish(&response, &result.status, &result);
  void* tag = nullptr;
  bool ok = false;
  EXPECT_TRUE(cq.Next(&tag, &ok));
  EXPECT_EQ(tag, &result);
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (auth != nullptr) {
    for (const grpc::string_ref& v :
         auth->FindPropertyValues("peer_spiffe_id")) {
      result.peer_spiffe_ids.emplace_back(v.data(), v.size());
    }
    for (const grpc::string_ref& v :
         auth->FindPropertyValues("x509_pem_cert")) {
      result.peer_pem.assign(v.data(), v.size());
    }
  }
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
  return result;
}

class GrpcTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ProvisionRequest request;
    request.state_dir = state_.path() + "/state";
    request.trust_domain = "dev-1";
    request.services = {"keyd"};
    request.clients = {"rustiqctl"};
    absl::StatusOr<ProvisionResult> result = ProvisionDevice(request);
    ASSERT_TRUE(result.ok()) << result.status();
    state_dir_ = request.state_dir;
    bundle_ = result->trust_bundle_path;
    target_ = "unix:" + state_.path() + "/keyd.sock";

    grpc::ServerBuilder builder;
    builder.RegisterCallbackGenericService(&echo_);
    builder.AddListeningPort(
        target_, ServerCredentials(ForService(state_dir_, "keyd"), bundle_));
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
  }

  void TearDown() override {
    if (server_ != nullptr) server_->Shutdown();
  }

  TempDir state_;
  std::string state_dir_;
  std::string bundle_;
  std::string target_;
  EchoService echo_;
  std::unique_ptr<grpc::Server> server_;
};

TEST_F(GrpcTlsTest, MutualTlsCallSucceedsAndSeesServerSpiffeId) {
  CallResult result = Call(
      target_, ChannelCredentials(ForClient(state_dir_, "rustiqctl"), bundle_));
  ASSERT_TRUE(result.status.ok()) << result.status.error_message();
  EXPECT_EQ(result.peer_spiffe_ids,
            std::vector<std::string>{"spiffe://dev-1/svc/keyd"});
}

TEST_F(GrpcTlsTest, ServerRefusesClientOfAnotherCa) {
  // A second device, whose CA the server does not trust.
  TempDir rogue;
  ProvisionRequest request;
  request.state_dir = rogue.path();
  request.trust_domain = "dev-1";
  request.clients = {"rustiqctl"};
  ASSERT_TRUE(ProvisionDevice(request).ok());
  // The rogue client trusts the real server, so only the server can refuse.
  CallResult result =
      Call(target_,
           ChannelCredentials(ForClient(rogue.path(), "rustiqctl"), bundle_));
  EXPECT_FALSE(result.status.ok());
}

TEST_F(GrpcTlsTest, RenewedServerCertificateIsServedWithoutRestart) {
  const IdentityPaths keyd = ForService(state_dir_, "keyd");
  const std::string before = ReadAll(keyd.cert_path);
  std::unique_ptr<FileCaIssuer> issuer =
      *FileCaIssuer::Load(DeviceCaPathsFor(state_dir_));
  ASSERT_TRUE(IssueIdentity(*issuer, state_dir_,
                            *identity::SpiffeId::ForService("dev-1", "keyd"),
                            absl::Hours(1))
                  .ok());
  const std::string after = ReadAll(keyd.cert_path);
  ASSERT_NE(after, before);

  // The provider polls every kRefreshSeconds; give it a few periods.
  std::string served;
  for (int i = 0; i < 20 && served != after; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    CallResult result =
        Call(target_,
             ChannelCredentials(ForClient(state_dir_, "rustiqctl"), bundle_));
    ASSERT_TRUE(result.status.ok()) << result.status.error_message();
    served = result.peer_pem;
  }
  EXPECT_EQ(served, after);
}

}  // namespace
}  // namespace rustiq::pki
