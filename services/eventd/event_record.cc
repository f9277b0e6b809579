#include "services/eventd/event_record.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <algorithm>
#include <set>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/events/event_limits.h"
#include "common/logging/escape.h"

namespace rustiq::eventd {
namespace {

using events::kMaxActionBytes;
using events::kMaxActorBytes;
using events::kMaxAttributeKeyBytes;
using events::kMaxAttributes;
using events::kMaxAttributeValueBytes;
using events::kMaxEventBytes;

// 1-`max` of [a-z0-9_.-]; `letter_first`: starting with a letter.
bool IsName(absl::string_view s, size_t max, bool letter_first) {
  if (s.empty() || s.size() > max) return false;
  if (letter_first && !absl::ascii_islower(static_cast<unsigned char>(s[0]))) {
    return false;
  }
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (!absl::ascii_islower(u) && !absl::ascii_isdigit(u) && c != '_' &&
        c != '.' && c != '-') {
      return false;
    }
  }
  return true;
}

// Printable: no control characters (protobuf has checked UTF-8 already).
bool IsPrintable(absl::string_view s) {
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return false;
  }
  return true;
}

absl::Status Bad(absl::string_view field, absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("event field '", field, "': ", what));
}

}  // namespace

absl::Status ValidateInput(const v1::EventInput& input) {
  if (input.ByteSizeLong() > kMaxEventBytes) {
    return Bad("(whole event)",
               absl::StrCat("is ", input.ByteSizeLong(),
                            " bytes serialized; the most is ", kMaxEventBytes));
  }
  if (!IsName(input.action(), kMaxActionBytes, true)) {
    return Bad("action",
               absl::StrCat("expected 1-", kMaxActionBytes,
                            " of [a-z0-9_.-] starting with a letter, got \"",
                            log::EscapeUntrusted(input.action(), 80), "\""));
  }
  if (input.actor().size() > kMaxActorBytes || !IsPrintable(input.actor())) {
    return Bad("actor", absl::StrCat("expected at most ", kMaxActorBytes,
                                     " bytes of printable UTF-8"));
  }
  if (input.category() == v1::EVENT_CATEGORY_UNSPECIFIED ||
      !v1::EventCategory_IsValid(input.category())) {
    return Bad("category", "state one (auth, key, update, sandbox, ...)");
  }
  if (input.outcome() == v1::EVENT_OUTCOME_UNSPECIFIED ||
      !v1::EventOutcome_IsValid(input.outcome())) {
    return Bad("outcome", "state one (success, denied, failure)");
  }
  if (input.severity() == v1::EVENT_SEVERITY_UNSPECIFIED ||
      !v1::EventSeverity_IsValid(input.severity())) {
    return Bad("severity", "state one (debug .. alert)");
  }
  if (input.occurred_unix_nanos() < 0) {
    return Bad("occurred_unix_nanos", "must not be negative");
  }
  if (static_cast<size_t>(input.attributes_size()) > kMaxAttributes) {
    return Bad("attributes",
               absl::StrCat(input.attributes_size(), " given; the most is ",
                            kMaxAttributes));
  }
  std::set<absl::string_view> keys;
  for (const v1::EventAttribute& a : input.attributes()) {
    if (!IsName(a.key(), kMaxAttributeKeyBytes, false)) {
      return Bad("attributes",
                 absl::StrCat("key \"", log::EscapeUntrusted(a.key(), 80),
                              "\" is not 1-", kMaxAttributeKeyBytes,
                              " of [a-z0-9_.-]"));
    }
    if (!keys.insert(a.key()).second) {
      return Bad("attributes",
                 absl::StrCat("key \"", a.key(), "\" appears more than once"));
    }
    if (a.value().size() > kMaxAttributeValueBytes ||
        a.value().find('\0') != std::string::npos) {
      return Bad(
          "attributes",
          absl::StrCat("value of \"", a.key(), "\" is over ",
                       kMaxAttributeValueBytes, " bytes or holds a NUL byte"));
    }
  }
  return absl::OkStatus();
}

v1::Event MakeEvent(const v1::EventInput& input, const Stamp& stamp) {
  v1::Event e;
  e.set_seq(stamp.seq);
  e.set_time_unix_nanos(stamp.time_unix_nanos);
  e.set_monotonic_nanos(stamp.monotonic_nanos);
  e.set_boot_id(stamp.boot_id);
  e.set_source(stamp.source);
  e.set_actor(input.actor().empty() ? stamp.source : input.actor());
  e.set_category(input.category());
  e.set_action(input.action());
  e.set_outcome(input.outcome());
  e.set_severity(input.severity());
  std::vector<const v1::EventAttribute*> sorted;
  sorted.reserve(input.attributes_size());
  for (const v1::EventAttribute& a : input.attributes()) sorted.push_back(&a);
  std::sort(sorted.begin(), sorted.end(),
            [](const v1::EventAttribute* a, const v1::EventAttribute* b) {
              return a->key() < b->key();
            });
  for (const v1::EventAttribute* a : sorted) *e.add_attributes() = *a;
  e.set_occurred_unix_nanos(input.occurred_unix_nanos() != 0
                                ? input.occurred_unix_nanos()
                                : stamp.time_unix_nanos);
  return e;
}

std::string EntryBytes(const v1::Event& event) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    event.SerializeToCodedStream(&coded);
  }
  return out;
}

absl::StatusOr<v1::Event> ParseEntry(absl::string_view entry) {
  v1::Event e;
  if (!e.ParseFromArray(entry.data(), static_cast<int>(entry.size()))) {
    return absl::DataLossError("stored entry does not parse as an event");
  }
  return e;
}

}  // namespace rustiq::eventd
