// rustiqctl events: the tamper-evident event log kept by rustiq-eventd
// (docs/eventd.md), over mTLS as the CLI's identity, and offline on a copy
// of its file.
//
//   rustiqctl events list [FILTERS] [--limit N] [--oldest-first]
//   rustiqctl events tail [FILTERS] [--from-seq N]
//   rustiqctl events export [--from-seq N] [--to-seq N] [--out FILE [--force]]
//                           [--db FILE]
//   rustiqctl events verify [--file EXPORT | --db FILE] [--key PEM_FILE]
//                           [--checkpoint NOTE_FILE]
//   rustiqctl events head [--checkpoint-out FILE [--force]]
//
//   FILTERS: --since TIME --until TIME --source ID... --category NAME...
//            --min-severity NAME --actor ID --outcome NAME...
//
// Reading the log acts for a person: eventd wants a token holding
// events.read (sent by PrepareCall). Arguments are checked before anything
// is sent; a bad one is a usage error naming the option and what it takes.
//
// verify feeds the export, line by line, to the same streaming verifier
// anyone else uses (common/events/log_verifier.h): from eventd's Export
// stream, from an export file, or from a log file read directly (the
// exporter over EventStore::OpenReadOnly, so that a copy of a damaged or
// tampered file can be examined without any daemon). Its first complaint is
// printed as it is and is exit code 1, whatever its status code.
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "cli/commands.h"
#include "cli/daemon_call.h"
#include "cli/text.h"
#include "common/events/event_limits.h"
#include "common/events/event_names.h"
#include "common/events/export_format.h"
#include "common/events/log_verifier.h"
#include "common/identity/spiffe_id.h"
#include "common/merkle/checkpoint.h"
#include "common/merkle/note.h"
#include "common/pki/identity_files.h"
#include "common/pki/openssl_util.h"
#include "rustiq/v1/events.grpc.pb.h"
#include "rustiq/v1/keys.grpc.pb.h"
#include "services/eventd/checkpoint_signer.h"
#include "services/eventd/event_store.h"
#include "services/eventd/exporter.h"

namespace rustiq::cli {
namespace {

constexpr absl::string_view kDaemon = "eventd";
constexpr absl::string_view kKeyDaemon = "keyd";
constexpr uint32_t kDefaultLimit = 50;
constexpr uint32_t kMaxLimit = 10000;
constexpr uint32_t kMaxPage = 1000;      // eventd's largest Query page
constexpr size_t kMaxFilterValues = 64;  // eventd's bound per filter list
constexpr size_t kMaxSmallFileBytes = 64 * 1024;  // keys and checkpoints
// Longer than any line the exporter writes (an event is at most 16 KiB,
// its entry in base64 and its readable fields about 3 times that).
constexpr size_t kMaxExportLineBytes = 1024 * 1024;

using Json = nlohmann::ordered_json;
using Stub = v1::EventLog::Stub;

// A JSON result on stdout. Events hold UTF-8 (eventd checks it), but a
// file's or a path's bytes need not be.
void PrintJson(const Json& object) {
  std::fprintf(
      stdout, "%s\n",
      object.dump(-1, ' ', false, Json::error_handler_t::replace).c_str());
}

void PrintResult(const Output& out, const std::string& text,
                 const Json& object) {
  if (out.json()) {
    PrintJson(object);
  } else {
    std::fprintf(stdout, "%s\n", text.c_str());
  }
}

// A failure of the operation itself: exit code 1 whatever the status code
// (the verifier's INVALID_ARGUMENT about a malformed file, a store's
// FAILED_PRECONDITION about a file that is not a log).
int FailOperation(const Output& out, absl::string_view what,
                  const absl::Status& status) {
  return out.FailWithExitCode(
      absl::Status(status.code(), absl::StrCat(what, ": ", status.message())),
      kExitFailure);
}

// CLI11 would read "-1" as a huge unsigned number: a count or a sequence
// number is digits only.
const CLI::Validator& WholeNumber() {
  static const CLI::Validator* validator = new CLI::Validator(
      [](std::string& text) -> std::string {
        if (text.empty() || !std::all_of(text.begin(), text.end(), [](char c) {
              return absl::ascii_isdigit(static_cast<unsigned char>(c));
            })) {
          return absl::StrCat("\"", Shown(text), "\" is not a whole number");
        }
        return "";
      },
      "N");
  return *validator;
}

std::string Plural(uint64_t n, absl::string_view one, absl::string_view many) {
  return absl::StrCat(n, " ", n == 1 ? one : many);
}

// ------------------------------------------------------------------ filters

struct FilterArgs {
  std::string since;
  std::string until;
  std::vector<std::string> sources;
  std::vector<std::string> categories;
  std::string min_severity;
  std::string actor;
  std::vector<std::string> outcomes;
};

constexpr char kTimeForms[] =
    "use an RFC 3339 time (2026-05-01T14:30:00Z, 2026-05-01T16:30:00+02:00) "
    "or a time ago: a number and s, m, h, d or w (90s, 10m, 2h, 7d, 1h30m)";

// "90s", "10m", "2h", "7d", "2w", "1h30m": how long ago. nullopt when the
// text is not of that form.
std::optional<absl::Duration> ParseAgo(absl::string_view text) {
  if (text.empty()) return std::nullopt;
  absl::Duration total = absl::ZeroDuration();
  while (!text.empty()) {
    size_t digits = 0;
    while (digits < text.size() && absl::ascii_isdigit(text[digits])) {
      ++digits;
    }
    // At most 9 digits: a billion weeks is already far before 1970.
    if (digits == 0 || digits > 9 || digits == text.size()) {
      return std::nullopt;
    }
    int64_t n = 0;
    if (!absl::SimpleAtoi(text.substr(0, digits), &n)) return std::nullopt;
    switch (text[digits]) {
      case 's':
        total += absl::Seconds(n);
        break;
      case 'm':
        total += absl::Minutes(n);
        break;
      case 'h':
        total += absl::Hours(n);
        break;
      case 'd':
        total += absl::Hours(24 * n);
        break;
      case 'w':
        total += absl::Hours(24 * 7 * n);
        break;
      default:
        return std::nullopt;
    }
    text.remove_prefix(digits + 1);
  }
  return total;
}

// --since / --until into Unix nanoseconds (the filter's unit).
absl::StatusOr<int64_t> ParseWhen(absl::string_view option,
                                  const std::string& text, absl::Time now) {
  absl::Time when;
  if (std::optional<absl::Duration> ago = ParseAgo(text); ago.has_value()) {
    when = now - *ago;
  } else {
    std::string error;
    if (!absl::ParseTime(absl::RFC3339_full, text, &when, &error)) {
      return absl::InvalidArgumentError(
          absl::StrCat(option, " \"", Shown(text), "\": ", kTimeForms));
    }
  }
  if (when <= absl::UnixEpoch()) {
    return absl::InvalidArgumentError(absl::StrCat(
        option, " \"", Shown(text), "\" is not after 1970-01-01T00:00:00Z"));
  }
  return absl::ToUnixNanos(when);
}

// The filter of the command line, each value checked. InvalidArgument
// names the option and what it accepts.
absl::StatusOr<v1::EventFilter> ParseFilter(const FilterArgs& args,
                                            absl::Time now) {
  v1::EventFilter filter;
  if (!args.since.empty()) {
    absl::StatusOr<int64_t> since = ParseWhen("--since", args.since, now);
    if (!since.ok()) return since.status();
    filter.set_since_unix_nanos(*since);
  }
  if (!args.until.empty()) {
    absl::StatusOr<int64_t> until = ParseWhen("--until", args.until, now);
    if (!until.ok()) return until.status();
    filter.set_until_unix_nanos(*until);
  }
  if (filter.since_unix_nanos() != 0 && filter.until_unix_nanos() != 0 &&
      filter.since_unix_nanos() >= filter.until_unix_nanos()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--since ", Shown(args.since), " is not before --until ",
                     Shown(args.until),
                     " (a relative time is that long ago: --since 2h "
                     "--until 1h is the hour before the last)"));
  }
  auto too_many = [](absl::string_view option) {
    return absl::InvalidArgumentError(
        absl::StrCat(option, ": at most ", kMaxFilterValues, " values"));
  };
  if (args.sources.size() > kMaxFilterValues) return too_many("--source");
  for (const std::string& source : args.sources) {
    if (!identity::ValidateCallerPath(source).ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--source \"", Shown(source),
          "\": a source is the ID path of a daemon or client, such as "
          "svc/keyd or client/rustiqctl"));
    }
    filter.add_sources(source);
  }
  if (args.categories.size() > kMaxFilterValues) return too_many("--category");
  for (const std::string& name : args.categories) {
    v1::EventCategory category;
    if (!events::CategoryFromName(name, &category)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--category \"", Shown(name), "\": use one of ",
                       events::CategoryNames()));
    }
    filter.add_categories(category);
  }
  if (!args.min_severity.empty()) {
    v1::EventSeverity severity;
    if (!events::SeverityFromName(args.min_severity, &severity)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--min-severity \"", Shown(args.min_severity), "\": use one of ",
          events::SeverityNames(), " (least severe first)"));
    }
    filter.set_min_severity(severity);
  }
  if (!args.actor.empty()) {
    if (args.actor.size() > events::kMaxActorBytes) {
      return absl::InvalidArgumentError(
          absl::StrCat("--actor: at most ", events::kMaxActorBytes,
                       " bytes (an ID such as user/alice or svc/cloudd)"));
    }
    filter.set_actor(args.actor);
  }
  if (args.outcomes.size() > kMaxFilterValues) return too_many("--outcome");
  for (const std::string& name : args.outcomes) {
    v1::EventOutcome outcome;
    if (!events::OutcomeFromName(name, &outcome)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--outcome \"", Shown(name), "\": use one of ",
                       events::OutcomeNames()));
    }
    filter.add_outcomes(outcome);
  }
  return filter;
}

void AddFilterOptions(CLI::App* cmd, FilterArgs* args) {
  cmd->add_option("--since", args->since,
                  "Events at or after TIME: RFC 3339 (2026-05-01T14:30:00Z) "
                  "or that long ago (10m, 2h, 7d)");
  cmd->add_option("--until", args->until, "Events before TIME (as --since)");
  cmd->add_option("--source", args->sources,
                  "Events sent by this daemon or client (svc/keyd); "
                  "repeatable")
      ->delimiter(',');
  cmd->add_option("--category", args->categories,
                  absl::StrCat("Events of this category (",
                               events::CategoryNames(), "); repeatable"))
      ->delimiter(',');
  cmd->add_option("--min-severity", args->min_severity,
                  absl::StrCat("Events at least this severe (",
                               events::SeverityNames(), ")"));
  cmd->add_option("--actor", args->actor,
                  "Events of this actor, exactly (user/alice, svc/cloudd)");
  cmd->add_option("--outcome", args->outcomes,
                  absl::StrCat("Events with this outcome (",
                               events::OutcomeNames(), "); repeatable"))
      ->delimiter(',');
}

// ------------------------------------------------------------ event output

template <typename Enum>
Json EnumJson(Enum value, const char* (*name_of)(Enum)) {
  absl::string_view name = name_of(value);
  if (name == "?") return static_cast<int>(value);
  return std::string(name);
}

template <typename Enum>
std::string EnumText(Enum value, const char* (*name_of)(Enum)) {
  absl::string_view name = name_of(value);
  if (name == "?") return absl::StrCat(static_cast<int>(value));
  return std::string(name);
}

Json EventJson(const v1::Event& e) {
  Json attributes = Json::object();
  for (const v1::EventAttribute& a : e.attributes()) {
    attributes[a.key()] = a.value();
  }
  Json j = {{"seq", e.seq()},
            {"time", events::FormatTime(e.time_unix_nanos())},
            {"time_unix_nanos", e.time_unix_nanos()},
            {"monotonic_nanos", e.monotonic_nanos()},
            {"boot_id", e.boot_id()},
            {"source", e.source()},
            {"actor", e.actor()},
            {"category", EnumJson(e.category(), &events::CategoryName)},
            {"action", e.action()},
            {"outcome", EnumJson(e.outcome(), &events::OutcomeName)},
            {"severity", EnumJson(e.severity(), &events::SeverityName)},
            {"attributes", attributes},
            {"occurred_unix_nanos", e.occurred_unix_nanos()}};
  if (e.occurred_unix_nanos() != 0) {
    j["occurred"] = events::FormatTime(e.occurred_unix_nanos());
  }
  return j;
}

// "2026-05-01T14:30:00.123Z".
std::string TimeMillis(int64_t unix_nanos) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ",
                          absl::FromUnixNanos(unix_nanos), absl::UTCTimeZone());
}

// "user=alice remote=\"tty 1\"": a value that is empty or holds a space or
// an '=' is quoted (its own quotes are escaped), so the pairs stay apart.
std::string AttributesText(const v1::Event& e) {
  std::vector<std::string> pairs;
  for (const v1::EventAttribute& a : e.attributes()) {
    std::string value = Shown(a.value(), 200);
    if (value.empty() || absl::StrContains(value, ' ') ||
        absl::StrContains(value, '=')) {
      value = absl::StrCat("\"", value, "\"");
    }
    pairs.push_back(absl::StrCat(Shown(a.key()), "=", value));
  }
  return absl::StrJoin(pairs, " ");
}

const std::vector<std::string>& EventHeader() {
  static const std::vector<std::string>* header = new std::vector<std::string>{
      "TIME (UTC)", "SEQ",     "SOURCE",   "ACTOR",     "CATEGORY",
      "ACTION",     "OUTCOME", "SEVERITY", "ATTRIBUTES"};
  return *header;
}

std::vector<std::string> EventRow(const v1::Event& e) {
  return {TimeMillis(e.time_unix_nanos()),
          absl::StrCat(e.seq()),
          Shown(e.source()),
          Shown(e.actor()),
          EnumText(e.category(), &events::CategoryName),
          Shown(e.action()),
          EnumText(e.outcome(), &events::OutcomeName),
          EnumText(e.severity(), &events::SeverityName),
          AttributesText(e)};
}

std::string EventTable(const std::vector<v1::Event>& events) {
  std::vector<std::vector<std::string>> rows = {EventHeader()};
  for (const v1::Event& e : events) rows.push_back(EventRow(e));
  return TableText(rows);
}

// The widths of `events tail`, which cannot measure what is still to come.
const std::vector<size_t>& TailWidths() {
  static const std::vector<size_t>* widths =
      new std::vector<size_t>{24, 6, 14, 18, 10, 22, 7, 8, 0};
  return *widths;
}

// ------------------------------------------------------------ file helpers

// Where an export or a checkpoint goes: stdout, or FILE, written through a
// temporary file beside it that is moved into place once complete, so that
// FILE is never seen half-written and, without --force, never replaces a
// file that exists (even one created while the export ran).
class OutputFile {
 public:
  // Checks, before anything is sent, that FILE can be written: its
  // directory exists, it is not a directory, and without `force` it does
  // not exist. InvalidArgument naming `option`.
  static absl::StatusOr<std::string> CheckTarget(absl::string_view option,
                                                 const std::string& path,
                                                 bool force) {
    std::error_code ec;
    std::filesystem::path p = std::filesystem::absolute(path, ec);
    if (ec || !std::filesystem::is_directory(p.parent_path(), ec) ||
        std::filesystem::is_directory(p, ec)) {
      return absl::InvalidArgumentError(absl::StrCat(
          option, " ", Shown(path), ": not a file in an existing directory"));
    }
    struct stat st {};
    if (!force && lstat(p.c_str(), &st) == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(option, " ", Shown(path),
                       " exists; rustiqctl does not overwrite it: add --force "
                       "to replace it"));
    }
    return p.string();
  }

  OutputFile() = default;
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;
  ~OutputFile() {
    if (fd_ >= 0) close(fd_);
    if (!temp_.empty()) unlink(temp_.c_str());
  }

  // `path` empty: stdout. Else a temporary file beside `path` with `mode`.
  absl::Status Open(const std::string& path, bool force, mode_t mode) {
    if (path.empty()) return absl::OkStatus();
    path_ = path;
    force_ = force;
    std::filesystem::path p(path);
    std::string temp = (p.parent_path() /
                        absl::StrCat(".", p.filename().string(), ".tmp-XXXXXX"))
                           .string();
    fd_ = mkstemp(temp.data());  // 0600, O_EXCL
    if (fd_ < 0) {
      return absl::ErrnoToStatus(errno, absl::StrCat("cannot create ", temp));
    }
    temp_ = temp;
    if (fchmod(fd_, mode) != 0) {
      return absl::ErrnoToStatus(errno, absl::StrCat("chmod ", temp));
    }
    return absl::OkStatus();
  }

  absl::Status Write(absl::string_view data) {
    if (path_.empty()) {
      if (std::fwrite(data.data(), 1, data.size(), stdout) != data.size()) {
        return absl::ErrnoToStatus(errno, "cannot write to stdout");
      }
      return absl::OkStatus();
    }
    while (!data.empty()) {
      ssize_t n = write(fd_, data.data(), data.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        return absl::ErrnoToStatus(errno, absl::StrCat("cannot write ", temp_));
      }
      data.remove_prefix(static_cast<size_t>(n));
    }
    return absl::OkStatus();
  }

  // Makes the output durable and, for a file, moves it into place.
  absl::Status Commit() {
    if (path_.empty()) {
      if (std::fflush(stdout) != 0 || std::ferror(stdout)) {
        return absl::ErrnoToStatus(errno, "cannot write to stdout");
      }
      return absl::OkStatus();
    }
    if (fsync(fd_) != 0) {
      return absl::ErrnoToStatus(errno, absl::StrCat("cannot sync ", temp_));
    }
    close(fd_);
    fd_ = -1;
    if (force_) {
      if (rename(temp_.c_str(), path_.c_str()) != 0) {
        return absl::ErrnoToStatus(
            errno, absl::StrCat("cannot rename ", temp_, " to ", path_));
      }
    } else {
      // link() fails with EEXIST rather than replacing: no clobbering.
      if (link(temp_.c_str(), path_.c_str()) != 0) {
        int err = errno;
        if (err == EEXIST) {
          return absl::AlreadyExistsError(absl::StrCat(
              path_,
              " was created meanwhile; rustiqctl does not overwrite "
              "it: add --force to replace it"));
        }
        return absl::ErrnoToStatus(err, absl::StrCat("cannot create ", path_));
      }
      unlink(temp_.c_str());
    }
    temp_.clear();
    std::string dir = std::filesystem::path(path_).parent_path().string();
    int dir_fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd >= 0) {
      fsync(dir_fd);
      close(dir_fd);
    }
    return absl::OkStatus();
  }

 private:
  std::string path_;  // empty: stdout
  bool force_ = false;
  std::string temp_;  // removed unless committed
  int fd_ = -1;
};

// Cuts a byte stream (eventd's Export chunks) into lines, without their
// newlines.
class LineSplitter {
 public:
  using LineFn = std::function<absl::Status(absl::string_view)>;
  explicit LineSplitter(LineFn line) : line_(std::move(line)) {}

  absl::Status Add(absl::string_view data) {
    while (!data.empty()) {
      size_t newline = data.find('\n');
      if (newline == absl::string_view::npos) {
        if (partial_.size() + data.size() > kMaxExportLineBytes) {
          return absl::DataLossError(
              absl::StrCat("a line of the export is longer than ",
                           kMaxExportLineBytes, " bytes"));
        }
        partial_.append(data.data(), data.size());
        return absl::OkStatus();
      }
      absl::Status s;
      if (partial_.empty()) {
        s = line_(data.substr(0, newline));
      } else {
        partial_.append(data.data(), newline);
        s = line_(partial_);
        partial_.clear();
      }
      if (!s.ok()) return s;
      data.remove_prefix(newline + 1);
    }
    return absl::OkStatus();
  }

  // The end of the stream: a last line without its newline goes too.
  absl::Status Finish() {
    if (partial_.empty()) return absl::OkStatus();
    std::string rest;
    rest.swap(partial_);
    return line_(rest);
  }

 private:
  LineFn line_;
  std::string partial_;
};

// Ctrl-C (SIGINT) and SIGTERM cancel a stream instead of killing the
// process, so that `events tail` ends cleanly with exit code 0. Two parts:
// BlockStopSignals, made before anything of gRPC exists, blocks both
// signals in this thread, and every thread started afterwards (gRPC's
// included) inherits that; CancelOnStopSignal, made after the call's
// context (and so destroyed before it), waits for them on a thread of its
// own and cancels the call. A second signal while the stream is still
// winding down ends the process at once.
class BlockStopSignals {
 public:
  BlockStopSignals() {
    sigemptyset(&signals_);
    sigaddset(&signals_, SIGINT);
    sigaddset(&signals_, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals_, nullptr);
  }
  const sigset_t& signals() const { return signals_; }

 private:
  sigset_t signals_;
};

class CancelOnStopSignal {
 public:
  // Neither is owned; both must outlive this object.
  CancelOnStopSignal(const BlockStopSignals* blocked, grpc::ClientContext* ctx)
      : waiter_([this, blocked, ctx] {
          const timespec poll{0, 100 * 1000 * 1000};
          while (!done_) {
            int sig = sigtimedwait(&blocked->signals(), nullptr, &poll);
            if (sig <= 0) continue;
            if (signalled_) _exit(128 + sig);
            signalled_ = true;
            ctx->TryCancel();
          }
        }) {}
  CancelOnStopSignal(const CancelOnStopSignal&) = delete;
  CancelOnStopSignal& operator=(const CancelOnStopSignal&) = delete;
  ~CancelOnStopSignal() {
    done_ = true;
    waiter_.join();
  }
  bool signalled() const { return signalled_; }

 private:
  std::atomic<bool> done_{false};
  std::atomic<bool> signalled_{false};
  std::thread waiter_;  // last: starts once the flags exist
};

absl::StatusOr<std::string> ReadOptionFile(absl::string_view option,
                                           const std::string& path) {
  absl::StatusOr<std::string> data =
      pki::ReadSmallFile(path, kMaxSmallFileBytes);
  if (!data.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(option, ": ", data.status().message()));
  }
  return data;
}

// An existing regular file named by `option` (checked before anything is
// opened or sent).
absl::Status CheckInputFile(absl::string_view option, const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(option, " ", Shown(path), ": ", std::strerror(errno)));
  }
  if (!S_ISREG(st.st_mode)) {
    return absl::InvalidArgumentError(
        absl::StrCat(option, " ", Shown(path), ": not a regular file"));
  }
  return absl::OkStatus();
}

// ------------------------------------------------------------------- list

struct ListArgs {
  FilterArgs filter;
  uint32_t limit = kDefaultLimit;
  bool oldest_first = false;
};

int List(const GlobalOptions& global, const ListArgs& args) {
  Output out(global.json);
  if (args.limit == 0 || args.limit > kMaxLimit) {
    return FailUsage(out,
                     absl::StrCat("--limit ", args.limit, ": 1 to ", kMaxLimit,
                                  " events (for more, 'rustiqctl events "
                                  "export')"));
  }
  absl::StatusOr<v1::EventFilter> filter =
      ParseFilter(args.filter, absl::Now());
  if (!filter.ok()) return FailUsage(out, filter.status().message());

  absl::StatusOr<DaemonConnection> conn = ConnectToDaemon(global, kDaemon);
  if (!conn.ok()) return out.Fail(conn.status());
  std::vector<v1::Event> events;
  std::string token;
  do {
    v1::QueryRequest req;
    *req.mutable_filter() = *filter;
    req.set_page_size(std::min<uint32_t>(
        kMaxPage, args.limit - static_cast<uint32_t>(events.size())));
    req.set_page_token(token);
    req.set_newest_first(!args.oldest_first);
    v1::QueryResponse resp;
    grpc::Status s = Invoke(global, conn->channel, &Stub::Query, req, &resp);
    if (!s.ok()) return FailCall(out, kDaemon, s);
    for (v1::Event& e : *resp.mutable_events()) {
      if (events.size() >= args.limit) break;
      events.push_back(std::move(e));
    }
    token = resp.next_page_token();
  } while (!token.empty() && events.size() < args.limit);
  const bool more = !token.empty();

  Json list = Json::array();
  for (const v1::Event& e : events) list.push_back(EventJson(e));
  std::string text;
  if (events.empty()) {
    text = "no events match";
  } else {
    text = EventTable(events);
    if (more) {
      absl::StrAppend(&text, "\n(the ",
                      args.oldest_first ? "oldest " : "newest ",
                      Plural(events.size(), "event", "events"),
                      "; more match: raise --limit)");
    }
  }
  PrintResult(out, text, {{"events", list}, {"more", more}});
  return kExitOk;
}

// ------------------------------------------------------------------- tail

struct TailArgs {
  FilterArgs filter;
  uint64_t from_seq = 0;
  bool from_seq_given = false;
};

int Tail(const GlobalOptions& global, const TailArgs& args) {
  Output out(global.json);
  absl::StatusOr<v1::EventFilter> filter =
      ParseFilter(args.filter, absl::Now());
  if (!filter.ok()) return FailUsage(out, filter.status().message());

  BlockStopSignals blocked;  // before any gRPC thread exists
  absl::StatusOr<DaemonConnection> conn = ConnectForStreams(global, kDaemon);
  if (!conn.ok()) return out.Fail(conn.status());
  v1::TailRequest req;
  *req.mutable_filter() = *filter;
  if (args.from_seq_given) req.set_from_seq(args.from_seq);
  Stub stub(conn->channel);
  grpc::ClientContext ctx;
  PrepareCall(global, &ctx);
  CancelOnStopSignal stop(&blocked, &ctx);
  std::unique_ptr<grpc::ClientReader<v1::Event>> reader = stub.Tail(&ctx, req);
  // The header comes with the first event, so that a refusal is the only
  // output of a refused call.
  bool header_shown = false;
  v1::Event e;
  while (reader->Read(&e)) {
    std::string line;
    if (out.json()) {
      line = EventJson(e).dump(-1, ' ', false, Json::error_handler_t::replace);
    } else {
      if (!header_shown) {
        std::fprintf(stdout, "%s\n",
                     RowText(EventHeader(), TailWidths()).c_str());
        header_shown = true;
      }
      line = RowText(EventRow(e), TailWidths());
    }
    if (std::fprintf(stdout, "%s\n", line.c_str()) < 0 ||
        std::fflush(stdout) != 0) {
      const int error = errno;
      ctx.TryCancel();
      while (reader->Read(&e)) {
      }
      reader->Finish().IgnoreError();
      // The reader went away (`| head -1`): stop quietly.
      if (error == EPIPE) return kExitOk;
      return FailOperation(
          out, "events tail",
          absl::ErrnoToStatus(error, "cannot write to stdout"));
    }
  }
  grpc::Status s = reader->Finish();
  if (stop.signalled() || s.ok()) return kExitOk;
  // --timeout bounds a tail: reaching it is the end asked for.
  if (global.timeout_ms > 0 &&
      s.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
    return kExitOk;
  }
  return FailCall(out, kDaemon, s);
}

// ----------------------------------------------------------------- export

struct ExportArgs {
  uint64_t from_seq = 0;
  uint64_t to_seq = 0;  // 0: everything
  std::string out;
  bool force = false;
  std::string db;
};

// The header and end lines of an export, for the summary (the exporter
// writes each object's "type" first).
struct ExportSummary {
  std::string first_line;
  std::string last_line;

  void See(absl::string_view line) {
    if (first_line.empty()) {
      first_line = std::string(line);
    } else if (absl::StartsWith(line, "{\"type\":\"end\"")) {
      last_line = std::string(line);
    }
  }
};

int Export(const GlobalOptions& global, const ExportArgs& args) {
  Output out(global.json);
  if (args.to_seq != 0 && args.to_seq < args.from_seq) {
    return FailUsage(out, absl::StrCat("--to-seq ", args.to_seq,
                                       " is before --from-seq ", args.from_seq,
                                       " (--to-seq is one past the last event; "
                                       "0: up to the newest)"));
  }
  if (args.force && args.out.empty()) {
    return FailUsage(out, "--force goes with --out FILE");
  }
  std::string out_path;
  if (!args.out.empty()) {
    absl::StatusOr<std::string> p =
        OutputFile::CheckTarget("--out", args.out, args.force);
    if (!p.ok()) return FailUsage(out, p.status().message());
    out_path = *p;
  }
  if (!args.db.empty()) {
    if (absl::Status s = CheckInputFile("--db", args.db); !s.ok()) {
      return FailUsage(out, s.message());
    }
  }

  OutputFile file;
  ExportSummary summary;
  if (!args.db.empty()) {
    // Offline: the log file itself, read-only, no daemon.
    absl::StatusOr<std::unique_ptr<eventd::EventStore>> store =
        eventd::EventStore::OpenReadOnly(args.db);
    if (!store.ok()) return FailOperation(out, "events export", store.status());
    if (absl::Status s = file.Open(out_path, args.force, 0600); !s.ok()) {
      return FailOperation(out, "events export", s);
    }
    absl::Status s =
        eventd::ExportLog(**store, (*store)->opened_state().device_id,
                          eventd::ExportRange{args.from_seq, args.to_seq},
                          [&](std::string line) -> absl::Status {
                            summary.See(line);
                            line.push_back('\n');
                            return file.Write(line);
                          });
    if (!s.ok()) return FailOperation(out, "events export", s);
  } else {
    absl::StatusOr<DaemonConnection> conn = ConnectForStreams(global, kDaemon);
    if (!conn.ok()) return out.Fail(conn.status());
    if (absl::Status s = file.Open(out_path, args.force, 0600); !s.ok()) {
      return FailOperation(out, "events export", s);
    }
    v1::ExportRequest req;
    req.set_from_seq(args.from_seq);
    req.set_to_seq(args.to_seq);
    Stub stub(conn->channel);
    grpc::ClientContext ctx;
    PrepareCall(global, &ctx);
    std::unique_ptr<grpc::ClientReader<v1::ExportChunk>> reader =
        stub.Export(&ctx, req);
    LineSplitter lines([&](absl::string_view line) {
      summary.See(line);
      return absl::OkStatus();
    });
    v1::ExportChunk chunk;
    absl::Status written;
    while (written.ok() && reader->Read(&chunk)) {
      written = file.Write(chunk.data());
      if (written.ok()) written = lines.Add(chunk.data());
    }
    if (!written.ok()) {
      ctx.TryCancel();
      while (reader->Read(&chunk)) {
      }
      reader->Finish().IgnoreError();
      return FailOperation(out, "events export", written);
    }
    grpc::Status s = reader->Finish();
    if (!s.ok()) return FailCall(out, kDaemon, s);
    lines.Finish().IgnoreError();
  }
  if (absl::Status s = file.Commit(); !s.ok()) {
    return FailOperation(out, "events export", s);
  }
  if (out_path.empty()) return kExitOk;  // the export was the output

  Json object = {{"out", out_path}};
  std::string text = absl::StrCat("exported to ", out_path);
  absl::StatusOr<events::ExportLine> header =
      events::ParseExportLine(summary.first_line);
  absl::StatusOr<events::ExportLine> end =
      events::ParseExportLine(summary.last_line);
  if (header.ok() && end.ok() &&
      header->type == events::ExportLine::Type::kHeader &&
      end->type == events::ExportLine::Type::kEnd) {
    const events::ExportHeader& h = header->header;
    object["device"] = h.device;
    object["from_seq"] = h.from_seq;
    object["to_seq"] = h.to_seq;
    object["events"] = end->end.events;
    object["tree_heads"] = end->end.tree_heads;
    std::string range =
        end->end.events == 0
            ? std::string("no events")
            : absl::StrCat("events ", h.from_seq, "..", h.to_seq - 1, " (",
                           end->end.events, ")");
    text = absl::StrCat(
        "exported ", range, " and ",
        Plural(end->end.tree_heads, "signed tree head", "signed tree heads"),
        " of device ", Shown(h.device), " to ", out_path);
  }
  PrintResult(out, text, object);
  return kExitOk;
}

// ----------------------------------------------------------------- verify

struct VerifyArgs {
  std::string file;
  std::string db;
  std::vector<std::string> keys;  // --key, repeatable: current, then earlier
  std::string checkpoint;
};

// An Ed25519 public key from a PEM SubjectPublicKeyInfo file (--key).
absl::StatusOr<pki::EvpPkeyPtr> ReadCheckpointKey(const std::string& path) {
  absl::StatusOr<std::string> pem = ReadOptionFile("--key", path);
  if (!pem.ok()) return pem.status();
  if (absl::StrContains(*pem, "PRIVATE KEY")) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--key ", Shown(path),
        " holds a private key; verifying needs the public key only "
        "('rustiqctl keys pubkey event-checkpoint')"));
  }
  pki::BioPtr bio(BIO_new_mem_buf(pem->data(), static_cast<int>(pem->size())));
  pki::EvpPkeyPtr key(bio == nullptr ? nullptr
                                     : PEM_read_bio_PUBKEY(bio.get(), nullptr,
                                                           nullptr, nullptr));
  if (key == nullptr) {
    pki::OpenSslErrors();  // drained: the message below says what to give
    return absl::InvalidArgumentError(absl::StrCat(
        "--key ", Shown(path),
        ": expected a PEM public key (-----BEGIN PUBLIC KEY-----, as "
        "'rustiqctl keys pubkey event-checkpoint' prints it)"));
  }
  if (EVP_PKEY_id(key.get()) != EVP_PKEY_ED25519) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--key ", Shown(path),
        ": not an Ed25519 key (the event-checkpoint key is Ed25519)"));
  }
  return key;
}

// One version (0: the current one) of the device's checkpoint public key,
// from keyd (its policy lets client/* read it). The failure has been printed
// when it returns nullopt; `rc` holds the exit code.
std::optional<pki::EvpPkeyPtr> FetchCheckpointKey(const GlobalOptions& global,
                                                  const Output& out,
                                                  const DaemonConnection& conn,
                                                  uint32_t version, int* rc) {
  v1::GetPublicKeyRequest req;
  req.set_name(eventd::kCheckpointKeyName);
  req.set_version(version);
  v1::PublicKey pub;
  grpc::Status s =
      Invoke(global, conn.channel, &v1::Keys::Stub::GetPublicKey, req, &pub);
  if (!s.ok()) {
    *rc = FailCall(out, kKeyDaemon,
                   grpc::Status(s.error_code(),
                                absl::StrCat(s.error_message(),
                                             " (verifying needs the "
                                             "event-checkpoint public key: "
                                             "from keyd, or give --key "
                                             "PEM_FILE)")));
    return std::nullopt;
  }
  const auto* der = reinterpret_cast<const unsigned char*>(pub.der().data());
  pki::EvpPkeyPtr key(
      d2i_PUBKEY(nullptr, &der, static_cast<long>(pub.der().size())));
  if (key == nullptr || EVP_PKEY_id(key.get()) != EVP_PKEY_ED25519) {
    pki::OpenSslErrors();
    *rc = out.Fail(absl::InternalError(
        "keyd's event-checkpoint public key is not an Ed25519 key"));
    return std::nullopt;
  }
  return key;
}

std::string ReportText(const events::VerifyReport& r,
                       std::optional<uint64_t> checkpoint_size) {
  std::string events = r.events == 0
                           ? std::string("no events")
                           : absl::StrCat("events ", r.from_seq, "..",
                                          r.end_seq - 1, " (", r.events, ")");
  std::string text = absl::StrCat("event log verified: ", events);
  if (r.tree_heads > 0 || r.signed_up_to > 0) {
    absl::StrAppend(
        &text, ", ",
        Plural(r.tree_heads, "signed tree head", "signed tree heads"));
    if (r.signed_up_to > 0) {
      absl::StrAppend(&text, ", signed up to ", r.signed_up_to);
      if (r.unsigned_events > 0) {
        absl::StrAppend(
            &text, ", ",
            Plural(r.unsigned_events, "newer event", "newer events"),
            " not signed yet");
      }
    }
  } else if (r.events > 0) {
    // Consistent with their recorded leaves, but nothing vouches for them.
    absl::StrAppend(&text, ", no signed tree head covers them");
  } else {
    absl::StrAppend(&text, ", no signed tree heads");
  }
  if (checkpoint_size.has_value()) {
    absl::StrAppend(&text, "; it still holds the checkpoint of size ",
                    *checkpoint_size, " saved earlier");
  }
  return text;
}

int Verify(const GlobalOptions& global, const VerifyArgs& args) {
  Output out(global.json);
  if (!args.file.empty() && !args.db.empty()) {
    return FailUsage(out,
                     "--file and --db: verify one of them (or neither, for "
                     "the live log)");
  }
  if (!args.file.empty()) {
    if (absl::Status s = CheckInputFile("--file", args.file); !s.ok()) {
      return FailUsage(out, s.message());
    }
  }
  if (!args.db.empty()) {
    if (absl::Status s = CheckInputFile("--db", args.db); !s.ok()) {
      return FailUsage(out, s.message());
    }
  }
  events::VerifyOptions options;
  std::optional<uint64_t> checkpoint_size;
  if (!args.checkpoint.empty()) {
    absl::StatusOr<std::string> note =
        ReadOptionFile("--checkpoint", args.checkpoint);
    if (!note.ok()) return FailUsage(out, note.status().message());
    absl::StatusOr<merkle::SignedNote> parsed = merkle::ParseSignedNote(*note);
    absl::StatusOr<merkle::Checkpoint> body =
        parsed.ok() ? merkle::ParseCheckpointBody(parsed->text)
                    : absl::StatusOr<merkle::Checkpoint>(parsed.status());
    if (!body.ok()) {
      return FailUsage(
          out, absl::StrCat("--checkpoint ", Shown(args.checkpoint),
                            ": not a signed checkpoint (as 'rustiqctl events "
                            "head --checkpoint-out' saves it): ",
                            body.status().message()));
    }
    checkpoint_size = body->size;
    options.trusted_checkpoint = *std::move(note);
  }
  // The checkpoint key: its current version first, then the earlier ones
  // that still verify (after a rotation, older heads are signed by them).
  std::vector<pki::EvpPkeyPtr> keys;
  std::string key_from;
  if (!args.keys.empty()) {
    for (const std::string& path : args.keys) {
      absl::StatusOr<pki::EvpPkeyPtr> k = ReadCheckpointKey(path);
      if (!k.ok()) return FailUsage(out, k.status().message());
      keys.push_back(*std::move(k));
    }
    key_from = absl::StrJoin(args.keys, ", ");
  } else {
    absl::StatusOr<DaemonConnection> conn = ConnectToDaemon(global, kKeyDaemon);
    if (!conn.ok()) return out.Fail(conn.status());
    int rc = kExitOk;
    std::optional<pki::EvpPkeyPtr> current =
        FetchCheckpointKey(global, out, *conn, 0, &rc);
    if (!current.has_value()) return rc;
    keys.push_back(*std::move(current));
    v1::GetKeyRequest req;
    req.set_name(eventd::kCheckpointKeyName);
    v1::KeyInfo info;
    grpc::Status s =
        Invoke(global, conn->channel, &v1::Keys::Stub::GetKey, req, &info);
    if (!s.ok()) return FailCall(out, kKeyDaemon, s);
    for (const v1::KeyVersion& v : info.versions()) {
      if (v.current()) continue;
      std::optional<pki::EvpPkeyPtr> earlier =
          FetchCheckpointKey(global, out, *conn, v.version(), &rc);
      if (!earlier.has_value()) return rc;
      keys.push_back(*std::move(earlier));
    }
    key_from = "keyd";
  }
  options.checkpoint_key = keys.front().get();
  for (size_t i = 1; i < keys.size(); ++i) {
    options.earlier_checkpoint_keys.push_back(keys[i].get());
  }
  const bool live = args.file.empty() && args.db.empty();
  // The key is this device's when keyd gave it, and the live log is this
  // device's: the export must then be of this device too. A key from a
  // file may be another device's (forensics on a copy).
  if (live || args.keys.empty()) {
    absl::StatusOr<config::StackConfig> cfg = global.LoadConfig();
    if (!cfg.ok()) return out.Fail(cfg.status());
    options.expected_device = cfg->device_id;
  }

  constexpr absl::string_view kWhat = "events verify";
  absl::StatusOr<events::VerifyReport> report;
  std::string source;
  if (!args.file.empty()) {
    source = args.file;
    std::ifstream in(args.file, std::ios::binary);
    if (!in) {
      return FailUsage(out, absl::StrCat("--file ", Shown(args.file), ": ",
                                         std::strerror(errno)));
    }
    report = events::VerifyExport(in, options);
  } else if (!args.db.empty()) {
    source = args.db;
    absl::StatusOr<std::unique_ptr<eventd::EventStore>> store =
        eventd::EventStore::OpenReadOnly(args.db);
    if (!store.ok()) return FailOperation(out, kWhat, store.status());
    events::LogVerifier verifier(options);
    absl::Status complaint;  // the verifier's, if it has one
    absl::Status fed =
        eventd::ExportLog(**store, (*store)->opened_state().device_id,
                          eventd::ExportRange{}, [&](std::string line) {
                            complaint = verifier.AddLine(line);
                            return complaint;
                          });
    // The verifier's complaint, else the exporter's (a file too damaged to
    // be read at all), else what the end of the export shows.
    if (!complaint.ok()) {
      report = complaint;
    } else if (!fed.ok()) {
      report = fed;
    } else {
      report = verifier.Finish();
    }
  } else {
    source = "eventd";
    absl::StatusOr<DaemonConnection> conn = ConnectForStreams(global, kDaemon);
    if (!conn.ok()) return out.Fail(conn.status());
    Stub stub(conn->channel);
    grpc::ClientContext ctx;
    PrepareCall(global, &ctx);
    std::unique_ptr<grpc::ClientReader<v1::ExportChunk>> reader =
        stub.Export(&ctx, v1::ExportRequest());
    events::LogVerifier verifier(options);
    LineSplitter lines(
        [&](absl::string_view line) { return verifier.AddLine(line); });
    v1::ExportChunk chunk;
    absl::Status fed;
    while (fed.ok() && reader->Read(&chunk)) fed = lines.Add(chunk.data());
    if (!fed.ok()) {
      // The first inconsistency is enough: stop the stream.
      ctx.TryCancel();
      while (reader->Read(&chunk)) {
      }
      reader->Finish().IgnoreError();
      report = fed;
    } else {
      grpc::Status s = reader->Finish();
      if (!s.ok()) return FailCall(out, kDaemon, s);
      if (absl::Status rest = lines.Finish(); !rest.ok()) {
        report = rest;
      } else {
        report = verifier.Finish();
      }
    }
  }
  if (!report.ok()) return FailOperation(out, kWhat, report.status());

  Json object = {{"verified", true},
                 {"source", source},
                 {"key", key_from},
                 {"from_seq", report->from_seq},
                 {"end_seq", report->end_seq},
                 {"events", report->events},
                 {"tree_heads", report->tree_heads},
                 {"signed_up_to", report->signed_up_to},
                 {"unsigned_events", report->unsigned_events}};
  if (checkpoint_size.has_value()) object["checkpoint_size"] = *checkpoint_size;
  PrintResult(out, ReportText(*report, checkpoint_size), object);
  return kExitOk;
}

// ------------------------------------------------------------------- head

struct HeadArgs {
  std::string checkpoint_out;
  bool force = false;
};

Json HeadJson(const v1::TreeHead& h, bool with_signature) {
  Json j = {{"size", h.size()},
            {"root", absl::BytesToHexString(h.root_hash())},
            {"time", events::FormatTime(h.time_unix_nanos())},
            {"time_unix_nanos", h.time_unix_nanos()}};
  if (with_signature) {
    j["key_version"] = h.key_version();
    j["checkpoint"] = h.checkpoint();
  }
  return j;
}

int Head(const GlobalOptions& global, const HeadArgs& args) {
  Output out(global.json);
  if (args.force && args.checkpoint_out.empty()) {
    return FailUsage(out, "--force goes with --checkpoint-out FILE");
  }
  std::string out_path;
  if (!args.checkpoint_out.empty()) {
    absl::StatusOr<std::string> p = OutputFile::CheckTarget(
        "--checkpoint-out", args.checkpoint_out, args.force);
    if (!p.ok()) return FailUsage(out, p.status().message());
    out_path = *p;
  }
  v1::GetTreeHeadResponse head;
  if (int rc = CallDaemon(global, out, kDaemon, &Stub::GetTreeHead,
                          v1::GetTreeHeadRequest(), &head);
      rc != kExitOk) {
    return rc;
  }
  const v1::TreeHead& current = head.current();
  std::string text =
      absl::StrCat("current:        size ", current.size(), ", root ",
                   absl::BytesToHexString(current.root_hash()), " (as of ",
                   TimeMillis(current.time_unix_nanos()), ")");
  Json object = {{"current", HeadJson(current, false)}};
  if (head.has_latest_signed()) {
    const v1::TreeHead& s = head.latest_signed();
    absl::StrAppend(
        &text, "\nlatest signed:  size ", s.size(), ", root ",
        absl::BytesToHexString(s.root_hash()), "\n                signed ",
        TimeMillis(s.time_unix_nanos()), " with key version ", s.key_version());
    if (current.size() > s.size()) {
      absl::StrAppend(&text, "\nnot signed yet: ",
                      Plural(current.size() - s.size(), "event", "events"));
    }
    object["latest_signed"] = HeadJson(s, true);
  } else {
    absl::StrAppend(&text, "\nlatest signed:  none yet");
    object["latest_signed"] = nullptr;
  }
  if (!out_path.empty()) {
    if (!head.has_latest_signed() ||
        head.latest_signed().checkpoint().empty()) {
      return out.FailWithExitCode(
          absl::FailedPreconditionError(
              "events head: no tree head is signed yet, so there is no "
              "checkpoint to save; try again once eventd has signed one"),
          kExitFailure);
    }
    OutputFile file;
    absl::Status s = file.Open(out_path, args.force, 0644);
    if (s.ok()) s = file.Write(head.latest_signed().checkpoint());
    if (s.ok()) s = file.Commit();
    if (!s.ok()) return FailOperation(out, "events head", s);
    absl::StrAppend(&text, "\ncheckpoint of size ", head.latest_signed().size(),
                    " saved to ", out_path,
                    " (verify against it later with --checkpoint)");
    object["checkpoint_out"] = out_path;
  }
  PrintResult(out, text, object);
  return kExitOk;
}

}  // namespace

void AddEventsCommand(CLI::App& app, const GlobalOptions& global,
                      Action* action) {
  CLI::App* cmd = app.add_subcommand(
      "events", "The tamper-evident event log kept by rustiq-eventd");
  cmd->require_subcommand(1);
  // Global options may follow the subcommand ("events list --json").
  cmd->fallthrough();

  auto list_args = std::make_shared<ListArgs>();
  CLI::App* list = cmd->add_subcommand(
      "list", "Events that match the filters, newest first");
  AddFilterOptions(list, &list_args->filter);
  list->add_option("--limit", list_args->limit,
                   absl::StrCat("At most N events (1-", kMaxLimit, ")"))
      ->check(WholeNumber())
      ->capture_default_str();
  list->add_flag("--oldest-first", list_args->oldest_first,
                 "The oldest matching events, oldest first");
  list->callback([&global, action, list_args] {
    *action = [&global, list_args] { return List(global, *list_args); };
  });

  auto tail_args = std::make_shared<TailArgs>();
  CLI::App* tail = cmd->add_subcommand(
      "tail", "Print matching events as they are appended, until Ctrl-C");
  AddFilterOptions(tail, &tail_args->filter);
  CLI::Option* from_seq = tail->add_option(
      "--from-seq", tail_args->from_seq,
      "Start with event N (default: only events appended from now on)");
  from_seq->check(WholeNumber());
  tail->callback([&global, action, tail_args, from_seq] {
    tail_args->from_seq_given = from_seq->count() > 0;
    *action = [&global, tail_args] { return Tail(global, *tail_args); };
  });

  auto export_args = std::make_shared<ExportArgs>();
  CLI::App* export_cmd = cmd->add_subcommand(
      "export",
      "A verifiable export of the log (JSON lines): events, signed tree "
      "heads, Merkle prefix");
  export_cmd
      ->add_option("--from-seq", export_args->from_seq,
                   "First event (default: the oldest kept)")
      ->check(WholeNumber());
  export_cmd
      ->add_option("--to-seq", export_args->to_seq,
                   "One past the last event (default: up to the newest, "
                   "with every signed tree head)")
      ->check(WholeNumber());
  export_cmd->add_option("--out", export_args->out,
                         "Write to FILE (created with mode 0600) instead of "
                         "stdout");
  export_cmd->add_flag("--force", export_args->force,
                       "Replace FILE if it exists");
  export_cmd->add_option("--db", export_args->db,
                         "Read this log file (a copy of eventd's events.db) "
                         "directly instead of asking eventd");
  export_cmd->callback([&global, action, export_args] {
    *action = [&global, export_args] { return Export(global, *export_args); };
  });

  auto verify_args = std::make_shared<VerifyArgs>();
  CLI::App* verify = cmd->add_subcommand(
      "verify",
      "Verify the log against the device's checkpoint key: the live log, "
      "an export file or a log file");
  verify->add_option("--file", verify_args->file,
                     "Verify this export file ('events export --out')");
  verify->add_option("--db", verify_args->db,
                     "Verify this log file (a copy of eventd's events.db)");
  verify->add_option("--key", verify_args->keys,
                     "The checkpoint public key (PEM, Ed25519; default: "
                     "every version of keyd's event-checkpoint key). Repeat "
                     "it for the versions before a rotation, current first");
  verify->add_option("--checkpoint", verify_args->checkpoint,
                     "A signed checkpoint saved earlier ('events head "
                     "--checkpoint-out'): the log must still hold it");
  verify->callback([&global, action, verify_args] {
    *action = [&global, verify_args] { return Verify(global, *verify_args); };
  });

  auto head_args = std::make_shared<HeadArgs>();
  CLI::App* head = cmd->add_subcommand(
      "head", "The current tree head and the latest signed one");
  head->add_option("--checkpoint-out", head_args->checkpoint_out,
                   "Save the latest signed checkpoint (a signed note) to "
                   "FILE, for 'events verify --checkpoint'");
  head->add_flag("--force", head_args->force, "Replace FILE if it exists");
  head->callback([&global, action, head_args] {
    *action = [&global, head_args] { return Head(global, *head_args); };
  });
}

}  // namespace rustiq::cli
