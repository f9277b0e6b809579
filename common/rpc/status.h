// absl::Status inside rustiq, grpc::Status at the edge. The canonical codes
// are the same numbers in both, so conversion keeps code and message.
#ifndef RUSTIQ_COMMON_RPC_STATUS_H_
#define RUSTIQ_COMMON_RPC_STATUS_H_

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace rustiq::rpc {

inline grpc::Status ToGrpcStatus(const absl::Status& s) {
  if (s.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()),
                      std::string(s.message()));
}

inline absl::Status FromGrpcStatus(const grpc::Status& s) {
  if (s.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()),
                      s.error_message());
}

}  // namespace rustiq::rpc

#endif  // RUSTIQ_COMMON_RPC_STATUS_H_
