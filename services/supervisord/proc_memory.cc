#include "services/supervisord/proc_memory.h"

#include <limits>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "services/supervisord/proc_stat.h"

namespace rustiq::supervisord {
namespace {

// "   1234 kB" -> 1234 * 1024.
absl::StatusOr<uint64_t> ParseKilobytes(absl::string_view field,
                                        absl::string_view value) {
  value = absl::StripAsciiWhitespace(value);
  if (!absl::ConsumeSuffix(&value, "kB")) {
    return absl::InvalidArgumentError(absl::StrCat(
        "smaps_rollup: ", field, " is not in kB: \"", value, "\""));
  }
  value = absl::StripTrailingAsciiWhitespace(value);
  uint64_t kilobytes = 0;
  if (!absl::SimpleAtoi(value, &kilobytes) ||
      kilobytes > std::numeric_limits<uint64_t>::max() / 1024) {
    return absl::InvalidArgumentError(absl::StrCat(
        "smaps_rollup: ", field, " is not a number: \"", value, "\""));
  }
  return kilobytes * 1024;
}

}  // namespace

absl::StatusOr<Memory> ParseSmapsRollup(absl::string_view text) {
  std::optional<uint64_t> rss;
  std::optional<uint64_t> pss;
  std::optional<uint64_t> pss_anon;
  std::optional<uint64_t> pss_file;
  const struct {
    absl::string_view prefix;  // the exact field name and its colon
    std::optional<uint64_t>* target;
  } kFields[] = {{"Rss:", &rss},
                 {"Pss:", &pss},
                 {"Pss_Anon:", &pss_anon},
                 {"Pss_File:", &pss_file}};
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    for (const auto& field : kFields) {
      if (!absl::StartsWith(line, field.prefix)) continue;
      absl::string_view name = field.prefix;
      name.remove_suffix(1);
      absl::StatusOr<uint64_t> bytes =
          ParseKilobytes(name, line.substr(field.prefix.size()));
      if (!bytes.ok()) return bytes.status();
      *field.target = *bytes;
      break;
    }
  }
  if (!rss.has_value() || !pss.has_value()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "smaps_rollup has no ", rss.has_value() ? "Pss:" : "Rss:", " line"));
  }
  return Memory{.rss_bytes = *rss,
                .pss_bytes = *pss,
                .pss_anon_bytes = pss_anon.value_or(0),
                .pss_file_bytes = pss_file.value_or(0)};
}

absl::StatusOr<Memory> ReadMemory(pid_t pid) {
  return ReadProcFileOf(pid, "smaps_rollup", &ParseSmapsRollup);
}

}  // namespace rustiq::supervisord
