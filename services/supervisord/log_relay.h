// Relays the daemons' stdout/stderr to supervisord's stderr, line by line,
// from one thread (poll over every child's pipe), so that the stack's logs
// are one stream (the journal's, under systemd). For each child it keeps
// the last lines it wrote (the why of a failed start) and the sandbox
// violation line, if it wrote one (msg="sandbox violation": the syscall it
// was killed for). A line longer than 4 KiB is cut there; a partial last
// line is flushed when the pipe closes.
#ifndef RUSTIQ_SERVICES_SUPERVISORD_LOG_RELAY_H_
#define RUSTIQ_SERVICES_SUPERVISORD_LOG_RELAY_H_

#include <sys/types.h>

#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/sandbox/violation_record.h"

namespace rustiq::supervisord {

class LogRelay {
 public:
  // `out_fd`: where lines go (supervisord's stderr, 2). `keep_lines`: how
  // many last lines are kept per child.
  explicit LogRelay(int out_fd = 2, size_t keep_lines = 10);
  ~LogRelay();  // Stop()
  LogRelay(const LogRelay&) = delete;
  LogRelay& operator=(const LogRelay&) = delete;

  // Start() and Stop() from one thread (supervisord's main); every other
  // method from any thread.
  void Start();
  // Relays what is left in every pipe, then stops the thread. The pipes
  // stay open (a child still writing would get SIGPIPE) until the relay
  // is destroyed or the pid forgotten.
  void Stop();

  // Takes ownership of `fd` (the read end of `pid`'s pipe).
  void Add(pid_t pid, int fd);
  // Waits (at most `timeout_ms`) until `pid`'s pipe has reached end of file
  // (the child and everything holding its pipe has exited), so that its
  // last lines and violation line are in. False on timeout; true at once
  // for a pid not added (or forgotten). Only the running thread reaches end
  // of file: after Stop() this waits out the timeout.
  bool WaitClosed(pid_t pid, int timeout_ms);
  // The last lines `pid` wrote (oldest first) and its violation line.
  std::vector<std::string> LastLines(pid_t pid) const;
  std::optional<sandbox::ViolationRecord> Violation(pid_t pid) const;
  // Forgets `pid` (after its exit was handled); closes its pipe if open.
  void Forget(pid_t pid);

 private:
  // One child's pipe and what was kept of its output.
  struct Stream {
    int fd = -1;              // owned; -1 once closed
    std::string partial;      // the line being read, without its newline
    bool discarding = false;  // the rest of a cut line is being dropped
    std::deque<std::string> last_lines;
    std::optional<sandbox::ViolationRecord> violation;
  };

  void Run();
  void Wake();
  enum class ReadResult { kData, kEmpty, kClosed };
  // Reads once from `stream` (non-blocking); complete lines are kept and
  // appended to `out`. kClosed at end of file (or on a read error): the
  // stream is then closed, its partial line flushed.
  ReadResult ReadOnce(Stream& stream, std::string* out);
  void TakeLine(Stream& stream, std::string line, std::string* out);
  void CloseStream(Stream& stream, std::string* out);

  const int out_fd_;
  const size_t keep_lines_;
  const int wake_fd_;  // eventfd: Add, Forget and Stop wake the thread
  std::thread thread_;

  mutable std::mutex mu_;
  std::condition_variable closed_;   // a stream reached end of file
  std::map<pid_t, Stream> streams_;  // guarded by mu_
  bool stopping_ = false;            // guarded by mu_
};

}  // namespace rustiq::supervisord

#endif  // RUSTIQ_SERVICES_SUPERVISORD_LOG_RELAY_H_
