#include "services/keyd/key_policy.h"

#include <toml++/toml.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/config/toml_file.h"

namespace rustiq::keyd {
namespace {

struct OperationEntry {
  v1::KeyOperation op;
  const char* name;
};
constexpr OperationEntry kOperations[] = {
    {v1::KEY_OPERATION_SIGN, "sign"},
    {v1::KEY_OPERATION_VERIFY, "verify"},
    {v1::KEY_OPERATION_DECRYPT, "decrypt"},
    {v1::KEY_OPERATION_SEAL, "seal"},
    {v1::KEY_OPERATION_UNSEAL, "unseal"},
    {v1::KEY_OPERATION_PUBLIC_KEY, "public-key"},
    {v1::KEY_OPERATION_MANAGE, "manage"},
};

using config::TomlWhere;

}  // namespace

std::set<v1::KeyOperation> OperationsFor(v1::KeyAlgorithm algorithm,
                                         bool public_only) {
  if (public_only) {
    return {v1::KEY_OPERATION_VERIFY, v1::KEY_OPERATION_PUBLIC_KEY,
            v1::KEY_OPERATION_MANAGE};
  }
  switch (algorithm) {
    case v1::KEY_ALGORITHM_EC_P256:
    case v1::KEY_ALGORITHM_ED25519:
      return {v1::KEY_OPERATION_SIGN, v1::KEY_OPERATION_VERIFY,
              v1::KEY_OPERATION_PUBLIC_KEY, v1::KEY_OPERATION_MANAGE};
    case v1::KEY_ALGORITHM_RSA_3072:
      return {v1::KEY_OPERATION_SIGN, v1::KEY_OPERATION_VERIFY,
              v1::KEY_OPERATION_DECRYPT, v1::KEY_OPERATION_PUBLIC_KEY,
              v1::KEY_OPERATION_MANAGE};
    case v1::KEY_ALGORITHM_AES_256:
      return {v1::KEY_OPERATION_SEAL, v1::KEY_OPERATION_UNSEAL,
              v1::KEY_OPERATION_MANAGE};
    default:
      return {};
  }
}

const char* OperationName(v1::KeyOperation operation) {
  for (const OperationEntry& e : kOperations) {
    if (e.op == operation) return e.name;
  }
  return "unknown";
}

bool ParseOperation(absl::string_view name, v1::KeyOperation* operation) {
  for (const OperationEntry& e : kOperations) {
    if (name == e.name) {
      *operation = e.op;
      return true;
    }
  }
  return false;
}

absl::Status CheckKeyName(absl::string_view name) {
  bool ok = !name.empty() && name.size() <= 64 &&
            absl::ascii_isalnum(static_cast<unsigned char>(name[0]));
  for (char c : name) {
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
                c == '_' || c == '-');
  }
  if (ok) return absl::OkStatus();
  return absl::InvalidArgumentError(
      "a key name is 1-64 characters of a-z 0-9 . _ -, starting with a "
      "letter or digit");
}

absl::StatusOr<KeyGrants> KeyGrants::Parse(const v1::KeyPolicy& policy,
                                           v1::KeyAlgorithm algorithm,
                                           bool public_only) {
  const std::set<v1::KeyOperation> possible =
      OperationsFor(algorithm, public_only);
  KeyGrants grants;
  if (policy.grants_size() > 64) {
    return absl::InvalidArgumentError("a key policy has at most 64 grants");
  }
  for (int i = 0; i < policy.grants_size(); ++i) {
    const v1::KeyGrant& g = policy.grants(i);
    absl::StatusOr<identity::CallerPattern> pattern =
        identity::CallerPattern::Parse(g.caller());
    if (!pattern.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("grant ", i + 1, ": ", pattern.status().message()));
    }
    if (g.operations_size() == 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "grant ", i + 1, " (", g.caller(), ") lists no operations"));
    }
    Grant grant{*std::move(pattern), {}};
    for (int op : g.operations()) {
      auto operation = static_cast<v1::KeyOperation>(op);
      if (possible.count(operation) == 0) {
        std::vector<std::string> names;
        for (v1::KeyOperation p : possible) names.push_back(OperationName(p));
        return absl::InvalidArgumentError(absl::StrCat(
            "grant ", i + 1, " (", g.caller(), "): operation ",
            OperationName(operation), " is not possible with this key (",
            absl::StrJoin(names, ", "), " are)"));
      }
      grant.operations.insert(operation);
    }
    grants.grants_.push_back(std::move(grant));
  }
  return grants;
}

bool KeyGrants::Allows(absl::string_view caller,
                       v1::KeyOperation operation) const {
  for (const Grant& g : grants_) {
    if (g.operations.count(operation) > 0 && g.pattern.Matches(caller)) {
      return true;
    }
  }
  return false;
}

bool KeyGrants::Mentions(absl::string_view caller) const {
  for (const Grant& g : grants_) {
    if (g.pattern.Matches(caller)) return true;
  }
  return false;
}

v1::KeyPolicy CreatorOnly(absl::string_view creator, v1::KeyAlgorithm algorithm,
                          bool public_only) {
  v1::KeyPolicy policy;
  v1::KeyGrant* g = policy.add_grants();
  g->set_caller(std::string(creator));
  for (v1::KeyOperation op : OperationsFor(algorithm, public_only)) {
    g->add_operations(op);
  }
  return policy;
}

v1::KeyAlgorithm ToProto(Algorithm algorithm) {
  switch (algorithm) {
    case Algorithm::kEcP256:
      return v1::KEY_ALGORITHM_EC_P256;
    case Algorithm::kEd25519:
      return v1::KEY_ALGORITHM_ED25519;
    case Algorithm::kRsa3072:
      return v1::KEY_ALGORITHM_RSA_3072;
    case Algorithm::kAes256:
      return v1::KEY_ALGORITHM_AES_256;
  }
  return v1::KEY_ALGORITHM_UNSPECIFIED;
}

bool FromProto(v1::KeyAlgorithm algorithm, Algorithm* out) {
  switch (algorithm) {
    case v1::KEY_ALGORITHM_EC_P256:
      *out = Algorithm::kEcP256;
      return true;
    case v1::KEY_ALGORITHM_ED25519:
      *out = Algorithm::kEd25519;
      return true;
    case v1::KEY_ALGORITHM_RSA_3072:
      *out = Algorithm::kRsa3072;
      return true;
    case v1::KEY_ALGORITHM_AES_256:
      *out = Algorithm::kAes256;
      return true;
    default:
      return false;
  }
}

absl::StatusOr<std::vector<WellKnownKey>> ParseWellKnownKeys(
    absl::string_view toml_text, absl::string_view origin) {
  absl::StatusOr<toml::table> parsed = config::ParseTomlFile(toml_text, origin);
  if (!parsed.ok()) return parsed.status();
  const toml::table& root = *parsed;
  for (auto&& [k, v] : root) {
    if (k.str() != "key") {
      return absl::InvalidArgumentError(
          absl::StrCat(TomlWhere(v, origin), ": unknown key '",
                       std::string(k.str()), "' (only [[key]] tables)"));
    }
  }
  std::vector<WellKnownKey> keys;
  const toml::node* key_node = root.get("key");
  if (key_node == nullptr) return keys;
  // A single [key] table (or key = "...") must not silently declare nothing.
  const toml::array* array = key_node->as_array();
  if (array == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        TomlWhere(*key_node, origin), ": 'key' must be [[key]] tables"));
  }
  for (const toml::node& node : *array) {
    const toml::table* t = node.as_table();
    if (t == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          TomlWhere(node, origin), ": 'key' must be [[key]] tables"));
    }
    WellKnownKey key;
    std::string algorithm;
    for (auto&& [k, v] : *t) {
      std::string name(k.str());
      if (name == "name" && v.is_string()) {
        key.name = v.as_string()->get();
      } else if (name == "algorithm" && v.is_string()) {
        algorithm = v.as_string()->get();
      } else if (name == "imported" && v.is_boolean()) {
        key.imported = v.as_boolean()->get();
      } else if (name == "why" && v.is_string()) {
      } else if (name == "grant" && v.is_array()) {
        for (const toml::node& gn : *v.as_array()) {
          const toml::table* g = gn.as_table();
          const toml::array* ops =
              g == nullptr ? nullptr : (*g)["operations"].as_array();
          std::optional<std::string> caller =
              g == nullptr ? std::nullopt : (*g)["caller"].value<std::string>();
          if (ops == nullptr || !caller.has_value() || g->size() != 2) {
            return absl::InvalidArgumentError(absl::StrCat(
                TomlWhere(gn, origin),
                ": a grant is { caller = \"svc/x\", operations = [...] }"));
          }
          v1::KeyGrant* grant = key.policy.add_grants();
          grant->set_caller(*caller);
          for (const toml::node& on : *ops) {
            v1::KeyOperation op;
            std::optional<std::string> op_name = on.value<std::string>();
            if (!op_name.has_value() || !ParseOperation(*op_name, &op)) {
              return absl::InvalidArgumentError(absl::StrCat(
                  TomlWhere(on, origin),
                  ": unknown operation (sign, verify, decrypt, seal, unseal, "
                  "public-key, manage)"));
            }
            grant->add_operations(op);
          }
        }
      } else {
        return absl::InvalidArgumentError(
            absl::StrCat(TomlWhere(v, origin), ": unknown or mistyped key '",
                         name, "' (name, algorithm, imported, why, grant)"));
      }
    }
    if (absl::Status s = CheckKeyName(key.name); !s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(TomlWhere(node, origin), ": ", s.message()));
    }
    Algorithm a;
    if (!ParseAlgorithm(algorithm, &a)) {
      return absl::InvalidArgumentError(absl::StrCat(
          TomlWhere(node, origin), ": key ", key.name,
          ": algorithm must be ec-p256, ed25519, rsa-3072 or aes-256"));
    }
    if (key.imported && a == Algorithm::kAes256) {
      return absl::InvalidArgumentError(absl::StrCat(
          TomlWhere(node, origin), ": key ", key.name,
          ": an imported key is a public key (ec-p256, ed25519 or rsa-3072)"));
    }
    key.algorithm = ToProto(a);
    absl::StatusOr<KeyGrants> grants =
        KeyGrants::Parse(key.policy, key.algorithm, key.imported);
    if (!grants.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(TomlWhere(node, origin), ": key ", key.name, ": ",
                       grants.status().message()));
    }
    for (const WellKnownKey& other : keys) {
      if (other.name == key.name) {
        return absl::InvalidArgumentError(absl::StrCat(
            TomlWhere(node, origin), ": key ", key.name, " is declared twice"));
      }
    }
    keys.push_back(std::move(key));
  }
  return keys;
}

}  // namespace rustiq::keyd
