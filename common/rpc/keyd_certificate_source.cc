#include "common/rpc/keyd_certificate_source.h"

#include "absl/strings/str_cat.h"
#include "common/rpc/status.h"

namespace rustiq::rpc {

absl::StatusOr<std::string> KeydCertificateSource::Issue(
    absl::string_view csr_pem) {
  v1::IssueCertificateRequest req;
  req.set_csr_pem(std::string(csr_pem));
  req.set_lifetime_seconds(lifetime_seconds_);
  grpc::ClientContext ctx;
  v1::IssueCertificateResponse resp;
  grpc::Status s = stub_->IssueCertificate(&ctx, req, &resp);
  if (!s.ok()) {
    absl::Status st = FromGrpcStatus(s);
    return absl::Status(st.code(), absl::StrCat("keyd: ", st.message()));
  }
  return resp.certificate_pem();
}

}  // namespace rustiq::rpc
