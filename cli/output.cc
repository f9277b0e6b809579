#include "cli/output.h"

#include <cstdio>

#include "absl/strings/str_cat.h"

namespace rustiq::cli {

int ExitCodeFor(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kOk:
      return kExitOk;
    case absl::StatusCode::kInvalidArgument:
      return kExitUsage;
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
      return kExitUnavailable;
    case absl::StatusCode::kUnauthenticated:
    case absl::StatusCode::kPermissionDenied:
      return kExitDenied;
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kNotFound:
      return kExitConfig;
    default:
      return kExitFailure;
  }
}

void Output::Result(const std::string& text,
                    const nlohmann::json& object) const {
  std::string out = json_ ? object.dump() : text;
  std::fprintf(stdout, "%s\n", out.c_str());
}

int Output::Fail(const absl::Status& status) const {
  return FailWithExitCode(status, ExitCodeFor(status));
}

int Output::FailWithExitCode(const absl::Status& status, int code) const {
  if (json_) {
    nlohmann::json err = {{"error", std::string(status.message())},
                          {"code", absl::StatusCodeToString(status.code())},
                          {"exit_code", code}};
    // A message may quote a path or a file's bytes: not trusted to be UTF-8.
    std::fprintf(
        stderr, "%s\n",
        err.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
            .c_str());
  } else {
    std::fprintf(stderr, "rustiqctl: %s\n",
                 std::string(status.message()).c_str());
  }
  return code;
}

}  // namespace rustiq::cli
