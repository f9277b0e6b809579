// Who may use a key for what: a key's grants (caller pattern -> operations),
// and the well-known keys of the stack declared in policies/keyd/keys.toml.
#ifndef RUSTIQ_SERVICES_KEYD_KEY_POLICY_H_
#define RUSTIQ_SERVICES_KEYD_KEY_POLICY_H_

#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/identity/caller_pattern.h"
#include "rustiq/v1/keys.pb.h"
#include "services/keyd/backend.h"

namespace rustiq::keyd {

// The operations a key of this kind can be granted at all.
std::set<v1::KeyOperation> OperationsFor(v1::KeyAlgorithm algorithm,
                                         bool public_only);
const char* OperationName(v1::KeyOperation operation);  // "sign", ...
bool ParseOperation(absl::string_view name, v1::KeyOperation* operation);

// 1-64 of [a-z0-9._-], starting with a letter or digit.
absl::Status CheckKeyName(absl::string_view name);

// A validated policy, ready to check callers against.
class KeyGrants {
 public:
  // Refuses an empty or malformed caller pattern, an unknown operation and
  // an operation the key cannot do, naming the grant.
  static absl::StatusOr<KeyGrants> Parse(const v1::KeyPolicy& policy,
                                         v1::KeyAlgorithm algorithm,
                                         bool public_only);
  bool Allows(absl::string_view caller, v1::KeyOperation operation) const;
  // True when any grant matches the caller (the key is visible to it).
  bool Mentions(absl::string_view caller) const;

 private:
  struct Grant {
    identity::CallerPattern pattern;
    std::set<v1::KeyOperation> operations;
  };
  std::vector<Grant> grants_;
};

// The default policy of a new key: its creator, with every operation.
v1::KeyPolicy CreatorOnly(absl::string_view creator, v1::KeyAlgorithm algorithm,
                          bool public_only);

struct WellKnownKey {
  std::string name;
  v1::KeyAlgorithm algorithm = v1::KEY_ALGORITHM_UNSPECIFIED;
  // Imported by an operator (an update trust anchor), not generated.
  bool imported = false;
  v1::KeyPolicy policy;
};

// Parses policies/keyd/keys.toml (`origin` names it in errors).
absl::StatusOr<std::vector<WellKnownKey>> ParseWellKnownKeys(
    absl::string_view toml_text, absl::string_view origin);

// keys.toml as compiled into rustiq-keyd.
absl::string_view CompiledWellKnownKeys();

v1::KeyAlgorithm ToProto(Algorithm algorithm);
bool FromProto(v1::KeyAlgorithm algorithm, Algorithm* out);

}  // namespace rustiq::keyd

#endif  // RUSTIQ_SERVICES_KEYD_KEY_POLICY_H_
