#include "tests/testserver/echo_service.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include "common/rpc/peer.h"

namespace rustiq::testing {
namespace {

grpc::Status Answer(grpc::ServerContext* ctx, const EchoService::Request* req,
                    EchoService::Reply* reply) {
  reply->set_text(req->text());
  reply->set_caller(rpc::CallerOf(*ctx));
  for (const auto& [key, value] : ctx->client_metadata()) {
    reply->add_metadata_keys(std::string(key.data(), key.size()));
  }
  return grpc::Status::OK;
}

}  // namespace

grpc::Status EchoService::Echo(grpc::ServerContext* ctx, const Request* req,
                               Reply* reply) {
  return Answer(ctx, req, reply);
}
grpc::Status EchoService::SupervisorOnly(grpc::ServerContext* ctx,
                                         const Request* req, Reply* reply) {
  return Answer(ctx, req, reply);
}
grpc::Status EchoService::Undeclared(grpc::ServerContext* ctx,
                                     const Request* req, Reply* reply) {
  return Answer(ctx, req, reply);
}
grpc::Status EchoService::NobodyListed(grpc::ServerContext* ctx,
                                       const Request* req, Reply* reply) {
  return Answer(ctx, req, reply);
}
grpc::Status EchoService::Hold(grpc::ServerContext* ctx, const Request* req,
                               Reply* reply) {
  auto until =
      std::chrono::steady_clock::now() +
      std::chrono::milliseconds(std::min<uint32_t>(req->hold_ms(), 10000));
  while (std::chrono::steady_clock::now() < until && !ctx->IsCancelled()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return Answer(ctx, req, reply);
}
grpc::Status EchoService::PersonOnly(grpc::ServerContext* ctx,
                                     const Request* req, Reply* reply) {
  return Answer(ctx, req, reply);
}

}  // namespace rustiq::testing
