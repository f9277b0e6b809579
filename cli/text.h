// How rustiqctl shows values in its readable (not --json) output: text as
// typed or as a daemon sent it on one line without terminal escapes, times
// in UTC, lists of names, and tables with aligned columns.
#ifndef RUSTIQ_CLI_TEXT_H_
#define RUSTIQ_CLI_TEXT_H_

#include <google/protobuf/repeated_ptr_field.h>

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace rustiq::cli {

// Text as typed or as a daemon sent it, shown in a message or a table: one
// line that cannot carry terminal escapes, at most `max_chars` long.
std::string Shown(absl::string_view text, size_t max_chars = 64);

// "2026-05-01T14:30:00Z".
std::string TimeText(absl::Time time);
std::string TimeText(int64_t unix_seconds);

// "alice, bob" (each name Shown), or "none".
std::string ListText(
    const google::protobuf::RepeatedPtrField<std::string>& names);
// The same names as a JSON array, for --json.
nlohmann::json ListJson(
    const google::protobuf::RepeatedPtrField<std::string>& names);

// Rows (the header first) as lines of columns, each padded to its widest
// cell plus two spaces; the last column is not padded and no line ends in a
// space.
std::string TableText(const std::vector<std::vector<std::string>>& rows);

// One row of a table whose column widths are fixed beforehand (a stream
// cannot measure what is still to come): each cell but the last padded to
// its `width` plus two spaces, a cell at least that wide followed by one
// space; no trailing space.
std::string RowText(const std::vector<std::string>& row,
                    const std::vector<size_t>& width);

}  // namespace rustiq::cli

#endif  // RUSTIQ_CLI_TEXT_H_
