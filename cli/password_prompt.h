// Passwords for rustiqctl: typed by a person at the terminal without echo,
// or, with --password-stdin, read from successive lines of stdin (scripts,
// tests). A password is held in a Secret, whose buffer is cleansed when it
// is destroyed; it is never printed or logged, and error messages say which
// password was wrong in shape, never what it was.
#ifndef RUSTIQ_CLI_PASSWORD_PROMPT_H_
#define RUSTIQ_CLI_PASSWORD_PROMPT_H_

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace rustiq::cli {

// The longest password rustiqctl reads (authd's own bound is its business).
inline constexpr size_t kMaxPasswordBytes = 1024;

// Overwrites `text` (OPENSSL_cleanse, which the compiler may not elide) and
// empties it: for the copies a password makes in requests and responses.
void Cleanse(std::string* text);

// A password in memory. Move-only; the moved-from and the destroyed Secret
// leave no copy behind (the text always lives in a heap buffer, which a move
// hands over instead of copying).
class Secret {
 public:
  Secret();
  explicit Secret(absl::string_view text);
  Secret(Secret&& other) noexcept;
  Secret& operator=(Secret&& other) noexcept;
  Secret(const Secret&) = delete;
  Secret& operator=(const Secret&) = delete;
  ~Secret();

  absl::string_view view() const { return text_; }
  bool empty() const { return text_.empty(); }
  // Compared in constant time.
  bool SameAs(const Secret& other) const;

 private:
  std::string text_;
};

// Reads one line of `fd` (without its newline; one trailing '\n' is taken
// off, nothing else), a byte at a time so that nothing after the line is
// consumed and the next read gets the next line. `what` names the password
// in messages ("the new password"). InvalidArgument when the input ends
// before any byte, when the line is longer than kMaxPasswordBytes, empty,
// or not UTF-8.
absl::StatusOr<Secret> ReadSecretLine(int fd, absl::string_view what);

// Where the passwords of one rustiqctl command come from.
class PasswordSource {
 public:
  // `from_stdin`: --password-stdin, one password per line of stdin, no
  // prompts. Otherwise the controlling terminal (/dev/tty), so that stdin
  // and stdout stay free for redirection.
  explicit PasswordSource(bool from_stdin) : from_stdin_(from_stdin) {}

  bool from_stdin() const { return from_stdin_; }

  // Reads one password: on the terminal, `prompt` is shown and echo is off
  // while it is typed (restored on every path, SIGINT, SIGTERM, SIGHUP and
  // SIGQUIT included: the handler restores the terminal, then the signal
  // takes its default course). InvalidArgument saying to use
  // --password-stdin when there is no terminal.
  absl::StatusOr<Secret> Read(absl::string_view prompt, absl::string_view what);

  // A new password: on the terminal asked twice ("New password: ",
  // "Repeat new password: "), InvalidArgument when the two differ; from
  // stdin one line (a script does not mistype).
  absl::StatusOr<Secret> ReadNew();

 private:
  bool from_stdin_;
};

}  // namespace rustiq::cli

#endif  // RUSTIQ_CLI_PASSWORD_PROMPT_H_
