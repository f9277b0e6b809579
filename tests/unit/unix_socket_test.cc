// The socket directory and path checks under mTLS (defense in depth).
#include "common/rpc/unix_socket.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/temp_dir.h"

namespace rustiq::rpc {
namespace {

using ::rustiq::testing::TempDir;
using ::testing::HasSubstr;

mode_t ModeOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(lstat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

TEST(UnixSocket, CreatesDirectoryWithMode0750AndFixesOurOwn) {
  TempDir tmp("unix_socket_test");
  std::string dir = tmp / "a/run";
  ASSERT_TRUE(PrepareSocketDirectory(dir, getegid()).ok());
  EXPECT_EQ(ModeOf(dir), 0750u);
  ASSERT_EQ(chmod(dir.c_str(), 0777), 0);
  ASSERT_TRUE(PrepareSocketDirectory(dir, getegid()).ok());
  EXPECT_EQ(ModeOf(dir), 0750u);
}

TEST(UnixSocket, LeavesTheStacksSharedDirectoryAsItIs) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to give it another group";
  TempDir tmp("unix_socket_test");
  std::string dir = tmp / "run";
  ASSERT_EQ(mkdir(dir.c_str(), 0700), 0);
  ASSERT_EQ(chown(dir.c_str(), 0, 65534), 0);
  ASSERT_EQ(chmod(dir.c_str(), kSharedSocketDirMode), 0);
  // A server of the stack that owns it (supervisord, as root) neither takes
  // it into its own group nor closes it to the daemons' group.
  ASSERT_TRUE(PrepareSocketDirectory(dir, 0).ok());
  struct stat st {};
  ASSERT_EQ(lstat(dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_gid, 65534u);
  EXPECT_EQ(ModeOf(dir), 01770u);
}

TEST(UnixSocket, RefusesSymlinkedDirectory) {
  TempDir tmp("unix_socket_test");
  ASSERT_EQ(mkdir((tmp / "real").c_str(), 0750), 0);
  ASSERT_EQ(symlink((tmp / "real").c_str(), (tmp / "link").c_str()), 0);
  absl::Status s = PrepareSocketDirectory(tmp / "link", getegid());
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("symlink"));
}

TEST(UnixSocket, RefusesWorldAccessibleDirectoryOfAnotherUser) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to chown";
  TempDir tmp("unix_socket_test");
  std::string dir = tmp / "run";
  ASSERT_EQ(mkdir(dir.c_str(), 0755), 0);
  ASSERT_EQ(chown(dir.c_str(), 65534, 65534), 0);
  absl::Status s = PrepareSocketDirectory(dir, getegid());
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("accessible to all users"));
  ASSERT_EQ(chmod(dir.c_str(), 0750), 0);  // another user's, but closed
  EXPECT_TRUE(PrepareSocketDirectory(dir, getegid()).ok());
}

TEST(UnixSocket, ClaimRefusesNonSocketAndTooLongPaths) {
  TempDir tmp("unix_socket_test");
  std::ofstream(tmp / "file") << "not a socket";
  absl::Status s = ClaimSocketPath(tmp / "file");
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("not a socket"));
  EXPECT_TRUE(std::ifstream(tmp / "file").good());  // left alone
  s = ClaimSocketPath("/" + std::string(200, 'x') + ".sock");
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("longer than"));
  EXPECT_TRUE(ClaimSocketPath(tmp / "absent.sock").ok());
}

TEST(UnixSocket, ClaimRemovesStaleSocket) {
  TempDir tmp("unix_socket_test");
  std::string path = tmp / "d.sock";
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un addr {};
  addr.sun_family = AF_UNIX;
  path.copy(addr.sun_path, path.size());
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  close(fd);  // bound, never listening: stale
  ASSERT_TRUE(ClaimSocketPath(path).ok());
  EXPECT_NE(access(path.c_str(), F_OK), 0);
}

TEST(UnixSocket, UnknownGroupSaysWhatToDo) {
  auto gid = ResolveGroup("no-such-group-rustiq");
  ASSERT_FALSE(gid.ok());
  EXPECT_THAT(gid.status().message(), HasSubstr("rpc.socket_group"));
  EXPECT_EQ(*ResolveGroup(""), getegid());
}

}  // namespace
}  // namespace rustiq::rpc
