// Where rustiqctl keeps a person's token (cli/token_file.h): modes that do
// not depend on the umask, atomic replacement, and the files and
// directories it refuses. Also the password input of cli/password_prompt.h:
// lines of stdin, and the terminal's echo (off while typing, back on after,
// also when Ctrl-C ends rustiqctl) on a pseudo-terminal.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "cli/password_prompt.h"
#include "cli/token_file.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/file_checks.h"
#include "tests/support/temp_dir.h"

namespace rustiq::cli {
namespace {

namespace fs = std::filesystem;
using ::rustiq::testing::Entries;
using ::rustiq::testing::ModeOf;
using ::rustiq::testing::ReadAll;
using ::rustiq::testing::ScopedUmask;
using ::rustiq::testing::TempDir;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kToken[] = "v4.public.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl";

void WriteFile(const std::string& path, const std::string& data, mode_t mode) {
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << data;
  }
  ASSERT_EQ(chmod(path.c_str(), mode), 0) << path;
}

// Each test gets its own runtime directory as $XDG_RUNTIME_DIR.
class TokenFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* old = getenv("XDG_RUNTIME_DIR");
    if (old != nullptr) saved_ = old;
    ASSERT_EQ(setenv("XDG_RUNTIME_DIR", runtime_.path().c_str(), 1), 0);
  }
  void TearDown() override {
    if (saved_.has_value()) {
      setenv("XDG_RUNTIME_DIR", saved_->c_str(), 1);
    } else {
      unsetenv("XDG_RUNTIME_DIR");
    }
  }
  std::string Dir() const { return runtime_ / "rustiq"; }
  std::string Token() const { return runtime_ / "rustiq/token"; }

  TempDir runtime_{"rustiq-token-test"};
  std::optional<std::string> saved_;
};

TEST_F(TokenFileTest, PathIsUnderXdgRuntimeDir) {
  EXPECT_EQ(TokenPath(), Token());
}

TEST_F(TokenFileTest, RoundTrip) {
  ASSERT_TRUE(WriteToken(kToken).ok());
  absl::StatusOr<std::optional<std::string>> read = ReadToken();
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_TRUE(read->has_value());
  EXPECT_EQ(**read, kToken);
  // Exactly the token: nothing a header could not carry.
  EXPECT_EQ(ReadAll(Token()), kToken);
}

TEST_F(TokenFileTest, NoTokenIsNotAnError) {
  absl::StatusOr<std::optional<std::string>> read = ReadToken();
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_FALSE(read->has_value());
}

TEST_F(TokenFileTest, DirectoryIs0700AndFile0600WhateverTheUmask) {
  for (mode_t mask : {mode_t{0}, mode_t{022}, mode_t{0277}}) {
    SCOPED_TRACE(mask);
    ScopedUmask scoped(mask);
    ASSERT_TRUE(RemoveToken().ok());
    rmdir(Dir().c_str());
    ASSERT_TRUE(WriteToken(kToken).ok());
    EXPECT_EQ(ModeOf(Dir()), 0700u);
    EXPECT_EQ(ModeOf(Token()), 0600u);
  }
}

TEST_F(TokenFileTest, ReplacesTheTokenAndLeavesNoTemporaryFile) {
  ASSERT_TRUE(WriteToken("v4.public.first").ok());
  ASSERT_TRUE(WriteToken("v4.public.second").ok());
  absl::StatusOr<std::optional<std::string>> read = ReadToken();
  ASSERT_TRUE(read.ok() && read->has_value());
  EXPECT_EQ(**read, "v4.public.second");
  EXPECT_THAT(Entries(Dir()), ElementsAre("token"));
}

TEST_F(TokenFileTest, RemoveTokenTwice) {
  ASSERT_TRUE(WriteToken(kToken).ok());
  ASSERT_TRUE(RemoveToken().ok());
  EXPECT_FALSE(fs::exists(Token()));
  absl::StatusOr<std::optional<std::string>> read = ReadToken();
  ASSERT_TRUE(read.ok());
  EXPECT_FALSE(read->has_value());
  // Nothing left to remove is what logging out wants anyway.
  EXPECT_TRUE(RemoveToken().ok());
}

TEST_F(TokenFileTest, ReadRefusesAFileOfAnotherMode) {
  ASSERT_TRUE(WriteToken(kToken).ok());
  ASSERT_EQ(chmod(Token().c_str(), 0644), 0);
  absl::StatusOr<std::optional<std::string>> read = ReadToken();
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(read.status().message(), HasSubstr("mode 0600"));
  // Never the token itself in a message.
  EXPECT_THAT(std::string(read.status().message()),
              ::testing::Not(HasSubstr("eyJ")));
}

TEST_F(TokenFileTest, ReadRefusesASymlink) {
  ASSERT_TRUE(WriteToken(kToken).ok());
  std::string elsewhere = runtime_ / "elsewhere";
  WriteFile(elsewhere, "v4.public.planted", 0600);
  ASSERT_EQ(unlink(Token().c_str()), 0);
  ASSERT_EQ(symlink(elsewhere.c_str(), Token().c_str()), 0);
  absl::StatusOr<std::optional<std::string>> read = ReadToken();
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(TokenFileTest, WriteReplacesASymlinkWithoutFollowingIt) {
  ASSERT_EQ(mkdir(Dir().c_str(), 0700), 0);
  std::string elsewhere = runtime_ / "elsewhere";
  WriteFile(elsewhere, "untouched", 0600);
  ASSERT_EQ(symlink(elsewhere.c_str(), Token().c_str()), 0);
  ASSERT_TRUE(WriteToken(kToken).ok());
  EXPECT_EQ(ReadAll(elsewhere), "untouched");
  EXPECT_FALSE(fs::is_symlink(Token()));
  EXPECT_EQ(ReadAll(Token()), kToken);
}

TEST_F(TokenFileTest, WriteRefusesASymlinkedDirectory) {
  std::string elsewhere = runtime_ / "elsewhere";
  ASSERT_EQ(mkdir(elsewhere.c_str(), 0700), 0);
  ASSERT_EQ(symlink(elsewhere.c_str(), Dir().c_str()), 0);
  absl::Status s = WriteToken(kToken);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_THAT(s.message(), HasSubstr(Dir()));
  EXPECT_TRUE(Entries(elsewhere).empty());
}

TEST_F(TokenFileTest, WriteRefusesADirectoryOthersCanEnter) {
  ASSERT_EQ(mkdir(Dir().c_str(), 0700), 0);
  ASSERT_EQ(chmod(Dir().c_str(), 0755), 0);
  absl::Status s = WriteToken(kToken);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_THAT(s.message(), HasSubstr("mode 0700"));
  EXPECT_TRUE(Entries(Dir()).empty());
}

TEST_F(TokenFileTest, WriteRefusesAFileWhereTheDirectoryGoes) {
  WriteFile(Dir(), "", 0600);
  absl::Status s = WriteToken(kToken);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
}

TEST_F(TokenFileTest, WriteFailsWithoutARuntimeDirectory) {
  std::string missing = runtime_ / "missing";
  ASSERT_EQ(setenv("XDG_RUNTIME_DIR", missing.c_str(), 1), 0);
  absl::Status s = WriteToken(kToken);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_THAT(s.message(), HasSubstr("set XDG_RUNTIME_DIR"));
  EXPECT_FALSE(fs::exists(missing));
}

TEST_F(TokenFileTest, WriteRefusesWhatAHeaderCannotCarry) {
  for (const std::string& bad : {std::string(), std::string("v4.public.a\nb"),
                                 std::string("a b"), std::string(8193, 'a')}) {
    absl::Status s = WriteToken(bad);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  }
  EXPECT_FALSE(fs::exists(Token()));
}

// ------------------------------------------------------- password input

// `text` on a pipe, read back line by line.
std::vector<absl::StatusOr<std::string>> ReadLines(const std::string& text,
                                                   int count) {
  int fds[2];
  EXPECT_EQ(pipe(fds), 0);
  EXPECT_EQ(write(fds[1], text.data(), text.size()),
            static_cast<ssize_t>(text.size()));
  close(fds[1]);
  std::vector<absl::StatusOr<std::string>> lines;
  for (int i = 0; i < count; ++i) {
    absl::StatusOr<Secret> s = ReadSecretLine(fds[0], "the password");
    if (s.ok()) {
      lines.push_back(std::string(s->view()));
    } else {
      lines.push_back(s.status());
    }
  }
  close(fds[0]);
  return lines;
}

TEST(PasswordLine, SuccessiveLinesOneNewlineTakenOff) {
  std::vector<absl::StatusOr<std::string>> lines =
      ReadLines("old pass \nnew\r\nlast", 4);
  ASSERT_TRUE(lines[0].ok() && lines[1].ok() && lines[2].ok());
  EXPECT_EQ(*lines[0], "old pass ");  // spaces are part of a password
  EXPECT_EQ(*lines[1], "new\r");
  EXPECT_EQ(*lines[2], "last");
  EXPECT_EQ(lines[3].status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(lines[3].status().message(), HasSubstr("--password-stdin"));
}

TEST(PasswordLine, BoundedAt1024Bytes) {
  std::vector<absl::StatusOr<std::string>> lines =
      ReadLines(std::string(1024, 'x') + "\n" + std::string(1025, 'y'), 2);
  ASSERT_TRUE(lines[0].ok());
  EXPECT_EQ(lines[0]->size(), 1024u);
  EXPECT_EQ(lines[1].status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(lines[1].status().message(), HasSubstr("1024"));
  EXPECT_THAT(std::string(lines[1].status().message()),
              ::testing::Not(HasSubstr("yyy")));
}

TEST(PasswordLine, RefusesEmptyAndNonUtf8) {
  std::vector<absl::StatusOr<std::string>> lines =
      ReadLines("\nab\xff\ncaf\xc3\xa9\n", 3);
  EXPECT_THAT(lines[0].status().message(), HasSubstr("empty"));
  EXPECT_THAT(lines[1].status().message(), HasSubstr("UTF-8"));
  ASSERT_TRUE(lines[2].ok());
  EXPECT_EQ(*lines[2], "caf\xc3\xa9");
}

TEST(PasswordSecret, MoveLeavesNothingBehind) {
  Secret a("correct horse battery staple");
  Secret b(std::move(a));
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): the point
  EXPECT_EQ(b.view(), "correct horse battery staple");
  EXPECT_TRUE(b.SameAs(Secret("correct horse battery staple")));
  EXPECT_FALSE(b.SameAs(Secret("correct horse battery stapler")));
}

// A pseudo-terminal whose slave is the controlling terminal of a child that
// reads a password with PasswordSource (as rustiqctl does at /dev/tty).
class PseudoTerminal {
 public:
  PseudoTerminal() {
    master_ = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    EXPECT_GE(master_, 0);
    EXPECT_EQ(grantpt(master_), 0);
    EXPECT_EQ(unlockpt(master_), 0);
    slave_name_ = ptsname(master_);
    // Held open by the test, to look at the terminal's settings while and
    // after the child reads.
    slave_ = open(slave_name_.c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC);
    EXPECT_GE(slave_, 0);
  }
  ~PseudoTerminal() {
    if (child_ > 0) {
      kill(child_, SIGKILL);
      waitpid(child_, nullptr, 0);
    }
    close(slave_);
    close(master_);
  }

  // Starts the child; what it read (or "error: ...") comes back on a pipe.
  void StartReader() {
    ASSERT_EQ(pipe(result_), 0);
    child_ = fork();
    ASSERT_GE(child_, 0);
    if (child_ == 0) {
      close(result_[0]);
      setsid();
      // A session leader opening a terminal makes it its controlling one.
      int tty = open(slave_name_.c_str(), O_RDWR);
      if (tty < 0) _exit(3);
      absl::StatusOr<Secret> s =
          PasswordSource(false).Read("Password: ", "the password");
      std::string out = s.ok() ? absl::StrCat("ok: ", s->view())
                               : absl::StrCat("error: ", s.status().message());
      ssize_t n = write(result_[1], out.data(), out.size());
      _exit(n == static_cast<ssize_t>(out.size()) ? 0 : 4);
    }
    close(result_[1]);
  }

  // What the terminal showed, until it shows `wanted` or 10 s pass.
  std::string ReadScreenUntil(const std::string& wanted) {
    absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (screen_.find(wanted) == std::string::npos &&
           absl::Now() < deadline) {
      struct pollfd p = {master_, POLLIN, 0};
      if (poll(&p, 1, 100) <= 0) continue;
      char buf[256];
      ssize_t n = read(master_, buf, sizeof(buf));
      if (n <= 0) break;
      screen_.append(buf, static_cast<size_t>(n));
    }
    return screen_;
  }

  void Type(const std::string& keys) {
    ASSERT_EQ(write(master_, keys.data(), keys.size()),
              static_cast<ssize_t>(keys.size()));
  }

  bool EchoOn() {
    struct termios t {};
    EXPECT_EQ(tcgetattr(slave_, &t), 0);
    return (t.c_lflag & ECHO) != 0;
  }

  // The child's exit status, and what it reported.
  int Wait(std::string* reported) {
    int status = 0;
    EXPECT_EQ(waitpid(child_, &status, 0), child_);
    child_ = -1;
    char buf[2048];
    ssize_t n = read(result_[0], buf, sizeof(buf));
    reported->assign(buf, n > 0 ? static_cast<size_t>(n) : 0);
    close(result_[0]);
    return status;
  }

 private:
  int master_ = -1;
  int slave_ = -1;
  std::string slave_name_;
  pid_t child_ = -1;
  int result_[2] = {-1, -1};
  std::string screen_;
};

TEST(PasswordTerminal, NoEchoWhileTypingAndEchoRestoredAfter) {
  PseudoTerminal pty;
  ASSERT_TRUE(pty.EchoOn());
  pty.StartReader();
  pty.ReadScreenUntil("Password: ");
  EXPECT_FALSE(pty.EchoOn());
  pty.Type("hunter2 and more\n");
  std::string reported;
  int status = pty.Wait(&reported);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_EQ(reported, "ok: hunter2 and more");
  EXPECT_THAT(pty.ReadScreenUntil("\n"), ::testing::Not(HasSubstr("hunter2")));
  EXPECT_TRUE(pty.EchoOn());
}

TEST(PasswordTerminal, CtrlCRestoresEchoThenEndsTheProcess) {
  PseudoTerminal pty;
  pty.StartReader();
  pty.ReadScreenUntil("Password: ");
  ASSERT_FALSE(pty.EchoOn());
  pty.Type("half");
  pty.Type("\x03");  // Ctrl-C: the terminal sends SIGINT
  std::string reported;
  int status = pty.Wait(&reported);
  ASSERT_TRUE(WIFSIGNALED(status)) << status;
  EXPECT_EQ(WTERMSIG(status), SIGINT);
  EXPECT_TRUE(reported.empty());
  EXPECT_TRUE(pty.EchoOn());
}

}  // namespace
}  // namespace rustiq::cli
