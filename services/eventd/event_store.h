// The event log on disk: one SQLite file (WAL, synchronous=FULL) holding
// the events with their entry bytes, the complete Merkle subtree hashes
// (level 0: the leaves) and the signed tree heads.
//
// Writes come from one thread at a time (EventLog's writer and signer take
// turns under the store's write lock); reads may come from any thread, each
// on a connection of its own from a small pool.
//
// Open() checks the file before anything is served: the events form one
// run of sequence numbers without gaps, the Merkle frontier of the last
// size is complete, and the latest signed tree head is consistent with
// both. A file that fails is refused with what is wrong; nothing of it is
// used (docs/eventd.md, "Failure modes").
#ifndef RUSTIQ_SERVICES_EVENTD_EVENT_STORE_H_
#define RUSTIQ_SERVICES_EVENTD_EVENT_STORE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/merkle/compact_range.h"
#include "common/merkle/hash.h"
#include "common/merkle/node_source.h"
#include "common/storage/sqlite.h"
#include "rustiq/v1/events.pb.h"

namespace rustiq::eventd {

// An event ready to be written: its entry bytes (EntryBytes) and the
// columns queries filter on, which must agree with the entry.
struct StoredEvent {
  v1::Event event;
  std::string entry;
};

// What Open() found.
struct StoreState {
  std::string device_id;
  uint64_t first_seq = 0;  // oldest event kept (== size when empty)
  uint64_t size = 0;       // events ever appended: the next sequence number
  int64_t last_time_unix_nanos = 0;            // of the newest event (0: none)
  std::vector<merkle::CompleteNode> frontier;  // maximal subtrees of [0, size)
  std::optional<v1::TreeHead> latest_signed;
};

class EventStore final : public merkle::NodeSource {
 public:
  // Opens or creates the log of `device_id` at `path`.
  static absl::StatusOr<std::unique_ptr<EventStore>> Open(
      const std::string& path, const std::string& device_id);
  // Opens an existing log read-only, for offline verification and export
  // (the consistency checks of Open() are the verifier's job here).
  static absl::StatusOr<std::unique_ptr<EventStore>> OpenReadOnly(
      const std::string& path);
  ~EventStore() override;

  const StoreState& opened_state() const { return opened_; }
  const std::string& path() const { return path_; }

  // Writes the events and the nodes that became complete, in one durable
  // transaction: all of it or none of it.
  absl::Status Append(const std::vector<StoredEvent>& events,
                      const std::vector<merkle::CompleteNode>& nodes);
  // Stores a signed head. Not synced on its own (the next append's commit
  // syncs it): a head lost to a power cut is signed again, since the events
  // it covers are durable; an append never waits behind a head's sync.
  absl::Status PutTreeHead(const v1::TreeHead& head);
  // Copies what the WAL holds into the database file (a passive
  // checkpoint, from a read connection): the writer never waits for it.
  // eventd's maintenance thread runs it; the writer itself checkpoints only
  // if the WAL grows past kWriterCheckpointPages meanwhile.
  absl::Status Checkpoint() const;
  static constexpr int kWriterCheckpointPages = 16384;
  // Deletes the events before `first_kept` and every node entirely inside
  // [0, first_kept) except the maximal ones (which the rest of the log
  // still needs to verify). One transaction.
  absl::Status Prune(uint64_t first_kept);

  // merkle::NodeSource: NOT_FOUND for a pruned (or never complete) node.
  absl::StatusOr<merkle::Hash> Node(uint32_t level,
                                    uint64_t index) const override;
  // A NodeSource reading every node in one read transaction on one
  // connection (a proof makes ~2 log n lookups; one lock for all of them).
  // Use it from one thread and drop it soon: it holds a WAL snapshot.
  absl::StatusOr<std::unique_ptr<merkle::NodeSource>> Snapshot() const;

  // Events matching `filter` with seq >= cursor (oldest first) or
  // seq <= cursor (newest first), at most `limit`, parsed from their entry
  // bytes.
  absl::StatusOr<std::vector<v1::Event>> Query(const v1::EventFilter& filter,
                                               uint64_t cursor,
                                               bool newest_first,
                                               size_t limit) const;
  // Calls `row` for every event with from <= seq < to, in order, with its
  // stored columns and entry (for export and verification). Stops at the
  // first error `row` returns.
  struct Row {
    uint64_t seq;
    int64_t time_unix_nanos;
    absl::string_view source;
    absl::string_view actor;
    int64_t category;
    int64_t outcome;
    int64_t severity;
    absl::string_view entry;
    absl::string_view leaf;  // the level-0 node; empty if there is none
  };
  absl::Status Scan(uint64_t from, uint64_t to,
                    const std::function<absl::Status(const Row&)>& row) const;

  // Signed tree heads with size >= from_size, by size.
  absl::StatusOr<std::vector<v1::TreeHead>> TreeHeads(uint64_t from_size,
                                                      size_t limit) const;
  absl::StatusOr<std::optional<v1::TreeHead>> LatestTreeHead() const;
  // Seq of the first event at or after `time_unix_nanos` (size if none).
  absl::StatusOr<uint64_t> FirstSeqAtOrAfter(int64_t time_unix_nanos) const;
  absl::StatusOr<uint64_t> FirstSeq() const;

 private:
  EventStore(std::string path, std::unique_ptr<storage::Database> writer,
             bool read_only);
  absl::Status CreateSchema(const std::string& device_id);
  absl::Status CheckAndLoad();
  // A read connection from the pool (opened on demand), returned on release.
  struct ReaderConnection;
  class Reader;
  class SnapshotSource;
  absl::StatusOr<std::unique_ptr<Reader>> AcquireReader() const;

  const std::string path_;
  const bool read_only_;
  std::mutex write_mu_;
  std::unique_ptr<storage::Database> writer_;  // guarded by write_mu_
  mutable std::mutex pool_mu_;
  mutable std::vector<std::unique_ptr<ReaderConnection>> pool_;
  StoreState opened_;
};

}  // namespace rustiq::eventd

#endif  // RUSTIQ_SERVICES_EVENTD_EVENT_STORE_H_
