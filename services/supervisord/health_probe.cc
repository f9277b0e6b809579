#include "services/supervisord/health_probe.h"

#include <grpcpp/grpcpp.h>
#include <sys/stat.h>

#include "common/rpc/unix_socket.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace rustiq::supervisord {
namespace {

using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

// No reconnection back-off to tune: a channel that is not connected is
// never retried but replaced (ChannelFor), and the replacement must not
// share the old one's connection, nor with it its back-off.
rpc::ClientOptions ProbeOptions(rpc::ClientOptions options) {
  options.private_connection = true;
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
    : runtime_dir_(options.runtime_dir),
      channels_(ProbeOptions(std::move(options))) {}

std::shared_ptr<grpc::Channel> GrpcHealthProbe::ChannelFor(
    const std::string& daemon) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_daemon_.find(daemon);
  if (it != by_daemon_.end() &&
      it->second->GetState(/*try_to_connect=*/false) == GRPC_CHANNEL_READY) {
    return it->second;
  }
  // Not connected: the daemon is starting, was restarted, or stopped
  // answering. A new channel connects at once (on a Unix socket the attempt
  // succeeds or fails within a millisecond or so), where the old one would
  // first wait out its reconnection back-off: gRPC 1.51 let a daemon that
  // had started listening wait 60-90 ms for supervisord to see it serve.
  // While there is no socket at all (a start polled every few ms), no
  // channel is made: each one reads the identity files and starts gRPC's
  // certificate watcher.
  struct stat st;
  if (stat(rpc::DaemonSocketPath(runtime_dir_, daemon).c_str(), &st) != 0) {
    by_daemon_.erase(daemon);
    return nullptr;
  }
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
  // Not wait-for-ready: a daemon with no socket yet (starting) or none any
  // more (ended) fails the check at once, and the caller polls again; one
  // that accepts but does not answer (stopped) fails at the deadline.
  HealthCheckRequest request;
  HealthCheckResponse response;
  grpc::Status status = stub->Check(&context, request, &response);
  if (!status.ok()) return Health::kUnreachable;
  return response.status() == HealthCheckResponse::SERVING
             ? Health::kServing
             : Health::kNotServing;
}

}  // namespace rustiq::supervisord
