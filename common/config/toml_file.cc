#include "common/config/toml_file.h"

#include <string_view>

#include "absl/strings/str_cat.h"

namespace rustiq::config {

absl::StatusOr<toml::table> ParseTomlFile(absl::string_view toml_text,
                                          absl::string_view origin) {
  // toml++ reports syntax errors by exception; they stop here.
  try {
    return toml::parse(std::string_view(toml_text.data(), toml_text.size()),
                       std::string_view(origin.data(), origin.size()));
  } catch (const toml::parse_error& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(origin, ":", e.source().begin.line, ": ",
                     std::string(e.description())));
  }
}

std::string TomlWhere(const toml::node& node, absl::string_view origin) {
  return absl::StrCat(origin, ":", node.source().begin.line);
}

absl::Status TomlError(const toml::node& node, absl::string_view origin,
                       absl::string_view message) {
  return absl::InvalidArgumentError(
      absl::StrCat(TomlWhere(node, origin), ": ", message));
}

}  // namespace rustiq::config
