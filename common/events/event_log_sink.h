// The security-event sink every daemon uses: it sends each event to eventd,
// batched, from a thread of its own, and never blocks the caller.
//
// Record() writes the event's structured log line (as LogSecurityEventSink
// does, for operators) and puts it in a bounded queue. The sender thread
// sends what is queued in batches (one AppendBatch stream message each)
// and keeps an event queued until eventd has acknowledged it as durable.
// While eventd is unreachable the queue fills; once it is full, new events
// are dropped and counted, and when eventd answers again the first thing
// sent is an "events.dropped" event with that count. Nothing blocks or
// grows without bound.
//
// With a spool path (event_spool.h), what is still queued when the sink
// stops is written there, and the next sink with that path (the daemon's
// next run) sends it first, then removes the file. So the events of the
// very end of a run, after eventd has stopped, reach the log late rather
// than never. Delivery of spooled events is at least once: a crash between
// eventd's acknowledgement and the removal sends them again. A process that
// is killed keeps nothing (the queue is in memory until Stop).
//
// Start() starts the thread; a daemon calls it once confined (a thread
// started before would not be). Events recorded before are kept.
#ifndef RUSTIQ_COMMON_EVENTS_EVENT_LOG_SINK_H_
#define RUSTIQ_COMMON_EVENTS_EVENT_LOG_SINK_H_

#include <grpcpp/channel.h>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/time/time.h"
#include "common/audit/security_event.h"
#include "rustiq/v1/events.pb.h"

namespace rustiq::events {

struct EventLogSinkOptions {
  size_t max_queued = 4096;  // events kept while eventd is unreachable
  size_t max_batch = 256;    // events per AppendBatch message
  absl::Duration linger = absl::Milliseconds(20);  // wait to fill a batch
  absl::Duration retry_min = absl::Milliseconds(100);
  absl::Duration retry_max = absl::Seconds(5);
  absl::Duration call_timeout = absl::Seconds(5);
  bool log_lines = true;  // also write each event as a log line
  // Where undelivered events wait for the next run (events::EventSpoolPath);
  // empty: they are dropped at Stop.
  std::string spool_path;
};

class EventLogSink final : public audit::SecurityEventSink {
 public:
  // Takes what a previous run left in the spool (queued first); a spool
  // that cannot be read is moved aside and reported as an event.
  explicit EventLogSink(EventLogSinkOptions options = {});
  ~EventLogSink() override;  // Stop(absl::ZeroDuration())
  EventLogSink(const EventLogSink&) = delete;
  EventLogSink& operator=(const EventLogSink&) = delete;

  // `eventd`: a channel to eventd with this daemon's identity.
  void Start(std::shared_ptr<grpc::Channel> eventd);
  // Tries for at most `drain` to deliver what is queued (with a spool, only
  // until eventd is found unreachable), then stops the thread. What is left
  // goes to the spool, or without one is counted as dropped (and logged).
  void Stop(absl::Duration drain);

  void Record(const audit::SecurityEvent& event) override;
  // Waits until eventd has acknowledged everything queued (false: not
  // within the timeout, or the sender is not started).
  bool Flush(int timeout_ms) override;

  struct Stats {
    uint64_t recorded = 0;   // Record() calls
    uint64_t delivered = 0;  // acknowledged by eventd
    uint64_t dropped = 0;    // queue full, refused by eventd, or at Stop
    uint64_t restored = 0;   // taken from the spool at construction
    uint64_t spooled = 0;    // written to the spool at Stop
    size_t queued = 0;
  };
  Stats stats() const;

 private:
  void Run();
  void RestoreSpool();
  // Writes what is left at Stop to the spool; false when it could not.
  bool SaveSpool();
  // `n` events left the front of the queue; removes the spool once every
  // event taken from it is gone. mu_ held.
  void Dequeued(size_t n);
  // Sends `batch`; OK when eventd acknowledged all of it.
  grpc::Status Send(const std::vector<v1::EventInput>& batch);

  const EventLogSinkOptions options_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::condition_variable delivered_;  // the queue shrank
  std::deque<v1::EventInput> queue_;   // guarded by mu_
  uint64_t dropped_unreported_ = 0;    // guarded by mu_
  size_t restored_queued_ = 0;         // spooled events still at the front; mu_
  Stats stats_;                        // guarded by mu_
  bool stopping_ = false;              // guarded by mu_
  absl::Time drain_deadline_ = absl::InfiniteFuture();  // guarded by mu_
  std::shared_ptr<grpc::Channel> channel_;
  std::thread thread_;
};

}  // namespace rustiq::events

#endif  // RUSTIQ_COMMON_EVENTS_EVENT_LOG_SINK_H_
