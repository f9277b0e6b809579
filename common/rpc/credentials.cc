#include "common/rpc/credentials.h"

#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_certificate_verifier.h>
#include <grpcpp/security/tls_credentials_options.h>
#include <openssl/x509.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/pki/identity_files.h"
#include "common/pki/openssl_util.h"

namespace rustiq::rpc {
namespace {

constexpr size_t kMaxPemFile = 256 * 1024;

// Accepts the server only if its leaf certificate names exactly the expected
// daemon. Runs after gRPC has verified the chain against the trust bundle.
class ExpectedServerVerifier final
    : public grpc::experimental::ExternalCertificateVerifier {
 public:
  explicit ExpectedServerVerifier(std::string expected_uri)
      : expected_uri_(std::move(expected_uri)) {}

  bool Verify(grpc::experimental::TlsCustomVerificationCheckRequest* request,
              std::function<void(grpc::Status)> /*callback*/,
              grpc::Status* sync_status) override {
    std::vector<grpc::string_ref> uris = request->uri_names();
    if (uris.size() != 1) {
      *sync_status = grpc::Status(
          grpc::StatusCode::UNAUTHENTICATED,
          absl::StrCat("server certificate has ", uris.size(),
                       " URI SANs; expected exactly ", expected_uri_));
    } else if (absl::string_view(uris[0].data(), uris[0].size()) !=
               expected_uri_) {
      *sync_status = grpc::Status(
          grpc::StatusCode::UNAUTHENTICATED,
          absl::StrCat("server presented identity ",
                       std::string(uris[0].data(),
                                   std::min<size_t>(uris[0].size(), 200)),
                       " but ", expected_uri_, " was expected"));
    } else {
      *sync_status = grpc::Status::OK;
    }
    return true;  // decided synchronously
  }
  void Cancel(grpc::experimental::TlsCustomVerificationCheckRequest*) override {
  }

 private:
  const std::string expected_uri_;
};

}  // namespace

TlsFiles TlsFilesFor(const config::StackConfig& config,
                     const pki::IdentityPaths& id) {
  TlsFiles files{id.key_path, id.cert_path,
                 pki::TrustBundlePath(config.paths.state_dir),
                 config.rpc.credential_refresh_seconds};
  files.watcher = CertificateWatcher::For(files);
  return files;
}

absl::Status CheckOwnIdentity(const TlsFiles& files,
                              const identity::SpiffeId& expected) {
  for (const std::string* path : {&files.key_path, &files.trust_bundle_path}) {
    absl::StatusOr<std::string> data = pki::ReadSmallFile(*path, kMaxPemFile);
    if (!data.ok()) return data.status();
  }
  absl::StatusOr<std::string> pem =
      pki::ReadSmallFile(files.cert_path, kMaxPemFile);
  if (!pem.ok()) return pem.status();
  absl::StatusOr<pki::X509Ptr> cert = pki::CertificateFromPem(*pem);
  if (!cert.ok()) {
    return absl::FailedPreconditionError(absl::StrCat("identity certificate ",
                                                      files.cert_path, ": ",
                                                      cert.status().message()));
  }
  std::vector<std::string> uris = pki::UriSans(cert->get());
  if (uris.size() != 1 || uris[0] != expected.ToUri()) {
    return absl::FailedPreconditionError(
        absl::StrCat("identity certificate ", files.cert_path, " is not for ",
                     expected.ToUri(), " (re-provision this identity)"));
  }
  if (X509_cmp_current_time(X509_get0_notAfter(cert->get())) <= 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("identity certificate ", files.cert_path,
                     " has expired (re-provision or renew this identity)"));
  }
  if (X509_cmp_current_time(X509_get0_notBefore(cert->get())) > 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("identity certificate ", files.cert_path,
                     " is not valid yet (is the clock right?)"));
  }
  return absl::OkStatus();
}

std::shared_ptr<grpc::ServerCredentials> MakeServerCredentials(
    const TlsFiles& files) {
  grpc::experimental::TlsServerCredentialsOptions options(
      CertificateProviderFor(files));
  options.watch_root_certs();
  options.watch_identity_key_cert_pairs();
  options.set_cert_request_type(
      GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  return grpc::experimental::TlsServerCredentials(options);
}

std::shared_ptr<grpc::ChannelCredentials> MakeChannelCredentials(
    const TlsFiles& files, const identity::SpiffeId& expected_server) {
  grpc::experimental::TlsChannelCredentialsOptions options;
  options.set_certificate_provider(CertificateProviderFor(files));
  options.watch_root_certs();
  options.watch_identity_key_cert_pairs();
  options.set_verify_server_certs(true);
  // Unix sockets have no host name: the server is identified by its SPIFFE
  // ID alone.
  options.set_check_call_host(false);
  options.set_certificate_verifier(
      grpc::experimental::ExternalCertificateVerifier::Create<
          ExpectedServerVerifier>(expected_server.ToUri()));
  return grpc::experimental::TlsCredentials(options);
}

}  // namespace rustiq::rpc
