// Showing untrusted text (a peer's certificate field, a method path, a config
// value) in an error message or a log field: printable ASCII is kept, every
// other byte and the quote and backslash become \xNN, and long input is cut,
// so the result is always one short line that cannot forge another.
#ifndef RUSTIQ_COMMON_LOGGING_ESCAPE_H_
#define RUSTIQ_COMMON_LOGGING_ESCAPE_H_

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"

namespace rustiq::log {

// At most `max_chars` input bytes are shown; "..." marks a cut.
std::string EscapeUntrusted(absl::string_view text, size_t max_chars);

}  // namespace rustiq::log

#endif  // RUSTIQ_COMMON_LOGGING_ESCAPE_H_
