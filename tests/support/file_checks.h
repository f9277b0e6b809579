// What a test of files written to disk looks at: a file's permission bits,
// a directory's entries, and a umask set for a scope (to prove that modes do
// not depend on it).
#ifndef RUSTIQ_TESTS_SUPPORT_FILE_CHECKS_H_
#define RUSTIQ_TESTS_SUPPORT_FILE_CHECKS_H_

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace rustiq::testing {

// Sets the umask for its scope and restores the old one after.
class ScopedUmask {
 public:
  explicit ScopedUmask(mode_t mask) : old_(umask(mask)) {}
  ~ScopedUmask() { umask(old_); }
  ScopedUmask(const ScopedUmask&) = delete;
  ScopedUmask& operator=(const ScopedUmask&) = delete;

 private:
  mode_t old_;
};

// The permission bits of `path` itself (a symlink is not followed).
inline mode_t ModeOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(lstat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

// The names in directory `dir`, sorted.
inline std::vector<std::string> Entries(const std::string& dir) {
  std::vector<std::string> names;
  for (const std::filesystem::directory_entry& e :
       std::filesystem::directory_iterator(dir)) {
    names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace rustiq::testing

#endif  // RUSTIQ_TESTS_SUPPORT_FILE_CHECKS_H_
