#include "tests/support/test_device.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/auth/token_claims.h"
#include "common/auth/token_issuer.h"
#include "common/pki/identity_files.h"
#include "common/pki/openssl_util.h"
#include "common/pki/provisioner.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "services/keyd/provision.h"

namespace rustiq::testing {

std::string BinaryPath(absl::string_view name) {
  return absl::StrCat(RUSTIQ_BINARY_DIR, "/", name);
}

TestDevice::TestDevice(const std::function<void(config::StackConfig&)>& tweak) {
  char tmpl[] = "/tmp/rustiq-test-XXXXXX";
  char* dir = mkdtemp(tmpl);
  if (dir == nullptr) {
    ADD_FAILURE() << "mkdtemp failed";
    return;
  }
  root_ = dir;
  config_.device_id = "test-device";
  config_.paths = {root_ + "/etc", root_ + "/state", root_ + "/run"};
  config_.rpc.credential_refresh_seconds = 1;
  config_.rpc.call_deadline_ms = 5000;
  config_.log.level = "info";
  config_.source_path = root_ + "/etc/rustiq.toml";
  if (tweak) tweak(config_);

  // Provisioned as a real device is: the CA inside keyd's store, every
  // identity issued through it.
  std::filesystem::create_directories(config_.paths.config_dir);
  absl::Status s = pki::WriteFileAtomically(
      config_.source_path, config::RenderConfig(config_), 0644);
  if (!s.ok()) ADD_FAILURE() << s;
  pki::ProvisionRequest req;
  req.services = {"testserver", "supervisord", "keyd",
                  "cloudd",     "authd",       "eventd"};
  req.clients = {"rustiqctl", "alice", "bob"};
  req.identity_lifetime = absl::Hours(1);
  absl::StatusOr<pki::ProvisionResult> result =
      keyd::ProvisionThroughKeyd(config_, req);
  if (!result.ok()) {
    ADD_FAILURE() << result.status();
    return;
  }
  // The test keeps keyd's state open read-only in memory, for the CA that
  // mints hostile certificates. It never writes the store.
  absl::StatusOr<keyd::Keyd> opened =
      keyd::OpenKeyd(config_, &sink_, /*provision=*/false);
  if (!opened.ok()) {
    ADD_FAILURE() << opened.status();
    return;
  }
  keyd_ = std::make_unique<keyd::Keyd>(*std::move(opened));
}

const pki::CertificateAuthority& TestDevice::ca() const {
  return keyd_->ca->authority();
}

TestDevice::~TestDevice() {
  std::error_code ec;
  if (!root_.empty() && getenv("RUSTIQ_KEEP_TEST_DIRS") == nullptr) {
    std::filesystem::remove_all(root_, ec);
  }
}

std::string TestDevice::SocketPath(absl::string_view daemon) const {
  return absl::StrCat(config_.paths.runtime_dir, "/", daemon, ".sock");
}

rpc::ClientOptions TestDevice::ClientFor(absl::string_view caller_path) const {
  if (caller_path.substr(0, 4) == "svc/") {
    return rpc::ClientOptionsForService(config_, caller_path.substr(4));
  }
  return rpc::ClientOptionsForClient(config_, caller_path.substr(7));
}

rpc::ClientOptions TestDevice::ClientWithFiles(
    const std::string& key_path, const std::string& cert_path) const {
  rpc::ClientOptions o = rpc::ClientOptionsForClient(config_, "rustiqctl");
  o.tls.key_path = key_path;
  o.tls.cert_path = cert_path;
  return o;
}

rpc::ClientOptions TestDevice::HostileClient(
    absl::string_view name, const std::vector<std::string>& uri_sans,
    absl::Time not_before, absl::Time not_after,
    const pki::CertificateAuthority* ca) {
  if (ca == nullptr) ca = &this->ca();
  std::string dir = absl::StrCat(root_, "/hostile/", name);
  std::filesystem::create_directories(dir);
  auto key = pki::GenerateP256Key();
  EXPECT_TRUE(key.ok()) << key.status();
  pki::LeafSpec spec;
  spec.uri_sans = uri_sans;
  spec.common_name = std::string(name);
  spec.not_before = not_before;
  spec.not_after = not_after;
  auto cert = ca->IssueLeaf(key->get(), spec);
  EXPECT_TRUE(cert.ok()) << cert.status();
  auto key_pem = pki::PrivateKeyToPem(key->get());
  EXPECT_TRUE(key_pem.ok());
  std::string key_path = dir + "/key.pem";
  std::string cert_path = dir + "/cert.pem";
  EXPECT_TRUE(pki::WriteFileAtomically(key_path, *key_pem, 0600).ok());
  EXPECT_TRUE(pki::WriteFileAtomically(cert_path, *cert, 0644).ok());
  return ClientWithFiles(key_path, cert_path);
}

void TestDevice::ReissueService(absl::string_view daemon) {
  auto id = identity::SpiffeId::ForService(config_.device_id, daemon);
  ASSERT_TRUE(id.ok());
  auto key = pki::GenerateP256Key();
  ASSERT_TRUE(key.ok());
  pki::LeafSpec spec;
  spec.uri_sans = {id->ToUri()};
  spec.common_name = std::string(daemon);
  spec.not_before = absl::Now() - absl::Minutes(1);
  spec.not_after = absl::Now() + absl::Hours(1);
  auto cert = ca().IssueLeaf(key->get(), spec);
  ASSERT_TRUE(cert.ok());
  auto key_pem = pki::PrivateKeyToPem(key->get());
  ASSERT_TRUE(key_pem.ok());
  ASSERT_TRUE(
      pki::WriteIdentity(pki::ForService(config_.paths.state_dir, daemon),
                         *key_pem, *cert, pki::FileOwner{})
          .ok());
}

std::string TestDevice::SignToken(const rpc::TokenClaims& claims) const {
  keyd::KeyManager& keys = *keyd_->keys;
  v1::GetPublicKeyRequest pub_req;
  pub_req.set_name("token-signing");
  absl::StatusOr<v1::PublicKey> pub =
      keys.GetPublicKey({"svc/authd", false}, pub_req);
  EXPECT_TRUE(pub.ok()) << pub.status();
  if (!pub.ok()) return "";
  absl::StatusOr<std::string> token = auth::IssueToken(
      claims, config_.device_id, pub->version(),
      [&](absl::string_view input) -> absl::StatusOr<std::string> {
        v1::SignRequest req;
        req.set_name("token-signing");
        req.set_algorithm(v1::SIGNATURE_ALGORITHM_ED25519);
        req.set_message(std::string(input));
        absl::StatusOr<v1::SignResponse> signed_ =
            keys.Sign({"svc/authd", false}, req);
        if (!signed_.ok()) return signed_.status();
        return signed_->signature();
      });
  EXPECT_TRUE(token.ok()) << token.status();
  return token.ok() ? *token : "";
}

std::string TestDevice::PersonToken(
    const std::string& subject,
    const std::vector<std::string>& permissions) const {
  rpc::TokenClaims c;
  c.subject = subject;
  c.token_id = auth::NewTokenId();
  c.roles = {"admin"};
  c.permissions = permissions;
  c.issued = absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now()));
  c.expires = c.issued + absl::Minutes(5);
  return SignToken(c);
}

ServerProcess::ServerProcess(const TestDevice& device, std::string name,
                             std::vector<std::string> extra_args)
    : device_(device), name_(std::move(name)) {
  log_path_ = absl::StrCat(device.root(), "/", name_, ".log");
  // The stack's real daemons run their own binary; any other name is a
  // test server under that name.
  std::vector<std::string> argv;
  if (name_ == "keyd") {
    argv = {BinaryPath("services/keyd/rustiq-keyd"), "--config",
            device.config_path()};
  } else if (name_ == "eventd") {
    argv = {BinaryPath("services/eventd/rustiq-eventd"), "--config",
            device.config_path()};
  } else if (name_ == "authd") {
    argv = {BinaryPath("services/authd/rustiq-authd"), "--config",
            device.config_path()};
  } else if (name_ == "supervisord") {
    argv = {BinaryPath("services/supervisord/rustiq-supervisord"), "--config",
            device.config_path()};
  } else {
    argv = {BinaryPath("tests/testserver/rustiq-testserver"), "--config",
            device.config_path(), "--name", name_};
  }
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  pid_ = fork();
  if (pid_ == 0) {
    int fd = open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, STDERR_FILENO);
      close(fd);
    }
    std::vector<char*> args;
    for (std::string& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
}

ServerProcess::~ServerProcess() { Stop(); }

void ServerProcess::Stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  int status = 0;
  for (int i = 0; i < 500; ++i) {
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

bool ServerProcess::WaitServing(absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  rpc::ChannelFactory factory(device_.ClientFor("client/rustiqctl"));
  while (absl::Now() < deadline) {
    int status = 0;
    if (pid_ > 0 && waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return false;  // the server exited
    }
    if (access(device_.SocketPath(name_).c_str(), F_OK) == 0) {
      auto channel = factory.ForDaemon(name_);
      if (channel.ok()) {
        auto stub = grpc::health::v1::Health::NewStub(*channel);
        grpc::ClientContext ctx;
        ctx.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(1));
        grpc::health::v1::HealthCheckResponse resp;
        if (stub->Check(&ctx, {}, &resp).ok() &&
            resp.status() == grpc::health::v1::HealthCheckResponse::SERVING) {
          return true;
        }
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

int ServerProcess::WaitExit(absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  int status = 0;
  while (pid_ > 0 && absl::Now() < deadline) {
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return status;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return -1;
}

std::string ServerProcess::Log() const {
  std::ifstream in(log_path_);
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

}  // namespace rustiq::testing
