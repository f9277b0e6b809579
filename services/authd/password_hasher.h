// Passwords at rest: argon2id (RFC 9106) through libargon2, stored as PHC
// strings ("$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>"), so that every
// stored hash carries the parameters it was made with and can be upgraded
// at the next successful login (NeedsRehash). ETSI EN 303 645 5.1-4.
//
// Thread-safety: every method is const and may be called from any number of
// threads at once; each call allocates its own argon2 memory (memory_kib
// KiB), so the caller bounds how many run concurrently.
#ifndef RUSTIQ_SERVICES_AUTHD_PASSWORD_HASHER_H_
#define RUSTIQ_SERVICES_AUTHD_PASSWORD_HASHER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace rustiq::authd {

// The longest password accepted, in bytes. Longer ones are refused before
// any hashing, so a megabyte "password" costs nothing (no hashing DoS).
inline constexpr size_t kMaxPasswordBytes = 256;

// argon2id cost parameters (configuration keys authd.argon2_memory_kib,
// authd.argon2_iterations, authd.argon2_parallelism).
//
// The defaults are OWASP's recommended minimum for argon2id (m=19 MiB, t=2,
// p=1). They suit a gateway-class device (a few hundred MiB of RAM, one to
// four ARM cores): a login costs ~19 MiB for tens of milliseconds on one
// core, which a person does not notice, while every guess of an offline
// attacker costs the same memory, which defeats GPU and ASIC parallelism.
// Online guessing is bounded separately by the login throttle. p=1 keeps a
// login on the calling thread (libargon2 starts threads when p > 1, which
// authd's seccomp policy would then have to allow).
struct Argon2Params {
  uint32_t memory_kib = 19456;
  uint32_t iterations = 2;
  uint32_t parallelism = 1;
};

// Bounds: memory 8 MiB..1 GiB (8192..1048576 KiB), iterations 1..10,
// parallelism 1..4. INVALID_ARGUMENT naming the configuration key.
absl::Status ValidateParams(const Argon2Params& params);

class PasswordHasher {
 public:
  // Validates the parameters and makes the dummy hash (one argon2id run).
  static absl::StatusOr<PasswordHasher> Create(const Argon2Params& params);

  // A PHC string with a fresh 16-byte random salt and a 32-byte hash.
  // INVALID_ARGUMENT for an empty password or one longer than
  // kMaxPasswordBytes (no hashing is done), INTERNAL when argon2 fails.
  absl::StatusOr<std::string> Hash(absl::string_view password) const;

  // Whether `password` matches `encoded`, compared in constant time by
  // libargon2. A password longer than kMaxPasswordBytes matches nothing
  // (false, without hashing). DATA_LOSS when `encoded` is not a well-formed
  // argon2id PHC string within the bounds of ValidateParams (the message
  // says what is wrong, never the string itself); INTERNAL when argon2
  // fails.
  absl::StatusOr<bool> Verify(absl::string_view encoded,
                              absl::string_view password) const;

  // True when `encoded` was made with other parameters (or salt or hash
  // length, or is not parseable): hash the password again after a
  // successful Verify.
  bool NeedsRehash(absl::string_view encoded) const;

  // The work of a Verify against a hash made at construction, for a user
  // that does not exist: an unknown user costs the same time as a wrong
  // password, so the answer's timing does not tell which it was.
  void VerifyDummy(absl::string_view password) const;

  const Argon2Params& params() const { return params_; }

 private:
  PasswordHasher(const Argon2Params& params, std::string dummy_encoded)
      : params_(params), dummy_encoded_(std::move(dummy_encoded)) {}

  Argon2Params params_;
  std::string dummy_encoded_;  // the hash of random bytes nobody knows
};

}  // namespace rustiq::authd

#endif  // RUSTIQ_SERVICES_AUTHD_PASSWORD_HASHER_H_
