#include "common/identity/caller_pattern.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "common/identity/spiffe_id.h"

namespace rustiq::identity {

absl::StatusOr<CallerPattern> CallerPattern::Parse(absl::string_view pattern) {
  std::vector<std::string> segments =
      absl::StrSplit(absl::string_view(pattern.data(), pattern.size()), '/');
  // Validate the pattern as a path with every "*" replaced by a legal name,
  // so the pattern grammar cannot drift from the ID grammar.
  std::vector<std::string> probe = segments;
  for (std::string& seg : probe) {
    if (seg == "*") seg = "x";
  }
  if (absl::Status s = ValidateCallerPath(absl::StrJoin(probe, "/")); !s.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad caller pattern: ", s.message(),
                     " (a segment may also be exactly \"*\")"));
  }
  if (segments[0] == "*") {
    return absl::InvalidArgumentError(
        "bad caller pattern: the first segment must be \"svc\" or \"client\", "
        "not \"*\"");
  }
  return CallerPattern(std::string(pattern), std::move(segments));
}

bool CallerPattern::Matches(absl::string_view caller_path) const {
  std::vector<absl::string_view> parts = absl::StrSplit(
      absl::string_view(caller_path.data(), caller_path.size()), '/');
  if (parts.size() != segments_.size()) return false;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (parts[i].empty()) return false;
    if (segments_[i] != "*" && segments_[i] != parts[i]) return false;
  }
  return true;
}

}  // namespace rustiq::identity
