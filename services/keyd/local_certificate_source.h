// keyd renews its own identity from the CA it holds, without an RPC.
#ifndef RUSTIQ_SERVICES_KEYD_LOCAL_CERTIFICATE_SOURCE_H_
#define RUSTIQ_SERVICES_KEYD_LOCAL_CERTIFICATE_SOURCE_H_

#include "common/rpc/identity_renewer.h"
#include "services/keyd/device_ca.h"

namespace rustiq::keyd {

class LocalCertificateSource final : public rpc::CertificateSource {
 public:
  // `ca` is not owned.
  explicit LocalCertificateSource(DeviceCa* ca) : ca_(ca) {}
  absl::StatusOr<std::string> Issue(absl::string_view csr_pem) override {
    v1::IssueCertificateRequest req;
    req.set_csr_pem(std::string(csr_pem));
    absl::StatusOr<v1::IssueCertificateResponse> issued =
        ca_->IssueForCaller("svc/keyd", req);
    if (!issued.ok()) return issued.status();
    return issued->certificate_pem();
  }

 private:
  DeviceCa* ca_;
};

}  // namespace rustiq::keyd

#endif  // RUSTIQ_SERVICES_KEYD_LOCAL_CERTIFICATE_SOURCE_H_
