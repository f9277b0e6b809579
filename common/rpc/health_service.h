// grpc.health.v1.Health, served synchronously by rustiq itself.
//
// gRPC 1.51's built-in service (EnableDefaultHealthCheckService) is a
// callback-API service: a server that has one gets a callback completion
// queue with polling threads of its own, which measurably slowed every call
// of the server (bench/RESULTS.md: server CPU per call x1.23-1.27). This
// implementation is an ordinary synchronous service and starts no threads.
#ifndef RUSTIQ_COMMON_RPC_HEALTH_SERVICE_H_
#define RUSTIQ_COMMON_RPC_HEALTH_SERVICE_H_

#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace rustiq::rpc {

class HealthService final : public grpc::health::v1::Health::Service {
 public:
  // `services`: the full names of the services of this server; a Check for
  // one of them (or for "", the server as a whole) answers the server's
  // status, any other name NOT_FOUND.
  explicit HealthService(std::vector<std::string> services)
      : services_(std::move(services)) {}

  void SetServing(bool serving);
  // Ends every Watch stream (server shutdown).
  void Shutdown();

  grpc::Status Check(grpc::ServerContext* context,
                     const grpc::health::v1::HealthCheckRequest* request,
                     grpc::health::v1::HealthCheckResponse* response) override;
  // Sends the current status, then every change, until the caller cancels or
  // the server shuts down.
  grpc::Status Watch(grpc::ServerContext* context,
                     const grpc::health::v1::HealthCheckRequest* request,
                     grpc::ServerWriter<grpc::health::v1::HealthCheckResponse>*
                         writer) override;

 private:
  bool Knows(const std::string& service) const;

  const std::vector<std::string> services_;
  absl::Mutex mu_;
  bool serving_ ABSL_GUARDED_BY(mu_) = false;
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace rustiq::rpc

#endif  // RUSTIQ_COMMON_RPC_HEALTH_SERVICE_H_
