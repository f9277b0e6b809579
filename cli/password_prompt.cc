#include "cli/password_prompt.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <signal.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <utility>

#include "absl/strings/str_cat.h"

namespace rustiq::cli {
namespace {

// The terminal whose echo is off while a password is typed, and its
// settings before, for the signal handler to put back. -1: none.
std::atomic<int> g_echo_off_fd{-1};
struct termios g_saved_termios;
static_assert(std::atomic<int>::is_always_lock_free,
              "the signal handler reads g_echo_off_fd");

// The signals that would end rustiqctl while echo is off and leave the
// person's shell without it. (SIGTSTP is left alone: a shell gives the
// terminal its own settings back when it regains it.)
constexpr int kRestoringSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

extern "C" void RestoreTerminalAndReraise(int sig) {
  // Async-signal-safe calls only: tcsetattr, write, raise.
  int fd = g_echo_off_fd.load();
  if (fd >= 0) {
    tcsetattr(fd, TCSANOW, &g_saved_termios);
    // The line the person was typing ends on screen as Ctrl-C leaves it.
    ssize_t ignored = write(fd, "\n", 1);
    (void)ignored;
  }
  // SA_RESETHAND has put the default action back, and the signal is
  // blocked while this handler runs: raised now, it takes its default
  // course as soon as the handler returns.
  raise(sig);
}

// Echo off on `fd` for as long as this lives, and the handlers that put it
// back if a signal ends the process meanwhile.
class EchoOff {
 public:
  // False when `fd` is not a terminal whose settings can be changed.
  bool Begin(int fd) {
    if (tcgetattr(fd, &saved_) != 0) return false;
    g_saved_termios = saved_;
    g_echo_off_fd.store(fd);
    for (size_t i = 0; i < std::size(kRestoringSignals); ++i) {
      struct sigaction action {};
      action.sa_handler = &RestoreTerminalAndReraise;
      sigemptyset(&action.sa_mask);
      action.sa_flags = SA_RESETHAND;
      installed_[i] =
          sigaction(kRestoringSignals[i], &action, &previous_[i]) == 0;
      // A signal that was ignored (nohup) stays ignored.
      if (installed_[i] && previous_[i].sa_handler == SIG_IGN) {
        sigaction(kRestoringSignals[i], &previous_[i], nullptr);
        installed_[i] = false;
      }
    }
    struct termios quiet = saved_;
    // ECHONL still echoes the newline, so the cursor moves on as usual.
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    quiet.c_lflag |= ECHONL;
    // TCSAFLUSH: whatever was typed ahead (and echoed) is not taken as the
    // password.
    if (tcsetattr(fd, TCSAFLUSH, &quiet) != 0) {
      End();
      return false;
    }
    return true;
  }

  // Restores the terminal, then the previous handlers. Idempotent.
  void End() {
    int fd = g_echo_off_fd.load();
    if (fd >= 0) tcsetattr(fd, TCSANOW, &saved_);
    g_echo_off_fd.store(-1);
    for (size_t i = 0; i < std::size(kRestoringSignals); ++i) {
      if (installed_[i])
        sigaction(kRestoringSignals[i], &previous_[i], nullptr);
      installed_[i] = false;
    }
  }

  ~EchoOff() { End(); }

 private:
  struct termios saved_ {};
  struct sigaction previous_[std::size(kRestoringSignals)] = {};
  bool installed_[std::size(kRestoringSignals)] = {};
};

bool IsUtf8(absl::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    size_t extra;
    uint32_t code;
    if (c < 0x80) {
      ++i;
      continue;
    } else if (c >= 0xC2 && c <= 0xDF) {
      extra = 1;
      code = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      extra = 2;
      code = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      extra = 3;
      code = c & 0x07;
    } else {
      return false;
    }
    if (i + extra >= text.size()) return false;
    for (size_t k = 1; k <= extra; ++k) {
      unsigned char cc = static_cast<unsigned char>(text[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      code = (code << 6) | (cc & 0x3F);
    }
    // Overlong forms, UTF-16 surrogates, beyond U+10FFFF.
    if ((extra == 2 && code < 0x800) || (extra == 3 && code < 0x10000) ||
        (code >= 0xD800 && code <= 0xDFFF) || code > 0x10FFFF) {
      return false;
    }
    i += extra + 1;
  }
  return true;
}

// One line of `fd`, a byte at a time. `on_terminal` only chooses the
// wording of the messages. `*ended` tells whether the input ended before
// a newline.
absl::StatusOr<Secret> ReadLine(int fd, absl::string_view what,
                                bool on_terminal, bool* ended) {
  *ended = false;
  // One more byte than allowed, to tell "at the bound" from "beyond it".
  char buffer[kMaxPasswordBytes + 1];
  size_t length = 0;
  bool any = false;
  bool too_long = false;
  int read_errno = 0;
  while (true) {
    char c;
    ssize_t n = read(fd, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      read_errno = errno;
      break;
    }
    if (n == 0) {  // the end of the input; a last line may lack '\n'
      *ended = true;
      break;
    }
    any = true;
    if (c == '\n') break;
    if (length == kMaxPasswordBytes) {
      too_long = true;
      OPENSSL_cleanse(&c, sizeof(c));
      break;
    }
    buffer[length++] = c;
    OPENSSL_cleanse(&c, sizeof(c));
  }
  Secret secret(absl::string_view(buffer, length));
  OPENSSL_cleanse(buffer, sizeof(buffer));
  if (read_errno != 0) {
    return absl::UnknownError(
        absl::StrCat("cannot read ", what, ": ", std::strerror(read_errno)));
  }
  if (!any) {
    return absl::InvalidArgumentError(
        on_terminal ? absl::StrCat("no ", what, " given")
                    : absl::StrCat("--password-stdin: stdin ended before ",
                                   what, " (one password per line)"));
  }
  if (too_long) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " is longer than ", kMaxPasswordBytes, " bytes"));
  }
  if (secret.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(what, " is empty"));
  }
  if (!IsUtf8(secret.view())) {
    return absl::InvalidArgumentError(absl::StrCat(what, " is not UTF-8 text"));
  }
  return secret;
}

}  // namespace

void Cleanse(std::string* text) {
  if (!text->empty()) OPENSSL_cleanse(text->data(), text->size());
  text->clear();
}

Secret::Secret() { text_.reserve(kMaxPasswordBytes + 1); }

Secret::Secret(absl::string_view text) {
  // Beyond the small-string buffer, so that a move hands the heap buffer
  // over and leaves no copy in the moved-from object.
  text_.reserve(std::max(text.size(), kMaxPasswordBytes) + 1);
  text_.assign(text.data(), text.size());
}

Secret::Secret(Secret&& other) noexcept : text_(std::move(other.text_)) {
  Cleanse(&other.text_);
}

Secret& Secret::operator=(Secret&& other) noexcept {
  if (this != &other) {
    Cleanse(&text_);
    text_ = std::move(other.text_);
    Cleanse(&other.text_);
  }
  return *this;
}

Secret::~Secret() { Cleanse(&text_); }

bool Secret::SameAs(const Secret& other) const {
  return text_.size() == other.text_.size() &&
         CRYPTO_memcmp(text_.data(), other.text_.data(), text_.size()) == 0;
}

absl::StatusOr<Secret> ReadSecretLine(int fd, absl::string_view what) {
  bool ended = false;
  return ReadLine(fd, what, /*on_terminal=*/false, &ended);
}

absl::StatusOr<Secret> PasswordSource::Read(absl::string_view prompt,
                                            absl::string_view what) {
  if (from_stdin_) return ReadSecretLine(STDIN_FILENO, what);
  int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "no terminal to read ", what, " from (/dev/tty: ", std::strerror(errno),
        "): give it on stdin with --password-stdin"));
  }
  absl::StatusOr<Secret> secret;
  {
    EchoOff echo_off;
    if (!echo_off.Begin(fd)) {
      int err = errno;
      close(fd);
      return absl::InvalidArgumentError(absl::StrCat(
          "cannot turn off echo on /dev/tty to read ", what, " (",
          std::strerror(err), "): give it on stdin with --password-stdin"));
    }
    ssize_t ignored = write(fd, prompt.data(), prompt.size());
    (void)ignored;
    bool ended = false;
    secret = ReadLine(fd, what, /*on_terminal=*/true, &ended);
    // Ctrl-D echoes no newline; the next message starts on a line of its
    // own all the same.
    if (ended) {
      ssize_t ignored_newline = write(fd, "\n", 1);
      (void)ignored_newline;
    }
    if (!secret.ok()) {
      // Whatever was left of an overlong line is not the shell's next
      // command.
      tcflush(fd, TCIFLUSH);
    }
  }
  close(fd);
  return secret;
}

absl::StatusOr<Secret> PasswordSource::ReadNew() {
  absl::StatusOr<Secret> first = Read("New password: ", "the new password");
  if (!first.ok() || from_stdin_) return first;
  absl::StatusOr<Secret> second =
      Read("Repeat new password: ", "the repeated new password");
  if (!second.ok()) return second.status();
  if (!first->SameAs(*second)) {
    return absl::InvalidArgumentError(
        "the new passwords do not match; nothing was changed");
  }
  return first;
}

}  // namespace rustiq::cli
