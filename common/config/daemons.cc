#include "common/config/daemons.h"

#include "absl/strings/str_cat.h"

namespace rustiq::config {

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
