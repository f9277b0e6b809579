#include "common/events/export_format.h"

#include <cstddef>
#include <cstdint>
#include <limits>
#include <set>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/events/event_names.h"
#include "nlohmann/json.hpp"

// Spellings the header leaves open, fixed here:
//  - Every line is one JSON object with its fields in the documented order
//    (nlohmann::ordered_json) and no insignificant whitespace.
//  - category, outcome and severity are their short names (event_names.h);
//    a column value without a name (0, or a number outside the enum: a
//    damaged row) is written as the JSON integer, so that the line still
//    shows what the log holds and parses back to the same value.
//  - An event line whose entry does not parse has no "action" and no
//    "attributes"; otherwise both are present ("attributes" may be {}).
//  - "leaf" is absent when the log recorded none.
//  - Strings that are not valid UTF-8 are written with U+FFFD in place of
//    the bad bytes (JSON cannot carry them); the verifier then reports the
//    difference from the entry rather than the exporter failing.
// Parsing is strict: unknown fields, duplicate keys, wrong JSON types,
// non-canonical base64 and malformed hashes and times are refused.

namespace rustiq::events {
namespace {

using Json = nlohmann::ordered_json;

constexpr int64_t kNanosPerSecond = 1'000'000'000;

std::string Dump(const Json& json) {
  return json.dump(-1, ' ', false, Json::error_handler_t::replace);
}

// The name of an enum column, or the number when it has none.
template <typename Enum>
Json EnumJson(int64_t value, bool (*is_valid)(int),
              const char* (*name_of)(Enum)) {
  if (value >= std::numeric_limits<int>::min() &&
      value <= std::numeric_limits<int>::max() &&
      is_valid(static_cast<int>(value))) {
    const char* name = name_of(static_cast<Enum>(value));
    if (absl::string_view(name) != "?") return name;
  }
  return value;
}

// The parser's message without nlohmann's "[json.exception...] " tag.
std::string JsonErrorText(const nlohmann::json::exception& e) {
  absl::string_view what = e.what();
  const size_t tag_end = what.find("] ");
  if (absl::StartsWith(what, "[json.exception.") && tag_end != what.npos) {
    what.remove_prefix(tag_end + 2);
  }
  return std::string(what);
}

// Reads the fields of one line's object, refusing what the format does not
// define. Errors name the line kind ("event line (seq 41)") and the field.
class FieldReader {
 public:
  FieldReader(const Json& object, std::string what)
      : object_(object), what_(std::move(what)) {}

  void set_what(std::string what) { what_ = std::move(what); }

  // Each accessor records the field as known; Finish() refuses the others.
  absl::StatusOr<const Json*> Find(absl::string_view name, bool required) {
    known_.insert(std::string(name));
    auto it = object_.find(std::string(name));
    if (it == object_.end()) {
      if (!required) return nullptr;
      return Error(absl::StrCat("'", name, "' is missing"));
    }
    return &*it;
  }

  absl::StatusOr<std::string> String(absl::string_view name) {
    absl::StatusOr<const Json*> value = Find(name, true);
    if (!value.ok()) return value.status();
    if (!(*value)->is_string()) {
      return Error(absl::StrCat("'", name, "' must be a string"));
    }
    return (*value)->get<std::string>();
  }

  absl::StatusOr<uint64_t> Unsigned(absl::string_view name) {
    absl::StatusOr<const Json*> value = Find(name, true);
    if (!value.ok()) return value.status();
    if ((*value)->is_number_unsigned()) return (*value)->get<uint64_t>();
    if ((*value)->is_number_integer() && (*value)->get<int64_t>() >= 0) {
      return static_cast<uint64_t>((*value)->get<int64_t>());
    }
    return Error(
        absl::StrCat("'", name, "' must be a non-negative integer below 2^64"));
  }

  absl::StatusOr<int64_t> Time(absl::string_view name) {
    absl::StatusOr<std::string> text = String(name);
    if (!text.ok()) return text.status();
    absl::StatusOr<int64_t> nanos = ParseTime(*text);
    if (!nanos.ok()) {
      return Error(absl::StrCat("'", name, "': ", nanos.status().message()));
    }
    return *nanos;
  }

  absl::StatusOr<merkle::Hash> HexHash(absl::string_view name,
                                       const Json& value) {
    if (!value.is_string()) {
      return Error(
          absl::StrCat("'", name, "' must be a string of 64 hex digits"));
    }
    absl::StatusOr<merkle::Hash> hash =
        merkle::HashFromHex(value.get<std::string>());
    if (!hash.ok()) {
      return Error(absl::StrCat("'", name, "': ", hash.status().message()));
    }
    return *hash;
  }

  // A name of `names` or, for a value without one, an integer.
  template <typename Enum>
  absl::StatusOr<int64_t> EnumValue(absl::string_view name,
                                    bool (*from_name)(absl::string_view, Enum*),
                                    const char* names) {
    absl::StatusOr<const Json*> value = Find(name, true);
    if (!value.ok()) return value.status();
    if ((*value)->is_string()) {
      Enum parsed;
      if (!from_name((*value)->get<std::string>(), &parsed)) {
        return Error(
            absl::StrCat("'", name, "' is \"",
                         absl::CHexEscape((*value)->get<std::string>()),
                         "\"; expected one of ", names,
                         " (or the number of a value without a name)"));
      }
      return static_cast<int64_t>(parsed);
    }
    if ((*value)->is_number_integer()) {
      if ((*value)->is_number_unsigned() &&
          (*value)->get<uint64_t>() >
              static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return Error(absl::StrCat("'", name, "' is out of range"));
      }
      return (*value)->get<int64_t>();
    }
    return Error(absl::StrCat("'", name, "' must be one of ", names));
  }

  absl::Status Finish() {
    for (auto it = object_.begin(); it != object_.end(); ++it) {
      if (!known_.contains(it.key())) {
        return Error(
            absl::StrCat("unknown field '", absl::CHexEscape(it.key()), "'"));
      }
    }
    return absl::OkStatus();
  }

  absl::Status Error(absl::string_view message) const {
    return absl::InvalidArgumentError(absl::StrCat(what_, ": ", message));
  }

 private:
  const Json& object_;
  std::string what_;
  std::set<std::string> known_;
};

absl::Status ParseHeader(FieldReader& fields, ExportHeader* header) {
  // The format and version first: a different file says so, not that some
  // field is missing.
  absl::StatusOr<std::string> format = fields.String("format");
  if (!format.ok()) return format.status();
  if (*format != kExportFormat) {
    return fields.Error(absl::StrCat(
        "this is not a rustiq event export: its format is \"",
        absl::CHexEscape(*format), "\", expected \"", kExportFormat, "\""));
  }
  absl::StatusOr<uint64_t> version = fields.Unsigned("version");
  if (!version.ok()) return version.status();
  if (*version != static_cast<uint64_t>(kExportVersion)) {
    return fields.Error(absl::StrCat("export format version ", *version,
                                     " is not supported (this reader knows "
                                     "version ",
                                     kExportVersion, ")"));
  }
  absl::StatusOr<std::string> device = fields.String("device");
  if (!device.ok()) return device.status();
  absl::StatusOr<std::string> origin = fields.String("origin");
  if (!origin.ok()) return origin.status();
  absl::StatusOr<std::string> key_name = fields.String("key_name");
  if (!key_name.ok()) return key_name.status();
  absl::StatusOr<uint64_t> from_seq = fields.Unsigned("from_seq");
  if (!from_seq.ok()) return from_seq.status();
  absl::StatusOr<uint64_t> to_seq = fields.Unsigned("to_seq");
  if (!to_seq.ok()) return to_seq.status();
  absl::StatusOr<const Json*> prefix = fields.Find("prefix", true);
  if (!prefix.ok()) return prefix.status();
  if (!(*prefix)->is_array()) {
    return fields.Error("'prefix' must be an array of hex hashes");
  }
  header->prefix.clear();
  for (size_t i = 0; i < (*prefix)->size(); ++i) {
    absl::StatusOr<merkle::Hash> hash =
        fields.HexHash(absl::StrCat("prefix[", i, "]"), (**prefix)[i]);
    if (!hash.ok()) return hash.status();
    header->prefix.push_back(*hash);
  }
  header->device = *std::move(device);
  header->origin = *std::move(origin);
  header->key_name = *std::move(key_name);
  header->from_seq = *from_seq;
  header->to_seq = *to_seq;
  return fields.Finish();
}

absl::Status ParseTreeHead(FieldReader& fields, v1::TreeHead* head) {
  absl::StatusOr<uint64_t> size = fields.Unsigned("size");
  if (!size.ok()) return size.status();
  fields.set_what(absl::StrCat("tree_head line (size ", *size, ")"));
  absl::StatusOr<const Json*> root = fields.Find("root", true);
  if (!root.ok()) return root.status();
  absl::StatusOr<merkle::Hash> root_hash = fields.HexHash("root", **root);
  if (!root_hash.ok()) return root_hash.status();
  absl::StatusOr<int64_t> time = fields.Time("time");
  if (!time.ok()) return time.status();
  absl::StatusOr<uint64_t> key_version = fields.Unsigned("key_version");
  if (!key_version.ok()) return key_version.status();
  if (*key_version > std::numeric_limits<uint32_t>::max()) {
    return fields.Error("'key_version' must be below 2^32");
  }
  absl::StatusOr<std::string> checkpoint = fields.String("checkpoint");
  if (!checkpoint.ok()) return checkpoint.status();
  head->set_size(*size);
  head->set_root_hash(std::string(merkle::AsBytes(*root_hash)));
  head->set_time_unix_nanos(*time);
  head->set_key_version(static_cast<uint32_t>(*key_version));
  head->set_checkpoint(*std::move(checkpoint));
  return fields.Finish();
}

absl::Status ParseEvent(FieldReader& fields, ExportEvent* event) {
  ExportEventColumns& columns = event->columns;
  absl::StatusOr<uint64_t> seq = fields.Unsigned("seq");
  if (!seq.ok()) return seq.status();
  columns.seq = *seq;
  fields.set_what(absl::StrCat("event line (seq ", *seq, ")"));
  absl::StatusOr<int64_t> time = fields.Time("time");
  if (!time.ok()) return time.status();
  columns.time_unix_nanos = *time;
  absl::StatusOr<std::string> source = fields.String("source");
  if (!source.ok()) return source.status();
  columns.source = *std::move(source);
  absl::StatusOr<std::string> actor = fields.String("actor");
  if (!actor.ok()) return actor.status();
  columns.actor = *std::move(actor);
  absl::StatusOr<int64_t> category =
      fields.EnumValue("category", &CategoryFromName, CategoryNames());
  if (!category.ok()) return category.status();
  columns.category = *category;
  absl::StatusOr<int64_t> outcome =
      fields.EnumValue("outcome", &OutcomeFromName, OutcomeNames());
  if (!outcome.ok()) return outcome.status();
  columns.outcome = *outcome;
  absl::StatusOr<int64_t> severity =
      fields.EnumValue("severity", &SeverityFromName, SeverityNames());
  if (!severity.ok()) return severity.status();
  columns.severity = *severity;

  absl::StatusOr<const Json*> action = fields.Find("action", false);
  if (!action.ok()) return action.status();
  event->action.clear();
  if (*action != nullptr) {
    if (!(*action)->is_string())
      return fields.Error("'action' must be a string");
    event->action = (*action)->get<std::string>();
  }
  absl::StatusOr<const Json*> attributes = fields.Find("attributes", false);
  if (!attributes.ok()) return attributes.status();
  event->attributes.clear();
  if (*attributes != nullptr) {
    if (!(*attributes)->is_object()) {
      return fields.Error("'attributes' must be an object of strings");
    }
    for (auto it = (*attributes)->begin(); it != (*attributes)->end(); ++it) {
      if (!it.value().is_string()) {
        return fields.Error(absl::StrCat(
            "attribute '", absl::CHexEscape(it.key()), "' must be a string"));
      }
      event->attributes[it.key()] = it.value().get<std::string>();
    }
  }

  absl::StatusOr<std::string> entry = fields.String("entry");
  if (!entry.ok()) return entry.status();
  absl::StatusOr<std::string> entry_bytes = merkle::Base64DecodeStrict(*entry);
  if (!entry_bytes.ok()) {
    return fields.Error(
        absl::StrCat("'entry': ", entry_bytes.status().message()));
  }
  event->entry = *std::move(entry_bytes);
  absl::StatusOr<const Json*> leaf = fields.Find("leaf", false);
  if (!leaf.ok()) return leaf.status();
  event->leaf.reset();
  if (*leaf != nullptr) {
    absl::StatusOr<merkle::Hash> hash = fields.HexHash("leaf", **leaf);
    if (!hash.ok()) return hash.status();
    event->leaf = *hash;
  }
  return fields.Finish();
}

absl::Status ParseEnd(FieldReader& fields, ExportEnd* end) {
  absl::StatusOr<uint64_t> events = fields.Unsigned("events");
  if (!events.ok()) return events.status();
  absl::StatusOr<uint64_t> tree_heads = fields.Unsigned("tree_heads");
  if (!tree_heads.ok()) return tree_heads.status();
  end->events = *events;
  end->tree_heads = *tree_heads;
  return fields.Finish();
}

// Digits [pos, pos + count) of `text` as a number; false if any is not one.
bool ReadDigits(absl::string_view text, size_t pos, size_t count, int* out) {
  if (pos + count > text.size()) return false;
  int value = 0;
  for (size_t i = pos; i < pos + count; ++i) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(text[i]))) return false;
    value = value * 10 + (text[i] - '0');
  }
  *out = value;
  return true;
}

bool ExpectChar(absl::string_view text, size_t pos, char c) {
  return pos < text.size() && text[pos] == c;
}

}  // namespace

std::string HeaderLine(const ExportHeader& header) {
  Json prefix = Json::array();
  for (const merkle::Hash& hash : header.prefix) {
    prefix.push_back(merkle::ToHex(hash));
  }
  Json line = Json::object();
  line["type"] = "header";
  line["format"] = kExportFormat;
  line["version"] = kExportVersion;
  line["device"] = header.device;
  line["origin"] = header.origin;
  line["key_name"] = header.key_name;
  line["from_seq"] = header.from_seq;
  line["to_seq"] = header.to_seq;
  line["prefix"] = std::move(prefix);
  return Dump(line);
}

std::string TreeHeadLine(const v1::TreeHead& head) {
  Json line = Json::object();
  line["type"] = "tree_head";
  line["size"] = head.size();
  // A stored root of the wrong length is shown as it is; the reader refuses
  // it.
  line["root"] = absl::BytesToHexString(head.root_hash());
  line["time"] = FormatTime(head.time_unix_nanos());
  line["key_version"] = head.key_version();
  line["checkpoint"] = head.checkpoint();
  return Dump(line);
}

std::string EventLine(const ExportEventColumns& columns,
                      const v1::Event* entry_event, absl::string_view entry,
                      const std::optional<merkle::Hash>& leaf) {
  Json line = Json::object();
  line["type"] = "event";
  line["seq"] = columns.seq;
  line["time"] = FormatTime(columns.time_unix_nanos);
  line["source"] = columns.source;
  line["actor"] = columns.actor;
  line["category"] = EnumJson<v1::EventCategory>(
      columns.category, &v1::EventCategory_IsValid, &CategoryName);
  if (entry_event != nullptr) line["action"] = entry_event->action();
  line["outcome"] = EnumJson<v1::EventOutcome>(
      columns.outcome, &v1::EventOutcome_IsValid, &OutcomeName);
  line["severity"] = EnumJson<v1::EventSeverity>(
      columns.severity, &v1::EventSeverity_IsValid, &SeverityName);
  if (entry_event != nullptr) {
    // Sorted by key (the entry's order already, but a JSON object must not
    // repeat a key whatever the entry holds).
    std::map<std::string, std::string> sorted;
    for (const v1::EventAttribute& attribute : entry_event->attributes()) {
      sorted.emplace(attribute.key(), attribute.value());
    }
    Json attributes = Json::object();
    for (const auto& [key, value] : sorted) attributes[key] = value;
    line["attributes"] = std::move(attributes);
  }
  line["entry"] = merkle::Base64Encode(entry);
  if (leaf.has_value()) line["leaf"] = merkle::ToHex(*leaf);
  return Dump(line);
}

std::string EndLine(const ExportEnd& end) {
  Json line = Json::object();
  line["type"] = "end";
  line["events"] = end.events;
  line["tree_heads"] = end.tree_heads;
  return Dump(line);
}

absl::StatusOr<ExportLine> ParseExportLine(absl::string_view line) {
  if (line.empty()) return absl::InvalidArgumentError("the line is empty");
  try {
    // Duplicate keys are refused: a reader that took the first value and
    // one that took the last would otherwise see different files.
    std::vector<std::set<std::string>> keys_by_depth;
    std::string duplicate;
    Json::parser_callback_t on_event = [&](int /*depth*/,
                                           Json::parse_event_t event,
                                           Json& parsed) {
      switch (event) {
        case Json::parse_event_t::object_start:
          keys_by_depth.emplace_back();
          break;
        case Json::parse_event_t::object_end:
          if (!keys_by_depth.empty()) keys_by_depth.pop_back();
          break;
        case Json::parse_event_t::key:
          if (!keys_by_depth.empty() && parsed.is_string() &&
              !keys_by_depth.back().insert(parsed.get<std::string>()).second &&
              duplicate.empty()) {
            duplicate = parsed.get<std::string>();
          }
          break;
        default:
          break;
      }
      return true;
    };
    const Json json = Json::parse(line.begin(), line.end(), on_event);
    if (!duplicate.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "the field '", absl::CHexEscape(duplicate), "' appears twice"));
    }
    if (!json.is_object()) {
      return absl::InvalidArgumentError("the line is not a JSON object");
    }
    auto type = json.find("type");
    if (type == json.end() || !type->is_string()) {
      return absl::InvalidArgumentError(
          "the line has no 'type' (header, tree_head, event or end)");
    }
    const std::string type_name = type->get<std::string>();
    ExportLine parsed;
    FieldReader fields(json, absl::StrCat(type_name, " line"));
    (void)fields.Find("type", true);
    absl::Status status;
    if (type_name == "header") {
      parsed.type = ExportLine::Type::kHeader;
      status = ParseHeader(fields, &parsed.header);
    } else if (type_name == "tree_head") {
      parsed.type = ExportLine::Type::kTreeHead;
      status = ParseTreeHead(fields, &parsed.tree_head);
    } else if (type_name == "event") {
      parsed.type = ExportLine::Type::kEvent;
      status = ParseEvent(fields, &parsed.event);
    } else if (type_name == "end") {
      parsed.type = ExportLine::Type::kEnd;
      status = ParseEnd(fields, &parsed.end);
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown line type \"", absl::CHexEscape(type_name),
                       "\" (expected header, tree_head, event or end)"));
    }
    if (!status.ok()) return status;
    return parsed;
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("the line is not valid JSON: ", JsonErrorText(e)));
  }
}

std::string FormatTime(int64_t unix_nanos) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E9SZ",
                          absl::FromUnixNanos(unix_nanos), absl::UTCTimeZone());
}

absl::StatusOr<int64_t> ParseTime(absl::string_view rfc3339) {
  // YYYY-MM-DDTHH:MM:SS[.F{1,9}](Z|+HH:MM|-HH:MM): RFC 3339's date-time
  // with an upper-case 'T' and 'Z', as FormatTime writes it (which always
  // writes 9 digits and 'Z').
  const auto refuse = [&](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", absl::CHexEscape(rfc3339),
                     "\" is not an RFC 3339 time like "
                     "2026-12-01T22:00:00.123456789Z: ",
                     why));
  };
  int year, month, day, hour, minute, second;
  if (!ReadDigits(rfc3339, 0, 4, &year) || !ExpectChar(rfc3339, 4, '-') ||
      !ReadDigits(rfc3339, 5, 2, &month) || !ExpectChar(rfc3339, 7, '-') ||
      !ReadDigits(rfc3339, 8, 2, &day)) {
    return refuse("the date is not YYYY-MM-DD");
  }
  if (!ExpectChar(rfc3339, 10, 'T')) {
    return refuse("the date is not followed by 'T'");
  }
  if (!ReadDigits(rfc3339, 11, 2, &hour) || !ExpectChar(rfc3339, 13, ':') ||
      !ReadDigits(rfc3339, 14, 2, &minute) || !ExpectChar(rfc3339, 16, ':') ||
      !ReadDigits(rfc3339, 17, 2, &second)) {
    return refuse("the time of day is not HH:MM:SS");
  }
  size_t pos = 19;
  int64_t fraction = 0;
  if (ExpectChar(rfc3339, pos, '.')) {
    ++pos;
    size_t digits = 0;
    while (pos < rfc3339.size() &&
           absl::ascii_isdigit(static_cast<unsigned char>(rfc3339[pos]))) {
      if (++digits > 9) {
        return refuse("more than 9 fractional digits (nanoseconds)");
      }
      fraction = fraction * 10 + (rfc3339[pos] - '0');
      ++pos;
    }
    if (digits == 0) return refuse("no digits after the '.'");
    for (size_t i = digits; i < 9; ++i) fraction *= 10;
  }
  int offset_seconds = 0;
  if (ExpectChar(rfc3339, pos, 'Z')) {
    ++pos;
  } else if (ExpectChar(rfc3339, pos, '+') || ExpectChar(rfc3339, pos, '-')) {
    const int sign = rfc3339[pos] == '-' ? -1 : 1;
    int offset_hours, offset_minutes;
    if (!ReadDigits(rfc3339, pos + 1, 2, &offset_hours) ||
        !ExpectChar(rfc3339, pos + 3, ':') ||
        !ReadDigits(rfc3339, pos + 4, 2, &offset_minutes)) {
      return refuse("the UTC offset is not +HH:MM or -HH:MM");
    }
    if (offset_hours > 23 || offset_minutes > 59) {
      return refuse("the UTC offset is out of range");
    }
    offset_seconds = sign * (offset_hours * 3600 + offset_minutes * 60);
    pos += 6;
  } else {
    return refuse("no time zone ('Z' or +HH:MM) after the seconds");
  }
  if (pos != rfc3339.size()) return refuse("something follows the time zone");
  if (month < 1 || month > 12) return refuse("the month is out of range");
  if (hour > 23 || minute > 59)
    return refuse("the time of day is out of range");
  if (second > 59) {
    return refuse("the seconds are out of range (leap seconds are not used)");
  }
  const absl::CivilSecond civil(year, month, day, hour, minute, second);
  if (civil.day() != day) {
    return refuse("the day does not exist in that month");
  }
  const int64_t seconds =
      absl::ToUnixSeconds(absl::FromCivil(civil, absl::UTCTimeZone())) -
      offset_seconds;
  // seconds * 1e9 + fraction, without overflowing on the way for times
  // just inside the range (the fraction is < 1e9, so borrow one second).
  int64_t whole = seconds;
  int64_t nanos = fraction;
  if (whole < 0 && nanos > 0) {
    whole += 1;
    nanos -= kNanosPerSecond;
  }
  int64_t result;
  if (__builtin_mul_overflow(whole, kNanosPerSecond, &result) ||
      __builtin_add_overflow(result, nanos, &result)) {
    return refuse(
        "outside the range of the log's clock (1677-09-21T00:12:43.145224192Z "
        "to 2262-04-11T23:47:16.854775807Z)");
  }
  return result;
}

}  // namespace rustiq::events
