// The event log: appends with group commit, the Merkle tree kept in step,
// tree heads signed by keyd, retention, and what the service reads.
//
// Threads: callers of Append() block until their events are durable; one
// writer thread takes everything pending (up to max_batch_events) into one
// SQLite transaction, so many concurrent appends cost one fsync. One
// maintenance thread signs tree heads (every N events or T seconds, and at
// Stop()) and prunes per the retention settings. Both start in Start(),
// which the daemon calls once it is confined.
#ifndef RUSTIQ_SERVICES_EVENTD_EVENT_LOG_H_
#define RUSTIQ_SERVICES_EVENTD_EVENT_LOG_H_

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/merkle/compact_range.h"
#include "rustiq/v1/events.pb.h"
#include "services/eventd/checkpoint_signer.h"
#include "services/eventd/event_store.h"

namespace rustiq::eventd {

// Sees every event once it is durable (the journal copy). Called on the
// writer thread; must not block for long.
class CommitObserver {
 public:
  virtual ~CommitObserver() = default;
  virtual void OnCommitted(const std::vector<StoredEvent>& events) = 0;
};

struct EventLogOptions {
  std::string device_id;
  std::string boot_id;
  uint32_t max_batch_events = 4096;
  uint32_t sign_every_events = 1000;
  absl::Duration sign_every = absl::Seconds(10);
  uint32_t retention_days = 0;        // 0: no age limit
  uint32_t retention_max_events = 0;  // 0: no count limit
  absl::Duration prune_every = absl::Hours(1);
  // Clocks (tests replace them): wall clock and CLOCK_MONOTONIC, in ns.
  std::function<int64_t()> wall_nanos;
  std::function<int64_t()> monotonic_nanos;
};

// The checkpoint origin and note key name of a device's log (docs/eventd.md).
std::string CheckpointOrigin(absl::string_view device_id);
std::string CheckpointKeyName(absl::string_view device_id);

class EventLog {
 public:
  // `signer` and `observer` may be null (no signing, no journal); neither
  // is owned, both must outlive the log.
  static absl::StatusOr<std::unique_ptr<EventLog>> Open(
      std::unique_ptr<EventStore> store, EventLogOptions options,
      CheckpointSigner* signer, CommitObserver* observer);
  ~EventLog();  // Stop()
  EventLog(const EventLog&) = delete;
  EventLog& operator=(const EventLog&) = delete;

  void Start();
  // Stops taking appends, writes what is pending, signs the final head and
  // joins the threads. Idempotent.
  void Stop();

  // Appends `inputs` (1..1000, each validated) as `source`. Returns the seq
  // of the first once all are durable. INVALID_ARGUMENT names the event and
  // field; UNAVAILABLE once stopping.
  absl::StatusOr<uint64_t> Append(absl::string_view source,
                                  std::vector<v1::EventInput> inputs);
  // eventd's own event (source svc/eventd), without waiting for it. At most
  // kMaxOwnPending wait at a time; beyond that they are dropped and counted,
  // and the count is recorded (eventlog/events.dropped) once there is room.
  void RecordOwn(v1::EventInput input);
  static constexpr size_t kMaxOwnPending = 4096;

  struct Head {
    uint64_t size = 0;
    merkle::Hash root{};
  };
  Head Current() const;
  std::optional<v1::TreeHead> LatestSigned() const;
  // Waits until the log holds more than `size` events, `deadline` passes or
  // the log stops; returns the size then.
  uint64_t WaitForMore(uint64_t size, absl::Time deadline) const;

  // Signs the current head now if it is not signed yet.
  absl::Status SignNow();
  // Applies the retention settings now; returns the new first kept seq.
  absl::StatusOr<uint64_t> PruneNow();

  absl::StatusOr<v1::InclusionProof> Inclusion(uint64_t seq,
                                               uint64_t tree_size) const;
  absl::StatusOr<v1::ConsistencyProof> Consistency(uint64_t old_size,
                                                   uint64_t new_size) const;

  const EventStore& store() const { return *store_; }
  uint64_t first_seq() const;

 private:
  struct Pending;
  EventLog(std::unique_ptr<EventStore> store, EventLogOptions options,
           CheckpointSigner* signer, CommitObserver* observer);
  void WriterLoop();
  void MaintenanceLoop();
  absl::Status WriteBatch(std::vector<std::shared_ptr<Pending>>& batch);
  absl::Status SignLocked(std::unique_lock<std::mutex>& sign_lock);
  absl::StatusOr<uint64_t> Enqueue(std::shared_ptr<Pending> p, bool wait);

  const std::unique_ptr<EventStore> store_;
  const EventLogOptions options_;
  CheckpointSigner* const signer_;
  CommitObserver* const observer_;

  // The append queue and the tree as of the last commit.
  mutable std::mutex mu_;
  mutable std::condition_variable queue_cv_;      // writer waits for work
  mutable std::condition_variable committed_cv_;  // waiters, tails, signer
  std::deque<std::shared_ptr<Pending>> queue_;    // guarded by mu_
  merkle::CompactRange range_;                    // guarded by mu_
  uint64_t first_seq_ = 0;                        // guarded by mu_
  std::optional<v1::TreeHead> latest_signed_;     // guarded by mu_
  // The time stamped on the newest event: times never decrease, so that a
  // time window is a range of seqs (writer thread only).
  int64_t last_time_ = 0;
  // When the oldest event not covered by a signed head was committed.
  std::optional<absl::Time> unsigned_since_;  // guarded by mu_
  bool stopping_ = false;                     // guarded by mu_
  bool writer_done_ = false;                  // guarded by mu_
  bool started_ = false;                      // guarded by mu_
  // eventd's own events waiting for the writer, and those dropped because
  // too many were (a flood of denied calls must not grow memory).
  size_t own_pending_ = 0;    // guarded by mu_
  uint64_t own_dropped_ = 0;  // guarded by mu_

  std::mutex sign_mu_;         // one signature at a time
  bool sign_failing_ = false;  // guarded by sign_mu_; recorded once per outage

  std::thread writer_;
  std::thread maintenance_;
};

}  // namespace rustiq::eventd

#endif  // RUSTIQ_SERVICES_EVENTD_EVENT_LOG_H_
