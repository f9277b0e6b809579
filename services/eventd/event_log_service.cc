#include "services/eventd/event_log_service.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/events/event_limits.h"
#include "common/identity/spiffe_id.h"
#include "common/merkle/hash.h"
#include "common/rpc/peer.h"
#include "common/rpc/status.h"
#include "services/eventd/exporter.h"

namespace rustiq::eventd {
namespace {

constexpr uint32_t kDefaultPage = 100;
constexpr uint32_t kMaxPage = 1000;
constexpr int kMaxFilterValues = 64;
constexpr size_t kExportChunkBytes = 64 * 1024;
constexpr size_t kTailBatch = 500;
constexpr absl::Duration kTailPoll = absl::Seconds(1);
constexpr char kPageTokenPrefix[] = "seq:";

grpc::Status Invalid(absl::string_view message) {
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, std::string(message));
}

absl::StatusOr<uint32_t> PageSize(uint32_t requested) {
  if (requested == 0) return kDefaultPage;
  if (requested > kMaxPage) {
    return absl::InvalidArgumentError(
        absl::StrCat("page_size ", requested, " is over the most, ", kMaxPage));
  }
  return requested;
}

std::string Token(uint64_t seq) { return absl::StrCat(kPageTokenPrefix, seq); }

absl::StatusOr<uint64_t> FromToken(absl::string_view token) {
  uint64_t seq = 0;
  if (!absl::ConsumePrefix(&token, kPageTokenPrefix) ||
      !absl::SimpleAtoi(token, &seq)) {
    return absl::InvalidArgumentError(
        "page_token is not one this server gave out; start again without it");
  }
  return seq;
}

}  // namespace

absl::Status ValidateFilter(const v1::EventFilter& f) {
  if (f.since_unix_nanos() < 0 || f.until_unix_nanos() < 0) {
    return absl::InvalidArgumentError("filter times must not be negative");
  }
  if (f.since_unix_nanos() != 0 && f.until_unix_nanos() != 0 &&
      f.since_unix_nanos() >= f.until_unix_nanos()) {
    return absl::InvalidArgumentError("filter: since must be before until");
  }
  if (f.sources_size() > kMaxFilterValues ||
      f.categories_size() > kMaxFilterValues ||
      f.outcomes_size() > kMaxFilterValues) {
    return absl::InvalidArgumentError(
        absl::StrCat("filter: at most ", kMaxFilterValues,
                     " sources, categories or outcomes"));
  }
  for (const std::string& s : f.sources()) {
    if (s.empty() || s.size() > events::kMaxActorBytes) {
      return absl::InvalidArgumentError(
          "filter: a source is an ID path such as svc/keyd");
    }
  }
  for (int c : f.categories()) {
    if (c == v1::EVENT_CATEGORY_UNSPECIFIED || !v1::EventCategory_IsValid(c)) {
      return absl::InvalidArgumentError(
          absl::StrCat("filter: unknown category ", c));
    }
  }
  for (int o : f.outcomes()) {
    if (o == v1::EVENT_OUTCOME_UNSPECIFIED || !v1::EventOutcome_IsValid(o)) {
      return absl::InvalidArgumentError(
          absl::StrCat("filter: unknown outcome ", o));
    }
  }
  if (!v1::EventSeverity_IsValid(f.min_severity())) {
    return absl::InvalidArgumentError(
        absl::StrCat("filter: unknown severity ", f.min_severity()));
  }
  if (f.actor().size() > events::kMaxActorBytes) {
    return absl::InvalidArgumentError("filter: actor is too long");
  }
  return absl::OkStatus();
}

grpc::Status EventLogService::Append(grpc::ServerContext* ctx,
                                     const v1::AppendRequest* req,
                                     v1::AppendResponse* out) {
  if (!req->has_event()) return Invalid("no event given");
  absl::StatusOr<uint64_t> seq =
      log_->Append(rpc::CallerOf(*ctx), {req->event()});
  if (!seq.ok()) return rpc::ToGrpcStatus(seq.status());
  out->set_seq(*seq);
  return grpc::Status::OK;
}

grpc::Status EventLogService::AppendBatch(
    grpc::ServerContext* ctx,
    grpc::ServerReader<v1::AppendBatchRequest>* reader,
    v1::AppendBatchResponse* out) {
  const std::string source = rpc::CallerOf(*ctx);
  v1::AppendBatchRequest message;
  uint64_t count = 0;
  int index = 0;
  while (reader->Read(&message)) {
    size_t n = static_cast<size_t>(message.events_size());
    std::vector<v1::EventInput> inputs(
        std::make_move_iterator(message.mutable_events()->begin()),
        std::make_move_iterator(message.mutable_events()->end()));
    absl::StatusOr<uint64_t> first = log_->Append(source, std::move(inputs));
    if (!first.ok()) {
      // What came before is durable; say so, so that the sender does not
      // send it again.
      return grpc::Status(
          static_cast<grpc::StatusCode>(first.status().code()),
          absl::StrCat("stream message ", index, ": ", first.status().message(),
                       " (the ", count, " events of the ", index,
                       " messages before it are appended)"));
    }
    out->add_first_seqs(*first);
    count += n;
    ++index;
  }
  out->set_count(count);
  return grpc::Status::OK;
}

grpc::Status EventLogService::Query(grpc::ServerContext* /*ctx*/,
                                    const v1::QueryRequest* req,
                                    v1::QueryResponse* out) {
  if (absl::Status s = ValidateFilter(req->filter()); !s.ok()) {
    return rpc::ToGrpcStatus(s);
  }
  absl::StatusOr<uint32_t> page = PageSize(req->page_size());
  if (!page.ok()) return rpc::ToGrpcStatus(page.status());
  uint64_t cursor = req->newest_first() ? UINT64_MAX : 0;
  if (!req->page_token().empty()) {
    absl::StatusOr<uint64_t> c = FromToken(req->page_token());
    if (!c.ok()) return rpc::ToGrpcStatus(c.status());
    cursor = *c;
  }
  absl::StatusOr<std::vector<v1::Event>> events = log_->store().Query(
      req->filter(), cursor, req->newest_first(), *page + 1);
  if (!events.ok()) return rpc::ToGrpcStatus(events.status());
  if (events->size() > *page) {
    out->set_next_page_token(Token((*events)[*page].seq()));
    events->resize(*page);
  }
  for (v1::Event& e : *events) *out->add_events() = std::move(e);
  return grpc::Status::OK;
}

grpc::Status EventLogService::Tail(grpc::ServerContext* ctx,
                                   const v1::TailRequest* req,
                                   grpc::ServerWriter<v1::Event>* writer) {
  if (absl::Status s = ValidateFilter(req->filter()); !s.ok()) {
    return rpc::ToGrpcStatus(s);
  }
  uint64_t cursor =
      req->has_from_seq() ? req->from_seq() : log_->Current().size;
  while (!ctx->IsCancelled()) {
    uint64_t size = log_->Current().size;
    cursor = std::max(cursor, log_->first_seq());
    while (cursor < size && !ctx->IsCancelled()) {
      absl::StatusOr<std::vector<v1::Event>> events =
          log_->store().Query(req->filter(), cursor, false, kTailBatch);
      if (!events.ok()) return rpc::ToGrpcStatus(events.status());
      if (events->empty()) {
        cursor = size;
        break;
      }
      for (const v1::Event& e : *events) {
        if (!writer->Write(e)) return grpc::Status::CANCELLED;
      }
      cursor = events->back().seq() + 1;
    }
    cursor = std::max(cursor, size);
    log_->WaitForMore(cursor, absl::Now() + kTailPoll);
  }
  return grpc::Status::CANCELLED;
}

grpc::Status EventLogService::GetTreeHead(grpc::ServerContext* /*ctx*/,
                                          const v1::GetTreeHeadRequest* /*req*/,
                                          v1::GetTreeHeadResponse* out) {
  EventLog::Head head = log_->Current();
  v1::TreeHead* current = out->mutable_current();
  current->set_size(head.size);
  current->set_root_hash(std::string(merkle::AsBytes(head.root)));
  current->set_time_unix_nanos(absl::ToUnixNanos(absl::Now()));
  if (std::optional<v1::TreeHead> s = log_->LatestSigned(); s.has_value()) {
    *out->mutable_latest_signed() = *s;
  }
  return grpc::Status::OK;
}

grpc::Status EventLogService::ListTreeHeads(grpc::ServerContext* /*ctx*/,
                                            const v1::ListTreeHeadsRequest* req,
                                            v1::ListTreeHeadsResponse* out) {
  absl::StatusOr<uint32_t> page = PageSize(req->page_size());
  if (!page.ok()) return rpc::ToGrpcStatus(page.status());
  absl::StatusOr<std::vector<v1::TreeHead>> heads =
      log_->store().TreeHeads(req->from_size(), *page + 1);
  if (!heads.ok()) return rpc::ToGrpcStatus(heads.status());
  if (heads->size() > *page) {
    out->set_more(true);
    heads->resize(*page);
  }
  for (v1::TreeHead& h : *heads) *out->add_heads() = std::move(h);
  return grpc::Status::OK;
}

grpc::Status EventLogService::GetInclusionProof(
    grpc::ServerContext* /*ctx*/, const v1::InclusionProofRequest* req,
    v1::InclusionProof* out) {
  absl::StatusOr<v1::InclusionProof> proof =
      log_->Inclusion(req->seq(), req->tree_size());
  if (!proof.ok()) return rpc::ToGrpcStatus(proof.status());
  *out = *std::move(proof);
  return grpc::Status::OK;
}

grpc::Status EventLogService::GetConsistencyProof(
    grpc::ServerContext* /*ctx*/, const v1::ConsistencyProofRequest* req,
    v1::ConsistencyProof* out) {
  absl::StatusOr<v1::ConsistencyProof> proof =
      log_->Consistency(req->old_size(), req->new_size());
  if (!proof.ok()) return rpc::ToGrpcStatus(proof.status());
  *out = *std::move(proof);
  return grpc::Status::OK;
}

grpc::Status EventLogService::Export(
    grpc::ServerContext* ctx, const v1::ExportRequest* req,
    grpc::ServerWriter<v1::ExportChunk>* writer) {
  if (req->to_seq() != 0 && req->to_seq() < req->from_seq()) {
    return Invalid("to_seq is before from_seq");
  }
  v1::ExportChunk chunk;
  auto flush = [&]() -> absl::Status {
    if (chunk.data().empty()) return absl::OkStatus();
    if (ctx->IsCancelled() || !writer->Write(chunk)) {
      return absl::CancelledError("the caller went away");
    }
    chunk.clear_data();
    return absl::OkStatus();
  };
  absl::Status s =
      ExportLog(log_->store(), log_->store().opened_state().device_id,
                ExportRange{req->from_seq(), req->to_seq()},
                [&](std::string line) -> absl::Status {
                  chunk.mutable_data()->append(line);
                  chunk.mutable_data()->push_back('\n');
                  if (chunk.data().size() >= kExportChunkBytes) return flush();
                  return absl::OkStatus();
                });
  if (s.ok()) s = flush();
  return rpc::ToGrpcStatus(s);
}

}  // namespace rustiq::eventd
