#include "services/supervisord/log_relay.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <utility>

#include "absl/strings/match.h"
#include "common/logging/log.h"

namespace rustiq::supervisord {
namespace {

constexpr size_t kMaxLineBytes = 4096;
constexpr size_t kReadChunkBytes = 16 * 1024;
// At Stop(), at most this much more is read from a pipe whose writer is
// still alive and writing.
constexpr size_t kMaxDrainBytes = 1024 * 1024;
// How long one write to a full, non-blocking out_fd may wait.
constexpr int kOutputWaitMs = 1000;

// Writes all of `data` to `fd`; on a lasting failure the rest is dropped
// (the relay must not stop for a stuck log stream).
void WriteAll(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n > 0) {
      done += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      struct pollfd pfd = {.fd = fd, .events = POLLOUT, .revents = 0};
      if (poll(&pfd, 1, kOutputWaitMs) > 0) continue;
    }
    return;
  }
}

// The relay thread takes no asynchronous signal: supervisord handles
// those in its own thread, and a broken out_fd gives EPIPE here rather
// than killing the process.
void BlockAsynchronousSignals() {
  sigset_t set;
  sigfillset(&set);
  for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP, SIGSYS}) {
    sigdelset(&set, sig);
  }
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

}  // namespace

LogRelay::LogRelay(int out_fd, size_t keep_lines)
    : out_fd_(out_fd),
      keep_lines_(keep_lines),
      wake_fd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  if (wake_fd_ < 0) {
    log::Error("log relay: eventfd failed, relaying by polling",
               {{"error", strerror(errno)}});
  }
}

LogRelay::~LogRelay() {
  Stop();
  for (auto& [pid, stream] : streams_) {
    if (stream.fd >= 0) close(stream.fd);
  }
  if (wake_fd_ >= 0) close(wake_fd_);
}

void LogRelay::Start() {
  if (thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = false;
  }
  thread_ = std::thread([this] { Run(); });
}

void LogRelay::Stop() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  Wake();
  thread_.join();
}

void LogRelay::Add(pid_t pid, int fd) {
  int flags = fcntl(fd, F_GETFL);
  if (flags >= 0) fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  {
    std::lock_guard<std::mutex> lock(mu_);
    Stream& stream = streams_[pid];
    // A pid seen again without Forget(): the old run's pipe is stale.
    if (stream.fd >= 0) close(stream.fd);
    stream = Stream();
    stream.fd = fd;
  }
  Wake();
}

bool LogRelay::WaitClosed(pid_t pid, int timeout_ms) {
  std::unique_lock<std::mutex> lock(mu_);
  return closed_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] {
    auto it = streams_.find(pid);
    return it == streams_.end() || it->second.fd < 0;
  });
}

std::vector<std::string> LogRelay::LastLines(pid_t pid) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = streams_.find(pid);
  if (it == streams_.end()) return {};
  return std::vector<std::string>(it->second.last_lines.begin(),
                                  it->second.last_lines.end());
}

std::optional<sandbox::ViolationRecord> LogRelay::Violation(pid_t pid) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = streams_.find(pid);
  if (it == streams_.end()) return std::nullopt;
  return it->second.violation;
}

void LogRelay::Forget(pid_t pid) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = streams_.find(pid);
    if (it == streams_.end()) return;
    // The thread may be in poll() on this descriptor; it finds the stream
    // gone when it takes the lock again and leaves the descriptor alone.
    if (it->second.fd >= 0) close(it->second.fd);
    streams_.erase(it);
  }
  Wake();
}

void LogRelay::Wake() {
  if (wake_fd_ < 0) return;
  uint64_t one = 1;
  ssize_t ignored = write(wake_fd_, &one, sizeof(one));
  (void)ignored;
}

void LogRelay::TakeLine(Stream& stream, std::string line, std::string* out) {
  if (absl::StrContains(line, "msg=\"sandbox violation\"")) {
    stream.violation = sandbox::ParseViolationLine(line);
  }
  out->append(line);
  out->push_back('\n');
  stream.last_lines.push_back(std::move(line));
  while (stream.last_lines.size() > keep_lines_) stream.last_lines.pop_front();
}

void LogRelay::CloseStream(Stream& stream, std::string* out) {
  if (!stream.partial.empty()) {
    TakeLine(stream, std::move(stream.partial), out);
    stream.partial.clear();
  }
  stream.discarding = false;
  close(stream.fd);
  stream.fd = -1;
}

LogRelay::ReadResult LogRelay::ReadOnce(Stream& stream, std::string* out) {
  char buf[kReadChunkBytes];
  ssize_t n = read(stream.fd, buf, sizeof(buf));
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
    return ReadResult::kEmpty;
  }
  if (n <= 0) {
    CloseStream(stream, out);
    return ReadResult::kClosed;
  }
  const char* p = buf;
  const char* end = buf + n;
  while (p < end) {
    const char* newline =
        static_cast<const char*>(memchr(p, '\n', static_cast<size_t>(end - p)));
    const size_t length = static_cast<size_t>((newline ? newline : end) - p);
    if (!stream.discarding) {
      const size_t room = kMaxLineBytes - stream.partial.size();
      if (length > room) {
        // Cut at 4 KiB: that much is relayed now, the rest of the line
        // (up to its newline) is dropped.
        stream.partial.append(p, room);
        TakeLine(stream, std::move(stream.partial), out);
        stream.partial.clear();
        stream.discarding = true;
      } else {
        stream.partial.append(p, length);
      }
    }
    if (newline == nullptr) break;
    if (stream.discarding) {
      stream.discarding = false;
    } else {
      TakeLine(stream, std::move(stream.partial), out);
      stream.partial.clear();
    }
    p = newline + 1;
  }
  return ReadResult::kData;
}

void LogRelay::Run() {
  BlockAsynchronousSignals();
  std::vector<struct pollfd> fds;
  std::vector<pid_t> pids;  // pids[i] owns fds[i + 1]
  for (;;) {
    fds.clear();
    pids.clear();
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) break;
      fds.push_back({.fd = wake_fd_, .events = POLLIN, .revents = 0});
      for (const auto& [pid, stream] : streams_) {
        if (stream.fd < 0) continue;
        fds.push_back({.fd = stream.fd, .events = POLLIN, .revents = 0});
        pids.push_back(pid);
      }
    }
    // Without an eventfd, changes are noticed within a poll timeout.
    int ready = poll(fds.data(), fds.size(), wake_fd_ >= 0 ? -1 : 200);
    if (ready < 0) {
      if (errno != EINTR) {
        log::Error("log relay: poll failed", {{"error", strerror(errno)}});
        poll(nullptr, 0, 100);  // not a busy loop on a lasting failure
      }
      continue;
    }
    if (fds[0].revents != 0) {
      uint64_t count;
      ssize_t ignored = read(wake_fd_, &count, sizeof(count));
      (void)ignored;
    }
    std::string out;
    bool any_closed = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (size_t i = 1; i < fds.size(); ++i) {
        if (fds[i].revents == 0) continue;
        auto it = streams_.find(pids[i - 1]);
        // Forgotten (or replaced) while this thread was in poll().
        if (it == streams_.end() || it->second.fd != fds[i].fd) continue;
        if (ReadOnce(it->second, &out) == ReadResult::kClosed) {
          any_closed = true;
        }
      }
    }
    if (any_closed) closed_.notify_all();
    if (!out.empty()) WriteAll(out_fd_, out);
  }

  // Stopping: what the pipes hold now is relayed; they stay open (a child
  // still writing would otherwise get SIGPIPE), and are closed with the
  // relay.
  std::string out;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [pid, stream] : streams_) {
      size_t before = out.size();
      while (stream.fd >= 0 && out.size() - before < kMaxDrainBytes &&
             ReadOnce(stream, &out) == ReadResult::kData) {
      }
      if (stream.fd >= 0 && !stream.partial.empty()) {
        TakeLine(stream, std::move(stream.partial), &out);
        stream.partial.clear();
      }
    }
  }
  closed_.notify_all();
  if (!out.empty()) WriteAll(out_fd_, out);
}

}  // namespace rustiq::supervisord
