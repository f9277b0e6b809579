// Returns the per-caller concurrency slot that CallAuthorizer took for a
// call, when the call ends. gRPC creates one interceptor per call and destroys
// it when the call is done, whatever the outcome; the slot is released in the
// destructor.
#ifndef RUSTIQ_COMMON_RPC_SLOT_RELEASE_INTERCEPTOR_H_
#define RUSTIQ_COMMON_RPC_SLOT_RELEASE_INTERCEPTOR_H_

#include <grpcpp/support/server_interceptor.h>

#include "common/rpc/caller_limiter.h"

namespace rustiq::rpc {

class SlotReleaseInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  // `limiter` is not owned and must outlive the server.
  explicit SlotReleaseInterceptorFactory(CallerLimiter* limiter)
      : limiter_(limiter) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override;

 private:
  CallerLimiter* limiter_;
};

}  // namespace rustiq::rpc

#endif  // RUSTIQ_COMMON_RPC_SLOT_RELEASE_INTERCEPTOR_H_
