#include "common/rpc/tls_files.h"

#include <utility>
#include <vector>

namespace rustiq::rpc {
namespace {

std::shared_ptr<grpc::experimental::CertificateProviderInterface>
NewFileWatcher(const TlsFiles& files) {
  return std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
      files.key_path, files.cert_path, files.trust_bundle_path,
      files.refresh_seconds);
}

TlsFiles WithoutWatcher(TlsFiles files) {
  files.watcher = nullptr;
  return files;
}

}  // namespace

bool SameFiles(const TlsFiles& a, const TlsFiles& b) {
  return a.key_path == b.key_path && a.cert_path == b.cert_path &&
         a.trust_bundle_path == b.trust_bundle_path &&
         a.refresh_seconds == b.refresh_seconds;
}

CertificateWatcher::CertificateWatcher(const TlsFiles& files)
    : files_(WithoutWatcher(files)) {}

std::shared_ptr<CertificateWatcher> CertificateWatcher::For(
    const TlsFiles& files) {
  static absl::Mutex mu(absl::kConstInit);
  // Guarded by mu. Weak: a watcher that no TlsFiles holds any more is gone.
  static auto* watchers = new std::vector<std::weak_ptr<CertificateWatcher>>();
  absl::MutexLock lock(&mu);
  std::shared_ptr<CertificateWatcher> found;
  std::erase_if(*watchers, [&](const std::weak_ptr<CertificateWatcher>& w) {
    std::shared_ptr<CertificateWatcher> alive = w.lock();
    if (alive == nullptr) return true;
    if (found == nullptr && SameFiles(alive->files_, files)) {
      found = std::move(alive);
    }
    return false;
  });
  if (found != nullptr) return found;
  auto created = std::make_shared<CertificateWatcher>(files);
  watchers->push_back(created);
  return created;
}

std::shared_ptr<grpc::experimental::CertificateProviderInterface>
CertificateWatcher::Provider(const TlsFiles& files) {
  if (!SameFiles(files, files_)) return NewFileWatcher(files);
  absl::MutexLock lock(&mu_);
  if (provider_ == nullptr) provider_ = NewFileWatcher(files_);
  return provider_;
}

std::shared_ptr<grpc::experimental::CertificateProviderInterface>
CertificateProviderFor(const TlsFiles& files) {
  if (files.watcher == nullptr) return NewFileWatcher(files);
  return files.watcher->Provider(files);
}

}  // namespace rustiq::rpc
