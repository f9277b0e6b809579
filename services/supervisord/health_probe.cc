#include "services/supervisord/health_probe.h"

#include <grpcpp/grpcpp.h>

#include "grpc/health/v1/health.grpc.pb.h"

namespace rustiq::supervisord {
namespace {

using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

// A restarted daemon's new socket is found within this.
constexpr uint32_t kReconnectMinMs = 10;
constexpr uint32_t kReconnectMaxMs = 20;

rpc::ClientOptions ProbeOptions(rpc::ClientOptions options) {
  options.reconnect_min_ms = kReconnectMinMs;
  options.reconnect_max_ms = kReconnectMaxMs;
  return options;
}

}  // namespace

const char* HealthName(Health health) {
  switch (health) {
    case Health::kUnknown:
      return "unknown";
    case Health::kServing:
      return "serving";
    case Health::kNotServing:
      return "not-serving";
    case Health::kUnreachable:
      return "unreachable";
  }
  return "?";
}

GrpcHealthProbe::GrpcHealthProbe(rpc::ClientOptions options)
    : channels_(ProbeOptions(std::move(options))) {}

std::shared_ptr<grpc::Channel> GrpcHealthProbe::ChannelFor(
    const std::string& daemon) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_daemon_.find(daemon);
  if (it != by_daemon_.end()) return it->second;
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel =
      channels_.ForDaemon(daemon);
  // Identity files missing: no channel yet; the next check tries again.
  if (!channel.ok()) return nullptr;
  by_daemon_[daemon] = *channel;
  return *channel;
}

Health GrpcHealthProbe::Check(const std::string& daemon,
                              absl::Duration timeout) {
  std::shared_ptr<grpc::Channel> channel = ChannelFor(daemon);
  if (channel == nullptr) return Health::kUnreachable;
  auto stub = grpc::health::v1::Health::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  // A daemon starting has no socket yet: wait for it within the deadline
  // rather than fail at once.
  context.set_wait_for_ready(true);
  HealthCheckRequest request;
  HealthCheckResponse response;
  grpc::Status status = stub->Check(&context, request, &response);
  if (!status.ok()) return Health::kUnreachable;
  return response.status() == HealthCheckResponse::SERVING
             ? Health::kServing
             : Health::kNotServing;
}

}  // namespace rustiq::supervisord
