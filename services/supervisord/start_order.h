// The order in which supervisord starts the daemons: every daemon after
// the ones it names in `after`, ties kept in the order of
// config::kStackDaemons and then by name. Stopping goes in reverse.
#ifndef RUSTIQ_SERVICES_SUPERVISORD_START_ORDER_H_
#define RUSTIQ_SERVICES_SUPERVISORD_START_ORDER_H_

#include <vector>

#include "absl/status/statusor.h"
#include "common/config/config.h"

namespace rustiq::supervisord {

// The daemons in start order; an error names a dependency cycle
// ("keyd -> eventd -> keyd") or a dependency that is not configured.
absl::StatusOr<std::vector<config::SupervisedDaemon>> StartOrder(
    std::vector<config::SupervisedDaemon> daemons);

}  // namespace rustiq::supervisord

#endif  // RUSTIQ_SERVICES_SUPERVISORD_START_ORDER_H_
