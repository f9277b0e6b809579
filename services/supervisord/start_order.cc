#include "services/supervisord/start_order.h"

#include <algorithm>
#include <functional>
#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/config/daemons.h"

namespace rustiq::supervisord {
namespace {

// Rank of a name in the stack's own order; unknown names after, by name.
size_t Rank(const std::string& name) {
  for (size_t i = 0; i < config::kStackDaemons.size(); ++i) {
    if (config::kStackDaemons[i] == name) return i;
  }
  return config::kStackDaemons.size();
}

}  // namespace

absl::StatusOr<std::vector<config::SupervisedDaemon>> StartOrder(
    std::vector<config::SupervisedDaemon> daemons) {
  std::sort(
      daemons.begin(), daemons.end(),
      [](const config::SupervisedDaemon& a, const config::SupervisedDaemon& b) {
        size_t ra = Rank(a.name), rb = Rank(b.name);
        return ra != rb ? ra < rb : a.name < b.name;
      });
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < daemons.size(); ++i) {
    if (!index.emplace(daemons[i].name, i).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("daemon \"", daemons[i].name, "\" is listed twice"));
    }
  }
  for (const config::SupervisedDaemon& d : daemons) {
    for (const std::string& dep : d.after) {
      if (index.count(dep) == 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("daemon \"", d.name, "\" starts after \"", dep,
                         "\", which is not configured"));
      }
    }
  }
  // Depth-first, visiting in the sorted order: 0 new, 1 on the path, 2 done.
  std::vector<int> mark(daemons.size(), 0);
  std::vector<size_t> path;
  std::vector<config::SupervisedDaemon> ordered;
  std::function<absl::Status(size_t)> visit = [&](size_t i) -> absl::Status {
    if (mark[i] == 2) return absl::OkStatus();
    if (mark[i] == 1) {
      std::vector<std::string> cycle;
      auto from = std::find(path.begin(), path.end(), i);
      for (auto it = from; it != path.end(); ++it) {
        cycle.push_back(daemons[*it].name);
      }
      cycle.push_back(daemons[i].name);
      return absl::InvalidArgumentError(absl::StrCat(
          "the daemons' dependencies form a cycle: ",
          absl::StrJoin(cycle, " -> "), " (fix their 'after' lists)"));
    }
    mark[i] = 1;
    path.push_back(i);
    std::vector<size_t> deps;
    for (const std::string& dep : daemons[i].after) deps.push_back(index[dep]);
    std::sort(deps.begin(), deps.end());
    for (size_t dep : deps) {
      if (absl::Status s = visit(dep); !s.ok()) return s;
    }
    path.pop_back();
    mark[i] = 2;
    ordered.push_back(daemons[i]);
    return absl::OkStatus();
  };
  for (size_t i = 0; i < daemons.size(); ++i) {
    if (absl::Status s = visit(i); !s.ok()) return s;
  }
  return ordered;
}

}  // namespace rustiq::supervisord
