#include "common/events/event_spool.h"

#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/events/event_limits.h"
#include "common/merkle/hash.h"
#include "common/pki/identity_files.h"

namespace rustiq::events {
namespace {

constexpr absl::string_view kMagic = "rustiq-event-spool 1\n";
constexpr absl::string_view kHashPrefix = "sha256:";
constexpr size_t kHexHashBytes = 64;
constexpr size_t kHeaderBytes =
    kMagic.size() + kHashPrefix.size() + kHexHashBytes + 1;

std::string Sha256Hex(absl::string_view data) {
  return merkle::ToHex(merkle::Sha256Digest(data));
}

absl::Status Corrupt(const std::string& path, absl::string_view what) {
  return absl::DataLossError(
      absl::StrCat("event spool ", path, " is not a whole spool: ", what));
}

}  // namespace

std::string EventSpoolPath(absl::string_view state_dir,
                           absl::string_view daemon) {
  return absl::StrCat(state_dir, "/", daemon, "/events-pending");
}

absl::Status WriteEventSpool(const std::string& path,
                             const std::vector<v1::EventInput>& events) {
  v1::AppendBatchRequest batch;
  for (const v1::EventInput& e : events) *batch.add_events() = e;
  std::string body;
  if (!batch.SerializeToString(&body)) {
    return absl::InternalError(
        absl::StrCat("cannot serialize the events for ", path));
  }
  return pki::WriteFileAtomically(
      path, absl::StrCat(kMagic, kHashPrefix, Sha256Hex(body), "\n", body),
      0600);
}

absl::StatusOr<std::vector<v1::EventInput>> ReadEventSpool(
    const std::string& path, size_t max_events) {
  // Each event costs at most its bytes and a few of framing.
  const size_t max_bytes = kHeaderBytes + max_events * (kMaxEventBytes + 8);
  absl::StatusOr<std::string> contents = pki::ReadSmallFile(path, max_bytes);
  if (absl::IsNotFound(contents.status())) {
    return std::vector<v1::EventInput>();
  }
  if (!contents.ok()) return contents.status();
  absl::string_view rest = *contents;
  if (!absl::ConsumePrefix(&rest, kMagic)) {
    return Corrupt(path, "it does not begin with \"rustiq-event-spool 1\"");
  }
  if (rest.size() < kHashPrefix.size() + kHexHashBytes + 1 ||
      !absl::ConsumePrefix(&rest, kHashPrefix) || rest[kHexHashBytes] != '\n') {
    return Corrupt(path, "its checksum line is missing or cut short");
  }
  absl::string_view stored = rest.substr(0, kHexHashBytes);
  rest.remove_prefix(kHexHashBytes + 1);
  if (Sha256Hex(rest) != stored) {
    return Corrupt(path,
                   "its checksum does not match its contents (truncated or "
                   "altered)");
  }
  v1::AppendBatchRequest batch;
  if (!batch.ParseFromArray(rest.data(), static_cast<int>(rest.size()))) {
    return Corrupt(path, "its events cannot be parsed");
  }
  if (static_cast<size_t>(batch.events_size()) > max_events) {
    return Corrupt(
        path, absl::StrCat("it holds ", batch.events_size(),
                           " events, more than the ", max_events, " allowed"));
  }
  std::vector<v1::EventInput> events;
  events.reserve(batch.events_size());
  for (v1::EventInput& e : *batch.mutable_events()) {
    if (e.ByteSizeLong() > kMaxEventBytes) {
      return Corrupt(path, absl::StrCat("an event is larger than ",
                                        kMaxEventBytes, " bytes"));
    }
    events.push_back(std::move(e));
  }
  return events;
}

absl::StatusOr<std::string> SetAsideEventSpool(const std::string& path) {
  std::string aside = absl::StrCat(path, ".corrupt");
  if (rename(path.c_str(), aside.c_str()) != 0) {
    return absl::ErrnoToStatus(errno,
                               absl::StrCat("cannot move ", path, " aside"));
  }
  return aside;
}

absl::Status RemoveEventSpool(const std::string& path) {
  if (unlink(path.c_str()) != 0 && errno != ENOENT) {
    return absl::ErrnoToStatus(errno, absl::StrCat("cannot remove ", path));
  }
  return absl::OkStatus();
}

}  // namespace rustiq::events
