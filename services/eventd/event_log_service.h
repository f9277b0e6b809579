// rustiq.v1.EventLog: the gRPC face of the EventLog. Who may call what is
// declared in proto/rustiq/v1/events.proto and enforced before a handler
// runs; the handlers stamp the caller's identity as the events' source and
// turn every bad request into a status that names what is wrong.
#ifndef RUSTIQ_SERVICES_EVENTD_EVENT_LOG_SERVICE_H_
#define RUSTIQ_SERVICES_EVENTD_EVENT_LOG_SERVICE_H_

#include "rustiq/v1/events.grpc.pb.h"
#include "services/eventd/event_log.h"

namespace rustiq::eventd {

class EventLogService final : public v1::EventLog::Service {
 public:
  // `log` is not owned and must outlive the service.
  explicit EventLogService(EventLog* log) : log_(log) {}

  grpc::Status Append(grpc::ServerContext* ctx, const v1::AppendRequest* req,
                      v1::AppendResponse* out) override;
  grpc::Status AppendBatch(grpc::ServerContext* ctx,
                           grpc::ServerReader<v1::AppendBatchRequest>* reader,
                           v1::AppendBatchResponse* out) override;
  grpc::Status Query(grpc::ServerContext* ctx, const v1::QueryRequest* req,
                     v1::QueryResponse* out) override;
  grpc::Status Tail(grpc::ServerContext* ctx, const v1::TailRequest* req,
                    grpc::ServerWriter<v1::Event>* writer) override;
  grpc::Status GetTreeHead(grpc::ServerContext* ctx,
                           const v1::GetTreeHeadRequest* req,
                           v1::GetTreeHeadResponse* out) override;
  grpc::Status ListTreeHeads(grpc::ServerContext* ctx,
                             const v1::ListTreeHeadsRequest* req,
                             v1::ListTreeHeadsResponse* out) override;
  grpc::Status GetInclusionProof(grpc::ServerContext* ctx,
                                 const v1::InclusionProofRequest* req,
                                 v1::InclusionProof* out) override;
  grpc::Status GetConsistencyProof(grpc::ServerContext* ctx,
                                   const v1::ConsistencyProofRequest* req,
                                   v1::ConsistencyProof* out) override;
  grpc::Status Export(grpc::ServerContext* ctx, const v1::ExportRequest* req,
                      grpc::ServerWriter<v1::ExportChunk>* writer) override;

 private:
  EventLog* log_;
};

// Checks a filter's fields (INVALID_ARGUMENT naming the field).
absl::Status ValidateFilter(const v1::EventFilter& filter);

}  // namespace rustiq::eventd

#endif  // RUSTIQ_SERVICES_EVENTD_EVENT_LOG_SERVICE_H_
