// The test service: answers with the caller ID the enforcement point
// established, so tests can see who the server thinks called.
#ifndef RUSTIQ_TESTS_TESTSERVER_ECHO_SERVICE_H_
#define RUSTIQ_TESTS_TESTSERVER_ECHO_SERVICE_H_

#include "rustiq/test/v1/echo.grpc.pb.h"

namespace rustiq::testing {

class EchoService final : public rustiq::test::v1::Echo::Service {
 public:
  using Request = rustiq::test::v1::EchoRequest;
  using Reply = rustiq::test::v1::EchoReply;
  grpc::Status Echo(grpc::ServerContext* ctx, const Request* req,
                    Reply* reply) override;
  grpc::Status SupervisorOnly(grpc::ServerContext* ctx, const Request* req,
                              Reply* reply) override;
  grpc::Status Undeclared(grpc::ServerContext* ctx, const Request* req,
                          Reply* reply) override;
  grpc::Status NobodyListed(grpc::ServerContext* ctx, const Request* req,
                            Reply* reply) override;
  grpc::Status Hold(grpc::ServerContext* ctx, const Request* req,
                    Reply* reply) override;
  grpc::Status PersonOnly(grpc::ServerContext* ctx, const Request* req,
                          Reply* reply) override;
};

}  // namespace rustiq::testing

#endif  // RUSTIQ_TESTS_TESTSERVER_ECHO_SERVICE_H_
