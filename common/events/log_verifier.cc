#include "common/events/log_verifier.h"

#include <algorithm>
#include <bit>
#include <limits>
#include <map>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/events/event_names.h"
#include "common/merkle/checkpoint.h"
#include "common/merkle/note.h"

namespace rustiq::events {
namespace {

std::string Quoted(absl::string_view text) {
  return absl::StrCat("\"", absl::CHexEscape(text), "\"");
}

// An enum value as the export spells it: its name, or its number.
template <typename Enum>
std::string EnumText(int64_t value, bool (*is_valid)(int),
                     const char* (*name_of)(Enum)) {
  if (value >= std::numeric_limits<int>::min() &&
      value <= std::numeric_limits<int>::max() &&
      is_valid(static_cast<int>(value))) {
    const absl::string_view name = name_of(static_cast<Enum>(value));
    if (name != "?") return Quoted(name);
  }
  return absl::StrCat(value);
}

std::string CategoryText(int64_t value) {
  return EnumText<v1::EventCategory>(value, &v1::EventCategory_IsValid,
                                     &CategoryName);
}
std::string OutcomeText(int64_t value) {
  return EnumText<v1::EventOutcome>(value, &v1::EventOutcome_IsValid,
                                    &OutcomeName);
}
std::string SeverityText(int64_t value) {
  return EnumText<v1::EventSeverity>(value, &v1::EventSeverity_IsValid,
                                     &SeverityName);
}

// "event 41: its 'actor' is "svc/x" in the log's columns but "svc/y" in its
// signed entry".
absl::Status FieldMismatch(uint64_t seq, absl::string_view field,
                           absl::string_view where, absl::string_view line,
                           absl::string_view entry) {
  return absl::DataLossError(absl::StrCat("event ", seq, ": its '", field,
                                          "' is ", line, " in ", where, " but ",
                                          entry, " in its signed entry"));
}

constexpr char kColumns[] = "the log's columns";
constexpr char kLine[] = "the export line";

// "the log ends at event 99" / "the log holds no events".
std::string LogEnd(uint64_t end_seq) {
  if (end_seq == 0) return "the log holds no events";
  return absl::StrCat("the log ends at event ", end_seq - 1);
}

}  // namespace

std::string EventLogOrigin(absl::string_view device) {
  return absl::StrCat("rustiq/", device, "/events");
}

std::string EventLogKeyName(absl::string_view device) {
  return absl::StrCat("rustiq/", device, "/event-checkpoint");
}

LogVerifier::LogVerifier(VerifyOptions options)
    : options_(std::move(options)) {}

std::string LogVerifier::LinePrefix() const {
  return absl::StrCat("line ", line_number_, ": ");
}

absl::Status LogVerifier::AddLine(absl::string_view line) {
  if (!error_.ok()) return error_;
  ++line_number_;
  absl::Status status;
  if (have_end_) {
    status =
        absl::InvalidArgumentError("the export continues after its end line");
  } else {
    absl::StatusOr<ExportLine> parsed = ParseExportLine(line);
    status = parsed.ok() ? AddParsedLine(*parsed) : parsed.status();
  }
  if (!status.ok()) {
    error_ = absl::Status(status.code(),
                          absl::StrCat(LinePrefix(), status.message()));
  }
  return error_;
}

absl::Status LogVerifier::AddParsedLine(const ExportLine& line) {
  if (!have_header_ && line.type != ExportLine::Type::kHeader) {
    return absl::InvalidArgumentError(
        "the export does not start with its header line");
  }
  switch (line.type) {
    case ExportLine::Type::kHeader:
      if (have_header_) {
        return absl::InvalidArgumentError("a second header line");
      }
      return OnHeader(line.header);
    case ExportLine::Type::kTreeHead:
      return OnTreeHead(line.tree_head);
    case ExportLine::Type::kEvent:
      return OnEvent(line.event);
    case ExportLine::Type::kEnd:
      have_end_ = true;
      end_ = line.end;
      return absl::OkStatus();
  }
  return absl::InternalError("unknown line type");
}

absl::Status LogVerifier::OnHeader(const ExportHeader& header) {
  have_header_ = true;
  header_ = header;
  if (options_.checkpoint_key == nullptr) {
    return absl::InvalidArgumentError(
        "no checkpoint key given: verifying needs the device's "
        "event-checkpoint public key");
  }
  if (header.device.empty()) {
    return absl::InvalidArgumentError("the header names no device");
  }
  if (!options_.expected_device.empty() &&
      header.device != options_.expected_device) {
    return absl::InvalidArgumentError(
        absl::StrCat("the export is of device ", Quoted(header.device),
                     ", not of ", Quoted(options_.expected_device)));
  }
  const std::string origin = EventLogOrigin(header.device);
  if (header.origin != origin) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the header's origin is ", Quoted(header.origin), ", but device ",
        Quoted(header.device), "'s event log has the origin ", Quoted(origin)));
  }
  const std::string key_name = EventLogKeyName(header.device);
  if (header.key_name != key_name) {
    return absl::InvalidArgumentError(
        absl::StrCat("the header's key name is ", Quoted(header.key_name),
                     ", but device ", Quoted(header.device),
                     "'s checkpoints are signed as ", Quoted(key_name)));
  }
  if (absl::Status valid = merkle::ValidateNoteKeyName(key_name); !valid.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the header's key name cannot be a note key name: ", valid.message()));
  }
  absl::StatusOr<uint32_t> key_id =
      merkle::Ed25519NoteKeyIdOf(key_name, options_.checkpoint_key);
  if (!key_id.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the checkpoint key cannot verify notes: ", key_id.status().message()));
  }
  key_id_ = *key_id;
  if (header.to_seq < header.from_seq) {
    return absl::InvalidArgumentError(
        absl::StrCat("the header's range is empty backwards: from_seq ",
                     header.from_seq, " > to_seq ", header.to_seq));
  }
  const size_t frontier_size = std::popcount(header.from_seq);
  if (header.prefix.size() != frontier_size) {
    return absl::InvalidArgumentError(
        absl::StrCat("the header's prefix has ", header.prefix.size(),
                     " hashes, but the tree of the ", header.from_seq,
                     " events before from_seq is made of ", frontier_size,
                     " complete subtrees (one hash each)"));
  }
  absl::StatusOr<merkle::CompactRange> range =
      merkle::CompactRange::FromFrontier(header.from_seq, header.prefix);
  if (!range.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the header's prefix is unusable: ", range.status().message()));
  }
  range_ = *std::move(range);

  if (options_.trusted_checkpoint.has_value()) {
    absl::StatusOr<merkle::SignedNote> note =
        merkle::ParseSignedNote(*options_.trusted_checkpoint);
    if (!note.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("the trusted checkpoint is not a signed note: ",
                       note.status().message()));
    }
    if (absl::Status verified = VerifyWithAnyKey(*note, key_name);
        !verified.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "the trusted checkpoint does not verify with the checkpoint key of ",
          Quoted(header.device), ": ", verified.message()));
    }
    absl::StatusOr<merkle::Checkpoint> checkpoint =
        merkle::ParseCheckpointBody(note->text);
    if (!checkpoint.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("the trusted checkpoint is malformed: ",
                       checkpoint.status().message()));
    }
    if (checkpoint->origin != origin) {
      return absl::InvalidArgumentError(absl::StrCat(
          "the trusted checkpoint is for the log ", Quoted(checkpoint->origin),
          ", not for this one (", Quoted(origin), ")"));
    }
    if (checkpoint->size < header.from_seq) {
      return absl::InvalidArgumentError(absl::StrCat(
          "the trusted checkpoint of size ", checkpoint->size,
          " is older than the export's first event ", header.from_seq,
          ": its root cannot be checked against these events (export from "
          "event ",
          checkpoint->size == 0 ? 0 : checkpoint->size - 1,
          " or earlier, or use a newer checkpoint)"));
    }
    trusted_ = PendingRoot{checkpoint->size, checkpoint->root};
  }
  return CheckDueRoots();
}

absl::Status LogVerifier::VerifyWithAnyKey(const merkle::SignedNote& note,
                                           absl::string_view key_name) const {
  absl::Status verified =
      merkle::VerifySignedNote(note, key_name, options_.checkpoint_key);
  for (EVP_PKEY* earlier : options_.earlier_checkpoint_keys) {
    if (!absl::IsNotFound(verified)) break;
    verified = merkle::VerifySignedNote(note, key_name, earlier);
  }
  return verified;
}

absl::StatusOr<merkle::Hash> LogVerifier::VerifyHeadSignature(
    const v1::TreeHead& head, const merkle::Hash& root) {
  const std::string what = absl::StrCat("tree head of size ", head.size());
  if (head.checkpoint().empty()) {
    return absl::DataLossError(absl::StrCat(what, " has no signed checkpoint"));
  }
  absl::StatusOr<merkle::SignedNote> note =
      merkle::ParseSignedNote(head.checkpoint());
  if (!note.ok()) {
    return absl::DataLossError(absl::StrCat(
        what, ": its checkpoint is not a well-formed signed note (altered?): ",
        note.status().message()));
  }
  absl::Status verified = VerifyWithAnyKey(*note, header_.key_name);
  if (absl::IsNotFound(verified) || absl::IsDataLoss(verified)) {
    return absl::DataLossError(absl::StrCat(
        what,
        ": signature does not verify with the checkpoint key (not signed by "
        "this device, or altered): ",
        verified.message()));
  }
  if (!verified.ok()) {
    return absl::Status(verified.code(),
                        absl::StrCat(what, ": ", verified.message()));
  }
  absl::StatusOr<merkle::Checkpoint> checkpoint =
      merkle::ParseCheckpointBody(note->text);
  if (!checkpoint.ok()) {
    return absl::DataLossError(
        absl::StrCat(what, ": its signed checkpoint is malformed: ",
                     checkpoint.status().message()));
  }
  if (checkpoint->origin != header_.origin) {
    return absl::DataLossError(
        absl::StrCat(what, ": its signed checkpoint is for the log ",
                     Quoted(checkpoint->origin), ", not this one (",
                     Quoted(header_.origin), ")"));
  }
  if (checkpoint->size != head.size()) {
    return absl::DataLossError(absl::StrCat(
        what, ": its signed checkpoint is for size ", checkpoint->size));
  }
  if (checkpoint->root != root) {
    return absl::DataLossError(absl::StrCat(
        what, ": the line's root ", merkle::ToHex(root),
        " differs from the signed root ", merkle::ToHex(checkpoint->root)));
  }
  return checkpoint->root;
}

absl::Status LogVerifier::OnTreeHead(const v1::TreeHead& head) {
  const uint64_t size = head.size();
  if (have_head_ && size <= last_head_size_) {
    return absl::DataLossError(absl::StrCat(
        "tree heads are out of order or repeated: the head of size ", size,
        " follows the head of size ", last_head_size_));
  }
  if (size < header_.from_seq) {
    return absl::InvalidArgumentError(absl::StrCat(
        "tree head of size ", size, " is older than the export's first event ",
        header_.from_seq,
        ": its root cannot be checked against these events (the exporter "
        "never writes such a head)"));
  }
  if (size < range_.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "tree head of size ", size, " comes after event ", range_.size() - 1,
        ", which it covers: a head must come before the events it covers"));
  }
  absl::StatusOr<merkle::Hash> root = merkle::HashFromBytes(head.root_hash());
  if (!root.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "tree head of size ", size, ": ", root.status().message()));
  }
  absl::StatusOr<merkle::Hash> signed_root = VerifyHeadSignature(head, *root);
  if (!signed_root.ok()) return signed_root.status();
  have_head_ = true;
  last_head_size_ = size;
  ++tree_heads_;
  pending_heads_.push_back(PendingRoot{size, *signed_root});
  return CheckDueRoots();
}

absl::Status LogVerifier::CheckDueRoots() {
  while (!pending_heads_.empty() &&
         pending_heads_.front().size == range_.size()) {
    if (absl::Status status = CheckHeadRoot(pending_heads_.front());
        !status.ok()) {
      return status;
    }
    last_verified_ = pending_heads_.front().size;
    pending_heads_.pop_front();
  }
  if (trusted_.has_value() && !trusted_verified_ &&
      trusted_->size == range_.size()) {
    if (absl::Status status = CheckTrustedRoot(); !status.ok()) return status;
    trusted_verified_ = true;
    last_verified_ = trusted_->size;
  }
  return absl::OkStatus();
}

std::string LogVerifier::SuspectRange(uint64_t size) const {
  if (size == header_.from_seq) {
    return absl::StrCat("the export's prefix (the hashes of the tree of the ",
                        size, " events before from_seq) was altered");
  }
  if (last_verified_.has_value()) {
    return absl::StrCat("the previous verified head was size ", *last_verified_,
                        ", so an event in ", *last_verified_, "..", size - 1,
                        " was altered, removed or reordered");
  }
  if (header_.from_seq == 0) {
    return absl::StrCat("no earlier head was verified, so an event in 0..",
                        size - 1, " was altered, removed or reordered");
  }
  return absl::StrCat(
      "no earlier head was verified, so an event in ", header_.from_seq, "..",
      size - 1,
      " was altered, removed or reordered, or the export's prefix "
      "(the tree before event ",
      header_.from_seq, ") was altered");
}

absl::Status LogVerifier::CheckHeadRoot(const PendingRoot& head) {
  const merkle::Hash computed = range_.Root();
  if (computed == head.root) return absl::OkStatus();
  return absl::DataLossError(absl::StrCat(
      "tree head of size ", head.size, ": the root computed from the ",
      head.size == header_.from_seq ? "export's prefix" : "events", " (",
      merkle::ToHex(computed), ") differs from the signed root (",
      merkle::ToHex(head.root), "); ", SuspectRange(head.size)));
}

absl::Status LogVerifier::CheckTrustedRoot() {
  const merkle::Hash computed = range_.Root();
  if (computed == trusted_->root) return absl::OkStatus();
  return absl::DataLossError(absl::StrCat(
      "the checkpoint of size ", trusted_->size, " saved earlier has the root ",
      merkle::ToHex(trusted_->root), ", but the ",
      trusted_->size == header_.from_seq ? "export's prefix gives "
                                         : "events give ",
      merkle::ToHex(computed),
      " at that size: the log was rewritten after it was saved; ",
      SuspectRange(trusted_->size)));
}

absl::Status LogVerifier::OnEvent(const ExportEvent& event) {
  const ExportEventColumns& columns = event.columns;
  const uint64_t seq = columns.seq;
  const uint64_t expected = range_.size();
  if (seq > expected) {
    return absl::DataLossError(absl::StrCat("event ", expected,
                                            " is missing (the next event "
                                            "present is ",
                                            seq, ")"));
  }
  if (seq < expected) {
    return absl::DataLossError(
        absl::StrCat("position ", expected, " holds event ", seq,
                     ": events are out of order or duplicated"));
  }
  if (seq >= header_.to_seq) {
    return absl::DataLossError(
        absl::StrCat("event ", seq,
                     " is beyond the export's range: the header says it "
                     "ends before event ",
                     header_.to_seq));
  }
  v1::Event entry;
  if (!entry.ParseFromString(event.entry)) {
    return absl::DataLossError(
        absl::StrCat("event ", seq, ": its entry (", event.entry.size(),
                     " bytes) does not parse as an event: it was altered"));
  }
  if (entry.seq() != seq) {
    return FieldMismatch(seq, "seq", kColumns, absl::StrCat(seq),
                         absl::StrCat(entry.seq()));
  }
  if (entry.time_unix_nanos() != columns.time_unix_nanos) {
    return FieldMismatch(seq, "time", kColumns,
                         FormatTime(columns.time_unix_nanos),
                         FormatTime(entry.time_unix_nanos()));
  }
  if (entry.source() != columns.source) {
    return FieldMismatch(seq, "source", kColumns, Quoted(columns.source),
                         Quoted(entry.source()));
  }
  if (entry.actor() != columns.actor) {
    return FieldMismatch(seq, "actor", kColumns, Quoted(columns.actor),
                         Quoted(entry.actor()));
  }
  if (entry.category() != columns.category) {
    return FieldMismatch(seq, "category", kColumns,
                         CategoryText(columns.category),
                         CategoryText(entry.category()));
  }
  if (entry.outcome() != columns.outcome) {
    return FieldMismatch(seq, "outcome", kColumns, OutcomeText(columns.outcome),
                         OutcomeText(entry.outcome()));
  }
  if (entry.severity() != columns.severity) {
    return FieldMismatch(seq, "severity", kColumns,
                         SeverityText(columns.severity),
                         SeverityText(entry.severity()));
  }
  if (entry.action() != event.action) {
    return FieldMismatch(seq, "action", kLine, Quoted(event.action),
                         Quoted(entry.action()));
  }
  std::map<std::string, std::string> entry_attributes;
  for (const v1::EventAttribute& attribute : entry.attributes()) {
    if (!entry_attributes.emplace(attribute.key(), attribute.value()).second) {
      return absl::DataLossError(absl::StrCat("event ", seq,
                                              ": its signed entry repeats the "
                                              "attribute ",
                                              Quoted(attribute.key())));
    }
  }
  if (entry_attributes != event.attributes) {
    // The first key, in order, where they differ.
    auto line_it = event.attributes.begin();
    auto entry_it = entry_attributes.begin();
    while (line_it != event.attributes.end() &&
           entry_it != entry_attributes.end() && *line_it == *entry_it) {
      ++line_it;
      ++entry_it;
    }
    const bool line_first =
        entry_it == entry_attributes.end() ||
        (line_it != event.attributes.end() && line_it->first < entry_it->first);
    const bool entry_first = line_it == event.attributes.end() ||
                             (entry_it != entry_attributes.end() &&
                              entry_it->first < line_it->first);
    std::string key, line_value, entry_value;
    if (line_first) {
      key = line_it->first;
      line_value = Quoted(line_it->second);
      entry_value = "absent";
    } else if (entry_first) {
      key = entry_it->first;
      line_value = "absent";
      entry_value = Quoted(entry_it->second);
    } else {
      key = line_it->first;
      line_value = Quoted(line_it->second);
      entry_value = Quoted(entry_it->second);
    }
    return FieldMismatch(seq, absl::StrCat("attributes.", key), kLine,
                         line_value, entry_value);
  }
  const merkle::Hash leaf = merkle::LeafHash(event.entry);
  if (event.leaf.has_value() && *event.leaf != leaf) {
    return absl::DataLossError(absl::StrCat(
        "event ", seq,
        " does not match the Merkle leaf recorded when it was appended: its "
        "entry hashes to ",
        merkle::ToHex(leaf), ", the log recorded ",
        merkle::ToHex(*event.leaf)));
  }
  range_.Append(leaf);
  ++events_;
  return CheckDueRoots();
}

absl::StatusOr<VerifyReport> LogVerifier::Finish() {
  if (!error_.ok()) return error_;
  error_ = CheckFinal();
  if (!error_.ok()) return error_;
  VerifyReport report;
  report.from_seq = header_.from_seq;
  report.end_seq = range_.size();
  report.events = events_;
  report.tree_heads = tree_heads_;
  report.signed_up_to = last_verified_.value_or(0);
  report.unsigned_events =
      report.end_seq - std::max(report.signed_up_to, report.from_seq);
  return report;
}

absl::Status LogVerifier::CheckFinal() {
  if (!have_header_) {
    return absl::InvalidArgumentError(
        "the export is empty: it has no header line");
  }
  const uint64_t end_seq = range_.size();
  if (!have_end_) {
    return absl::DataLossError(absl::StrCat(
        "the export is incomplete: it has no end line (the file was cut off "
        "after line ",
        line_number_, "; ", LogEnd(end_seq), ")"));
  }
  if (!pending_heads_.empty()) {
    return absl::DataLossError(absl::StrCat(
        "a tree head of size ", pending_heads_.front().size, " is signed but ",
        LogEnd(end_seq), ": events were removed from its end"));
  }
  if (header_.to_seq != end_seq) {
    return absl::DataLossError(absl::StrCat(
        "the header says the export ends before event ", header_.to_seq,
        ", but ", LogEnd(end_seq), ": events were removed from its end"));
  }
  if (end_.events != events_) {
    return absl::DataLossError(absl::StrCat("the end line counts ", end_.events,
                                            " events, but the export holds ",
                                            events_));
  }
  if (end_.tree_heads != tree_heads_) {
    return absl::DataLossError(
        absl::StrCat("the end line counts ", end_.tree_heads,
                     " tree heads, but the export holds ", tree_heads_));
  }
  if (trusted_.has_value() && !trusted_verified_) {
    // Smaller sizes were checked as the events went by.
    return absl::DataLossError(absl::StrCat(
        LogEnd(end_seq), ", but a checkpoint of size ", trusted_->size,
        " was saved earlier: the log was truncated"));
  }
  return absl::OkStatus();
}

absl::StatusOr<VerifyReport> VerifyExport(std::istream& in,
                                          const VerifyOptions& options) {
  LogVerifier verifier(options);
  std::string line;
  uint64_t lines = 0;
  while (std::getline(in, line)) {
    ++lines;
    if (absl::Status status = verifier.AddLine(line); !status.ok()) {
      // A malformed last line without its newline is most likely the end
      // of a file that was cut off while it was written or copied.
      if (in.eof() && absl::IsInvalidArgument(status)) {
        return absl::DataLossError(
            absl::StrCat("the export is incomplete: its last line is cut off (",
                         status.message(), ")"));
      }
      return status;
    }
  }
  if (in.bad()) {
    return absl::DataLossError(
        absl::StrCat("reading the export failed after line ", lines));
  }
  return verifier.Finish();
}

}  // namespace rustiq::events
