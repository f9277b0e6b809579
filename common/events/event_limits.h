// The bounds of one event, shared by eventd (which refuses what exceeds
// them) and the client sink (which trims what it sends to fit them).
#ifndef RUSTIQ_COMMON_EVENTS_EVENT_LIMITS_H_
#define RUSTIQ_COMMON_EVENTS_EVENT_LIMITS_H_

#include <cstddef>

namespace rustiq::events {

inline constexpr size_t kMaxActionBytes = 64;
inline constexpr size_t kMaxActorBytes = 256;
inline constexpr size_t kMaxAttributes = 32;
inline constexpr size_t kMaxAttributeKeyBytes = 64;
inline constexpr size_t kMaxAttributeValueBytes = 1024;
// The whole EventInput, serialized.
inline constexpr size_t kMaxEventBytes = 16 * 1024;
// Events in one Append call or one AppendBatch stream message.
inline constexpr size_t kMaxEventsPerMessage = 1000;

}  // namespace rustiq::events

#endif  // RUSTIQ_COMMON_EVENTS_EVENT_LIMITS_H_
