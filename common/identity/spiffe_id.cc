#include "common/identity/spiffe_id.h"

#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "common/logging/escape.h"

namespace rustiq::identity {
namespace {

constexpr absl::string_view kScheme = "spiffe://";

bool IsIdChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '-' || c == '_';
}

// Quotes a hostile string for an error message (one readable line).
std::string Quote(absl::string_view s) {
  return "\"" + log::EscapeUntrusted(s, 80) + "\"";
}

}  // namespace

absl::Status ValidateTrustDomain(absl::string_view td) {
  if (td.empty()) {
    return absl::InvalidArgumentError("trust domain is empty");
  }
  if (td.size() > kMaxTrustDomainLength) {
    return absl::InvalidArgumentError(absl::StrCat(
        "trust domain is longer than ", kMaxTrustDomainLength, " characters"));
  }
  for (char c : td) {
    if (!IsIdChar(c)) {
      return absl::InvalidArgumentError(
          absl::StrCat("trust domain ", Quote(td),
                       " may contain only a-z, 0-9, '.', '-' and '_'"));
    }
  }
  if (td.front() == '.' || td.back() == '.' ||
      td.find("..") != absl::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        "trust domain ", Quote(td), " has an empty label around a dot"));
  }
  return absl::OkStatus();
}

absl::Status ValidateCallerPath(absl::string_view path) {
  if (path.empty()) {
    return absl::InvalidArgumentError("caller path is empty");
  }
  if (path.size() > kMaxSpiffeIdLength) {
    return absl::InvalidArgumentError("caller path is too long");
  }
  std::vector<absl::string_view> segments;
  for (absl::string_view seg :
       absl::StrSplit(absl::string_view(path.data(), path.size()), '/')) {
    segments.emplace_back(seg.data(), seg.size());
  }
  if (segments.size() < 2 || segments.size() > kMaxSegments) {
    return absl::InvalidArgumentError(
        absl::StrCat("caller path ", Quote(path), " must have 2 to ",
                     kMaxSegments, " segments, like \"svc/keyd\""));
  }
  for (absl::string_view seg : segments) {
    if (seg.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("caller path ", Quote(path), " has an empty segment"));
    }
    if (seg.size() > kMaxSegmentLength) {
      return absl::InvalidArgumentError(
          absl::StrCat("caller path ", Quote(path),
                       " has a segment longer than ", kMaxSegmentLength));
    }
    if (seg == "." || seg == "..") {
      return absl::InvalidArgumentError(absl::StrCat(
          "caller path ", Quote(path), " has a '.' or '..' segment"));
    }
    for (char c : seg) {
      if (!IsIdChar(c)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "caller path ", Quote(path),
            " may contain only a-z, 0-9, '.', '-', '_' and '/' separators"));
      }
    }
  }
  if (segments[0] != "svc" && segments[0] != "client") {
    return absl::InvalidArgumentError(
        absl::StrCat("caller path ", Quote(path),
                     " must start with \"svc/\" or \"client/\""));
  }
  return absl::OkStatus();
}

absl::StatusOr<SpiffeId> SpiffeId::Parse(absl::string_view uri) {
  if (uri.size() > kMaxSpiffeIdLength) {
    return absl::InvalidArgumentError(absl::StrCat(
        "SPIFFE ID is longer than ", kMaxSpiffeIdLength, " bytes"));
  }
  if (uri.substr(0, kScheme.size()) != kScheme) {
    return absl::InvalidArgumentError(
        absl::StrCat("identity ", Quote(uri), " is not a spiffe:// URI"));
  }
  absl::string_view rest = uri.substr(kScheme.size());
  size_t slash = rest.find('/');
  if (slash == absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("SPIFFE ID ", Quote(uri),
                     " has no path (expected spiffe://<device>/svc/<name>)"));
  }
  absl::string_view td = rest.substr(0, slash);
  absl::string_view path = rest.substr(slash + 1);
  if (absl::Status s = ValidateTrustDomain(td); !s.ok()) return s;
  if (absl::Status s = ValidateCallerPath(path); !s.ok()) return s;
  return SpiffeId(std::string(td), std::string(path));
}

absl::StatusOr<SpiffeId> SpiffeId::FromParts(absl::string_view trust_domain,
                                             absl::string_view path) {
  if (absl::Status s = ValidateTrustDomain(trust_domain); !s.ok()) return s;
  if (absl::Status s = ValidateCallerPath(path); !s.ok()) return s;
  return SpiffeId(std::string(trust_domain), std::string(path));
}

absl::StatusOr<SpiffeId> SpiffeId::ForService(absl::string_view trust_domain,
                                              absl::string_view daemon) {
  return FromParts(trust_domain, "svc/" + std::string(daemon));
}

absl::StatusOr<SpiffeId> SpiffeId::ForClient(absl::string_view trust_domain,
                                             absl::string_view client) {
  return FromParts(trust_domain, "client/" + std::string(client));
}

}  // namespace rustiq::identity
