// Owns a file descriptor: closed when the owner goes away. Header-only (no
// library to link), for the places that open files by hand: the identity
// files (common/pki), Landlock's rules (common/sandbox), supervisord's
// state-directory hand-over.
#ifndef RUSTIQ_COMMON_BASE_UNIQUE_FD_H_
#define RUSTIQ_COMMON_BASE_UNIQUE_FD_H_

#include <unistd.h>

#include <utility>

namespace rustiq {

class UniqueFd {
 public:
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() {
    if (fd_ >= 0) close(fd_);
  }
  int get() const { return fd_; }
  // Closes now, reporting the error close(2) may return for a written file.
  int Close() { return close(std::exchange(fd_, -1)); }

 private:
  int fd_;
};

}  // namespace rustiq

#endif  // RUSTIQ_COMMON_BASE_UNIQUE_FD_H_
