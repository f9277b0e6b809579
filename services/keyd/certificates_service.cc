#include "services/keyd/certificates_service.h"

#include "absl/strings/str_cat.h"
#include "common/rpc/peer.h"
#include "common/rpc/status.h"

namespace rustiq::keyd {

grpc::Status CertificatesService::IssueCertificate(
    grpc::ServerContext* ctx, const v1::IssueCertificateRequest* req,
    v1::IssueCertificateResponse* out) {
  std::string caller = rpc::CallerOf(*ctx);
  absl::StatusOr<v1::IssueCertificateResponse> issued =
      ca_->IssueForCaller(caller, *req);
  audit::SecurityEvent event;
  event.category = "key";
  event.actor = caller;
  if (issued.ok()) {
    event.action = "certificate.issued";
    event.outcome = audit::Outcome::kSuccess;
    event.attributes = {
        {"not_after", absl::StrCat(issued->not_after_unix_seconds())}};
  } else {
    event.action = "certificate.refused";
    event.outcome = absl::IsPermissionDenied(issued.status())
                        ? audit::Outcome::kDenied
                        : audit::Outcome::kFailure;
    event.attributes = {{"reason", std::string(issued.status().message())}};
  }
  sink_->Record(event);
  if (!issued.ok()) return rpc::ToGrpcStatus(issued.status());
  *out = *std::move(issued);
  return grpc::Status::OK;
}

grpc::Status CertificatesService::GetTrustBundle(
    grpc::ServerContext* /*ctx*/, const v1::GetTrustBundleRequest* /*req*/,
    v1::GetTrustBundleResponse* out) {
  absl::StatusOr<std::string> pem = ca_->TrustBundle();
  if (!pem.ok()) return rpc::ToGrpcStatus(pem.status());
  out->set_pem(*std::move(pem));
  return grpc::Status::OK;
}

}  // namespace rustiq::keyd
