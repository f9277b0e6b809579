#include "services/eventd/journal_writer.h"

#include <sys/uio.h>
#include <systemd/sd-journal.h>

#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/events/event_names.h"
#include "common/logging/log.h"

namespace rustiq::eventd {
namespace {

// syslog priorities: 7 debug .. 1 alert.
int Priority(v1::EventSeverity severity) {
  switch (severity) {
    case v1::EVENT_SEVERITY_DEBUG:
      return 7;
    case v1::EVENT_SEVERITY_INFO:
      return 6;
    case v1::EVENT_SEVERITY_NOTICE:
      return 5;
    case v1::EVENT_SEVERITY_WARNING:
      return 4;
    case v1::EVENT_SEVERITY_ERROR:
      return 3;
    case v1::EVENT_SEVERITY_CRITICAL:
      return 2;
    case v1::EVENT_SEVERITY_ALERT:
      return 1;
    default:
      return 6;
  }
}

// Journal field names are [A-Z0-9_], not starting with '_'.
std::string FieldName(absl::string_view key) {
  std::string out = absl::AsciiStrToUpper(key);
  for (char& c : out) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return out;
}

}  // namespace

bool StartedBySystemd() {
  const char* invocation = std::getenv("INVOCATION_ID");
  const char* stream = std::getenv("JOURNAL_STREAM");
  return (invocation != nullptr && *invocation != '\0') ||
         (stream != nullptr && *stream != '\0');
}

std::vector<std::string> JournalFields(const v1::Event& e) {
  std::vector<std::string> f;
  f.push_back(absl::StrCat("MESSAGE=security event ", e.action(), " ",
                           events::OutcomeName(e.outcome()),
                           " actor=", e.actor(), " source=", e.source()));
  f.push_back(absl::StrCat("PRIORITY=", Priority(e.severity())));
  f.push_back("SYSLOG_IDENTIFIER=rustiq-eventd");
  f.push_back(absl::StrCat("RUSTIQ_SEQ=", e.seq()));
  f.push_back(absl::StrCat("RUSTIQ_SOURCE=", e.source()));
  f.push_back(absl::StrCat("RUSTIQ_ACTOR=", e.actor()));
  f.push_back(
      absl::StrCat("RUSTIQ_CATEGORY=", events::CategoryName(e.category())));
  f.push_back(absl::StrCat("RUSTIQ_ACTION=", e.action()));
  f.push_back(
      absl::StrCat("RUSTIQ_OUTCOME=", events::OutcomeName(e.outcome())));
  f.push_back(
      absl::StrCat("RUSTIQ_SEVERITY=", events::SeverityName(e.severity())));
  f.push_back(absl::StrCat("RUSTIQ_TIME_UNIX_NANOS=", e.time_unix_nanos()));
  for (const v1::EventAttribute& a : e.attributes()) {
    f.push_back(
        absl::StrCat("RUSTIQ_ATTR_", FieldName(a.key()), "=", a.value()));
  }
  return f;
}

void JournalWriter::OnCommitted(const std::vector<StoredEvent>& events) {
  for (const StoredEvent& e : events) {
    std::vector<std::string> fields = JournalFields(e.event);
    std::vector<iovec> iov;
    iov.reserve(fields.size());
    for (std::string& field : fields) {
      iov.push_back(iovec{field.data(), field.size()});
    }
    int rc = sd_journal_sendv(iov.data(), static_cast<int>(iov.size()));
    if (rc < 0) {
      log::Warning("cannot write an event to the journal",
                   {{"seq", e.event.seq()}, {"errno", -rc}});
      return;  // the journal is gone; do not log once per event
    }
  }
}

}  // namespace rustiq::eventd
