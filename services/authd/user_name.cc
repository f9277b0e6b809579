#include "services/authd/user_name.h"

#include "absl/strings/str_cat.h"
#include "common/logging/escape.h"

namespace rustiq::authd {
namespace {

constexpr char kRule[] =
    "a user name is 1-32 characters of a-z 0-9 _ . -, starting with a-z or _";

bool IsFirst(char c) { return (c >= 'a' && c <= 'z') || c == '_'; }
bool IsRest(char c) {
  return IsFirst(c) || (c >= '0' && c <= '9') || c == '.' || c == '-';
}

absl::Status Refuse(absl::string_view name, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(
      "user name \"", log::EscapeUntrusted(name, 64), "\" ", why, ": ", kRule));
}

}  // namespace

absl::Status ValidateUserName(absl::string_view name) {
  if (name.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the user name is empty: ", kRule));
  }
  if (name.size() > kMaxUserNameBytes) {
    return Refuse(name, absl::StrCat("is ", name.size(), " bytes long"));
  }
  if (!IsFirst(name[0])) return Refuse(name, "does not start with a-z or _");
  for (size_t i = 1; i < name.size(); ++i) {
    if (!IsRest(name[i])) {
      return Refuse(
          name, absl::StrCat("has a character outside a-z 0-9 _ . - at byte ",
                             i + 1));
    }
  }
  return absl::OkStatus();
}

}  // namespace rustiq::authd
