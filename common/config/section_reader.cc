#include "common/config/section_reader.h"

#include <algorithm>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace rustiq::config {

std::string Where(const toml::node& node, absl::string_view origin) {
  const toml::source_region& src = node.source();
  if (src.begin.line == 0) return std::string(origin);
  return absl::StrCat(src.path ? *src.path : std::string(origin), ":",
                      src.begin.line);
}

SectionReader::SectionReader(const toml::table* table, std::string section,
                             std::string origin)
    : table_(table), section_(std::move(section)), origin_(std::move(origin)) {}

absl::Status SectionReader::ReadString(absl::string_view key, std::string* out,
                                       const Validator& validate) {
  const toml::node* node = Take(key);
  if (node == nullptr) return absl::OkStatus();
  const auto* value = node->as_string();
  if (value == nullptr) return Bad(*node, key, "a string");
  if (validate) {
    if (absl::Status s = validate(value->get()); !s.ok()) {
      return Bad(*node, key, s.message());
    }
  }
  *out = value->get();
  return absl::OkStatus();
}

absl::Status SectionReader::ReadUint(absl::string_view key, uint32_t* out,
                                     int64_t min, int64_t max) {
  const toml::node* node = Take(key);
  if (node == nullptr) return absl::OkStatus();
  const auto* value = node->as_integer();
  if (value == nullptr || value->get() < min || value->get() > max) {
    return Bad(*node, key, absl::StrCat("an integer from ", min, " to ", max));
  }
  *out = static_cast<uint32_t>(value->get());
  return absl::OkStatus();
}

absl::Status SectionReader::ReadStringList(absl::string_view key,
                                           std::vector<std::string>* out,
                                           const Validator& validate) {
  const toml::node* node = Take(key);
  if (node == nullptr) return absl::OkStatus();
  const auto* array = node->as_array();
  if (array == nullptr) return Bad(*node, key, "an array of strings");
  std::vector<std::string> values;
  for (const toml::node& element : *array) {
    const auto* value = element.as_string();
    if (value == nullptr) return Bad(element, key, "an array of strings");
    if (validate) {
      if (absl::Status s = validate(value->get()); !s.ok()) {
        return Bad(element, key, s.message());
      }
    }
    values.push_back(value->get());
  }
  *out = std::move(values);
  return absl::OkStatus();
}

absl::Status SectionReader::ReadTable(absl::string_view key,
                                      const toml::table** out) {
  *out = nullptr;
  const toml::node* node = Take(key);
  if (node == nullptr) return absl::OkStatus();
  *out = node->as_table();
  if (*out == nullptr) {
    return Bad(*node, key,
               absl::StrCat("a table ([", section_, ".", key, ".<name>])"));
  }
  return absl::OkStatus();
}

absl::Status SectionReader::Finish() {
  if (table_ == nullptr) return absl::OkStatus();
  for (const auto& [k, v] : *table_) {
    if (std::find(seen_.begin(), seen_.end(), std::string(k.str())) ==
        seen_.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat(Where(v, origin_), ": unknown key '", section_, ".",
                       std::string(k.str()),
                       "' (known keys: ", absl::StrJoin(known_, ", "), ")"));
    }
  }
  return absl::OkStatus();
}

const toml::node* SectionReader::Take(absl::string_view key) {
  known_.emplace_back(key);
  if (table_ == nullptr) return nullptr;
  const toml::node* node =
      table_->get(std::string_view(key.data(), key.size()));
  if (node != nullptr) seen_.emplace_back(key);
  return node;
}

absl::Status SectionReader::Bad(const toml::node& node, absl::string_view key,
                                absl::string_view expected) {
  std::ostringstream got;
  node.visit([&got](const auto& n) { got << n; });
  std::string shown = got.str();
  if (shown.size() > 60) shown = shown.substr(0, 60) + "...";
  return absl::InvalidArgumentError(
      absl::StrCat(Where(node, origin_), ": key '", section_, ".", key,
                   "': expected ", expected, ", got ", shown));
}

}  // namespace rustiq::config
