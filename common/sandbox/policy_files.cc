#include "common/sandbox/policy_files.h"

#include <set>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/sandbox/privileges.h"

namespace rustiq::sandbox {
namespace {

struct Line {
  int number;
  std::string content;  // without the comment, trimmed
  std::string comment;  // after '#', trimmed
};

std::vector<Line> Lines(absl::string_view text) {
  std::vector<Line> lines;
  int n = 0;
  for (absl::string_view raw : absl::StrSplit(text, '\n')) {
    ++n;
    Line line{n, "", ""};
    size_t hash = raw.find('#');
    absl::string_view body = raw.substr(0, hash);
    if (hash != absl::string_view::npos) {
      line.comment =
          std::string(absl::StripAsciiWhitespace(raw.substr(hash + 1)));
    }
    line.content = std::string(absl::StripAsciiWhitespace(body));
    if (!line.content.empty()) lines.push_back(std::move(line));
  }
  return lines;
}

absl::Status At(absl::string_view origin, int line, absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat(origin, ":", line, ": ", what));
}

}  // namespace

absl::StatusOr<std::vector<std::string>> ParseCapabilitiesFile(
    absl::string_view text, absl::string_view origin) {
  std::vector<std::string> caps;
  std::set<std::string> seen;
  for (const Line& line : Lines(text)) {
    if (line.content.find_first_of(" \t") != std::string::npos) {
      return At(origin, line.number, "one capability per line");
    }
    if (absl::StatusOr<std::vector<int>> parsed =
            ParseCapabilities({line.content});
        !parsed.ok()) {
      return At(origin, line.number, parsed.status().message());
    }
    if (!absl::StartsWith(line.comment, "why:")) {
      return At(origin, line.number,
                absl::StrCat(line.content,
                             " needs a \"# why: ...\" comment saying why the "
                             "daemon needs it"));
    }
    std::string key = absl::AsciiStrToLower(line.content);
    if (!seen.insert(key).second) {
      return At(origin, line.number,
                absl::StrCat(line.content, " is listed twice"));
    }
    caps.push_back(line.content);
  }
  return caps;
}

absl::StatusOr<LandlockRules> ParseLandlockFile(absl::string_view text,
                                                absl::string_view origin,
                                                const PathRoots& roots) {
  LandlockRules rules;
  std::set<std::string> seen;
  std::vector<Line> lines = Lines(text);
  if (lines.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        origin,
        ": no paths; a daemon needs at least its state and runtime "
        "directories"));
  }
  for (const Line& line : lines) {
    std::vector<std::string> f =
        absl::StrSplit(line.content, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    if (f.size() != 2) {
      return At(origin, line.number, "expected \"<ro|rw|exec> <path>\"");
    }
    const std::string& access = f[0];
    std::string path = absl::StrReplaceAll(
        f[1], {{"${config}", roots.config.empty() ? "/config" : roots.config},
               {"${state}", roots.state.empty() ? "/state" : roots.state},
               {"${runtime}", roots.runtime.empty() ? "/run" : roots.runtime},
               {"${daemon}", roots.daemon.empty() ? "daemon" : roots.daemon}});
    if (path.find("${") != std::string::npos) {
      return At(
          origin, line.number,
          absl::StrCat("unknown variable in ", f[1],
                       " (known: ${config} ${state} ${runtime} ${daemon})"));
    }
    if (path.empty() || path[0] != '/' ||
        path.find("/../") != std::string::npos || absl::EndsWith(path, "/..")) {
      return At(origin, line.number,
                absl::StrCat(f[1], " must be an absolute path without \"..\""));
    }
    if (path == "/") {
      return At(origin, line.number, "\"/\" would allow the whole file system");
    }
    if (!seen.insert(path).second) {
      return At(origin, line.number, absl::StrCat(f[1], " is listed twice"));
    }
    if (access == "ro") {
      rules.read_only.push_back(path);
    } else if (access == "rw") {
      rules.read_write.push_back(path);
    } else if (access == "exec") {
      rules.executable.push_back(path);
    } else {
      return At(origin, line.number,
                absl::StrCat("unknown access \"", access,
                             "\" (expected ro, rw or exec)"));
    }
  }
  return rules;
}

}  // namespace rustiq::sandbox
