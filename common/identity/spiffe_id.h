// SPIFFE-style identities of rustiq daemons and clients.
//
// Every certificate on the device carries exactly one URI SAN of the form
//   spiffe://<trust-domain>/<kind>/<name>[/<more>...]
// where the trust domain is the device ID. rustiq is stricter than the SPIFFE
// specification so that two spellings can never name the same caller:
//   - trust domain: 1..255 chars of [a-z0-9.-_], no leading/trailing dot;
//   - path: 2..8 segments of 1..64 chars of [a-z0-9.-_] each, no "." or ".."
//     segment, no uppercase, no percent-encoding, no empty segment, no query
//     or fragment, and the first segment is "svc" or "client";
//   - the whole ID is at most 2048 bytes and contains no NUL.
#ifndef RUSTIQ_COMMON_IDENTITY_SPIFFE_ID_H_
#define RUSTIQ_COMMON_IDENTITY_SPIFFE_ID_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace rustiq::identity {

inline constexpr size_t kMaxSpiffeIdLength = 2048;
inline constexpr size_t kMaxTrustDomainLength = 255;
inline constexpr size_t kMaxSegmentLength = 64;
inline constexpr size_t kMaxSegments = 8;

class SpiffeId {
 public:
  // Parses a full URI ("spiffe://dev-1/svc/keyd").
  static absl::StatusOr<SpiffeId> Parse(absl::string_view uri);
  // Builds an ID from a trust domain and a caller path ("svc/keyd").
  static absl::StatusOr<SpiffeId> FromParts(absl::string_view trust_domain,
                                            absl::string_view path);
  // Convenience for the daemons: spiffe://<td>/svc/<daemon>.
  static absl::StatusOr<SpiffeId> ForService(absl::string_view trust_domain,
                                             absl::string_view daemon);
  static absl::StatusOr<SpiffeId> ForClient(absl::string_view trust_domain,
                                            absl::string_view client);

  const std::string& trust_domain() const { return trust_domain_; }
  // The caller ID used in authorization declarations: "svc/keyd".
  const std::string& path() const { return path_; }
  std::string ToUri() const {
    return "spiffe://" + trust_domain_ + "/" + path_;
  }

  bool operator==(const SpiffeId&) const = default;

 private:
  SpiffeId(std::string trust_domain, std::string path)
      : trust_domain_(std::move(trust_domain)), path_(std::move(path)) {}
  std::string trust_domain_;
  std::string path_;
};

// Validates a trust domain (the device ID) on its own.
absl::Status ValidateTrustDomain(absl::string_view trust_domain);
// Validates a caller path ("svc/keyd") on its own.
absl::Status ValidateCallerPath(absl::string_view path);

}  // namespace rustiq::identity

#endif  // RUSTIQ_COMMON_IDENTITY_SPIFFE_ID_H_
