// Asking a daemon whether it serves: grpc.health.v1 Check over mTLS as
// svc/supervisord (the health methods admit it), with a deadline. An
// interface, so that the supervisor's state machine can be tested with
// processes that are not gRPC servers.
#ifndef RUSTIQ_SERVICES_SUPERVISORD_HEALTH_PROBE_H_
#define RUSTIQ_SERVICES_SUPERVISORD_HEALTH_PROBE_H_

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "absl/time/time.h"
#include "common/rpc/client.h"

namespace rustiq::supervisord {

enum class Health { kUnknown, kServing, kNotServing, kUnreachable };
const char* HealthName(Health health);  // "serving", "unreachable", ...

class HealthProbe {
 public:
  virtual ~HealthProbe() = default;
  // Thread-safe; returns within about `timeout`.
  virtual Health Check(const std::string& daemon, absl::Duration timeout) = 0;
};

// The real probe: one channel per daemon, kept while it is connected and
// replaced by a new one (its own connection) when it is not, so that a
// daemon is seen serving as soon as it listens.
class GrpcHealthProbe final : public HealthProbe {
 public:
  explicit GrpcHealthProbe(rpc::ClientOptions options);
  Health Check(const std::string& daemon, absl::Duration timeout) override;

 private:
  std::shared_ptr<grpc::Channel> ChannelFor(const std::string& daemon);

  const std::string runtime_dir_;  // where the daemons' sockets are
  rpc::ChannelFactory channels_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<grpc::Channel>> by_daemon_;
};

}  // namespace rustiq::supervisord

#endif  // RUSTIQ_SERVICES_SUPERVISORD_HEALTH_PROBE_H_
