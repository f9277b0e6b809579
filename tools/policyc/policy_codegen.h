// C++ generated from a parsed seccomp policy: a header declaring, and a
// source defining,
//   const rustiq::sandbox::SeccompPolicy&
//   rustiq::sandbox::policies::<Daemon>SeccompPolicy();
// whose tables are constexpr (read-only data, no static initialisation).
// <Daemon> is the daemon name in CamelCase ("testserver" ->
// TestserverSeccompPolicy, "key-store" -> KeyStoreSeccompPolicy). The header
// is included as "policies/<daemon>/seccomp_policy.h".
#ifndef RUSTIQ_TOOLS_POLICYC_POLICY_CODEGEN_H_
#define RUSTIQ_TOOLS_POLICYC_POLICY_CODEGEN_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "tools/policyc/policy_parser.h"

namespace rustiq::policyc {

// A daemon name is [a-z][a-z0-9_-]* and at most 64 bytes.
absl::Status ValidateDaemonName(absl::string_view daemon);

// "testserver" -> "TestserverSeccompPolicy".
std::string PolicyFunctionName(absl::string_view daemon);

// "policies/testserver/seccomp_policy.h".
std::string PolicyHeaderPath(absl::string_view daemon);

std::string GeneratePolicyHeader(const ParsedPolicy& policy,
                                 absl::string_view daemon);
std::string GeneratePolicySource(const ParsedPolicy& policy,
                                 absl::string_view daemon);

}  // namespace rustiq::policyc

#endif  // RUSTIQ_TOOLS_POLICYC_POLICY_CODEGEN_H_
