#include "services/eventd/exporter.h"

#include <algorithm>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/events/export_format.h"
#include "common/merkle/node_source.h"
#include "services/eventd/event_log.h"
#include "services/eventd/event_record.h"

namespace rustiq::eventd {
namespace {

constexpr size_t kHeadsPerPage = 1000;

}  // namespace

absl::Status ExportLog(const EventStore& store, absl::string_view device_id,
                       ExportRange range,
                       const std::function<absl::Status(std::string)>& line) {
  absl::StatusOr<uint64_t> first = store.FirstSeq();
  if (!first.ok()) return first.status();
  // The store's extent: the first kept event, and the size (one past the
  // newest). An empty store has nothing to export beyond its heads.
  absl::StatusOr<std::vector<v1::Event>> newest =
      store.Query(v1::EventFilter(), UINT64_MAX, /*newest_first=*/true, 1);
  if (!newest.ok()) return newest.status();
  uint64_t size = newest->empty() ? 0 : newest->front().seq() + 1;
  uint64_t oldest = newest->empty() ? 0 : *first;
  bool whole = range.to_seq == 0;
  uint64_t to = whole ? size : std::min(range.to_seq, size);
  uint64_t from = std::max(range.from_seq, oldest);
  if (from > to) {
    return absl::OutOfRangeError(absl::StrCat(
        "from_seq ", range.from_seq, " is beyond the last event (", to, ")"));
  }

  events::ExportHeader header;
  header.device = std::string(device_id);
  header.origin = CheckpointOrigin(device_id);
  header.key_name = CheckpointKeyName(device_id);
  header.from_seq = from;
  header.to_seq = to;
  for (merkle::NodeId id : merkle::FrontierIds(from)) {
    absl::StatusOr<merkle::Hash> h = store.Node(id.level, id.index);
    if (!h.ok()) {
      return absl::DataLossError(absl::StrCat(
          "the log lacks the Merkle node of events ", id.BeginLeaf(), "..",
          id.EndLeaf() - 1, " that an export from ", from,
          " needs: ", h.status().message()));
    }
    header.prefix.push_back(*h);
  }
  if (absl::Status s = line(events::HeaderLine(header)); !s.ok()) return s;

  uint64_t heads = 0;
  uint64_t next_size = from;
  while (true) {
    absl::StatusOr<std::vector<v1::TreeHead>> page =
        store.TreeHeads(next_size, kHeadsPerPage);
    if (!page.ok()) return page.status();
    for (const v1::TreeHead& h : *page) {
      if (!whole && h.size() > to) break;
      if (absl::Status s = line(events::TreeHeadLine(h)); !s.ok()) return s;
      ++heads;
    }
    if (page->size() < kHeadsPerPage) break;
    next_size = page->back().size() + 1;
  }

  uint64_t count = 0;
  absl::Status scanned =
      store.Scan(from, to, [&](const EventStore::Row& r) -> absl::Status {
        events::ExportEventColumns c;
        c.seq = r.seq;
        c.time_unix_nanos = r.time_unix_nanos;
        c.source = std::string(r.source);
        c.actor = std::string(r.actor);
        c.category = r.category;
        c.outcome = r.outcome;
        c.severity = r.severity;
        absl::StatusOr<v1::Event> parsed = ParseEntry(r.entry);
        std::optional<merkle::Hash> leaf;
        if (absl::StatusOr<merkle::Hash> h = merkle::HashFromBytes(r.leaf);
            h.ok()) {
          leaf = *h;
        }
        ++count;
        return line(events::EventLine(c, parsed.ok() ? &*parsed : nullptr,
                                      r.entry, leaf));
      });
  if (!scanned.ok()) return scanned;
  return line(events::EndLine(events::ExportEnd{count, heads}));
}

}  // namespace rustiq::eventd
