// What a handler may know about its caller, as established by the
// enforcement point (CallAuthorizer) before the handler ran.
#ifndef RUSTIQ_COMMON_RPC_PEER_H_
#define RUSTIQ_COMMON_RPC_PEER_H_

#include <grpcpp/server_context.h>

#include <string>

namespace rustiq::rpc {

// The authorized caller path ("svc/supervisord", "client/rustiqctl"), from
// the one URI SAN of the peer's certificate. Never empty inside a handler of
// an RpcServer: CallAuthorizer admits only calls whose peer has exactly one
// valid SPIFFE ID in the device's trust domain. Empty otherwise.
std::string CallerOf(const grpc::ServerContextBase& context);

}  // namespace rustiq::rpc

#endif  // RUSTIQ_COMMON_RPC_PEER_H_
