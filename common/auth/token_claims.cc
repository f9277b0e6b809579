#include "common/auth/token_claims.h"

#include <openssl/rand.h>

#include <cstdlib>
#include <limits>
#include <set>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/identity/spiffe_id.h"
#include "common/logging/log.h"
#include "nlohmann/json.hpp"

namespace rustiq::auth {
namespace {

using Json = nlohmann::json;

constexpr char kTimeFormat[] = "%Y-%m-%dT%H:%M:%SZ";
constexpr absl::string_view kFooterPrefix = "{\"kid\":\"token-signing:";
constexpr absl::string_view kFooterSuffix = "\"}";
constexpr size_t kMaxFooterBytes = 64;

bool IsLowerDigitOrPunct(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '-';
}

absl::Status Bad(absl::string_view what) {
  return absl::UnauthenticatedError(absl::StrCat("token ", what));
}

absl::StatusOr<std::string> RequireString(const Json& m,
                                          absl::string_view claim) {
  auto it = m.find(std::string(claim));
  if (it == m.end()) {
    return Bad(absl::StrCat("claim \"", claim, "\" is missing"));
  }
  if (!it->is_string()) {
    return Bad(absl::StrCat("claim \"", claim, "\" is not a string"));
  }
  return it->get<std::string>();
}

absl::StatusOr<absl::Time> RequireTime(const Json& m, absl::string_view claim) {
  absl::StatusOr<std::string> text = RequireString(m, claim);
  if (!text.ok()) return text.status();
  absl::Time t;
  if (!ParseTokenTime(*text, &t)) {
    return Bad(absl::StrCat("claim \"", claim,
                            "\" is not an RFC 3339 UTC time "
                            "(YYYY-MM-DDTHH:MM:SSZ)"));
  }
  return t;
}

// The strings of array claim `claim`: at most `max` of them, each valid.
absl::StatusOr<std::vector<std::string>> RequireNames(const Json& m,
                                                      absl::string_view claim,
                                                      size_t max) {
  auto it = m.find(std::string(claim));
  if (it == m.end()) {
    return Bad(absl::StrCat("claim \"", claim, "\" is missing"));
  }
  if (!it->is_array()) {
    return Bad(absl::StrCat("claim \"", claim, "\" is not an array"));
  }
  if (it->size() > max) {
    return Bad(
        absl::StrCat("claim \"", claim, "\" has more than ", max, " entries"));
  }
  std::vector<std::string> out;
  out.reserve(it->size());
  for (const Json& v : *it) {
    if (!v.is_string()) {
      return Bad(absl::StrCat("claim \"", claim, "\" has a non-string entry"));
    }
    std::string name = v.get<std::string>();
    if (!IsValidRoleOrPermission(name)) {
      return Bad(
          absl::StrCat("claim \"", claim, "\" has an entry that is not 1-",
                       kMaxRoleOrPermissionBytes, " bytes of [a-z0-9_.-]"));
    }
    out.push_back(std::move(name));
  }
  return out;
}

absl::Status ValidateForIssue(const rpc::TokenClaims& claims,
                              absl::string_view device_id) {
  if (absl::Status s = identity::ValidateTrustDomain(device_id); !s.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot issue a token: bad device ID: ", s.message()));
  }
  if (!IsValidUserName(claims.subject)) {
    return absl::InvalidArgumentError(
        "cannot issue a token: the user name is not 1-32 bytes of "
        "[a-z0-9_.-] starting with a letter or '_'");
  }
  if (!IsValidTokenId(claims.token_id)) {
    return absl::InvalidArgumentError(
        "cannot issue a token: the token ID is not 32 lowercase hex digits "
        "(use NewTokenId())");
  }
  if (claims.roles.size() > kMaxRoles ||
      claims.permissions.size() > kMaxPermissions) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot issue a token: at most ", kMaxRoles, " roles and ",
                     kMaxPermissions, " permissions fit"));
  }
  for (const auto* list : {&claims.roles, &claims.permissions}) {
    for (const std::string& name : *list) {
      if (!IsValidRoleOrPermission(name)) {
        return absl::InvalidArgumentError(
            absl::StrCat("cannot issue a token: role or permission '",
                         absl::CHexEscape(name), "' is not 1-",
                         kMaxRoleOrPermissionBytes, " bytes of [a-z0-9_.-]"));
      }
    }
  }
  absl::Time earliest = absl::UnixEpoch();
  absl::Time latest = absl::FromCivil(
      absl::CivilSecond(9999, 12, 31, 23, 59, 59), absl::UTCTimeZone());
  for (absl::Time t : {claims.issued, claims.expires}) {
    if (t < earliest || t > latest) {
      return absl::InvalidArgumentError(
          "cannot issue a token: its times must lie in years 1970-9999");
    }
  }
  if (absl::ToUnixSeconds(claims.expires) <=
      absl::ToUnixSeconds(claims.issued)) {
    return absl::InvalidArgumentError(
        "cannot issue a token: it must expire at least a second after it is "
        "issued");
  }
  return absl::OkStatus();
}

}  // namespace

std::string ImplicitAssertion(absl::string_view device_id) {
  return absl::StrCat(kImplicitPrefix, device_id);
}

bool IsValidUserName(absl::string_view name) {
  if (name.empty() || name.size() > kMaxUserNameBytes) return false;
  if (!((name[0] >= 'a' && name[0] <= 'z') || name[0] == '_')) return false;
  for (char c : name) {
    if (!IsLowerDigitOrPunct(c)) return false;
  }
  return true;
}

bool IsValidRoleOrPermission(absl::string_view name) {
  if (name.empty() || name.size() > kMaxRoleOrPermissionBytes) return false;
  for (char c : name) {
    if (!IsLowerDigitOrPunct(c)) return false;
  }
  return true;
}

bool IsValidTokenId(absl::string_view token_id) {
  if (token_id.size() != kTokenIdHexDigits) return false;
  for (char c : token_id) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::string NewTokenId() {
  unsigned char bytes[kTokenIdHexDigits / 2];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) {
    log::Error("the random generator failed; cannot make a token ID");
    std::abort();
  }
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(bytes), sizeof(bytes)));
}

std::string FormatTokenTime(absl::Time t) {
  return absl::FormatTime(kTimeFormat, t, absl::UTCTimeZone());
}

bool ParseTokenTime(absl::string_view text, absl::Time* t) {
  // absl::ParseTime is lenient (spaces, signs, extra digits, Feb 30
  // normalized); fix the shape first, then ask it to round-trip exactly.
  static constexpr absl::string_view kShape = "dddd-dd-ddTdd:dd:ddZ";
  if (text.size() != kShape.size()) return false;
  for (size_t i = 0; i < kShape.size(); ++i) {
    if (kShape[i] == 'd'
            ? !absl::ascii_isdigit(static_cast<unsigned char>(text[i]))
            : text[i] != kShape[i]) {
      return false;
    }
  }
  std::string err;
  absl::Time parsed;
  if (!absl::ParseTime(kTimeFormat, std::string(text), absl::UTCTimeZone(),
                       &parsed, &err)) {
    return false;
  }
  if (FormatTokenTime(parsed) != text) return false;
  *t = parsed;
  return true;
}

absl::StatusOr<std::string> EncodePayload(const rpc::TokenClaims& claims,
                                          absl::string_view device_id) {
  if (absl::Status s = ValidateForIssue(claims, device_id); !s.ok()) return s;
  absl::Time issued = absl::FromUnixSeconds(absl::ToUnixSeconds(claims.issued));
  absl::Time expires =
      absl::FromUnixSeconds(absl::ToUnixSeconds(claims.expires));
  // Every string is ASCII by now, so dump() cannot throw.
  nlohmann::ordered_json m;
  m["iss"] = std::string(device_id);
  m["aud"] = std::string(kAudience);
  m["sub"] = claims.subject;
  m["jti"] = claims.token_id;
  m["iat"] = FormatTokenTime(issued);
  m["nbf"] = FormatTokenTime(issued);
  m["exp"] = FormatTokenTime(expires);
  m["roles"] = claims.roles;
  m["perms"] = claims.permissions;
  return m.dump();
}

absl::StatusOr<rpc::TokenClaims> DecodePayload(absl::string_view json,
                                               absl::string_view device_id,
                                               absl::Time now,
                                               const ClaimsOptions& options) {
  // nlohmann keeps the last of two equal keys; a claim named twice could be
  // read differently by another parser, so it makes the token invalid.
  std::set<std::string> top_level_keys;
  bool duplicate = false;
  Json::parser_callback_t on_event = [&](int depth, Json::parse_event_t event,
                                         Json& parsed) {
    if (event == Json::parse_event_t::key && depth == 1 &&
        !top_level_keys.insert(parsed.get<std::string>()).second) {
      duplicate = true;
    }
    return true;
  };
  Json m = Json::parse(json.data(), json.data() + json.size(), on_event,
                       /*allow_exceptions=*/false);
  if (m.is_discarded()) return Bad("payload is not valid JSON");
  if (!m.is_object()) return Bad("payload is not a JSON object");
  if (duplicate) return Bad("payload names a claim twice");

  absl::StatusOr<std::string> iss = RequireString(m, "iss");
  if (!iss.ok()) return iss.status();
  if (*iss != device_id) {
    return Bad(
        "was issued on another device (its \"iss\" is not this "
        "device's ID)");
  }
  absl::StatusOr<std::string> aud = RequireString(m, "aud");
  if (!aud.ok()) return aud.status();
  if (*aud != kAudience) return Bad("audience (\"aud\") is not rustiq");

  rpc::TokenClaims claims;
  absl::StatusOr<std::string> sub = RequireString(m, "sub");
  if (!sub.ok()) return sub.status();
  if (!IsValidUserName(*sub)) {
    return Bad(
        "claim \"sub\" is not a valid user name (1-32 bytes of "
        "[a-z0-9_.-] starting with a letter or '_')");
  }
  claims.subject = *std::move(sub);
  absl::StatusOr<std::string> jti = RequireString(m, "jti");
  if (!jti.ok()) return jti.status();
  if (!IsValidTokenId(*jti)) {
    return Bad("claim \"jti\" is not 32 lowercase hex digits");
  }
  claims.token_id = *std::move(jti);

  absl::StatusOr<absl::Time> iat = RequireTime(m, "iat");
  if (!iat.ok()) return iat.status();
  absl::StatusOr<absl::Time> nbf = RequireTime(m, "nbf");
  if (!nbf.ok()) return nbf.status();
  absl::StatusOr<absl::Time> exp = RequireTime(m, "exp");
  if (!exp.ok()) return exp.status();

  absl::StatusOr<std::vector<std::string>> roles =
      RequireNames(m, "roles", kMaxRoles);
  if (!roles.ok()) return roles.status();
  absl::StatusOr<std::vector<std::string>> perms =
      RequireNames(m, "perms", kMaxPermissions);
  if (!perms.ok()) return perms.status();
  claims.roles = *std::move(roles);
  claims.permissions = *std::move(perms);
  claims.issued = *iat;
  claims.expires = *exp;

  absl::Time latest_start = now + options.clock_skew;
  if (*iat > latest_start) {
    return Bad(absl::StrCat("was issued in the future (", FormatTokenTime(*iat),
                            "); this device's clock may be wrong"));
  }
  if (*nbf > latest_start) {
    return Bad(absl::StrCat("is not valid before ", FormatTokenTime(*nbf),
                            "; this device's clock may be wrong"));
  }
  if (*exp <= *iat) return Bad("expires before it was issued");
  if (*exp - *iat > options.max_lifetime) {
    return Bad(absl::StrCat("lifetime (", absl::FormatDuration(*exp - *iat),
                            ") is longer than the ",
                            absl::FormatDuration(options.max_lifetime),
                            " allowed"));
  }
  if (absl::Status s = CheckNotExpired(claims, now); !s.ok()) return s;
  return claims;
}

absl::Status CheckNotExpired(const rpc::TokenClaims& claims, absl::Time now) {
  if (now >= claims.expires) {
    return Bad(absl::StrCat("expired at ", FormatTokenTime(claims.expires),
                            "; log in again ('rustiqctl login')"));
  }
  return absl::OkStatus();
}

std::string KeyIdFooter(uint32_t version) {
  return absl::StrCat(kFooterPrefix, version, kFooterSuffix);
}

absl::StatusOr<uint32_t> ParseKeyIdFooter(absl::string_view footer) {
  absl::Status bad = absl::UnauthenticatedError(
      "token footer is not {\"kid\":\"token-signing:<version>\"}");
  if (footer.size() > kMaxFooterBytes) return bad;
  if (footer.substr(0, kFooterPrefix.size()) != kFooterPrefix) return bad;
  footer.remove_prefix(kFooterPrefix.size());
  if (footer.size() < kFooterSuffix.size() ||
      footer.substr(footer.size() - kFooterSuffix.size()) != kFooterSuffix) {
    return bad;
  }
  footer.remove_suffix(kFooterSuffix.size());
  // 1-10 digits, no sign, no leading zero, within uint32.
  if (footer.empty() || footer.size() > 10 || footer[0] == '0') return bad;
  uint64_t version = 0;
  for (char c : footer) {
    if (c < '0' || c > '9') return bad;
    version = version * 10 + static_cast<uint64_t>(c - '0');
  }
  if (version > std::numeric_limits<uint32_t>::max()) return bad;
  return static_cast<uint32_t>(version);
}

}  // namespace rustiq::auth
