// The CertificateSource of every daemon but keyd: Certificates/IssueCertificate
// over a channel to keyd that presents the daemon's current identity.
#ifndef RUSTIQ_COMMON_RPC_KEYD_CERTIFICATE_SOURCE_H_
#define RUSTIQ_COMMON_RPC_KEYD_CERTIFICATE_SOURCE_H_

#include <grpcpp/channel.h>

#include <memory>

#include "common/rpc/identity_renewer.h"
#include "rustiq/v1/keys.grpc.pb.h"

namespace rustiq::rpc {

class KeydCertificateSource final : public CertificateSource {
 public:
  // `lifetime_seconds` 0: keyd's configured default.
  explicit KeydCertificateSource(std::shared_ptr<grpc::Channel> keyd,
                                 uint32_t lifetime_seconds = 0)
      : stub_(v1::Certificates::NewStub(std::move(keyd))),
        lifetime_seconds_(lifetime_seconds) {}

  absl::StatusOr<std::string> Issue(absl::string_view csr_pem) override;

 private:
  std::unique_ptr<v1::Certificates::Stub> stub_;
  const uint32_t lifetime_seconds_;
};

}  // namespace rustiq::rpc

#endif  // RUSTIQ_COMMON_RPC_KEYD_CERTIFICATE_SOURCE_H_
