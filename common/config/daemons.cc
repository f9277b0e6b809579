#include "common/config/daemons.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace rustiq::config {

absl::Status ValidateStackName(absl::string_view v) {
  constexpr size_t kMaxNameBytes = 32;
  bool ok = !v.empty() && v.size() <= kMaxNameBytes &&
            (absl::ascii_islower(v[0]) || v[0] == '_');
  for (char c : v) {
    ok = ok && (absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '-' ||
                c == '_');
  }
  if (!ok) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a name of 1-", kMaxNameBytes,
        " characters from [a-z0-9_-], starting with a letter or '_'"));
  }
  return absl::OkStatus();
}

std::vector<SupervisedDaemon> StackDaemonsConfig(const std::string& bin_dir,
                                                 bool own_users) {
  std::vector<SupervisedDaemon> out;
  for (const StackDaemon& d : kSupervisedDaemons) {
    SupervisedDaemon s;
    s.name = std::string(d.name);
    s.binary = absl::StrCat(bin_dir, "/rustiq-", d.name);
    for (absl::string_view dep : d.after) {
      if (!dep.empty()) s.after.emplace_back(dep);
    }
    if (own_users) {
      s.user = absl::StrCat(kDaemonUserPrefix, d.name);
      s.group = std::string(kStackGroup);
    }
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace rustiq::config
