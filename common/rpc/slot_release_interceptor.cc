#include "common/rpc/slot_release_interceptor.h"

#include <string>

#include "common/rpc/peer.h"

namespace rustiq::rpc {
namespace {

using grpc::experimental::InterceptionHookPoints;

class SlotReleaseInterceptor final : public grpc::experimental::Interceptor {
 public:
  SlotReleaseInterceptor(grpc::experimental::ServerRpcInfo* info,
                         CallerLimiter* limiter)
      : info_(info), limiter_(limiter) {}
  // A call that never sent its status (cancelled, say) gives its slot back
  // when gRPC destroys it.
  ~SlotReleaseInterceptor() override { ReleaseOnce(); }

  void Intercept(
      grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      // Every call that reaches the application was admitted by
      // CallAuthorizer, which took a slot for this same caller (derived from
      // the same certificate the same way).
      caller_ = CallerOf(*info_->server_context());
    }
    // The slot is given back before the status goes out: a client that
    // calls again as soon as it has its answer must find it free (the call
    // object itself may be destroyed later).
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::PRE_SEND_STATUS)) {
      ReleaseOnce();
    }
    methods->Proceed();
  }

 private:
  void ReleaseOnce() {
    if (!caller_.empty()) limiter_->Release(caller_);
    caller_.clear();
  }

  grpc::experimental::ServerRpcInfo* info_;
  CallerLimiter* limiter_;
  std::string caller_;
};

}  // namespace

grpc::experimental::Interceptor*
SlotReleaseInterceptorFactory::CreateServerInterceptor(
    grpc::experimental::ServerRpcInfo* info) {
  return new SlotReleaseInterceptor(info, limiter_);
}

}  // namespace rustiq::rpc
