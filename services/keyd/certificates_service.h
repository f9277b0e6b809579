// rustiq.v1.Certificates over gRPC: the device CA, for renewal of the
// caller's own identity and for the trust bundle.
#ifndef RUSTIQ_SERVICES_KEYD_CERTIFICATES_SERVICE_H_
#define RUSTIQ_SERVICES_KEYD_CERTIFICATES_SERVICE_H_

#include "common/audit/security_event.h"
#include "rustiq/v1/keys.grpc.pb.h"
#include "services/keyd/device_ca.h"

namespace rustiq::keyd {

class CertificatesService final : public v1::Certificates::Service {
 public:
  // Neither pointer is owned.
  CertificatesService(DeviceCa* ca, audit::SecurityEventSink* sink)
      : ca_(ca), sink_(sink) {}

  grpc::Status IssueCertificate(grpc::ServerContext* ctx,
                                const v1::IssueCertificateRequest* req,
                                v1::IssueCertificateResponse* out) override;
  grpc::Status GetTrustBundle(grpc::ServerContext* ctx,
                              const v1::GetTrustBundleRequest* req,
                              v1::GetTrustBundleResponse* out) override;

 private:
  DeviceCa* ca_;
  audit::SecurityEventSink* sink_;
};

}  // namespace rustiq::keyd

#endif  // RUSTIQ_SERVICES_KEYD_CERTIFICATES_SERVICE_H_
