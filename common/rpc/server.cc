#include "common/rpc/server.h"

#include <grpcpp/resource_quota.h>
#include <grpcpp/server_builder.h>
#include <sys/stat.h>
#include <unistd.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/identity/spiffe_id.h"
#include "common/logging/log.h"
#include "common/pki/identity_files.h"
#include "common/rpc/grpc_logging.h"
#include "common/rpc/slot_release_interceptor.h"
#include "common/rpc/unix_socket.h"

namespace rustiq::rpc {

ServerOptions ServerOptionsFromConfig(const config::StackConfig& config,
                                      absl::string_view daemon) {
  ServerOptions o;
  o.daemon = std::string(daemon);
  o.trust_domain = config.device_id;
  o.runtime_dir = config.paths.runtime_dir;
  o.tls = TlsFilesFor(config, pki::ForService(config.paths.state_dir, daemon));
  o.socket_group = config.rpc.socket_group;
  o.max_message_bytes = config.rpc.max_message_bytes;
  o.max_concurrent_calls_per_caller =
      config.rpc.max_concurrent_calls_per_caller;
  return o;
}

absl::StatusOr<gid_t> PrepareServerPaths(const ServerOptions& options) {
  absl::StatusOr<gid_t> gid = ResolveGroup(options.socket_group);
  if (!gid.ok()) return gid.status();
  if (absl::Status s = PrepareSocketDirectory(options.runtime_dir, *gid);
      !s.ok()) {
    return s;
  }
  return gid;
}

absl::StatusOr<std::unique_ptr<RpcServer>> RpcServer::Start(
    const ServerOptions& options, const std::vector<ServiceEntry>& services,
    audit::SecurityEventSink* sink, TokenVerifier* tokens) {
  RouteGrpcLogsToStructuredLog();
  absl::StatusOr<identity::SpiffeId> self =
      identity::SpiffeId::ForService(options.trust_domain, options.daemon);
  if (!self.ok()) return self.status();
  if (absl::Status s = CheckOwnIdentity(options.tls, *self); !s.ok()) return s;

  std::unique_ptr<RpcServer> server(new RpcServer());
  server->table_ = std::make_unique<MethodAccessTable>();
  for (const ServiceEntry& entry : services) {
    if (absl::Status s = server->table_->AddService(entry.full_name); !s.ok()) {
      return s;
    }
  }
  for (const char* method :
       {"/grpc.health.v1.Health/Check", "/grpc.health.v1.Health/Watch"}) {
    if (absl::Status s =
            server->table_->AddBuiltin(method, options.health_callers);
        !s.ok()) {
      return s;
    }
  }
  server->limiter_ =
      std::make_unique<CallerLimiter>(options.max_concurrent_calls_per_caller);
  server->authorizer_ = std::make_unique<CallAuthorizer>(
      options.daemon, options.trust_domain, server->table_.get(),
      server->limiter_.get(), sink, tokens);

  absl::StatusOr<gid_t> gid = PrepareServerPaths(options);
  if (!gid.ok()) return gid.status();
  server->socket_path_ = DaemonSocketPath(options.runtime_dir, options.daemon);
  if (absl::Status s = ClaimSocketPath(server->socket_path_); !s.ok()) return s;

  std::shared_ptr<grpc::ServerCredentials> creds =
      MakeServerCredentials(options.tls);
  creds->SetAuthMetadataProcessor(
      std::make_shared<AuthorizingProcessor>(server->authorizer_.get()));

  std::vector<std::string> names;
  for (const ServiceEntry& entry : services) names.push_back(entry.full_name);
  server->health_ = std::make_unique<HealthService>(std::move(names));
  grpc::ServerBuilder builder;
  builder.AddListeningPort("unix:" + server->socket_path_, creds);
  builder.SetMaxReceiveMessageSize(static_cast<int>(options.max_message_bytes));
  builder.SetMaxSendMessageSize(static_cast<int>(options.max_message_bytes));
  grpc::ResourceQuota quota(absl::StrCat("rustiq-", options.daemon));
  quota.SetMaxThreads(options.max_threads);
  builder.SetResourceQuota(quota);
  std::vector<
      std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
      interceptors;
  interceptors.push_back(
      std::make_unique<SlotReleaseInterceptorFactory>(server->limiter_.get()));
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  for (const ServiceEntry& entry : services) {
    builder.RegisterService(entry.service);
  }
  builder.RegisterService(server->health_.get());

  // The socket is created by bind(2) inside BuildAndStart: a tight umask makes
  // it owner-only from birth, then SecureSocketFile opens it to the group.
  mode_t old_umask = umask(0177);
  server->server_ = builder.BuildAndStart();
  umask(old_umask);
  if (server->server_ == nullptr) {
    return absl::UnavailableError(absl::StrCat(
        "cannot listen on ", server->socket_path_,
        " (see the gRPC error above; is the directory writable?)"));
  }
  if (absl::Status s = SecureSocketFile(server->socket_path_, *gid); !s.ok()) {
    server->Shutdown(absl::ZeroDuration());
    return s;
  }
  server->health_->SetServing(true);
  log::Info("serving", {{"socket", server->socket_path_},
                        {"identity", self->ToUri()},
                        {"methods", server->table_->size()}});
  return server;
}

RpcServer::~RpcServer() { Shutdown(absl::ZeroDuration()); }

void RpcServer::Wait() { server_->Wait(); }

void RpcServer::Shutdown(absl::Duration grace) {
  if (shut_down_ || server_ == nullptr) return;
  shut_down_ = true;
  health_->Shutdown();
  server_->Shutdown(std::chrono::system_clock::now() +
                    absl::ToChronoMilliseconds(grace));
  unlink(socket_path_.c_str());
}

}  // namespace rustiq::rpc
