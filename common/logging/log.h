// Structured operator logs: one line per record on stderr (the journal takes
// them under systemd), logfmt-style:
//   ts=2026-11-21T23:40:01.123Z level=info daemon=keyd msg="serving"
//   socket=/run/rustiq/keyd.sock
// Values are quoted when needed and control bytes escaped, so a hostile value
// (a caller's certificate field, say) cannot forge a second line. No secret
// is ever passed here: logs are for operators, the event log is the security
// record.
#ifndef RUSTIQ_COMMON_LOGGING_LOG_H_
#define RUSTIQ_COMMON_LOGGING_LOG_H_

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include "absl/strings/string_view.h"

namespace rustiq::log {

enum class Level { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

struct Field {
  Field(absl::string_view k, absl::string_view v) : key(k), value(v) {}
  Field(absl::string_view k, const char* v) : key(k), value(v) {}
  Field(absl::string_view k, const std::string& v) : key(k), value(v) {}
  template <typename Int>
  requires std::is_arithmetic_v<Int> Field(absl::string_view k, Int v)
      : key(k), value(std::to_string(v)) {}
  std::string key;
  std::string value;
};

// Process-wide settings; call once from main before threads start.
void SetDaemonName(absl::string_view daemon);
void SetMinLevel(Level level);
// Parses "debug", "info", "warning", "error".
bool ParseLevel(absl::string_view text, Level* level);

// Formats one record without the trailing newline (exposed for tests).
std::string FormatRecord(Level level, absl::string_view msg,
                         std::initializer_list<Field> fields);
void Write(Level level, absl::string_view msg,
           std::initializer_list<Field> fields = {});

inline void Debug(absl::string_view m, std::initializer_list<Field> f = {}) {
  Write(Level::kDebug, m, f);
}
inline void Info(absl::string_view m, std::initializer_list<Field> f = {}) {
  Write(Level::kInfo, m, f);
}
inline void Warning(absl::string_view m, std::initializer_list<Field> f = {}) {
  Write(Level::kWarning, m, f);
}
inline void Error(absl::string_view m, std::initializer_list<Field> f = {}) {
  Write(Level::kError, m, f);
}

}  // namespace rustiq::log

#endif  // RUSTIQ_COMMON_LOGGING_LOG_H_
