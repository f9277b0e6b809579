#include "services/eventd/event_store.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/merkle/proofs.h"
#include "services/eventd/event_record.h"

namespace rustiq::eventd {
namespace {

constexpr char kFormat[] = "rustiq-events/1";
constexpr size_t kMaxReaders = 8;
constexpr int64_t kMaxSeq = std::numeric_limits<int64_t>::max();

constexpr char kSchema[] = R"sql(
CREATE TABLE IF NOT EXISTS meta(
  key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS events(
  seq INTEGER PRIMARY KEY,
  time_ns INTEGER NOT NULL,
  source TEXT NOT NULL,
  actor TEXT NOT NULL,
  category INTEGER NOT NULL,
  outcome INTEGER NOT NULL,
  severity INTEGER NOT NULL,
  entry BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS events_time ON events(time_ns);
CREATE INDEX IF NOT EXISTS events_source ON events(source, seq);
CREATE INDEX IF NOT EXISTS events_category ON events(category, seq);
CREATE TABLE IF NOT EXISTS nodes(
  level INTEGER NOT NULL, idx INTEGER NOT NULL, hash BLOB NOT NULL,
  PRIMARY KEY(level, idx)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS tree_heads(
  size INTEGER PRIMARY KEY,
  root BLOB NOT NULL,
  time_ns INTEGER NOT NULL,
  checkpoint TEXT NOT NULL,
  key_version INTEGER NOT NULL);
)sql";

absl::StatusOr<merkle::Hash> HashOf(absl::string_view bytes,
                                    absl::string_view what) {
  absl::StatusOr<merkle::Hash> h = merkle::HashFromBytes(bytes);
  if (!h.ok()) {
    return absl::DataLossError(
        absl::StrCat(what, " is ", bytes.size(), " bytes, not a hash"));
  }
  return h;
}

v1::TreeHead HeadFromRow(const storage::Statement& st) {
  v1::TreeHead h;
  h.set_size(static_cast<uint64_t>(st.ColumnInt(0)));
  h.set_root_hash(std::string(st.ColumnBlob(1)));
  h.set_time_unix_nanos(st.ColumnInt(2));
  h.set_checkpoint(std::string(st.ColumnText(3)));
  h.set_key_version(static_cast<uint32_t>(st.ColumnInt(4)));
  return h;
}

// "?, ?, ?" for `n` parameters.
std::string Placeholders(size_t n) {
  std::vector<std::string> q(n, "?");
  return absl::StrJoin(q, ", ");
}

}  // namespace

// A read connection and the statement proofs use most (a Merkle node by
// level and index), prepared once per connection.
struct EventStore::ReaderConnection {
  std::unique_ptr<storage::Database> db;
  std::unique_ptr<storage::Statement> node;
};

// A connection taken from the pool for one read; returned on destruction.
class EventStore::Reader {
 public:
  Reader(const EventStore* store, std::unique_ptr<ReaderConnection> conn)
      : store_(store), conn_(std::move(conn)) {}
  ~Reader() {
    std::lock_guard<std::mutex> lock(store_->pool_mu_);
    if (store_->pool_.size() < kMaxReaders) {
      store_->pool_.push_back(std::move(conn_));
    }
  }
  storage::Database* db() { return conn_->db.get(); }
  absl::StatusOr<storage::Statement*> NodeStatement() {
    if (conn_->node == nullptr) {
      auto st = conn_->db->Prepare(
          "SELECT hash FROM nodes WHERE level = ?1 AND idx = ?2");
      if (!st.ok()) return st.status();
      conn_->node = *std::move(st);
    }
    return conn_->node.get();
  }

 private:
  const EventStore* store_;
  std::unique_ptr<ReaderConnection> conn_;
};

EventStore::EventStore(std::string path,
                       std::unique_ptr<storage::Database> writer,
                       bool read_only)
    : path_(std::move(path)),
      read_only_(read_only),
      writer_(std::move(writer)) {}

EventStore::~EventStore() = default;

absl::StatusOr<std::unique_ptr<EventStore>> EventStore::Open(
    const std::string& path, const std::string& device_id) {
  absl::StatusOr<std::unique_ptr<storage::Database>> db =
      storage::Database::Open(path, {});
  if (!db.ok()) return db.status();
  std::unique_ptr<EventStore> store(
      new EventStore(path, *std::move(db), /*read_only=*/false));
  sqlite3_wal_autocheckpoint(store->writer_->handle(), kWriterCheckpointPages);
  if (absl::Status s = store->CreateSchema(device_id); !s.ok()) return s;
  if (absl::Status s = store->CheckAndLoad(); !s.ok()) return s;
  return store;
}

absl::StatusOr<std::unique_ptr<EventStore>> EventStore::OpenReadOnly(
    const std::string& path) {
  storage::Database::Options options;
  options.read_only = true;
  options.create = false;
  absl::StatusOr<std::unique_ptr<storage::Database>> db =
      storage::Database::Open(path, options);
  if (!db.ok()) return db.status();
  std::unique_ptr<EventStore> store(
      new EventStore(path, *std::move(db), /*read_only=*/true));
  // The device and the extent; nothing is judged here.
  auto meta =
      store->writer_->Prepare("SELECT value FROM meta WHERE key = 'device_id'");
  if (!meta.ok()) return meta.status();
  absl::StatusOr<bool> found = (*meta)->Step();
  if (!found.ok()) return found.status();
  if (!*found) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, " is not a rustiq event log (no device ID)"));
  }
  store->opened_.device_id = std::string((*meta)->ColumnText(0));
  meta->reset();
  absl::StatusOr<std::unique_ptr<storage::Statement>> st =
      store->writer_->Prepare("SELECT MIN(seq), MAX(seq) FROM events");
  if (!st.ok()) return st.status();
  absl::StatusOr<bool> row = (*st)->Step();
  if (!row.ok()) return row.status();
  if (!(*st)->ColumnIsNull(0)) {
    store->opened_.first_seq = static_cast<uint64_t>((*st)->ColumnInt(0));
    store->opened_.size = static_cast<uint64_t>((*st)->ColumnInt(1)) + 1;
  }
  return store;
}

absl::Status EventStore::CreateSchema(const std::string& device_id) {
  std::lock_guard<std::mutex> lock(write_mu_);
  if (absl::Status s = writer_->Exec(kSchema); !s.ok()) return s;
  absl::StatusOr<std::unique_ptr<storage::Statement>> get =
      writer_->Prepare("SELECT key, value FROM meta");
  if (!get.ok()) return get.status();
  std::string format, device;
  while (true) {
    absl::StatusOr<bool> row = (*get)->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    if ((*get)->ColumnText(0) == "format")
      format = std::string((*get)->ColumnText(1));
    if ((*get)->ColumnText(0) == "device_id")
      device = std::string((*get)->ColumnText(1));
  }
  opened_.device_id = device_id;
  if (format.empty()) {
    absl::StatusOr<std::unique_ptr<storage::Statement>> put = writer_->Prepare(
        "INSERT INTO meta(key, value) VALUES ('format', ?1), "
        "('device_id', ?2), ('pruned_before', '0')");
    if (!put.ok()) return put.status();
    (*put)->BindText(1, kFormat).IgnoreError();
    (*put)->BindText(2, device_id).IgnoreError();
    return (*put)->Run();
  }
  if (format != kFormat) {
    return absl::FailedPreconditionError(
        absl::StrCat(path_, " is an event log of format '", format,
                     "'; this eventd reads '", kFormat, "'"));
  }
  if (device != device_id) {
    return absl::FailedPreconditionError(absl::StrCat(
        path_, " is the event log of device '", device, "', not of '",
        device_id, "': move it away or fix device.id"));
  }
  return absl::OkStatus();
}

absl::Status EventStore::CheckAndLoad() {
  std::lock_guard<std::mutex> lock(write_mu_);
  const std::string where = absl::StrCat("event log ", path_, ": ");
  auto st = writer_->Prepare("SELECT MIN(seq), MAX(seq), COUNT(*) FROM events");
  if (!st.ok()) return st.status();
  absl::StatusOr<bool> row = (*st)->Step();
  if (!row.ok()) return row.status();
  bool empty = (*st)->ColumnIsNull(0);
  int64_t first = empty ? 0 : (*st)->ColumnInt(0);
  int64_t last = empty ? -1 : (*st)->ColumnInt(1);
  int64_t count = (*st)->ColumnInt(2);
  st->reset();

  auto pruned =
      writer_->Prepare("SELECT value FROM meta WHERE key = 'pruned_before'");
  if (!pruned.ok()) return pruned.status();
  row = (*pruned)->Step();
  if (!row.ok()) return row.status();
  int64_t pruned_before = 0;
  if (*row) {
    std::string v((*pruned)->ColumnText(0));
    pruned_before = std::strtoll(v.c_str(), nullptr, 10);
  }
  pruned->reset();

  if (!empty && first != pruned_before) {
    if (first > pruned_before) {
      return absl::DataLossError(absl::StrCat(
          where, "events ", pruned_before, "..", first - 1,
          " are missing (the oldest kept event should be ", pruned_before,
          "): run 'rustiqctl events verify --db ", path_, "'"));
    }
    return absl::DataLossError(absl::StrCat(where, "event ", first,
                                            " is older than the pruning point ",
                                            pruned_before));
  }
  if (!empty && count != last - first + 1) {
    auto gap = writer_->Prepare(
        "SELECT seq FROM events e WHERE seq > ?1 AND NOT EXISTS "
        "(SELECT 1 FROM events WHERE seq = e.seq - 1) ORDER BY seq LIMIT 1");
    if (!gap.ok()) return gap.status();
    (*gap)->BindInt(1, first).IgnoreError();
    absl::StatusOr<bool> g = (*gap)->Step();
    int64_t after = g.ok() && *g ? (*gap)->ColumnInt(0) : last;
    return absl::DataLossError(
        absl::StrCat(where, "event ", after - 1, " is missing (", count,
                     " events between ", first, " and ", last,
                     "): run 'rustiqctl events verify --db ", path_, "'"));
  }
  opened_.first_seq = empty ? static_cast<uint64_t>(pruned_before)
                            : static_cast<uint64_t>(first);
  opened_.size = static_cast<uint64_t>(last + 1);
  if (empty) opened_.size = static_cast<uint64_t>(pruned_before);
  if (!empty) {
    auto newest = writer_->Prepare("SELECT time_ns FROM events WHERE seq = ?1");
    if (!newest.ok()) return newest.status();
    (*newest)->BindInt(1, last).IgnoreError();
    absl::StatusOr<bool> r = (*newest)->Step();
    if (!r.ok()) return r.status();
    if (*r) opened_.last_time_unix_nanos = (*newest)->ColumnInt(0);
  }

  for (merkle::NodeId id : merkle::FrontierIds(opened_.size)) {
    uint32_t level = id.level;
    uint64_t index = id.index;
    absl::StatusOr<merkle::Hash> h = Node(level, index);
    if (!h.ok()) {
      return absl::DataLossError(
          absl::StrCat(where, "the Merkle node of events ", index << level,
                       "..", ((index + 1) << level) - 1, " is missing"));
    }
    opened_.frontier.push_back({level, index, *h});
  }
  absl::StatusOr<std::optional<v1::TreeHead>> head = LatestTreeHead();
  if (!head.ok()) return head.status();
  if (head->has_value()) {
    const v1::TreeHead& h = **head;
    if (h.size() > opened_.size) {
      return absl::DataLossError(absl::StrCat(
          where, "a tree head of size ", h.size(),
          " was signed but the log ends at event ",
          static_cast<int64_t>(opened_.size) - 1,
          ": events were removed from its end; run 'rustiqctl events verify "
          "--db ",
          path_, "'"));
    }
    if (h.size() > 0) {
      absl::StatusOr<merkle::Hash> root = merkle::RootAt(*this, h.size());
      if (!root.ok()) {
        return absl::DataLossError(
            absl::StrCat(where,
                         "cannot recompute the root of the signed "
                         "tree head of size ",
                         h.size(), ": ", root.status().message()));
      }
      if (std::string(root->begin(), root->end()) != h.root_hash()) {
        return absl::DataLossError(absl::StrCat(
            where,
            "the stored Merkle tree does not match the signed tree "
            "head of size ",
            h.size(),
            ": the log was altered; run 'rustiqctl events verify "
            "--db ",
            path_, "'"));
      }
    }
    opened_.latest_signed = h;
  }
  // The events after the last signed head are covered by no signature yet:
  // check their entries against their leaves (bounded by the signing
  // interval).
  uint64_t from =
      opened_.latest_signed.has_value()
          ? std::max(opened_.latest_signed->size(), opened_.first_seq)
          : opened_.first_seq;
  auto leaves = writer_->Prepare(
      "SELECT e.seq, e.entry, n.hash FROM events e LEFT JOIN nodes n "
      "ON n.level = 0 AND n.idx = e.seq WHERE e.seq >= ?1 ORDER BY e.seq");
  if (!leaves.ok()) return leaves.status();
  (*leaves)->BindInt(1, static_cast<int64_t>(from)).IgnoreError();
  while (true) {
    absl::StatusOr<bool> r = (*leaves)->Step();
    if (!r.ok()) return r.status();
    if (!*r) break;
    merkle::Hash leaf = merkle::LeafHash((*leaves)->ColumnBlob(1));
    if ((*leaves)->ColumnBlob(2) !=
        absl::string_view(reinterpret_cast<const char*>(leaf.data()),
                          leaf.size())) {
      return absl::DataLossError(absl::StrCat(
          where, "event ", (*leaves)->ColumnInt(0),
          " does not match its Merkle leaf: the log was altered; run "
          "'rustiqctl events verify --db ",
          path_, "'"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<EventStore::Reader>> EventStore::AcquireReader()
    const {
  {
    std::lock_guard<std::mutex> lock(pool_mu_);
    if (!pool_.empty()) {
      std::unique_ptr<ReaderConnection> conn = std::move(pool_.back());
      pool_.pop_back();
      return std::make_unique<Reader>(this, std::move(conn));
    }
  }
  storage::Database::Options options;
  options.create = false;
  options.read_only = read_only_;
  absl::StatusOr<std::unique_ptr<storage::Database>> db =
      storage::Database::Open(path_, options);
  if (!db.ok()) return db.status();
  auto conn = std::make_unique<ReaderConnection>();
  conn->db = *std::move(db);
  return std::make_unique<Reader>(this, std::move(conn));
}

absl::Status EventStore::Append(
    const std::vector<StoredEvent>& events,
    const std::vector<merkle::CompleteNode>& nodes) {
  if (read_only_) return absl::FailedPreconditionError("opened read-only");
  std::lock_guard<std::mutex> lock(write_mu_);
  storage::Transaction tx(writer_.get());
  if (!tx.begun().ok()) return tx.begun();
  absl::StatusOr<storage::Statement*> ins = writer_->Cached(
      "INSERT INTO events(seq, time_ns, source, actor, category, outcome, "
      "severity, entry) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
  if (!ins.ok()) return ins.status();
  for (const StoredEvent& e : events) {
    storage::Statement& st = **ins;
    const v1::Event& ev = e.event;
    absl::Status s = st.BindInt(1, static_cast<int64_t>(ev.seq()));
    if (s.ok()) s = st.BindInt(2, ev.time_unix_nanos());
    if (s.ok()) s = st.BindText(3, ev.source());
    if (s.ok()) s = st.BindText(4, ev.actor());
    if (s.ok()) s = st.BindInt(5, ev.category());
    if (s.ok()) s = st.BindInt(6, ev.outcome());
    if (s.ok()) s = st.BindInt(7, ev.severity());
    if (s.ok()) s = st.BindBlob(8, e.entry);
    if (s.ok()) s = st.Run();
    if (!s.ok()) return s;
  }
  absl::StatusOr<storage::Statement*> node = writer_->Cached(
      "INSERT INTO nodes(level, idx, hash) VALUES (?1, ?2, ?3)");
  if (!node.ok()) return node.status();
  for (const merkle::CompleteNode& n : nodes) {
    storage::Statement& st = **node;
    absl::Status s = st.BindInt(1, n.level);
    if (s.ok()) s = st.BindInt(2, static_cast<int64_t>(n.index));
    if (s.ok()) {
      s = st.BindBlob(
          3, absl::string_view(reinterpret_cast<const char*>(n.hash.data()),
                               n.hash.size()));
    }
    if (s.ok()) s = st.Run();
    if (!s.ok()) return s;
  }
  return tx.Commit();
}

absl::Status EventStore::PutTreeHead(const v1::TreeHead& head) {
  if (read_only_) return absl::FailedPreconditionError("opened read-only");
  std::lock_guard<std::mutex> lock(write_mu_);
  if (absl::Status s = writer_->Exec("PRAGMA synchronous=NORMAL"); !s.ok()) {
    return s;
  }
  auto st = writer_->Prepare(
      "INSERT OR REPLACE INTO tree_heads(size, root, time_ns, checkpoint, "
      "key_version) VALUES (?1, ?2, ?3, ?4, ?5)");
  absl::Status s = st.status();
  if (s.ok()) s = (*st)->BindInt(1, static_cast<int64_t>(head.size()));
  if (s.ok()) s = (*st)->BindBlob(2, head.root_hash());
  if (s.ok()) s = (*st)->BindInt(3, head.time_unix_nanos());
  if (s.ok()) s = (*st)->BindText(4, head.checkpoint());
  if (s.ok()) s = (*st)->BindInt(5, head.key_version());
  if (s.ok()) s = (*st)->Run();
  // Appends are synced again whatever happened above.
  absl::Status full = writer_->Exec("PRAGMA synchronous=FULL");
  return s.ok() ? full : s;
}

absl::Status EventStore::Checkpoint() const {
  if (read_only_) return absl::OkStatus();
  absl::StatusOr<std::unique_ptr<Reader>> reader = AcquireReader();
  if (!reader.ok()) return reader.status();
  return (*reader)->db()->Exec("PRAGMA wal_checkpoint(PASSIVE)");
}

absl::Status EventStore::Prune(uint64_t first_kept) {
  if (read_only_) return absl::FailedPreconditionError("opened read-only");
  std::lock_guard<std::mutex> lock(write_mu_);
  storage::Transaction tx(writer_.get());
  if (!tx.begun().ok()) return tx.begun();
  auto del = writer_->Prepare("DELETE FROM events WHERE seq < ?1");
  if (!del.ok()) return del.status();
  (*del)->BindInt(1, static_cast<int64_t>(first_kept)).IgnoreError();
  if (absl::Status s = (*del)->Run(); !s.ok()) return s;
  // A node of level L, index i covers [i*2^L, (i+1)*2^L). Inside the pruned
  // range: (i+1)*2^L <= first_kept. Kept among those: the maximal ones,
  // FrontierOf(first_kept).
  std::vector<merkle::NodeId> keep = merkle::FrontierIds(first_kept);
  auto nodes =
      writer_->Prepare("DELETE FROM nodes WHERE level = ?1 AND idx < ?2");
  if (!nodes.ok()) return nodes.status();
  for (uint32_t level = 0; level < 64; ++level) {
    uint64_t below = first_kept >> level;  // nodes idx < below are inside
    if (below == 0) break;
    // The maximal node at this level, if any, is kept.
    uint64_t limit = below;
    for (merkle::NodeId id : keep) {
      if (id.level == level) limit = id.index;  // idx < index go; index stays
    }
    (*nodes)->BindInt(1, level).IgnoreError();
    (*nodes)->BindInt(2, static_cast<int64_t>(limit)).IgnoreError();
    if (absl::Status s = (*nodes)->Run(); !s.ok()) return s;
    // Nodes between a kept maximal node and `below` cannot exist: a maximal
    // node at level L is the last complete one inside at that level.
  }
  auto meta = writer_->Prepare(
      "UPDATE meta SET value = ?1 WHERE key = 'pruned_before'");
  if (!meta.ok()) return meta.status();
  (*meta)->BindText(1, absl::StrCat(first_kept)).IgnoreError();
  if (absl::Status s = (*meta)->Run(); !s.ok()) return s;
  return tx.Commit();
}

namespace {

// One node through a connection's node statement.
absl::StatusOr<merkle::Hash> ReadNode(storage::Statement& s, uint32_t level,
                                      uint64_t index);

}  // namespace

class EventStore::SnapshotSource final : public merkle::NodeSource {
 public:
  explicit SnapshotSource(std::unique_ptr<Reader> reader)
      : reader_(std::move(reader)) {}
  ~SnapshotSource() override {
    if (begun_) {
      absl::StatusOr<storage::Statement*> end = reader_->db()->Cached("COMMIT");
      if (end.ok()) (*end)->Run().IgnoreError();
    }
  }
  absl::Status Begin() {
    absl::StatusOr<storage::Statement*> begin = reader_->db()->Cached("BEGIN");
    if (!begin.ok()) return begin.status();
    absl::Status s = (*begin)->Run();
    begun_ = s.ok();
    return s;
  }
  absl::StatusOr<merkle::Hash> Node(uint32_t level,
                                    uint64_t index) const override {
    absl::StatusOr<storage::Statement*> st = reader_->NodeStatement();
    if (!st.ok()) return st.status();
    return ReadNode(**st, level, index);
  }

 private:
  std::unique_ptr<Reader> reader_;
  bool begun_ = false;
};

absl::StatusOr<std::unique_ptr<merkle::NodeSource>> EventStore::Snapshot()
    const {
  absl::StatusOr<std::unique_ptr<Reader>> reader = AcquireReader();
  if (!reader.ok()) return reader.status();
  auto source = std::make_unique<SnapshotSource>(*std::move(reader));
  if (absl::Status s = source->Begin(); !s.ok()) return s;
  return source;
}

absl::StatusOr<merkle::Hash> EventStore::Node(uint32_t level,
                                              uint64_t index) const {
  absl::StatusOr<std::unique_ptr<Reader>> reader = AcquireReader();
  if (!reader.ok()) return reader.status();
  absl::StatusOr<storage::Statement*> st = (*reader)->NodeStatement();
  if (!st.ok()) return st.status();
  return ReadNode(**st, level, index);
}

namespace {

absl::StatusOr<merkle::Hash> ReadNode(storage::Statement& s, uint32_t level,
                                      uint64_t index) {
  s.BindInt(1, level).IgnoreError();
  s.BindInt(2, static_cast<int64_t>(index)).IgnoreError();
  absl::StatusOr<bool> row = s.Step();
  if (!row.ok()) {
    s.Reset();
    return row.status();
  }
  if (!*row) {
    s.Reset();
    return absl::NotFoundError(
        absl::StrCat("no Merkle node for events ", index << level, "..",
                     ((index + 1) << level) - 1, " (pruned?)"));
  }
  absl::StatusOr<merkle::Hash> h =
      HashOf(s.ColumnBlob(0), "a stored Merkle node");
  s.Reset();
  return h;
}

}  // namespace

absl::StatusOr<std::vector<v1::Event>> EventStore::Query(
    const v1::EventFilter& filter, uint64_t cursor, bool newest_first,
    size_t limit) const {
  // A time window is a range of seqs (times never decrease, as EventLog
  // stamps them): two seeks in the time index, then the primary key does
  // the rest.
  uint64_t seq_from = 0;
  uint64_t seq_to = std::numeric_limits<uint64_t>::max();
  if (filter.since_unix_nanos() != 0) {
    absl::StatusOr<uint64_t> f = FirstSeqAtOrAfter(filter.since_unix_nanos());
    if (!f.ok()) return f.status();
    seq_from = *f;
  }
  if (filter.until_unix_nanos() != 0) {
    absl::StatusOr<uint64_t> t = FirstSeqAtOrAfter(filter.until_unix_nanos());
    if (!t.ok()) return t.status();
    seq_to = *t;
  }
  if (seq_from >= seq_to) return std::vector<v1::Event>();
  if (newest_first) {
    if (seq_to != std::numeric_limits<uint64_t>::max()) {
      cursor = std::min(cursor, seq_to - 1);
    }
    if (cursor < seq_from) return std::vector<v1::Event>();
  } else {
    cursor = std::max(cursor, seq_from);
    if (cursor >= seq_to) return std::vector<v1::Event>();
  }
  std::string sql = newest_first ? "SELECT entry FROM events WHERE seq <= ?"
                                 : "SELECT entry FROM events WHERE seq >= ?";
  std::vector<std::function<absl::Status(storage::Statement&, int)>> binds;
  int64_t c = cursor > static_cast<uint64_t>(kMaxSeq)
                  ? kMaxSeq
                  : static_cast<int64_t>(cursor);
  binds.push_back(
      [c](storage::Statement& st, int i) { return st.BindInt(i, c); });
  // The other end of the window, so that a selective filter never scans
  // past it.
  if (newest_first && seq_from > 0) {
    sql += " AND seq >= ?";
    int64_t v = static_cast<int64_t>(seq_from);
    binds.push_back(
        [v](storage::Statement& st, int i) { return st.BindInt(i, v); });
  }
  if (!newest_first && seq_to != std::numeric_limits<uint64_t>::max()) {
    sql += " AND seq < ?";
    int64_t v = static_cast<int64_t>(seq_to);
    binds.push_back(
        [v](storage::Statement& st, int i) { return st.BindInt(i, v); });
  }
  if (filter.sources_size() > 0) {
    sql += absl::StrCat(" AND source IN (", Placeholders(filter.sources_size()),
                        ")");
    for (const std::string& src : filter.sources()) {
      binds.push_back(
          [src](storage::Statement& st, int i) { return st.BindText(i, src); });
    }
  }
  if (filter.categories_size() > 0) {
    sql += absl::StrCat(" AND category IN (",
                        Placeholders(filter.categories_size()), ")");
    for (int cat : filter.categories()) {
      binds.push_back(
          [cat](storage::Statement& st, int i) { return st.BindInt(i, cat); });
    }
  }
  if (filter.min_severity() != v1::EVENT_SEVERITY_UNSPECIFIED) {
    sql += " AND severity >= ?";
    int v = filter.min_severity();
    binds.push_back(
        [v](storage::Statement& st, int i) { return st.BindInt(i, v); });
  }
  if (!filter.actor().empty()) {
    sql += " AND actor = ?";
    std::string v = filter.actor();
    binds.push_back(
        [v](storage::Statement& st, int i) { return st.BindText(i, v); });
  }
  if (filter.outcomes_size() > 0) {
    sql += absl::StrCat(" AND outcome IN (",
                        Placeholders(filter.outcomes_size()), ")");
    for (int o : filter.outcomes()) {
      binds.push_back(
          [o](storage::Statement& st, int i) { return st.BindInt(i, o); });
    }
  }
  sql +=
      newest_first ? " ORDER BY seq DESC LIMIT ?" : " ORDER BY seq ASC LIMIT ?";
  int64_t lim = static_cast<int64_t>(limit);
  binds.push_back(
      [lim](storage::Statement& st, int i) { return st.BindInt(i, lim); });

  absl::StatusOr<std::unique_ptr<Reader>> reader = AcquireReader();
  if (!reader.ok()) return reader.status();
  auto st = (*reader)->db()->Prepare(sql);
  if (!st.ok()) return st.status();
  for (size_t i = 0; i < binds.size(); ++i) {
    if (absl::Status s = binds[i](**st, static_cast<int>(i + 1)); !s.ok()) {
      return s;
    }
  }
  std::vector<v1::Event> out;
  while (true) {
    absl::StatusOr<bool> row = (*st)->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    absl::StatusOr<v1::Event> e = ParseEntry((*st)->ColumnBlob(0));
    if (!e.ok()) return e.status();
    out.push_back(*std::move(e));
  }
  return out;
}

absl::Status EventStore::Scan(
    uint64_t from, uint64_t to,
    const std::function<absl::Status(const Row&)>& row) const {
  absl::StatusOr<std::unique_ptr<Reader>> reader = AcquireReader();
  if (!reader.ok()) return reader.status();
  auto st = (*reader)->db()->Prepare(
      "SELECT e.seq, e.time_ns, e.source, e.actor, e.category, e.outcome, "
      "e.severity, e.entry, n.hash FROM events e LEFT JOIN nodes n "
      "ON n.level = 0 AND n.idx = e.seq "
      "WHERE e.seq >= ?1 AND e.seq < ?2 ORDER BY e.seq");
  if (!st.ok()) return st.status();
  int64_t f = from > static_cast<uint64_t>(kMaxSeq)
                  ? kMaxSeq
                  : static_cast<int64_t>(from);
  int64_t t =
      to > static_cast<uint64_t>(kMaxSeq) ? kMaxSeq : static_cast<int64_t>(to);
  (*st)->BindInt(1, f).IgnoreError();
  (*st)->BindInt(2, t).IgnoreError();
  while (true) {
    absl::StatusOr<bool> more = (*st)->Step();
    if (!more.ok()) return more.status();
    if (!*more) return absl::OkStatus();
    const storage::Statement& s = **st;
    Row r{static_cast<uint64_t>(s.ColumnInt(0)),
          s.ColumnInt(1),
          s.ColumnText(2),
          s.ColumnText(3),
          s.ColumnInt(4),
          s.ColumnInt(5),
          s.ColumnInt(6),
          s.ColumnBlob(7),
          s.ColumnBlob(8)};
    if (absl::Status e = row(r); !e.ok()) return e;
  }
}

absl::StatusOr<std::vector<v1::TreeHead>> EventStore::TreeHeads(
    uint64_t from_size, size_t limit) const {
  absl::StatusOr<std::unique_ptr<Reader>> reader = AcquireReader();
  if (!reader.ok()) return reader.status();
  auto st = (*reader)->db()->Prepare(
      "SELECT size, root, time_ns, checkpoint, key_version FROM tree_heads "
      "WHERE size >= ?1 ORDER BY size LIMIT ?2");
  if (!st.ok()) return st.status();
  (*st)
      ->BindInt(1, static_cast<int64_t>(std::min<uint64_t>(from_size, kMaxSeq)))
      .IgnoreError();
  (*st)->BindInt(2, static_cast<int64_t>(limit)).IgnoreError();
  std::vector<v1::TreeHead> out;
  while (true) {
    absl::StatusOr<bool> row = (*st)->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    out.push_back(HeadFromRow(**st));
  }
  return out;
}

absl::StatusOr<std::optional<v1::TreeHead>> EventStore::LatestTreeHead() const {
  absl::StatusOr<std::unique_ptr<Reader>> reader = AcquireReader();
  if (!reader.ok()) return reader.status();
  auto st = (*reader)->db()->Prepare(
      "SELECT size, root, time_ns, checkpoint, key_version FROM tree_heads "
      "ORDER BY size DESC LIMIT 1");
  if (!st.ok()) return st.status();
  absl::StatusOr<bool> row = (*st)->Step();
  if (!row.ok()) return row.status();
  if (!*row) return std::optional<v1::TreeHead>();
  return std::optional<v1::TreeHead>(HeadFromRow(**st));
}

absl::StatusOr<uint64_t> EventStore::FirstSeqAtOrAfter(
    int64_t time_unix_nanos) const {
  absl::StatusOr<std::unique_ptr<Reader>> reader = AcquireReader();
  if (!reader.ok()) return reader.status();
  // Event times never decrease (EventLog stamps them so): one seek in the
  // time index finds the first.
  absl::StatusOr<storage::Statement*> st = (*reader)->db()->Cached(
      "SELECT seq FROM events WHERE time_ns >= ?1 ORDER BY time_ns, seq "
      "LIMIT 1");
  if (!st.ok()) return st.status();
  (*st)->BindInt(1, time_unix_nanos).IgnoreError();
  absl::StatusOr<bool> row = (*st)->Step();
  if (!row.ok()) return row.status();
  uint64_t seq = *row ? static_cast<uint64_t>((*st)->ColumnInt(0))
                      : std::numeric_limits<uint64_t>::max();
  (*st)->Reset();
  return seq;
}

absl::StatusOr<uint64_t> EventStore::FirstSeq() const {
  absl::StatusOr<std::unique_ptr<Reader>> reader = AcquireReader();
  if (!reader.ok()) return reader.status();
  auto st = (*reader)->db()->Prepare("SELECT MIN(seq) FROM events");
  if (!st.ok()) return st.status();
  absl::StatusOr<bool> row = (*st)->Step();
  if (!row.ok()) return row.status();
  if ((*st)->ColumnIsNull(0)) return std::numeric_limits<uint64_t>::max();
  return static_cast<uint64_t>((*st)->ColumnInt(0));
}

}  // namespace rustiq::eventd
