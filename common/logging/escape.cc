#include "common/logging/escape.h"

#include "absl/strings/str_cat.h"

namespace rustiq::log {

std::string EscapeUntrusted(absl::string_view text, size_t max_chars) {
  std::string out;
  for (char c : text.substr(0, max_chars)) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f && c != '"' && c != '\\') {
      out.push_back(c);
    } else {
      absl::StrAppend(&out, "\\x", absl::Hex(u, absl::kZeroPad2));
    }
  }
  if (text.size() > max_chars) out += "...";
  return out;
}

}  // namespace rustiq::log
