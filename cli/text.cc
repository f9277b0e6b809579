#include "cli/text.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/logging/escape.h"

namespace rustiq::cli {

std::string Shown(absl::string_view text, size_t max_chars) {
  return log::EscapeUntrusted(text, max_chars);
}

std::string TimeText(absl::Time time) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", time, absl::UTCTimeZone());
}

std::string TimeText(int64_t unix_seconds) {
  return TimeText(absl::FromUnixSeconds(unix_seconds));
}

std::string ListText(
    const google::protobuf::RepeatedPtrField<std::string>& names) {
  if (names.empty()) return "none";
  std::vector<std::string> shown;
  for (const std::string& name : names) shown.push_back(Shown(name));
  return absl::StrJoin(shown, ", ");
}

nlohmann::json ListJson(
    const google::protobuf::RepeatedPtrField<std::string>& names) {
  return nlohmann::json(std::vector<std::string>(names.begin(), names.end()));
}

std::string TableText(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width(rows[0].size(), 0);
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) {
      width[i] = std::max(width[i], row[i].size());
    }
  }
  std::vector<std::string> lines;
  lines.reserve(rows.size());
  for (const auto& row : rows) lines.push_back(RowText(row, width));
  return absl::StrJoin(lines, "\n");
}

std::string RowText(const std::vector<std::string>& row,
                    const std::vector<size_t>& width) {
  std::string line;
  for (size_t i = 0; i < row.size(); ++i) {
    absl::StrAppend(&line, row[i]);
    if (i + 1 < row.size() && row[i].size() < width[i] + 2) {
      line.append(width[i] + 2 - row[i].size(), ' ');
    } else if (i + 1 < row.size()) {
      line.push_back(' ');
    }
  }
  while (!line.empty() && line.back() == ' ') line.pop_back();
  return line;
}

}  // namespace rustiq::cli
