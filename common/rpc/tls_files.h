// The TLS material of an endpoint (server or client), and the one gRPC
// certificate watcher per identity that reads it.
//
// gRPC's FileWatcherCertificateProvider runs a thread of its own that
// re-reads key, certificate and trust bundle every refresh interval; making
// one per credential gave supervisord seven such threads, each waking up to
// read the same files. A daemon's server and all its channels present one
// identity, so they share one CertificateWatcher and through it one
// provider. TlsFilesFor() (credentials.h) hands every TlsFiles for the same
// files the watcher alive at that moment; a watcher lives as long as a
// TlsFiles holds it, its provider's thread as long as that or a credential
// made from it. Nothing is kept for the life of the process.
#ifndef RUSTIQ_COMMON_RPC_TLS_FILES_H_
#define RUSTIQ_COMMON_RPC_TLS_FILES_H_

#include <grpcpp/security/tls_certificate_provider.h>

#include <cstdint>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace rustiq::rpc {

class CertificateWatcher;

// Key, certificate and trust bundle are watched on disk and re-read every
// `refresh_seconds`, so a renewed certificate or a new trust bundle is used
// without a restart (files must be replaced atomically; see
// pki::WriteIdentity).
struct TlsFiles {
  std::string key_path;
  std::string cert_path;
  std::string trust_bundle_path;
  uint32_t refresh_seconds = 60;
  // Shared by the copies of this TlsFiles and by every TlsFiles for the same
  // files made while it lives; none: each credential watches on its own.
  std::shared_ptr<CertificateWatcher> watcher = nullptr;
};

// Whether `a` and `b` name the same files with the same refresh interval.
bool SameFiles(const TlsFiles& a, const TlsFiles& b);

class CertificateWatcher {
 public:
  explicit CertificateWatcher(const TlsFiles& files);

  // The watcher of `files` that some TlsFiles holds now, or a new one.
  static std::shared_ptr<CertificateWatcher> For(const TlsFiles& files);

  // The provider for credentials made from `files`. The files this watcher
  // was made for get the shared provider, started by the first caller (so
  // its thread starts once the daemon is confined: Landlock binds only the
  // threads started after it). Other files (a copy of a TlsFiles whose paths
  // were changed) get a provider of their own.
  std::shared_ptr<grpc::experimental::CertificateProviderInterface> Provider(
      const TlsFiles& files);

 private:
  const TlsFiles files_;  // without a watcher
  absl::Mutex mu_;
  std::shared_ptr<grpc::experimental::CertificateProviderInterface> provider_
      ABSL_GUARDED_BY(mu_);
};

// The provider for credentials made from `files`: their watcher's, or one of
// their own when they have none.
std::shared_ptr<grpc::experimental::CertificateProviderInterface>
CertificateProviderFor(const TlsFiles& files);

}  // namespace rustiq::rpc

#endif  // RUSTIQ_COMMON_RPC_TLS_FILES_H_
