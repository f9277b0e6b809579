// Routes gRPC's own log messages into rustiq's structured log, so an
// operator reads one format, with the daemon's name on every line.
#ifndef RUSTIQ_COMMON_RPC_GRPC_LOGGING_H_
#define RUSTIQ_COMMON_RPC_GRPC_LOGGING_H_

namespace rustiq::rpc {

// Idempotent; RpcServer::Start calls it. gRPC's messages keep their severity
// (GRPC_VERBOSITY still filters them), except known-benign ones demoted to
// debug: over Unix sockets the client's TLS server name never matches a
// certificate that carries only a URI SAN, which gRPC reports as an error on
// every connection.
void RouteGrpcLogsToStructuredLog();

}  // namespace rustiq::rpc

#endif  // RUSTIQ_COMMON_RPC_GRPC_LOGGING_H_
