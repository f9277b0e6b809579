#include "common/rpc/health_service.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

namespace rustiq::rpc {

using grpc::health::v1::HealthCheckResponse;

bool HealthService::Knows(const std::string& service) const {
  return service.empty() || std::find(services_.begin(), services_.end(),
                                      service) != services_.end();
}

void HealthService::SetServing(bool serving) {
  absl::MutexLock lock(&mu_);
  if (serving_ != serving) {
    serving_ = serving;
    ++generation_;
  }
}

void HealthService::Shutdown() {
  absl::MutexLock lock(&mu_);
  serving_ = false;
  shut_down_ = true;
  ++generation_;
}

grpc::Status HealthService::Check(
    grpc::ServerContext* /*context*/,
    const grpc::health::v1::HealthCheckRequest* request,
    HealthCheckResponse* response) {
  if (!Knows(request->service())) {
    return grpc::Status(
        grpc::StatusCode::NOT_FOUND,
        absl::StrCat("no service \"", request->service().substr(0, 200),
                     "\" on this server"));
  }
  absl::MutexLock lock(&mu_);
  response->set_status(serving_ ? HealthCheckResponse::SERVING
                                : HealthCheckResponse::NOT_SERVING);
  return grpc::Status::OK;
}

grpc::Status HealthService::Watch(
    grpc::ServerContext* context,
    const grpc::health::v1::HealthCheckRequest* request,
    grpc::ServerWriter<HealthCheckResponse>* writer) {
  const bool known = Knows(request->service());
  uint64_t seen = 0;
  bool first = true;
  while (!context->IsCancelled()) {
    HealthCheckResponse response;
    {
      absl::MutexLock lock(&mu_);
      if (!first) {
        // Wakes on a change; re-checks cancellation at least every second.
        auto changed = [this, seen]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
          return generation_ != seen;
        };
        mu_.AwaitWithTimeout(absl::Condition(&changed), absl::Seconds(1));
        if (generation_ == seen) continue;
      }
      if (shut_down_) return grpc::Status::OK;
      seen = generation_;
      response.set_status(!known     ? HealthCheckResponse::SERVICE_UNKNOWN
                          : serving_ ? HealthCheckResponse::SERVING
                                     : HealthCheckResponse::NOT_SERVING);
    }
    first = false;
    if (!writer->Write(response)) break;
  }
  return grpc::Status::OK;
}

}  // namespace rustiq::rpc
