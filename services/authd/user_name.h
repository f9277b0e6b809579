// Account names of rustiq-authd: 1-32 bytes of ^[a-z_][a-z0-9_.-]*$, as
// useradd takes them. ASCII only, so that no two names can look alike (no
// Unicode confusables such as a Cyrillic "а" in "аdmin"), and nothing a
// shell, a path or a log line would read specially.
#ifndef RUSTIQ_SERVICES_AUTHD_USER_NAME_H_
#define RUSTIQ_SERVICES_AUTHD_USER_NAME_H_

#include <cstddef>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace rustiq::authd {

inline constexpr size_t kMaxUserNameBytes = 32;

// OK, or INVALID_ARGUMENT saying what is wrong, with the name shown escaped
// (common/logging/escape.h), so a hostile name cannot forge a log line.
absl::Status ValidateUserName(absl::string_view name);

}  // namespace rustiq::authd

#endif  // RUSTIQ_SERVICES_AUTHD_USER_NAME_H_
