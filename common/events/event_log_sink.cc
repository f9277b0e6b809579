#include "common/events/event_log_sink.h"

#include <grpcpp/client_context.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/events/event_spool.h"
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
    : options_(std::move(options)) {
  RestoreSpool();
}

void EventLogSink::RestoreSpool() {
  const std::string& path = options_.spool_path;
  if (path.empty()) return;
  // What a full queue left, and the count of what it had dropped.
  absl::StatusOr<std::vector<v1::EventInput>> events =
      ReadEventSpool(path, options_.max_queued + 1);
  if (!events.ok()) {
    // Kept for a person to look at, and out of the way of the next Stop.
    absl::StatusOr<std::string> aside = SetAsideEventSpool(path);
    audit::SecurityEvent e;
    e.category = "eventlog";
    e.action = "events.spool_unreadable";
    e.outcome = audit::Outcome::kFailure;
    e.attributes = {{"error", std::string(events.status().message())},
                    {"moved_to", aside.ok() ? *aside : ""}};
    if (!aside.ok()) {
      log::Error("cannot move an unreadable event spool aside",
                 {{"error", aside.status().message()}});
    }
    Record(e);
    return;
  }
  if (events->empty()) return;
  log::Info(
      "sending first the events the previous run could not",
      {{"count", static_cast<uint64_t>(events->size())}, {"spool", path}});
  std::lock_guard<std::mutex> lock(mu_);
  for (v1::EventInput& e : *events) queue_.push_back(std::move(e));
  restored_queued_ = events->size();
  stats_.restored = events->size();
}

bool EventLogSink::SaveSpool() {
  std::vector<v1::EventInput> events;
  events.reserve(queue_.size() + 1);
  if (dropped_unreported_ > 0) {
    events.push_back(DroppedEvent(dropped_unreported_));
  }
  events.insert(events.end(), queue_.begin(), queue_.end());
  if (absl::Status s = WriteEventSpool(options_.spool_path, events); !s.ok()) {
    log::Error("cannot keep the undelivered events for the next start",
               {{"error", s.message()}});
    return false;
  }
  log::Info("events not delivered to eventd are kept for the next start",
            {{"count", static_cast<uint64_t>(queue_.size())},
             {"spool", options_.spool_path}});
  stats_.spooled += queue_.size();
  dropped_unreported_ = 0;
  restored_queued_ = 0;
  queue_.clear();
  return true;
}

void EventLogSink::Dequeued(size_t n) {
  if (restored_queued_ == 0) return;
  restored_queued_ -= std::min(n, restored_queued_);
  if (restored_queued_ > 0) return;
  if (absl::Status s = RemoveEventSpool(options_.spool_path); !s.ok()) {
    // Sent again at the next start: at least once.
    log::Warning("cannot remove the delivered event spool",
                 {{"error", s.message()}});
  }
}

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
  const bool left = !queue_.empty() || dropped_unreported_ > 0;
  if (left && !options_.spool_path.empty() && SaveSpool()) return;
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
    uint64_t reported = 0;  // the count the batch's events.dropped carries
    {
      std::unique_lock<std::mutex> lock(mu_);
      // A count of dropped events is worth a batch of its own.
      wake_.wait(lock, [this] {
        return stopping_ || !queue_.empty() || dropped_unreported_ > 0;
      });
      if ((queue_.empty() && dropped_unreported_ == 0) ||
          (stopping_ && absl::Now() >= drain_deadline_)) {
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
        reported = dropped_unreported_;
        batch.push_back(DroppedEvent(reported));
        --room;
      }
      size_t n = std::min(room, queue_.size());
      batch.insert(batch.end(), queue_.begin(), queue_.begin() + n);
    }
    grpc::Status s = Send(batch);
    size_t sent = batch.size() - (reported > 0 ? 1 : 0);
    std::unique_lock<std::mutex> lock(mu_);
    if (s.ok()) {
      queue_.erase(queue_.begin(), queue_.begin() + sent);
      Dequeued(sent);
      stats_.delivered += sent;
      // Only what this batch reported: Record() may have dropped more
      // while it was on its way.
      dropped_unreported_ -= reported;
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
      Dequeued(sent);
      stats_.dropped += sent;
      dropped_unreported_ += sent;
      delivered_.notify_all();
      continue;
    }
    // Stopping with a spool, what eventd cannot take now waits there.
    if (stopping_ &&
        (absl::Now() >= drain_deadline_ || !options_.spool_path.empty())) {
      return;
    }
    absl::Time until = absl::Now() + retry;
    const bool was_stopping = stopping_;
    if (stopping_) until = std::min(until, drain_deadline_);
    // Stop() ends the wait: one more try at once (then, with a spool, the
    // rest goes there), and never a sleep beyond the drain deadline.
    wake_.wait_until(lock, absl::ToChronoTime(until), [&] {
      return stopping_ && (!was_stopping || absl::Now() >= drain_deadline_);
    });
    retry = std::min(retry * 2, options_.retry_max);
  }
}

}  // namespace rustiq::events
