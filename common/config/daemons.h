// The daemons of the stack, in start order (DESIGN.md, "The daemons").
#ifndef RUSTIQ_COMMON_CONFIG_DAEMONS_H_
#define RUSTIQ_COMMON_CONFIG_DAEMONS_H_

#include <array>
#include <string_view>

#include "absl/strings/string_view.h"

namespace rustiq::config {

inline constexpr std::array<absl::string_view, 6> kStackDaemons = {
    "keyd", "eventd", "authd", "updated", "cloudd", "supervisord"};

// The admin CLI's client name: its identity is client/rustiqctl.
inline constexpr absl::string_view kCliClientName = "rustiqctl";

}  // namespace rustiq::config

#endif  // RUSTIQ_COMMON_CONFIG_DAEMONS_H_
