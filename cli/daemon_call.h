// What every rustiqctl command that calls a daemon shares: a channel to the
// daemon as the CLI's identity (--as), the preparation of each call's
// ClientContext, and turning the daemon's answer into one line and an exit
// code.
#ifndef RUSTIQ_CLI_DAEMON_CALL_H_
#define RUSTIQ_CLI_DAEMON_CALL_H_

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>
#include <grpcpp/support/status.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "common/config/config.h"
#include "common/identity/spiffe_id.h"

namespace rustiq::cli {

// The CLI's identity (client/<--as>) on this device, checked: a name that is
// not one path segment is an InvalidArgument naming --as.
absl::StatusOr<identity::SpiffeId> CliIdentity(
    const GlobalOptions& global, const config::StackConfig& config);

struct DaemonConnection {
  config::StackConfig config;
  identity::SpiffeId id;  // who the CLI is on this channel
  std::shared_ptr<grpc::Channel> channel;
};

// Loads the configuration and makes an mTLS channel to `daemon` that presents
// the CLI's identity. Nothing is sent yet.
absl::StatusOr<DaemonConnection> ConnectToDaemon(const GlobalOptions& global,
                                                 absl::string_view daemon);

// As ConnectToDaemon, for long streams (events tail, events export): the
// calls on this channel get no default deadline, since
// rpc.call_deadline_ms would cut a tail or a large export off after
// seconds. PrepareCall bounds each call by --timeout when it was given.
absl::StatusOr<DaemonConnection> ConnectForStreams(const GlobalOptions& global,
                                                   absl::string_view daemon);

// Prepares the context of every call rustiqctl makes to a daemon: the one
// place where a person's token (cli/token_file.h, stored by 'rustiqctl
// login') is attached as `authorization: Bearer <token>` call metadata.
// Without a token, methods that need a permission are answered
// UNAUTHENTICATED ("... log in first ('rustiqctl login')"). The deadline:
// --timeout when given (set on the context), else the channel's
// rpc.call_deadline_ms.
void PrepareCall(const GlobalOptions& global, grpc::ClientContext* ctx);

// The exit code of a daemon's answer. As ExitCodeFor, except that a daemon
// saying NOT_FOUND, ALREADY_EXISTS or FAILED_PRECONDITION is about the thing
// asked for ("no key named 'x'", "rotate first") and not about this device's
// configuration: those are kExitFailure.
int ExitCodeForAnswer(const absl::Status& status);

// Prints a daemon's refusal as "rustiqctl: <daemon>: <message>" (or the JSON
// error object) on stderr and returns its exit code.
int FailCall(const Output& out, absl::string_view daemon,
             const grpc::Status& status);

// A usage error found before anything is sent: one line, exit code 2.
int FailUsage(const Output& out, absl::string_view message);

// One unary call on an open channel, its context prepared by PrepareCall.
// `method` is a generated stub's method, e.g. &v1::Keys::Stub::ListKeys.
template <typename Stub, typename Request, typename Response>
grpc::Status Invoke(const GlobalOptions& global,
                    const std::shared_ptr<grpc::Channel>& channel,
                    grpc::Status (Stub::*method)(grpc::ClientContext*,
                                                 const Request&, Response*),
                    const Request& request, Response* response) {
  Stub stub(channel);
  grpc::ClientContext ctx;
  PrepareCall(global, &ctx);
  return (stub.*method)(&ctx, request, response);
}

// Connects to `daemon` and makes one call. kExitOk with `response` filled,
// else the failure has been printed and its exit code is returned.
template <typename Stub, typename Request, typename Response>
int CallDaemon(const GlobalOptions& global, const Output& out,
               absl::string_view daemon,
               grpc::Status (Stub::*method)(grpc::ClientContext*,
                                            const Request&, Response*),
               const Request& request, Response* response) {
  absl::StatusOr<DaemonConnection> conn = ConnectToDaemon(global, daemon);
  if (!conn.ok()) return out.Fail(conn.status());
  grpc::Status s = Invoke(global, conn->channel, method, request, response);
  if (!s.ok()) return FailCall(out, daemon, s);
  return kExitOk;
}

}  // namespace rustiq::cli

#endif  // RUSTIQ_CLI_DAEMON_CALL_H_
