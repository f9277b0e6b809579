// The password policy of rustiq-authd (ETSI EN 303 645 5.1-1, 5.1-2; NIST
// SP 800-63B 5.1.1.2): length over composition rules, and a refusal of the
// passwords an attacker tries first (well-known ones, their leetspeak and
// "2024!" variants, the user's own name, keyboard runs). Also the random
// initial credentials that replace any default password.
#ifndef RUSTIQ_SERVICES_AUTHD_PASSWORD_POLICY_H_
#define RUSTIQ_SERVICES_AUTHD_PASSWORD_POLICY_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace rustiq::authd {

struct PasswordPolicyOptions {
  // In Unicode code points (an emoji counts as one), not bytes.
  uint32_t min_length = 12;
};

// OK, or INVALID_ARGUMENT saying which rule failed and what to do instead
// (never echoing the password). A new password must be:
//   - 1..256 bytes of valid UTF-8, without NUL or other control characters;
//   - at least options.min_length code points;
//   - not the user name and not containing it, ignoring case (names of
//     fewer than 3 characters are only compared whole);
//   - not a well-known password (policies/authd/common-passwords.txt), also
//     after lowercasing, after stripping trailing digits, punctuation and
//     spaces, and after undoing leetspeak (0->o 1->i/l 3->e 4->a 5->s @->a
//     $->s), so "P@ssw0rd2024!" is refused;
//   - not one character or a short group of up to 3 repeated, and not a
//     run of the alphabet, of digits or of a keyboard row or column
//     (forwards or backwards).
// `user_name` may be empty (no name check).
absl::Status CheckNewPassword(absl::string_view password,
                              absl::string_view user_name,
                              const PasswordPolicyOptions& options = {});

// A unique random initial credential (ETSI EN 303 645 5.1-1): 20 characters
// from a 32-letter alphabet without look-alikes (no 0 O 1 l I), in 4 groups
// of 5 joined by '-', e.g. "k7qzm-3hwta-xe9vr-p2nbd": 100 bits from
// RAND_bytes without modulo bias. It passes CheckNewPassword for
// `user_name` (drawn again in the vanishing case that it contains the name).
// Aborts if the random generator fails (nothing sensible can follow).
std::string RandomInitialPassword(absl::string_view user_name = {});

// policies/authd/common-passwords.txt as compiled into rustiq-authd.
absl::string_view CompiledCommonPasswords();

}  // namespace rustiq::authd

#endif  // RUSTIQ_SERVICES_AUTHD_PASSWORD_POLICY_H_
