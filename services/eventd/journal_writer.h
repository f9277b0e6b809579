// A copy of every event in the systemd journal, with structured fields
// (RUSTIQ_SEQ, RUSTIQ_SOURCE, RUSTIQ_ACTOR, RUSTIQ_CATEGORY, RUSTIQ_ACTION,
// RUSTIQ_OUTCOME, RUSTIQ_ATTR_<KEY>, PRIORITY from the severity), so that
// journalctl and whatever ships the journal see the security record too.
// The event log stays the authority: the journal copy is for convenience
// and is not tamper-evident.
#ifndef RUSTIQ_SERVICES_EVENTD_JOURNAL_WRITER_H_
#define RUSTIQ_SERVICES_EVENTD_JOURNAL_WRITER_H_

#include <string>
#include <vector>

#include "services/eventd/event_log.h"

namespace rustiq::eventd {

// True when this process was started by systemd (INVOCATION_ID is set, or
// stderr is connected to the journal: JOURNAL_STREAM).
bool StartedBySystemd();

// The journal fields of one event, "NAME=value" each (exposed for tests).
std::vector<std::string> JournalFields(const v1::Event& event);

class JournalWriter final : public CommitObserver {
 public:
  void OnCommitted(const std::vector<StoredEvent>& events) override;
};

}  // namespace rustiq::eventd

#endif  // RUSTIQ_SERVICES_EVENTD_JOURNAL_WRITER_H_
