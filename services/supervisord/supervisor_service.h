// The admin API of rustiq-supervisord (proto/rustiq/v1/supervisor.proto)
// over the Supervisor: lists the daemons with what the kernel says about
// each (memory, posture) and forwards restart/stop/start for the person
// whose token the call carries. The enforcement point has already checked
// the caller and the permission each method declares.
#ifndef RUSTIQ_SERVICES_SUPERVISORD_SUPERVISOR_SERVICE_H_
#define RUSTIQ_SERVICES_SUPERVISORD_SUPERVISOR_SERVICE_H_

#include <string>

#include "absl/time/time.h"
#include "common/rpc/token_verifier.h"
#include "rustiq/v1/supervisor.grpc.pb.h"
#include "services/supervisord/supervisor.h"

namespace rustiq::supervisord {

struct StackInfo {
  std::string version;
  std::string device_id;
  std::string mode = "standalone";
  absl::Time started;
};

// A snapshot as the API reports it, with memory and (when asked) posture
// read from /proc for a running daemon, and only when the process read is
// still the snapshot's run (its start time).
v1::DaemonStatus ToProto(const DaemonSnapshot& s, bool with_posture,
                         absl::Time now);

class SupervisorService final : public v1::Supervisor::Service {
 public:
  // Not owned; all outlive the service.
  SupervisorService(Supervisor* supervisor, rpc::TokenVerifier* tokens,
                    StackInfo info);

  grpc::Status ListDaemons(grpc::ServerContext* context,
                           const v1::ListDaemonsRequest* request,
                           v1::ListDaemonsResponse* response) override;
  grpc::Status RestartDaemon(grpc::ServerContext* context,
                             const v1::DaemonRequest* request,
                             v1::DaemonResponse* response) override;
  grpc::Status StopDaemon(grpc::ServerContext* context,
                          const v1::DaemonRequest* request,
                          v1::DaemonResponse* response) override;
  grpc::Status StartDaemon(grpc::ServerContext* context,
                           const v1::DaemonRequest* request,
                           v1::DaemonResponse* response) override;
  grpc::Status GetStackInfo(grpc::ServerContext* context,
                            const v1::StackInfoRequest* request,
                            v1::StackInfoResponse* response) override;

 private:
  using Operation = absl::StatusOr<DaemonSnapshot> (Supervisor::*)(
      const std::string&, const std::string&);
  grpc::Status Act(grpc::ServerContext* context,
                   const v1::DaemonRequest* request, Operation operation,
                   v1::DaemonResponse* response);

  Supervisor* const supervisor_;
  rpc::TokenVerifier* const tokens_;
  const StackInfo info_;
};

}  // namespace rustiq::supervisord

#endif  // RUSTIQ_SERVICES_SUPERVISORD_SUPERVISOR_SERVICE_H_
