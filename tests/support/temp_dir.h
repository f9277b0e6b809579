// Small helpers for hermetic tests: a temporary directory removed at the end
// of its scope (under $TEST_TMPDIR when set, else /tmp), and whole-file reads.
#ifndef RUSTIQ_TESTS_SUPPORT_TEMP_DIR_H_
#define RUSTIQ_TESTS_SUPPORT_TEMP_DIR_H_

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "gtest/gtest.h"

namespace rustiq::testing {

class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "rustiq-test") {
    const char* base = getenv("TEST_TMPDIR");
    std::string tmpl =
        std::string(base != nullptr ? base : "/tmp") + "/" + prefix + ".XXXXXX";
    EXPECT_NE(mkdtemp(tmpl.data()), nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  // dir / "name": a path inside the directory.
  std::string operator/(const std::string& name) const {
    return path_ + "/" + name;
  }

 private:
  std::string path_;
};

inline std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace rustiq::testing

#endif  // RUSTIQ_TESTS_SUPPORT_TEMP_DIR_H_
