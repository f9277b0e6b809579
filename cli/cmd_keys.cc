// rustiqctl keys: the keys held by rustiq-keyd (docs/keyd.md), over mTLS as
// the CLI's identity.
//
//   rustiqctl keys list | show NAME | pubkey NAME [--version N] [--der-out F]
//   rustiqctl keys create NAME --algorithm ALG [--grant CALLER=OP,OP]...
//   rustiqctl keys rotate NAME | retire NAME --version N | delete NAME --yes
//   rustiqctl keys import NAME --pem-file FILE [--grant CALLER=OP,OP]...
//   rustiqctl keys zeroize --reason TEXT --yes
//
// Arguments are checked before anything is sent: a bad one is a usage error
// naming what to fix, and keyd never sees the call. Key names are keyd's to
// judge (it answers INVALID_ARGUMENT), so the rule lives in one place.
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "cli/commands.h"
#include "cli/confirm.h"
#include "cli/daemon_call.h"
#include "cli/text.h"
#include "common/identity/caller_pattern.h"
#include "common/pki/identity_files.h"
#include "rustiq/v1/keys.grpc.pb.h"
#include "services/keyd/backend.h"
#include "services/keyd/key_manager.h"
#include "services/keyd/key_policy.h"

namespace rustiq::cli {
namespace {

constexpr absl::string_view kDaemon = "keyd";
constexpr size_t kMaxPemFileBytes = 64 * 1024;

using Stub = v1::Keys::Stub;

std::string AlgorithmText(v1::KeyAlgorithm algorithm) {
  keyd::Algorithm a;
  if (!keyd::FromProto(algorithm, &a)) return "unspecified";
  return keyd::AlgorithmName(a);
}

std::vector<std::string> OperationNames(const v1::KeyGrant& grant) {
  std::vector<std::string> ops;
  for (int op : grant.operations()) {
    ops.emplace_back(keyd::OperationName(static_cast<v1::KeyOperation>(op)));
  }
  return ops;
}

// "1 2*": every version, the current one marked.
std::string VersionsText(const v1::KeyInfo& key) {
  std::vector<std::string> parts;
  for (const v1::KeyVersion& v : key.versions()) {
    parts.push_back(absl::StrCat(v.version(), v.current() ? "*" : ""));
  }
  return parts.empty() ? "-" : absl::StrJoin(parts, " ");
}

nlohmann::json KeyJson(const v1::KeyInfo& key) {
  nlohmann::json versions = nlohmann::json::array();
  for (const v1::KeyVersion& v : key.versions()) {
    versions.push_back({{"version", v.version()},
                        {"created_unix_seconds", v.created_unix_seconds()},
                        {"created", TimeText(v.created_unix_seconds())},
                        {"current", v.current()}});
  }
  nlohmann::json grants = nlohmann::json::array();
  for (const v1::KeyGrant& g : key.policy().grants()) {
    grants.push_back(
        {{"caller", g.caller()}, {"operations", OperationNames(g)}});
  }
  return {{"name", key.name()},
          {"algorithm", AlgorithmText(key.algorithm())},
          {"backend", key.backend()},
          {"creator", key.creator()},
          {"well_known", key.well_known()},
          {"public_only", key.public_only()},
          {"versions", versions},
          {"policy", {{"grants", grants}}}};
}

std::string KeyText(const v1::KeyInfo& key) {
  std::string text =
      absl::StrCat("key:         ", key.name(),                        //
                   "\nalgorithm:   ", AlgorithmText(key.algorithm()),  //
                   key.public_only() ? " (public key only)" : "",      //
                   "\nbackend:     ", key.backend(),                   //
                   "\ncreator:     ", key.creator(),                   //
                   "\nwell-known:  ", key.well_known() ? "yes" : "no");
  absl::StrAppend(&text, "\nversions:");
  for (const v1::KeyVersion& v : key.versions()) {
    absl::StrAppend(&text, "\n  ", v.version(), "  created ",
                    TimeText(v.created_unix_seconds()),
                    v.current() ? "  (current)" : "");
  }
  absl::StrAppend(&text, "\ngrants:");
  if (key.policy().grants().empty()) absl::StrAppend(&text, " none");
  for (const v1::KeyGrant& g : key.policy().grants()) {
    absl::StrAppend(&text, "\n  ", g.caller(), ": ",
                    absl::StrJoin(OperationNames(g), ", "));
  }
  return text;
}

std::string KeyTable(const v1::ListKeysResponse& keys) {
  if (keys.keys().empty()) return "no keys";
  std::vector<std::vector<std::string>> rows = {
      {"NAME", "ALGORITHM", "BACKEND", "VERSIONS", "CREATOR", "WELL-KNOWN"}};
  for (const v1::KeyInfo& k : keys.keys()) {
    rows.push_back(
        {k.name(),
         AlgorithmText(k.algorithm()) + (k.public_only() ? " (public)" : ""),
         k.backend(), VersionsText(k), k.creator(),
         k.well_known() ? "yes" : "no"});
  }
  return absl::StrCat(TableText(rows), "\n(* marks the current version)");
}

// --grant CALLER=OP[,OP...] (repeatable) into a policy, checked against what
// a key of this kind can be granted. An empty list is an empty policy (keyd's
// default for it).
absl::StatusOr<v1::KeyPolicy> ParseGrants(
    const std::vector<std::string>& grants,
    const std::set<v1::KeyOperation>& possible) {
  v1::KeyPolicy policy;
  std::vector<std::string> possible_names;
  for (v1::KeyOperation op : possible) {
    possible_names.emplace_back(keyd::OperationName(op));
  }
  for (const std::string& text : grants) {
    std::vector<absl::string_view> parts = absl::StrSplit(text, '=');
    if (parts.size() != 2 || parts[0].empty() || parts[1].empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--grant \"", Shown(text),
                       "\": write CALLER=OP[,OP...], e.g. --grant "
                       "svc/cloudd=sign,public-key"));
    }
    absl::StatusOr<identity::CallerPattern> caller =
        identity::CallerPattern::Parse(parts[0]);
    if (!caller.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--grant \"", Shown(text), "\": ", caller.status().message()));
    }
    v1::KeyGrant* grant = policy.add_grants();
    grant->set_caller(std::string(parts[0]));
    for (absl::string_view name : absl::StrSplit(parts[1], ',')) {
      v1::KeyOperation op;
      if (!keyd::ParseOperation(name, &op)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "--grant \"", Shown(text), "\": unknown operation \"", Shown(name),
            "\"; operations are sign, verify, decrypt, seal, unseal, "
            "public-key, manage"));
      }
      if (possible.count(op) == 0) {
        return absl::InvalidArgumentError(absl::StrCat(
            "--grant \"", Shown(text), "\": this key cannot ", name, " (",
            absl::StrJoin(possible_names, ", "), " are possible)"));
      }
      grant->add_operations(op);
    }
  }
  return policy;
}

// ---------------------------------------------------------------- commands

int List(const GlobalOptions& global) {
  Output out(global.json);
  v1::ListKeysResponse keys;
  if (int rc = CallDaemon(global, out, kDaemon, &Stub::ListKeys,
                          v1::ListKeysRequest(), &keys);
      rc != kExitOk) {
    return rc;
  }
  nlohmann::json list = nlohmann::json::array();
  for (const v1::KeyInfo& k : keys.keys()) list.push_back(KeyJson(k));
  out.Result(KeyTable(keys), {{"keys", list}});
  return kExitOk;
}

int Show(const GlobalOptions& global, const std::string& name) {
  Output out(global.json);
  v1::GetKeyRequest req;
  req.set_name(name);
  v1::KeyInfo key;
  if (int rc = CallDaemon(global, out, kDaemon, &Stub::GetKey, req, &key);
      rc != kExitOk) {
    return rc;
  }
  out.Result(KeyText(key), KeyJson(key));
  return kExitOk;
}

struct CreateArgs {
  std::string name;
  std::string algorithm;
  std::vector<std::string> grants;
};

int Create(const GlobalOptions& global, const CreateArgs& args) {
  Output out(global.json);
  keyd::Algorithm algorithm;
  if (!keyd::ParseAlgorithm(args.algorithm, &algorithm)) {
    return FailUsage(out, absl::StrCat("--algorithm \"", Shown(args.algorithm),
                                       "\": use ec-p256, ed25519, rsa-3072 or "
                                       "aes-256"));
  }
  v1::CreateKeyRequest req;
  req.set_name(args.name);
  req.set_algorithm(keyd::ToProto(algorithm));
  absl::StatusOr<v1::KeyPolicy> policy = ParseGrants(
      args.grants, keyd::OperationsFor(req.algorithm(), /*public_only=*/false));
  if (!policy.ok()) return FailUsage(out, policy.status().message());
  *req.mutable_policy() = *std::move(policy);
  v1::KeyInfo key;
  if (int rc = CallDaemon(global, out, kDaemon, &Stub::CreateKey, req, &key);
      rc != kExitOk) {
    return rc;
  }
  out.Result(absl::StrCat("created key ", key.name(), "\n", KeyText(key)),
             KeyJson(key));
  return kExitOk;
}

struct PubkeyArgs {
  std::string name;
  uint32_t version = 0;  // 0: the current one
  std::string der_out;
};

int Pubkey(const GlobalOptions& global, const PubkeyArgs& args) {
  Output out(global.json);
  std::string der_out;
  if (!args.der_out.empty()) {
    std::error_code ec;
    std::filesystem::path p = std::filesystem::absolute(args.der_out, ec);
    if (ec || !std::filesystem::is_directory(p.parent_path(), ec) ||
        std::filesystem::is_directory(p, ec)) {
      return FailUsage(out, absl::StrCat("--der-out ", Shown(args.der_out),
                                         ": not a file in an existing "
                                         "directory"));
    }
    der_out = p.string();
  }
  v1::GetPublicKeyRequest req;
  req.set_name(args.name);
  req.set_version(args.version);
  v1::PublicKey pub;
  if (int rc = CallDaemon(global, out, kDaemon, &Stub::GetPublicKey, req, &pub);
      rc != kExitOk) {
    return rc;
  }
  if (!der_out.empty()) {
    absl::Status s = pki::WriteFileAtomically(der_out, pub.der(), 0644);
    if (!s.ok()) return out.Fail(absl::UnknownError(s.message()));
  }
  std::string pem = pub.pem();
  while (!pem.empty() && pem.back() == '\n') pem.pop_back();
  nlohmann::json object = {{"name", pub.name()},
                           {"version", pub.version()},
                           {"algorithm", AlgorithmText(pub.algorithm())},
                           {"current", pub.current()},
                           {"created_unix_seconds", pub.created_unix_seconds()},
                           {"pem", pub.pem()}};
  if (!der_out.empty()) object["der_out"] = der_out;
  out.Result(pem, object);
  return kExitOk;
}

int Rotate(const GlobalOptions& global, const std::string& name) {
  Output out(global.json);
  v1::RotateKeyRequest req;
  req.set_name(name);
  v1::KeyInfo key;
  if (int rc = CallDaemon(global, out, kDaemon, &Stub::RotateKey, req, &key);
      rc != kExitOk) {
    return rc;
  }
  uint32_t current = 0;
  for (const v1::KeyVersion& v : key.versions()) {
    if (v.current()) current = v.version();
  }
  out.Result(absl::StrCat("rotated key ", key.name(), ": version ", current,
                          " is current; older versions still verify, decrypt "
                          "and unseal until retired"),
             KeyJson(key));
  return kExitOk;
}

int Retire(const GlobalOptions& global, const std::string& name,
           uint32_t version) {
  Output out(global.json);
  if (version == 0) {
    return FailUsage(out,
                     "--version 0: name an old version to retire "
                     "('rustiqctl keys show NAME' lists them)");
  }
  v1::RetireKeyVersionRequest req;
  req.set_name(name);
  req.set_version(version);
  v1::KeyInfo key;
  if (int rc =
          CallDaemon(global, out, kDaemon, &Stub::RetireKeyVersion, req, &key);
      rc != kExitOk) {
    return rc;
  }
  out.Result(absl::StrCat("retired version ", version, " of key ", key.name(),
                          "; versions left: ", VersionsText(key)),
             KeyJson(key));
  return kExitOk;
}

int Delete(const GlobalOptions& global, const std::string& name, bool yes) {
  Output out(global.json);
  if (!yes) {
    return FailUnconfirmed(
        out,
        absl::StrCat("keys delete destroys key '", Shown(name),
                     "' and every version of it irrecoverably"),
        "delete");
  }
  v1::DeleteKeyRequest req;
  req.set_name(name);
  v1::DeleteKeyResponse resp;
  if (int rc = CallDaemon(global, out, kDaemon, &Stub::DeleteKey, req, &resp);
      rc != kExitOk) {
    return rc;
  }
  out.Result(absl::StrCat("deleted key ", name), {{"deleted", name}});
  return kExitOk;
}

struct ImportArgs {
  std::string name;
  std::string pem_file;
  std::vector<std::string> grants;
};

int Import(const GlobalOptions& global, const ImportArgs& args) {
  Output out(global.json);
  absl::StatusOr<std::string> pem =
      pki::ReadSmallFile(args.pem_file, kMaxPemFileBytes);
  if (!pem.ok()) {
    return FailUsage(out, absl::StrCat("--pem-file: ", pem.status().message()));
  }
  if (absl::StrContains(*pem, "PRIVATE KEY")) {
    // Never send a private key anywhere, even to be refused.
    return FailUsage(out, absl::StrCat("--pem-file ", Shown(args.pem_file),
                                       " holds a private key; import the "
                                       "public key (openssl pkey -pubout)"));
  }
  if (!absl::StrContains(*pem, "-----BEGIN PUBLIC KEY-----")) {
    return FailUsage(out, absl::StrCat("--pem-file ", Shown(args.pem_file),
                                       ": expected a PEM public key "
                                       "(-----BEGIN PUBLIC KEY-----)"));
  }
  v1::ImportPublicKeyRequest req;
  req.set_name(args.name);
  req.set_pem(*std::move(pem));
  absl::StatusOr<v1::KeyPolicy> policy = ParseGrants(
      args.grants, keyd::OperationsFor(v1::KEY_ALGORITHM_UNSPECIFIED,
                                       /*public_only=*/true));
  if (!policy.ok()) return FailUsage(out, policy.status().message());
  *req.mutable_policy() = *std::move(policy);
  v1::KeyInfo key;
  if (int rc =
          CallDaemon(global, out, kDaemon, &Stub::ImportPublicKey, req, &key);
      rc != kExitOk) {
    return rc;
  }
  out.Result(
      absl::StrCat("imported public key ", key.name(), "\n", KeyText(key)),
      KeyJson(key));
  return kExitOk;
}

int Zeroize(const GlobalOptions& global, const std::string& reason, bool yes) {
  Output out(global.json);
  if (reason.empty()) {
    return FailUsage(out,
                     "keys zeroize: say why with --reason TEXT (it is "
                     "recorded before anything is destroyed)");
  }
  if (!yes) {
    return FailUnconfirmed(out,
                           "keys zeroize destroys every key on this device "
                           "irrecoverably",
                           "zeroize");
  }
  v1::ZeroizeRequest req;
  req.set_confirm(keyd::kZeroizeConfirmation);
  req.set_reason(reason);
  v1::ZeroizeResponse resp;
  if (int rc = CallDaemon(global, out, kDaemon, &Stub::Zeroize, req, &resp);
      rc != kExitOk) {
    return rc;
  }
  out.Result(
      absl::StrCat("zeroized: ", resp.keys_destroyed(), " keys destroyed"),
      {{"keys_destroyed", resp.keys_destroyed()}});
  return kExitOk;
}

}  // namespace

void AddKeysCommand(CLI::App& app, const GlobalOptions& global,
                    Action* action) {
  CLI::App* cmd = app.add_subcommand("keys", "Keys held by rustiq-keyd");
  cmd->require_subcommand(1);
  // Global options may follow the subcommand ("keys list --json"); the
  // subcommands below inherit this.
  cmd->fallthrough();

  CLI::App* list = cmd->add_subcommand(
      "list", "Every key: name, algorithm, backend, versions, creator");
  list->callback(
      [&global, action] { *action = [&global] { return List(global); }; });

  auto show_name = std::make_shared<std::string>();
  CLI::App* show =
      cmd->add_subcommand("show", "A key's metadata and policy grants");
  show->add_option("name", *show_name, "Key name")->required();
  show->callback([&global, action, show_name] {
    *action = [&global, show_name] { return Show(global, *show_name); };
  });

  auto create_args = std::make_shared<CreateArgs>();
  CLI::App* create = cmd->add_subcommand("create", "Create a key");
  create
      ->add_option("name", create_args->name, "Key name: 1-64 of a-z 0-9 . _ -")
      ->required();
  create
      ->add_option("--algorithm", create_args->algorithm,
                   "ec-p256, ed25519, rsa-3072 or aes-256")
      ->required();
  create->add_option(
      "--grant", create_args->grants,
      "CALLER=OP[,OP...]: let CALLER (svc/NAME, client/NAME, svc/*, "
      "client/*) use the key for OPs (sign, verify, decrypt, seal, unseal, "
      "public-key, manage); repeatable. Default: the creator alone");
  create->callback([&global, action, create_args] {
    *action = [&global, create_args] { return Create(global, *create_args); };
  });

  auto pubkey_args = std::make_shared<PubkeyArgs>();
  CLI::App* pubkey =
      cmd->add_subcommand("pubkey", "Print a key's public key (PEM)");
  pubkey->add_option("name", pubkey_args->name, "Key name")->required();
  pubkey->add_option("--version", pubkey_args->version,
                     "Key version (default: the current one)");
  pubkey->add_option("--der-out", pubkey_args->der_out,
                     "Also write the public key (SubjectPublicKeyInfo, DER) "
                     "to FILE");
  pubkey->callback([&global, action, pubkey_args] {
    *action = [&global, pubkey_args] { return Pubkey(global, *pubkey_args); };
  });

  auto rotate_name = std::make_shared<std::string>();
  CLI::App* rotate = cmd->add_subcommand(
      "rotate", "Make a new version of a key the current one");
  rotate->add_option("name", *rotate_name, "Key name")->required();
  rotate->callback([&global, action, rotate_name] {
    *action = [&global, rotate_name] { return Rotate(global, *rotate_name); };
  });

  auto retire_name = std::make_shared<std::string>();
  auto retire_version = std::make_shared<uint32_t>(0);
  CLI::App* retire = cmd->add_subcommand(
      "retire", "Destroy an old (not the current) version of a key");
  retire->add_option("name", *retire_name, "Key name")->required();
  retire->add_option("--version", *retire_version, "The version to retire")
      ->required();
  retire->callback([&global, action, retire_name, retire_version] {
    *action = [&global, retire_name, retire_version] {
      return Retire(global, *retire_name, *retire_version);
    };
  });

  AddDeleteSubcommand(cmd, "Delete a key and all its versions (needs --yes)",
                      "name", "Key name", action,
                      [&global](const std::string& name, bool yes) {
                        return Delete(global, name, yes);
                      });

  auto import_args = std::make_shared<ImportArgs>();
  CLI::App* import_cmd = cmd->add_subcommand(
      "import", "Import a public key to verify with (an update trust anchor)");
  import_cmd->add_option("name", import_args->name, "Key name")->required();
  import_cmd
      ->add_option("--pem-file", import_args->pem_file,
                   "SubjectPublicKeyInfo PEM: EC P-256, Ed25519 or RSA-3072")
      ->required();
  import_cmd->add_option(
      "--grant", import_args->grants,
      "CALLER=OP[,OP...] with OPs verify, public-key, manage; "
      "repeatable. Default: the policy declared for NAME in "
      "policies/keyd/, else the importer alone");
  import_cmd->callback([&global, action, import_args] {
    *action = [&global, import_args] { return Import(global, *import_args); };
  });

  auto zeroize_reason = std::make_shared<std::string>();
  auto zeroize_yes = std::make_shared<bool>(false);
  CLI::App* zeroize = cmd->add_subcommand(
      "zeroize",
      "Destroy every key on the device irrecoverably (tamper response)");
  zeroize->add_option("--reason", *zeroize_reason,
                      "Why; recorded before anything is destroyed");
  zeroize->add_flag("--yes", *zeroize_yes, "Really destroy every key");
  zeroize->callback([&global, action, zeroize_reason, zeroize_yes] {
    *action = [&global, zeroize_reason, zeroize_yes] {
      return Zeroize(global, *zeroize_reason, *zeroize_yes);
    };
  });
}

}  // namespace rustiq::cli
