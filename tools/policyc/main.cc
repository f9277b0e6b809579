// rustiq-policyc: checks a daemon's seccomp policy and compiles it into C++
// at build time (cmake/RustiqPolicy.cmake runs it; see README.md).
//   rustiq-policyc --daemon NAME --in policies/NAME/seccomp.policy
//                  --out gen/.../seccomp_policy.cc [--header
//                  gen/.../seccomp_policy.h]
// Exit 0: outputs written. Exit 1: the policy is wrong; one line per error on
// stderr ("file:line: what is wrong") and nothing written. Exit 2: usage or
// I/O error.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "tools/policyc/policy_codegen.h"
#include "tools/policyc/policy_parser.h"

namespace {

constexpr char kUsage[] =
    "usage: rustiq-policyc --daemon NAME --in FILE.policy --out FILE.cc "
    "[--header FILE.h]\n";

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream text;
  text << in.rdbuf();
  *out = text.str();
  return !in.bad();
}

// Writes next to `path` and renames over it, so a build never sees half a
// file.
bool WriteFileAtomically(const std::string& path, const std::string& text) {
  const std::string tmp = absl::StrCat(path, ".tmp");
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return false;
    out << text;
    out.flush();
    if (!out) return false;
  }
  return std::rename(tmp.c_str(), path.c_str()) == 0;
}

int Run(int argc, char** argv) {
  std::string daemon;
  std::string in_path;
  std::string out_path;
  std::string header_path;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    std::string* target = nullptr;
    if (arg == "--daemon") {
      target = &daemon;
    } else if (arg == "--in") {
      target = &in_path;
    } else if (arg == "--out") {
      target = &out_path;
    } else if (arg == "--header") {
      target = &header_path;
    }
    if (target == nullptr || i + 1 >= argc) {
      std::fputs(kUsage, stderr);
      return 2;
    }
    *target = argv[++i];
  }
  if (daemon.empty() || in_path.empty() || out_path.empty()) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  if (absl::Status s = rustiq::policyc::ValidateDaemonName(daemon); !s.ok()) {
    std::fprintf(stderr, "rustiq-policyc: %s\n", s.ToString().c_str());
    return 2;
  }

  std::string text;
  if (!ReadFile(in_path, &text)) {
    std::fprintf(stderr, "%s:1: cannot read the policy: %s\n", in_path.c_str(),
                 std::strerror(errno));
    return 1;
  }
  absl::StatusOr<rustiq::policyc::ParsedPolicy> policy =
      rustiq::policyc::ParsePolicy(text, in_path);
  if (!policy.ok()) {
    std::fprintf(stderr, "%.*s\n",
                 static_cast<int>(policy.status().message().size()),
                 policy.status().message().data());
    return 1;
  }

  const std::string source =
      rustiq::policyc::GeneratePolicySource(*policy, daemon);
  if (!WriteFileAtomically(out_path, source)) {
    std::fprintf(stderr, "rustiq-policyc: cannot write %s: %s\n",
                 out_path.c_str(), std::strerror(errno));
    return 2;
  }
  if (!header_path.empty() &&
      !WriteFileAtomically(header_path, rustiq::policyc::GeneratePolicyHeader(
                                            *policy, daemon))) {
    std::fprintf(stderr, "rustiq-policyc: cannot write %s: %s\n",
                 header_path.c_str(), std::strerror(errno));
    std::remove(out_path.c_str());
    return 2;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return Run(argc, argv); }
