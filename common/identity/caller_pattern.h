// Caller patterns of authorization declarations ("svc/supervisord",
// "client/*"). A pattern has the grammar of a caller path, except that a
// segment may be exactly "*", which matches exactly one segment. There is no
// other wildcard: "client/*" matches "client/a" but not "client/a/b",
// "client" or "svc/a"; "*" inside a segment ("client/a*") is refused.
#ifndef RUSTIQ_COMMON_IDENTITY_CALLER_PATTERN_H_
#define RUSTIQ_COMMON_IDENTITY_CALLER_PATTERN_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace rustiq::identity {

class CallerPattern {
 public:
  static absl::StatusOr<CallerPattern> Parse(absl::string_view pattern);

  // True when `caller_path` (already validated, e.g. SpiffeId::path()) matches.
  bool Matches(absl::string_view caller_path) const;
  const std::string& text() const { return text_; }

 private:
  explicit CallerPattern(std::string text, std::vector<std::string> segments)
      : text_(std::move(text)), segments_(std::move(segments)) {}
  std::string text_;
  std::vector<std::string> segments_;
};

}  // namespace rustiq::identity

#endif  // RUSTIQ_COMMON_IDENTITY_CALLER_PATTERN_H_
