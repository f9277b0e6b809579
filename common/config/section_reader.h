// Reading one TOML table of the device configuration strictly: each Read*
// call consumes a key, a value of the wrong type or out of range is an
// error naming "file:line", the key and what is expected, and Finish()
// refuses any key nobody read. Internal to rustiq_config.
#ifndef RUSTIQ_COMMON_CONFIG_SECTION_READER_H_
#define RUSTIQ_COMMON_CONFIG_SECTION_READER_H_

#include <toml++/toml.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace rustiq::config {

// Where a value came from, for error messages: "file:line".
std::string Where(const toml::node& node, absl::string_view origin);

class SectionReader {
 public:
  using Validator = std::function<absl::Status(absl::string_view)>;

  // `table` may be null (the section is absent): every key is then absent.
  SectionReader(const toml::table* table, std::string section,
                std::string origin);

  absl::Status ReadString(absl::string_view key, std::string* out,
                          const Validator& validate = nullptr);
  absl::Status ReadUint(absl::string_view key, uint32_t* out, int64_t min,
                        int64_t max);
  // An array of strings, each checked by `validate`.
  absl::Status ReadStringList(absl::string_view key,
                              std::vector<std::string>* out,
                              const Validator& validate = nullptr);
  // A sub-table; null when absent, an error when the key is not a table.
  absl::Status ReadTable(absl::string_view key, const toml::table** out);
  absl::Status Finish();

  const std::string& section() const { return section_; }

 private:
  const toml::node* Take(absl::string_view key);
  absl::Status Bad(const toml::node& node, absl::string_view key,
                   absl::string_view expected);

  const toml::table* table_;
  std::string section_;
  std::string origin_;
  std::vector<std::string> seen_;
  std::vector<std::string> known_;
};

}  // namespace rustiq::config

#endif  // RUSTIQ_COMMON_CONFIG_SECTION_READER_H_
