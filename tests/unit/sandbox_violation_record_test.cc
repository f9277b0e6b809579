// The record a violation leaves for the daemon's next start: parsed from
// the handler's line, taken once (the file is emptied), and refused when it
// is not a regular file.
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "common/sandbox/violation_record.h"
#include "gtest/gtest.h"
#include "tests/support/temp_dir.h"

namespace rustiq::sandbox {
namespace {

constexpr char kLine[] =
    "level=error daemon=keyd msg=\"sandbox violation\" syscall=ptrace nr=101 "
    "arch=x86_64 cause=not-listed action=kill\n";

TEST(ViolationRecord, ParsesTheHandlersLine) {
  ViolationRecord r = ParseViolationLine(kLine);
  EXPECT_EQ(r.syscall, "ptrace");
  EXPECT_EQ(r.nr, "101");
  EXPECT_EQ(r.arch, "x86_64");
  EXPECT_EQ(r.cause, "not-listed");
  EXPECT_EQ(r.line.back(), 'l');  // without its newline
}

TEST(ViolationRecord, IsTakenOnceAndTheLastLineCounts) {
  rustiq::testing::TempDir dir;
  std::string path = dir / "sandbox-violation";
  {
    std::ofstream out(path);
    out << "level=error syscall=mount nr=165 cause=not-listed\n" << kLine;
  }
  auto first = TakeViolationRecord(path);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(first->has_value());
  EXPECT_EQ((*first)->syscall, "ptrace");
  auto second = TakeViolationRecord(path);
  ASSERT_TRUE(second.ok());
  EXPECT_FALSE(second->has_value());  // emptied
}

TEST(ViolationRecord, NoFileIsNoRecordAndASymlinkIsRefused) {
  rustiq::testing::TempDir dir;
  auto none = TakeViolationRecord(dir / "missing");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  ASSERT_EQ(symlink("/etc/passwd", (dir / "link").c_str()), 0);
  EXPECT_FALSE(TakeViolationRecord(dir / "link").ok());
  EXPECT_FALSE(OpenViolationRecord(dir / "link").ok());
}

TEST(ViolationRecord, OpensOwnerOnlyForAppending) {
  rustiq::testing::TempDir dir;
  auto fd = OpenViolationRecord(dir / "sandbox-violation");
  ASSERT_TRUE(fd.ok()) << fd.status();
  ASSERT_EQ(write(*fd, kLine, sizeof(kLine) - 1),
            static_cast<ssize_t>(sizeof(kLine) - 1));
  close(*fd);
  struct stat st {};
  ASSERT_EQ(stat((dir / "sandbox-violation").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto taken = TakeViolationRecord(dir / "sandbox-violation");
  ASSERT_TRUE(taken.ok() && taken->has_value());
  EXPECT_EQ((*taken)->syscall, "ptrace");
}

}  // namespace
}  // namespace rustiq::sandbox
