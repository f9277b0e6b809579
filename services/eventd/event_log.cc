#include "services/eventd/event_log.h"

#include <time.h>

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/events/event_limits.h"
#include "common/events/log_verifier.h"
#include "common/logging/log.h"
#include "common/merkle/checkpoint.h"
#include "common/merkle/note.h"
#include "common/merkle/proofs.h"
#include "services/eventd/event_record.h"

namespace rustiq::eventd {
namespace {

constexpr char kOwnSource[] = "svc/eventd";
constexpr absl::Duration kSignRetryMin = absl::Seconds(1);
constexpr absl::Duration kSignRetryMax = absl::Seconds(30);
// How often the WAL is copied into the database file, off the writer.
constexpr absl::Duration kCheckpointEvery = absl::Seconds(1);

int64_t ClockNanos(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

std::string Bytes(const merkle::Hash& h) {
  return std::string(merkle::AsBytes(h));
}

}  // namespace

std::string CheckpointOrigin(absl::string_view device_id) {
  return events::EventLogOrigin(device_id);
}

std::string CheckpointKeyName(absl::string_view device_id) {
  return events::EventLogKeyName(device_id);
}

// One Append() call (or one own event) waiting for the writer.
struct EventLog::Pending {
  std::string source;
  std::vector<v1::EventInput> inputs;
  bool waited = true;  // someone waits for the result
  // Set by the writer under mu_.
  bool done = false;
  absl::Status status;
  uint64_t first_seq = 0;
};

EventLog::EventLog(std::unique_ptr<EventStore> store, EventLogOptions options,
                   CheckpointSigner* signer, CommitObserver* observer)
    : store_(std::move(store)),
      options_(std::move(options)),
      signer_(signer),
      observer_(observer) {}

absl::StatusOr<std::unique_ptr<EventLog>> EventLog::Open(
    std::unique_ptr<EventStore> store, EventLogOptions options,
    CheckpointSigner* signer, CommitObserver* observer) {
  if (!options.wall_nanos) {
    options.wall_nanos = [] { return ClockNanos(CLOCK_REALTIME); };
  }
  if (!options.monotonic_nanos) {
    options.monotonic_nanos = [] { return ClockNanos(CLOCK_MONOTONIC); };
  }
  options.max_batch_events = std::max<uint32_t>(options.max_batch_events, 1);
  options.sign_every_events = std::max<uint32_t>(options.sign_every_events, 1);
  const StoreState& state = store->opened_state();
  std::vector<merkle::Hash> frontier;
  for (const merkle::CompleteNode& n : state.frontier) {
    frontier.push_back(n.hash);
  }
  absl::StatusOr<merkle::CompactRange> range =
      merkle::CompactRange::FromFrontier(state.size, std::move(frontier));
  if (!range.ok()) return range.status();
  std::unique_ptr<EventLog> log(
      new EventLog(std::move(store), std::move(options), signer, observer));
  log->range_ = *std::move(range);
  log->first_seq_ = state.first_seq;
  log->last_time_ = state.last_time_unix_nanos;
  log->latest_signed_ = state.latest_signed;
  uint64_t signed_size =
      state.latest_signed.has_value() ? state.latest_signed->size() : 0;
  if (state.size > signed_size) log->unsigned_since_ = absl::Now();
  return log;
}

EventLog::~EventLog() { Stop(); }

void EventLog::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (started_ || stopping_) return;
  started_ = true;
  writer_ = std::thread([this] { WriterLoop(); });
  maintenance_ = std::thread([this] { MaintenanceLoop(); });
}

void EventLog::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ && !writer_.joinable() && !maintenance_.joinable()) return;
    stopping_ = true;
  }
  queue_cv_.notify_all();
  committed_cv_.notify_all();
  if (writer_.joinable()) writer_.join();
  if (maintenance_.joinable()) maintenance_.join();
  {
    // Without a writer (never started), nothing pending can be written.
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& p : queue_) {
      p->done = true;
      p->status = absl::UnavailableError("eventd is stopping");
    }
    queue_.clear();
    writer_done_ = true;
  }
  committed_cv_.notify_all();
  // The final head, so that a clean stop leaves everything signed.
  if (signer_ != nullptr) {
    std::unique_lock<std::mutex> sign_lock(sign_mu_);
    absl::Status s = SignLocked(sign_lock);
    if (!s.ok()) {
      log::Warning("cannot sign the final tree head", {{"error", s.message()}});
    }
  }
}

absl::StatusOr<uint64_t> EventLog::Append(absl::string_view source,
                                          std::vector<v1::EventInput> inputs) {
  if (inputs.empty()) {
    return absl::InvalidArgumentError("no events to append");
  }
  if (inputs.size() > events::kMaxEventsPerMessage) {
    return absl::InvalidArgumentError(
        absl::StrCat(inputs.size(), " events in one call; the most is ",
                     events::kMaxEventsPerMessage));
  }
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (absl::Status s = ValidateInput(inputs[i]); !s.ok()) {
      return absl::InvalidArgumentError(
          inputs.size() == 1
              ? std::string(s.message())
              : absl::StrCat("event ", i, " of the batch: ", s.message()));
    }
  }
  auto p = std::make_shared<Pending>();
  p->source = std::string(source);
  p->inputs = std::move(inputs);
  return Enqueue(std::move(p), /*wait=*/true);
}

void EventLog::RecordOwn(v1::EventInput input) {
  if (!ValidateInput(input).ok()) return;  // a bug of eventd's own
  auto p = std::make_shared<Pending>();
  p->source = kOwnSource;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (own_pending_ >= kMaxOwnPending) {
      ++own_dropped_;
      return;
    }
    if (own_dropped_ > 0) {
      v1::EventInput dropped;
      dropped.set_category(v1::EVENT_CATEGORY_EVENTLOG);
      dropped.set_action("events.dropped");
      dropped.set_outcome(v1::EVENT_OUTCOME_FAILURE);
      dropped.set_severity(v1::EVENT_SEVERITY_WARNING);
      v1::EventAttribute* a = dropped.add_attributes();
      a->set_key("count");
      a->set_value(absl::StrCat(own_dropped_));
      p->inputs.push_back(std::move(dropped));
      own_dropped_ = 0;
    }
    own_pending_ += 1;
  }
  p->inputs.push_back(std::move(input));
  p->waited = false;
  Enqueue(std::move(p), /*wait=*/false).IgnoreError();
}

absl::StatusOr<uint64_t> EventLog::Enqueue(std::shared_ptr<Pending> p,
                                           bool wait) {
  std::unique_lock<std::mutex> lock(mu_);
  if (stopping_) return absl::UnavailableError("eventd is stopping");
  queue_.push_back(p);
  queue_cv_.notify_one();
  if (!wait) return 0;
  committed_cv_.wait(lock, [&] { return p->done; });
  if (!p->status.ok()) return p->status;
  return p->first_seq;
}

void EventLog::WriterLoop() {
  while (true) {
    std::vector<std::shared_ptr<Pending>> batch;
    {
      std::unique_lock<std::mutex> lock(mu_);
      queue_cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) {  // stopping, and nothing left to write
        writer_done_ = true;
        committed_cv_.notify_all();
        return;
      }
      size_t events = 0;
      while (!queue_.empty() &&
             (batch.empty() || events + queue_.front()->inputs.size() <=
                                   options_.max_batch_events)) {
        events += queue_.front()->inputs.size();
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    absl::Status s = WriteBatch(batch);
    if (!s.ok()) {
      log::Error("cannot write events", {{"error", s.message()}});
    }
  }
}

absl::Status EventLog::WriteBatch(
    std::vector<std::shared_ptr<Pending>>& batch) {
  merkle::CompactRange range;
  {
    std::lock_guard<std::mutex> lock(mu_);
    range = range_;  // the writer is the only one changing it
  }
  std::vector<StoredEvent> events;
  std::vector<merkle::CompleteNode> nodes;
  std::vector<uint64_t> firsts;
  for (const auto& p : batch) {
    firsts.push_back(range.size());
    for (const v1::EventInput& input : p->inputs) {
      Stamp stamp;
      stamp.seq = range.size();
      // Never before the previous event, even if the clock steps back.
      stamp.time_unix_nanos = std::max(options_.wall_nanos(), last_time_ + 1);
      last_time_ = stamp.time_unix_nanos;
      stamp.monotonic_nanos = options_.monotonic_nanos();
      stamp.boot_id = options_.boot_id;
      stamp.source = p->source;
      StoredEvent e;
      e.event = MakeEvent(input, stamp);
      e.entry = EntryBytes(e.event);
      std::vector<merkle::CompleteNode> made =
          range.Append(merkle::LeafHash(e.entry));
      nodes.insert(nodes.end(), made.begin(), made.end());
      events.push_back(std::move(e));
    }
  }
  absl::Status s = store_->Append(events, nodes);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (s.ok()) {
      range_ = range;
      if (!unsigned_since_.has_value()) unsigned_since_ = absl::Now();
    }
    for (size_t i = 0; i < batch.size(); ++i) {
      if (!batch[i]->waited) --own_pending_;
      batch[i]->done = true;
      batch[i]->status =
          s.ok() ? absl::OkStatus()
                 : absl::UnavailableError(absl::StrCat(
                       "the events were not stored: ", s.message()));
      batch[i]->first_seq = firsts[i];
    }
  }
  committed_cv_.notify_all();
  if (s.ok() && observer_ != nullptr) observer_->OnCommitted(events);
  return s;
}

EventLog::Head EventLog::Current() const {
  std::lock_guard<std::mutex> lock(mu_);
  return Head{range_.size(), range_.Root()};
}

std::optional<v1::TreeHead> EventLog::LatestSigned() const {
  std::lock_guard<std::mutex> lock(mu_);
  return latest_signed_;
}

uint64_t EventLog::first_seq() const {
  std::lock_guard<std::mutex> lock(mu_);
  return first_seq_;
}

uint64_t EventLog::WaitForMore(uint64_t size, absl::Time deadline) const {
  std::unique_lock<std::mutex> lock(mu_);
  committed_cv_.wait_until(lock, absl::ToChronoTime(deadline),
                           [&] { return range_.size() > size || stopping_; });
  return range_.size();
}

absl::Status EventLog::SignNow() {
  std::unique_lock<std::mutex> sign_lock(sign_mu_);
  return SignLocked(sign_lock);
}

absl::Status EventLog::SignLocked(std::unique_lock<std::mutex>& /*held*/) {
  if (signer_ == nullptr) {
    return absl::FailedPreconditionError("no checkpoint signer");
  }
  Head head = Current();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (head.size == 0 ||
        (latest_signed_.has_value() && latest_signed_->size() >= head.size)) {
      return absl::OkStatus();  // nothing new to sign
    }
  }
  std::string body = merkle::CheckpointBody(
      CheckpointOrigin(options_.device_id), head.size, head.root);
  absl::StatusOr<CheckpointSignature> sig = signer_->Sign(body);
  if (!sig.ok()) {
    if (!sign_failing_) {
      sign_failing_ = true;
      v1::EventInput e;
      e.set_category(v1::EVENT_CATEGORY_EVENTLOG);
      e.set_action("tree-head.sign.failed");
      e.set_outcome(v1::EVENT_OUTCOME_FAILURE);
      e.set_severity(v1::EVENT_SEVERITY_WARNING);
      auto* a = e.add_attributes();
      a->set_key("error");
      a->set_value(std::string(sig.status().message()).substr(0, 1000));
      RecordOwn(std::move(e));
    }
    return sig.status();
  }
  merkle::Ed25519PublicKey pub{};
  if (sig->public_key.size() != pub.size()) {
    return absl::InternalError("the checkpoint key is not a 32-byte key");
  }
  std::copy(sig->public_key.begin(), sig->public_key.end(), pub.begin());
  const std::string key_name = CheckpointKeyName(options_.device_id);
  merkle::SignedNote note;
  note.text = body;
  note.signatures.push_back(merkle::NoteSignature{
      key_name, merkle::Ed25519NoteKeyId(key_name, pub), sig->signature});
  v1::TreeHead tree_head;
  tree_head.set_size(head.size);
  tree_head.set_root_hash(Bytes(head.root));
  tree_head.set_time_unix_nanos(options_.wall_nanos());
  tree_head.set_checkpoint(merkle::FormatSignedNote(note));
  tree_head.set_key_version(sig->key_version);
  if (absl::Status s = store_->PutTreeHead(tree_head); !s.ok()) return s;
  sign_failing_ = false;
  std::lock_guard<std::mutex> lock(mu_);
  latest_signed_ = tree_head;
  if (range_.size() == head.size) {
    unsigned_since_.reset();
  } else {
    unsigned_since_ = absl::Now();  // events came in while signing
  }
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> EventLog::PruneNow() {
  uint64_t size, first;
  std::optional<v1::TreeHead> signed_head;
  {
    std::lock_guard<std::mutex> lock(mu_);
    size = range_.size();
    first = first_seq_;
    signed_head = latest_signed_;
  }
  uint64_t keep_from = first;
  std::string reason;
  if (options_.retention_max_events > 0 &&
      size > options_.retention_max_events) {
    uint64_t by_count = size - options_.retention_max_events;
    if (by_count > keep_from) {
      keep_from = by_count;
      reason = "count";
    }
  }
  if (options_.retention_days > 0) {
    int64_t cutoff = options_.wall_nanos() -
                     int64_t{options_.retention_days} * 86400 * 1000000000;
    absl::StatusOr<uint64_t> by_age = store_->FirstSeqAtOrAfter(cutoff);
    if (!by_age.ok()) return by_age.status();
    uint64_t age_from = std::min(*by_age, size);
    if (age_from > keep_from) {
      keep_from = age_from;
      reason = "age";
    }
  }
  // Only what a signed head covers, and never the newest event: the rest
  // must stay verifiable and the log's size known.
  uint64_t limit = signed_head.has_value() ? signed_head->size() : 0;
  if (size > 0) limit = std::min(limit, size - 1);
  keep_from = std::min(keep_from, limit);
  if (keep_from <= first) return first;
  if (absl::Status s = store_->Prune(keep_from); !s.ok()) return s;
  {
    std::lock_guard<std::mutex> lock(mu_);
    first_seq_ = keep_from;
  }
  v1::EventInput e;
  e.set_category(v1::EVENT_CATEGORY_EVENTLOG);
  e.set_action("events.pruned");
  e.set_outcome(v1::EVENT_OUTCOME_SUCCESS);
  e.set_severity(v1::EVENT_SEVERITY_NOTICE);
  for (auto [k, v] :
       {std::pair<std::string, std::string>{"from_seq", absl::StrCat(first)},
        {"to_seq", absl::StrCat(keep_from - 1)},
        {"reason", reason}}) {
    auto* a = e.add_attributes();
    a->set_key(k);
    a->set_value(v);
  }
  RecordOwn(std::move(e));
  log::Info(
      "pruned events",
      {{"from_seq", first}, {"to_seq", keep_from - 1}, {"reason", reason}});
  return keep_from;
}

void EventLog::MaintenanceLoop() {
  absl::Time next_prune = absl::Now();
  absl::Time next_checkpoint = absl::Now() + kCheckpointEvery;
  absl::Duration retry = kSignRetryMin;
  absl::Time next_sign_attempt = absl::InfinitePast();
  while (true) {
    bool sign_due = false;
    {
      std::unique_lock<std::mutex> lock(mu_);
      auto due = [&] {
        if (stopping_) return true;
        uint64_t signed_size =
            latest_signed_.has_value() ? latest_signed_->size() : 0;
        absl::Time now = absl::Now();
        if (signer_ != nullptr && now >= next_sign_attempt &&
            range_.size() > signed_size &&
            (range_.size() - signed_size >= options_.sign_every_events ||
             (unsigned_since_.has_value() &&
              now - *unsigned_since_ >= options_.sign_every))) {
          return true;
        }
        return now >= next_prune;
      };
      // Wake at least every 100 ms to re-check the time-based conditions.
      committed_cv_.wait_for(lock, std::chrono::milliseconds(100), due);
      if (stopping_) return;  // Stop() signs the final head itself
      uint64_t signed_size =
          latest_signed_.has_value() ? latest_signed_->size() : 0;
      absl::Time now = absl::Now();
      sign_due = signer_ != nullptr && now >= next_sign_attempt &&
                 range_.size() > signed_size &&
                 (range_.size() - signed_size >= options_.sign_every_events ||
                  (unsigned_since_.has_value() &&
                   now - *unsigned_since_ >= options_.sign_every));
    }
    if (sign_due) {
      absl::Status s = SignNow();
      if (s.ok()) {
        retry = kSignRetryMin;
        next_sign_attempt = absl::InfinitePast();
      } else {
        log::Warning("cannot sign the tree head; retrying",
                     {{"error", s.message()},
                      {"retry_in_ms", absl::ToInt64Milliseconds(retry)}});
        next_sign_attempt = absl::Now() + retry;
        retry = std::min(retry * 2, kSignRetryMax);
      }
    }
    if (absl::Now() >= next_checkpoint) {
      if (absl::Status s = store_->Checkpoint(); !s.ok()) {
        log::Warning("cannot checkpoint the log's WAL",
                     {{"error", s.message()}});
      }
      next_checkpoint = absl::Now() + kCheckpointEvery;
    }
    if (absl::Now() >= next_prune) {
      absl::StatusOr<uint64_t> pruned = PruneNow();
      if (!pruned.ok()) {
        log::Warning("cannot prune events",
                     {{"error", pruned.status().message()}});
      }
      next_prune = absl::Now() + options_.prune_every;
    }
  }
}

absl::StatusOr<v1::InclusionProof> EventLog::Inclusion(
    uint64_t seq, uint64_t tree_size) const {
  if (tree_size == 0) {
    std::optional<v1::TreeHead> head = LatestSigned();
    if (!head.has_value()) {
      return absl::FailedPreconditionError(
          "no tree head is signed yet; ask for a tree_size");
    }
    tree_size = head->size();
  }
  uint64_t size = Current().size;
  if (tree_size > size) {
    return absl::OutOfRangeError(absl::StrCat(
        "tree_size ", tree_size, " is beyond the log's size ", size));
  }
  if (seq >= tree_size) {
    return absl::OutOfRangeError(
        absl::StrCat("event ", seq, " is not in the tree of size ", tree_size));
  }
  if (seq < first_seq()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "event ", seq, " was pruned (the oldest kept is ", first_seq(), ")"));
  }
  absl::StatusOr<std::unique_ptr<merkle::NodeSource>> nodes =
      store_->Snapshot();
  if (!nodes.ok()) return nodes.status();
  absl::StatusOr<merkle::Hash> leaf = (*nodes)->Node(0, seq);
  if (!leaf.ok()) return leaf.status();
  absl::StatusOr<std::vector<merkle::Hash>> path =
      merkle::InclusionProof(**nodes, seq, tree_size);
  if (!path.ok()) return path.status();
  v1::InclusionProof out;
  out.set_seq(seq);
  out.set_tree_size(tree_size);
  out.set_leaf_hash(Bytes(*leaf));
  for (const merkle::Hash& h : *path) out.add_hashes(Bytes(h));
  return out;
}

absl::StatusOr<v1::ConsistencyProof> EventLog::Consistency(
    uint64_t old_size, uint64_t new_size) const {
  if (new_size == 0) {
    std::optional<v1::TreeHead> head = LatestSigned();
    if (!head.has_value()) {
      return absl::FailedPreconditionError(
          "no tree head is signed yet; ask for a new_size");
    }
    new_size = head->size();
  }
  uint64_t size = Current().size;
  if (new_size > size) {
    return absl::OutOfRangeError(absl::StrCat(
        "new_size ", new_size, " is beyond the log's size ", size));
  }
  if (old_size == 0 || old_size > new_size) {
    return absl::InvalidArgumentError(
        absl::StrCat("old_size must be from 1 to new_size (", new_size,
                     "), got ", old_size));
  }
  absl::StatusOr<std::unique_ptr<merkle::NodeSource>> nodes =
      store_->Snapshot();
  if (!nodes.ok()) return nodes.status();
  absl::StatusOr<std::vector<merkle::Hash>> proof =
      merkle::ConsistencyProof(**nodes, old_size, new_size);
  if (!proof.ok()) {
    if (absl::IsNotFound(proof.status())) {
      return absl::FailedPreconditionError(
          absl::StrCat("the proof needs events that were pruned: ",
                       proof.status().message()));
    }
    return proof.status();
  }
  v1::ConsistencyProof out;
  out.set_old_size(old_size);
  out.set_new_size(new_size);
  for (const merkle::Hash& h : *proof) out.add_hashes(Bytes(h));
  return out;
}

}  // namespace rustiq::eventd
