// The event log's export file: JSON lines, written by eventd's Export and
// read by the verifier (`rustiqctl events verify --file`). docs/eventd.md,
// "Export format", is the reference; in short, in this order:
//
//   {"type":"header","format":"rustiq-event-export","version":1,
//    "device":"dev-1","origin":"rustiq/dev-1/events",
//    "key_name":"rustiq/dev-1/event-checkpoint",
//    "from_seq":0,"to_seq":1234,"prefix":["<hex>",...]}
//   {"type":"tree_head","size":1000,"root":"<hex>","time":"<RFC 3339>",
//    "key_version":1,"checkpoint":"<signed note>"}            (0 or more)
//   {"type":"event","seq":0,"time":"<RFC 3339, ns>","source":"svc/keyd",
//    "actor":"svc/cloudd","category":"key","action":"key.use.denied",
//    "outcome":"denied","severity":"warning","attributes":{"key":"x"},
//    "entry":"<base64>","leaf":"<hex>"}                       (0 or more)
//   {"type":"end","events":1234,"tree_heads":1}
//
// `prefix` holds the hashes of the maximal complete Merkle subtrees of the
// events before from_seq (merkle::FrontierIds(from_seq)): with them and the
// entries, every root from size from_seq on can be recomputed, so an export
// of a pruned log, or of a part of one, verifies as well as a whole one.
// The readable fields of an event line come from the log's columns; `entry`
// is what its leaf hashes, and the verifier checks that both agree.
#ifndef RUSTIQ_COMMON_EVENTS_EXPORT_FORMAT_H_
#define RUSTIQ_COMMON_EVENTS_EXPORT_FORMAT_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/merkle/hash.h"
#include "rustiq/v1/events.pb.h"

namespace rustiq::events {

inline constexpr char kExportFormat[] = "rustiq-event-export";
inline constexpr int kExportVersion = 1;

struct ExportHeader {
  std::string device;
  std::string origin;
  std::string key_name;
  uint64_t from_seq = 0;
  uint64_t to_seq = 0;  // one past the last event exported
  std::vector<merkle::Hash> prefix;
};

// The readable columns of an event line, as the log stores them.
struct ExportEventColumns {
  uint64_t seq = 0;
  int64_t time_unix_nanos = 0;
  std::string source;
  std::string actor;
  int64_t category = 0;
  int64_t outcome = 0;
  int64_t severity = 0;
};

struct ExportEvent {
  ExportEventColumns columns;
  // From the entry: action and attributes (the log has no columns for
  // them).
  std::string action;
  std::map<std::string, std::string> attributes;
  std::string entry;                  // raw bytes
  std::optional<merkle::Hash> leaf;   // as the log recorded it
};

struct ExportEnd {
  uint64_t events = 0;
  uint64_t tree_heads = 0;
};

// One line each, without the newline.
std::string HeaderLine(const ExportHeader& header);
std::string TreeHeadLine(const v1::TreeHead& head);
// `entry_event` is the entry parsed (for action and attributes), or null
// when it does not parse (the line then shows the columns only).
std::string EventLine(const ExportEventColumns& columns,
                      const v1::Event* entry_event, absl::string_view entry,
                      const std::optional<merkle::Hash>& leaf);
std::string EndLine(const ExportEnd& end);

// A parsed line. INVALID_ARGUMENT saying which field is malformed.
struct ExportLine {
  enum class Type { kHeader, kTreeHead, kEvent, kEnd } type;
  ExportHeader header;
  v1::TreeHead tree_head;
  ExportEvent event;
  ExportEnd end;
};
absl::StatusOr<ExportLine> ParseExportLine(absl::string_view line);

// "2026-12-01T22:00:00.123456789Z".
std::string FormatTime(int64_t unix_nanos);
absl::StatusOr<int64_t> ParseTime(absl::string_view rfc3339);

}  // namespace rustiq::events

#endif  // RUSTIQ_COMMON_EVENTS_EXPORT_FORMAT_H_
