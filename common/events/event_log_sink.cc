#include "common/events/event_log_sink.h"

#include <grpcpp/client_context.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/events/security_event_input.h"
#include "common/logging/log.h"
#include "rustiq/v1/events.grpc.pb.h"

namespace rustiq::events {
namespace {

v1::EventInput DroppedEvent(uint64_t count) {
  v1::EventInput e;
  e.set_category(v1::EVENT_CATEGORY_EVENTLOG);
  e.set_action("events.dropped");
  e.set_outcome(v1::EVENT_OUTCOME_FAILURE);
  e.set_severity(v1::EVENT_SEVERITY_WARNING);
  v1::EventAttribute* a = e.add_attributes();
  a->set_key("count");
  a->set_value(absl::StrCat(count));
  e.set_occurred_unix_nanos(absl::ToUnixNanos(absl::Now()));
  return e;
}

// Worth sending again later: eventd is down, busy or stopping.
bool Transient(grpc::StatusCode code) {
  return code == grpc::StatusCode::UNAVAILABLE ||
         code == grpc::StatusCode::DEADLINE_EXCEEDED ||
         code == grpc::StatusCode::RESOURCE_EXHAUSTED ||
         code == grpc::StatusCode::ABORTED ||
         code == grpc::StatusCode::CANCELLED ||
         code == grpc::StatusCode::UNKNOWN ||
         code == grpc::StatusCode::INTERNAL;
}

}  // namespace

EventLogSink::EventLogSink(EventLogSinkOptions options)
    : options_(std::move(options)) {}

EventLogSink::~EventLogSink() { Stop(absl::ZeroDuration()); }

void EventLogSink::Start(std::shared_ptr<grpc::Channel> eventd) {
  std::lock_guard<std::mutex> lock(mu_);
  if (thread_.joinable() || stopping_ || eventd == nullptr) return;
  channel_ = std::move(eventd);
  thread_ = std::thread([this] { Run(); });
}

void EventLogSink::Stop(absl::Duration drain) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
    drain_deadline_ = absl::Now() + drain;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::lock_guard<std::mutex> lock(mu_);
  if (!queue_.empty()) {
    log::Warning("events not delivered to eventd",
                 {{"count", static_cast<uint64_t>(queue_.size())}});
    stats_.dropped += queue_.size();
    queue_.clear();
  }
}

void EventLogSink::Record(const audit::SecurityEvent& event) {
  if (options_.log_lines) audit::LogSecurityEventSink().Record(event);
  v1::EventInput input = ToEventInput(event, absl::ToUnixNanos(absl::Now()));
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++stats_.recorded;
    if (stopping_ && !thread_.joinable()) {
      ++stats_.dropped;
      return;
    }
    if (queue_.size() >= options_.max_queued) {
      ++stats_.dropped;
      ++dropped_unreported_;
      return;
    }
    queue_.push_back(std::move(input));
  }
  wake_.notify_one();
}

bool EventLogSink::Flush(int timeout_ms) {
  std::unique_lock<std::mutex> lock(mu_);
  if (!thread_.joinable()) return queue_.empty();
  wake_.notify_one();
  return delivered_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                             [this] { return queue_.empty(); });
}

EventLogSink::Stats EventLogSink::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  Stats s = stats_;
  s.queued = queue_.size();
  return s;
}

grpc::Status EventLogSink::Send(const std::vector<v1::EventInput>& batch) {
  auto stub = v1::EventLog::NewStub(channel_);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() +
                   absl::ToChronoMilliseconds(options_.call_timeout));
  ctx.set_wait_for_ready(false);
  v1::AppendBatchResponse response;
  std::unique_ptr<grpc::ClientWriter<v1::AppendBatchRequest>> writer =
      stub->AppendBatch(&ctx, &response);
  v1::AppendBatchRequest message;
  for (const v1::EventInput& e : batch) *message.add_events() = e;
  writer->Write(message);
  writer->WritesDone();
  return writer->Finish();
}

void EventLogSink::Run() {
  absl::Duration retry = options_.retry_min;
  while (true) {
    std::vector<v1::EventInput> batch;
    bool dropped_report = false;
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty() || (stopping_ && absl::Now() >= drain_deadline_)) {
        return;
      }
      // A moment to let a burst fill the batch.
      if (!stopping_ && queue_.size() < options_.max_batch) {
        wake_.wait_for(
            lock, absl::ToChronoMilliseconds(options_.linger), [this] {
              return stopping_ || queue_.size() >= options_.max_batch;
            });
      }
      size_t room = options_.max_batch;
      if (dropped_unreported_ > 0) {
        batch.push_back(DroppedEvent(dropped_unreported_));
        dropped_report = true;
        --room;
      }
      size_t n = std::min(room, queue_.size());
      batch.insert(batch.end(), queue_.begin(), queue_.begin() + n);
    }
    grpc::Status s = Send(batch);
    size_t sent = batch.size() - (dropped_report ? 1 : 0);
    std::unique_lock<std::mutex> lock(mu_);
    if (s.ok()) {
      queue_.erase(queue_.begin(), queue_.begin() + sent);
      stats_.delivered += sent;
      if (dropped_report) dropped_unreported_ = 0;
      retry = options_.retry_min;
      delivered_.notify_all();
      continue;
    }
    if (!Transient(s.error_code())) {
      // eventd refused the batch itself (a bug of ours, or a policy that
      // does not let this daemon append): sending it again cannot help.
      log::Error("eventd refused events",
                 {{"count", static_cast<uint64_t>(sent)},
                  {"code", static_cast<int>(s.error_code())},
                  {"error", s.error_message()}});
      queue_.erase(queue_.begin(), queue_.begin() + sent);
      stats_.dropped += sent;
      dropped_unreported_ += sent;
      delivered_.notify_all();
      continue;
    }
    if (stopping_ && absl::Now() >= drain_deadline_) return;
    absl::Time until = absl::Now() + retry;
    if (stopping_) until = std::min(until, drain_deadline_);
    wake_.wait_until(lock, absl::ToChronoTime(until), [&] {
      return stopping_ && absl::Now() >= drain_deadline_;
    });
    retry = std::min(retry * 2, options_.retry_max);
  }
}

}  // namespace rustiq::events
