// Verifies an event log export (export_format.h) against the device's
// checkpoint public key, one line at a time, without holding the events:
// memory is the Merkle compact range (at most 64 hashes) plus the tree heads
// whose events have not been read yet.
//
// What a successful verification proves: every event line's readable fields
// agree with its entry; the entries are consecutive from the header's
// from_seq; with the header's prefix they hash to the root of every tree
// head in the file; every head is signed by the checkpoint key for this
// device's origin; no head is signed beyond the last event; and, given a
// checkpoint saved earlier, that the log still holds it. Events after the
// last signed head are reported (unsigned_events), not refused: nobody has
// signed them yet, so they can only be checked against their leaves.
//
// Errors stop at the first inconsistency and say precisely what it is (the
// event or tree head size, the field, both values, hashes in hex):
//   DATA_LOSS         the export does not match what was signed: altered,
//                     removed, reordered or added events, altered heads,
//                     heads not signed by the key, a truncated log;
//   INVALID_ARGUMENT  the file is malformed (not JSON, unknown line types,
//                     lines out of the documented order, a header of an
//                     unknown format or version), or the options are (no
//                     key, a trusted checkpoint that does not verify).
// Errors found while reading a line start with "line N: " (1-based).
//
// The documented order is header, tree heads, events, end. A tree head may
// also come after some events as long as it does not cover an event already
// read (the verifier keeps no roots of the past). A tree head smaller than
// from_seq is refused: the exporter never writes one, and its root could not
// be checked against the events of the file.
//
// The header's origin and key name must be the device's own
// (EventLogOrigin, EventLogKeyName), so that expected_device also pins what
// the signatures are over. Events are checked in file order, so two swapped
// event lines show as the first one missing ("event 41 is missing (the next
// event present is 42)").
//
// Not thread-safe; one verifier per export.
#ifndef RUSTIQ_COMMON_EVENTS_LOG_VERIFIER_H_
#define RUSTIQ_COMMON_EVENTS_LOG_VERIFIER_H_

#include <openssl/types.h>

#include <cstdint>
#include <deque>
#include <istream>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/events/export_format.h"
#include "common/merkle/compact_range.h"
#include "common/merkle/hash.h"
#include "common/merkle/note.h"

namespace rustiq::events {

// The checkpoint origin and note key name of a device's event log.
std::string EventLogOrigin(absl::string_view device);   // rustiq/<d>/events
std::string EventLogKeyName(absl::string_view device);  // .../event-checkpoint

struct VerifyOptions {
  // The device's Ed25519 checkpoint public key (keyd's "event-checkpoint").
  // Not owned; must outlive the verifier. Required.
  EVP_PKEY* checkpoint_key = nullptr;
  // Earlier versions of that key, after a rotation (keyd keeps them for
  // verifying until they are retired): a head signed by any of these
  // verifies too. Not owned.
  std::vector<EVP_PKEY*> earlier_checkpoint_keys;
  // Optional: the header's device must be this one.
  std::string expected_device;
  // Optional: a signed note saved earlier (uploaded to the cloud, say). It
  // must verify with the key, for this log's origin, and the log must still
  // hold its size with the same root; so a log truncated together with its
  // tree heads is caught. Its size must be at least the export's from_seq
  // (an older one cannot be checked against the exported events).
  std::optional<std::string> trusted_checkpoint;
};

struct VerifyReport {
  uint64_t from_seq = 0;
  uint64_t end_seq = 0;  // one past the last event
  uint64_t events = 0;
  uint64_t tree_heads = 0;
  // The largest size whose root was verified against a signature: a tree
  // head of the file or the trusted checkpoint; 0 when there is none.
  uint64_t signed_up_to = 0;
  // Events of the export at or after signed_up_to: covered by no signature.
  uint64_t unsigned_events = 0;
};

class LogVerifier {
 public:
  explicit LogVerifier(VerifyOptions options);

  // One line of the export, without its newline. After an error, every
  // further call returns the same error.
  absl::Status AddLine(absl::string_view line);
  // After the last line: the checks that need the whole file (its end line,
  // heads beyond the last event, the trusted checkpoint). Returns the first
  // error if AddLine failed.
  absl::StatusOr<VerifyReport> Finish();

 private:
  // A signed root to compare when the tree reaches `size`.
  struct PendingRoot {
    uint64_t size = 0;
    merkle::Hash root{};
  };

  absl::Status AddParsedLine(const ExportLine& line);
  absl::Status OnHeader(const ExportHeader& header);
  absl::Status OnTreeHead(const v1::TreeHead& head);
  absl::Status OnEvent(const ExportEvent& event);
  absl::Status OnEnd(const ExportEnd& end);
  absl::Status CheckFinal();
  // Compares the roots that are due at the current size.
  absl::Status CheckDueRoots();
  absl::Status CheckHeadRoot(const PendingRoot& head);
  absl::Status CheckTrustedRoot();
  // Where the difference must be when the root at `size` is wrong.
  std::string SuspectRange(uint64_t size) const;
  absl::StatusOr<merkle::Hash> VerifyHeadSignature(const v1::TreeHead& head,
                                                   const merkle::Hash& root);
  std::string LinePrefix() const;

  VerifyOptions options_;
  absl::Status error_;  // the first error; sticky
  uint64_t line_number_ = 0;
  bool have_header_ = false;
  bool have_end_ = false;
  ExportHeader header_;
  uint32_t key_id_ = 0;  // of options_.checkpoint_key under the key name
  // Verifies `note` with the checkpoint key, else with an earlier one: OK,
  // NotFound (no key's signature on it) or DataLoss (a signature by one of
  // the keys does not verify).
  absl::Status VerifyWithAnyKey(const merkle::SignedNote& note,
                                absl::string_view key_name) const;
  merkle::CompactRange range_;
  uint64_t events_ = 0;
  uint64_t tree_heads_ = 0;
  // Size of the last head line (0 and false before the first).
  bool have_head_ = false;
  uint64_t last_head_size_ = 0;
  // Heads read but not reached by the events yet, by increasing size.
  std::deque<PendingRoot> pending_heads_;
  // The largest size whose root was verified against a signed one (a head
  // or the trusted checkpoint); none before the first.
  std::optional<uint64_t> last_verified_;
  std::optional<PendingRoot> trusted_;
  bool trusted_verified_ = false;
  ExportEnd end_;
};

// Reads `in` line by line into a LogVerifier. A read error is DATA_LOSS, and
// so is a malformed last line without its newline (a cut-off file).
absl::StatusOr<VerifyReport> VerifyExport(std::istream& in,
                                          const VerifyOptions& options);

}  // namespace rustiq::events

#endif  // RUSTIQ_COMMON_EVENTS_LOG_VERIFIER_H_
