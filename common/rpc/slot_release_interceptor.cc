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
  ~SlotReleaseInterceptor() override {
    if (!caller_.empty()) limiter_->Release(caller_);
  }

  void Intercept(
      grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      // Every call that reaches the application was admitted by
      // CallAuthorizer, which took a slot for this same caller (derived from
      // the same certificate the same way).
      caller_ = CallerOf(*info_->server_context());
    }
    methods->Proceed();
  }

 private:
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
