// The journal copy of each event, as journald receives it: in a child with
// a private mount namespace, a datagram socket stands at journald's path
// (/run/systemd/journal/socket) and reads what JournalWriter sends through
// libsystemd's native protocol. Needs root (to mount); skipped otherwise.
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/eventd/event_record.h"
#include "services/eventd/journal_writer.h"

namespace rustiq::eventd {
namespace {

using ::testing::HasSubstr;

StoredEvent Sample() {
  v1::EventInput in;
  in.set_action("login.failed");
  in.set_category(v1::EVENT_CATEGORY_AUTH);
  in.set_outcome(v1::EVENT_OUTCOME_DENIED);
  in.set_severity(v1::EVENT_SEVERITY_WARNING);
  in.set_actor("user/alice");
  auto* a = in.add_attributes();
  a->set_key("source.address");
  a->set_value("local");
  Stamp stamp{42, 1700000000000000000, 5, "boot", "svc/authd"};
  StoredEvent e;
  e.event = MakeEvent(in, stamp);
  e.entry = EntryBytes(e.event);
  return e;
}

TEST(EventdJournalTest, FieldsNameEverythingAndMapThePriority) {
  std::vector<std::string> f = JournalFields(Sample().event);
  EXPECT_THAT(f, ::testing::Contains("RUSTIQ_SEQ=42"));
  EXPECT_THAT(f, ::testing::Contains("RUSTIQ_SOURCE=svc/authd"));
  EXPECT_THAT(f, ::testing::Contains("RUSTIQ_ACTOR=user/alice"));
  EXPECT_THAT(f, ::testing::Contains("RUSTIQ_CATEGORY=auth"));
  EXPECT_THAT(f, ::testing::Contains("RUSTIQ_ACTION=login.failed"));
  EXPECT_THAT(f, ::testing::Contains("RUSTIQ_OUTCOME=denied"));
  EXPECT_THAT(f, ::testing::Contains("PRIORITY=4"));  // warning
  EXPECT_THAT(f, ::testing::Contains("RUSTIQ_ATTR_SOURCE_ADDRESS=local"));
}

TEST(EventdJournalTest, JournaldReceivesTheStructuredFields) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to mount a private /run";
  int pipefd[2];
  ASSERT_EQ(pipe(pipefd), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    close(pipefd[0]);
    auto fail = [&](const char* what) {
      std::string m = std::string("ERROR ") + what + ": " + strerror(errno);
      (void)!write(pipefd[1], m.data(), m.size());
      _exit(1);
    };
    if (unshare(CLONE_NEWNS) != 0) fail("unshare");
    if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
      // "/" is not a mount point (a chroot, say): nothing here can keep a
      // mount on /run from reaching the host, so the test does not try.
      std::string m = std::string("SKIP make / private: ") + strerror(errno);
      (void)!write(pipefd[1], m.data(), m.size());
      _exit(0);
    }
    if (mount("tmpfs", "/run", "tmpfs", 0, "mode=0755") != 0) fail("mount");
    mkdir("/run/systemd", 0755);
    mkdir("/run/systemd/journal", 0755);
    int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    strcpy(addr.sun_path, "/run/systemd/journal/socket");
    if (bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      fail("bind");
    }
    JournalWriter writer;
    writer.OnCommitted({Sample()});
    timeval tv{5, 0};
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    std::string buf(64 * 1024, '\0');
    ssize_t n = recv(s, buf.data(), buf.size(), 0);
    if (n <= 0) fail("recv");
    (void)!write(pipefd[1], buf.data(), static_cast<size_t>(n));
    _exit(0);
  }
  close(pipefd[1]);
  std::string got;
  char chunk[4096];
  ssize_t n;
  while ((n = read(pipefd[0], chunk, sizeof(chunk))) > 0) got.append(chunk, n);
  close(pipefd[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << got;
  if (got.rfind("SKIP ", 0) == 0) GTEST_SKIP() << got.substr(5);
  // journald's native protocol: one NAME=value per line.
  EXPECT_THAT(got, HasSubstr("RUSTIQ_SEQ=42\n"));
  EXPECT_THAT(got, HasSubstr("RUSTIQ_ACTION=login.failed\n"));
  EXPECT_THAT(got, HasSubstr("RUSTIQ_OUTCOME=denied\n"));
  EXPECT_THAT(got, HasSubstr("PRIORITY=4\n"));
  EXPECT_THAT(got, HasSubstr("SYSLOG_IDENTIFIER=rustiq-eventd\n"));
}

TEST(EventdJournalTest, OnlyUnderSystemdByDefault) {
  unsetenv("INVOCATION_ID");
  unsetenv("JOURNAL_STREAM");
  EXPECT_FALSE(StartedBySystemd());
  setenv("INVOCATION_ID", "0123456789abcdef0123456789abcdef", 1);
  EXPECT_TRUE(StartedBySystemd());
  unsetenv("INVOCATION_ID");
}

}  // namespace
}  // namespace rustiq::eventd
