// rustiqctl provision: the development form of provisioning, run offline
// (before the daemons start, as the user that will own keyd's state). Writes
// the device configuration, creates keyd's master key and key store with the
// device CA inside (services/keyd/provision.h), and issues the trust bundle
// and an identity for every daemon and for the CLI through that CA.
//
//   rustiqctl provision device [--root DIR] [--device-id ID] [--service N]...
//   rustiqctl provision identity svc/NAME|client/NAME
#include <grp.h>
#include <openssl/rand.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "cli/commands.h"
#include "common/config/daemons.h"
#include "common/identity/spiffe_id.h"
#include "common/pki/identity_files.h"
#include "common/pki/provisioner.h"
#include "services/authd/authd_setup.h"
#include "services/keyd/provision.h"

namespace rustiq::cli {
namespace {

struct DeviceArgs {
  std::string root;
  std::string device_id;
  std::vector<std::string> services;
  std::vector<std::string> clients;
  uint32_t lifetime_hours = 0;  // 0: keyd.identity_lifetime_hours
  std::string admin_name = "admin";
  std::string admin_password_file;  // empty: a random initial credential
  std::string bin_dir;  // empty: the build's bin/ when run from it, else
                        // /usr/libexec/rustiq
};

constexpr char kInstalledBinDir[] = "/usr/libexec/rustiq";

// Where the daemons' binaries are: --bin-dir, else the build tree's bin/
// when this rustiqctl runs from one (<build>/cli/rustiqctl), else the
// installed location.
std::string DaemonBinDir(const DeviceArgs& args) {
  if (!args.bin_dir.empty()) {
    return std::filesystem::absolute(args.bin_dir).lexically_normal();
  }
  std::error_code ec;
  std::filesystem::path self =
      std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    std::filesystem::path build_bin = self.parent_path().parent_path() / "bin";
    if (std::filesystem::exists(build_bin / "rustiq-keyd", ec)) {
      return build_bin.lexically_normal();
    }
  }
  return kInstalledBinDir;
}

// The daemons run as their own users when provisioning as root on a
// machine that has them (scripts/create-users).
bool StackUsersExist() {
  if (geteuid() != 0) return false;
  for (const config::StackDaemon& d : config::kSupervisedDaemons) {
    std::string user = absl::StrCat(config::kDaemonUserPrefix, d.name);
    if (getpwnam(user.c_str()) == nullptr) return false;
  }
  return getgrnam(std::string(config::kStackGroup).c_str()) != nullptr;
}

constexpr size_t kMaxPasswordFileBytes = 1024;

// The first admin's password from a file given to provisioning (one line;
// the trailing newline is not part of it); empty without a file.
absl::StatusOr<std::string> PasswordFromFile(const std::string& path) {
  if (path.empty()) return std::string();
  absl::StatusOr<std::string> text =
      pki::ReadSmallFile(path, kMaxPasswordFileBytes);
  if (!text.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--admin-password-file: ", text.status().message()));
  }
  std::string password = *std::move(text);
  while (!password.empty() &&
         (password.back() == '\n' || password.back() == '\r')) {
    password.pop_back();
  }
  return password;
}

// Creates the device's first admin when it has no account yet: the text
// to show (the credential, once) and its JSON. Nothing when accounts exist.
absl::Status FirstAdmin(const config::StackConfig& cfg, const DeviceArgs& args,
                        std::string* text, nlohmann::json* json) {
  absl::StatusOr<std::string> password =
      PasswordFromFile(args.admin_password_file);
  if (!password.ok()) return password.status();
  absl::StatusOr<authd::FirstAdmin> admin =
      authd::ProvisionFirstAdmin(cfg, args.admin_name, *password);
  if (absl::IsFailedPrecondition(admin.status())) return absl::OkStatus();
  if (!admin.ok()) return admin.status();
  (*json)["admin"] = admin->name;
  if (admin->generated_password.empty()) {
    *text = absl::StrCat("\n  first admin: ", admin->name, " (password from ",
                         args.admin_password_file,
                         "; must be changed at first login)");
  } else {
    (*json)["initial_admin_password"] = admin->generated_password;
    *text = absl::StrCat(
        "\n  first admin: ", admin->name,
        "\n  initial password (shown once; must be changed at first login): ",
        admin->generated_password);
  }
  return absl::OkStatus();
}

std::string NewDeviceId() {
  unsigned char bytes[6];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) return "";
  return "dev-" + absl::BytesToHexString(
                      absl::string_view(reinterpret_cast<char*>(bytes), 6));
}

// The configuration to provision: an existing one is reused (provisioning is
// idempotent and keeps the device's identity), else a new one is made.
absl::StatusOr<config::StackConfig> DeviceConfig(const GlobalOptions& global,
                                                 const DeviceArgs& args,
                                                 bool* exists) {
  std::string path;
  config::StackConfig cfg;
  if (!args.root.empty()) {
    std::string root = std::filesystem::absolute(args.root).lexically_normal();
    if (!root.empty() && root.back() == '/') root.pop_back();
    cfg.paths = {root + "/etc", root + "/state", root + "/run"};
    path = root + "/etc/rustiq.toml";
  } else {
    path = config::ResolveConfigPath(global.config_path);
    cfg.paths.config_dir = std::filesystem::path(path).parent_path();
  }
  *exists = std::filesystem::exists(path);
  if (*exists) {
    absl::StatusOr<config::StackConfig> old = config::LoadConfig(path);
    if (!old.ok()) return absl::FailedPreconditionError(old.status().message());
    if (!args.device_id.empty() && args.device_id != old->device_id) {
      return absl::FailedPreconditionError(absl::StrCat(
          path, " already provisions device \"", old->device_id,
          "\"; omit --device-id to reuse it, or remove the device first"));
    }
    return old;
  }
  cfg.source_path = path;
  cfg.supervisord.daemons =
      config::StackDaemonsConfig(DaemonBinDir(args), StackUsersExist());
  cfg.device_id = args.device_id.empty() ? NewDeviceId() : args.device_id;
  if (absl::Status s = identity::ValidateTrustDomain(cfg.device_id); !s.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--device-id: ", s.message()));
  }
  return cfg;
}

int ProvisionDevice(const GlobalOptions& global, const DeviceArgs& args) {
  Output out(global.json);
  bool exists = false;
  absl::StatusOr<config::StackConfig> cfg = DeviceConfig(global, args, &exists);
  if (!cfg.ok()) return out.Fail(cfg.status());

  // The configuration comes first: keyd's provisioning reads it.
  if (!exists) {
    std::error_code ec;
    std::filesystem::create_directories(cfg->paths.config_dir, ec);
    absl::Status s = pki::WriteFileAtomically(cfg->source_path,
                                              config::RenderConfig(*cfg), 0644);
    if (!s.ok()) return out.Fail(s);
  }
  pki::ProvisionRequest req;
  for (absl::string_view d : config::kStackDaemons)
    req.services.emplace_back(d);
  req.services.insert(req.services.end(), args.services.begin(),
                      args.services.end());
  req.clients = {std::string(config::kCliClientName)};
  req.clients.insert(req.clients.end(), args.clients.begin(),
                     args.clients.end());
  req.identity_lifetime =
      absl::Hours(args.lifetime_hours != 0 ? args.lifetime_hours
                                           : cfg->keyd.identity_lifetime_hours);
  absl::StatusOr<pki::ProvisionResult> result =
      keyd::ProvisionThroughKeyd(*cfg, req);
  if (!result.ok()) return out.Fail(result.status());
  std::vector<std::string> ids;
  for (const std::string& s : req.services) ids.push_back("svc/" + s);
  for (const std::string& c : req.clients) ids.push_back("client/" + c);
  nlohmann::json json = {{"device_id", cfg->device_id},
                         {"config", cfg->source_path},
                         {"state_dir", cfg->paths.state_dir},
                         {"runtime_dir", cfg->paths.runtime_dir},
                         {"identities", ids},
                         {"reused", exists}};
  std::string admin_text;
  if (absl::Status s = FirstAdmin(*cfg, args, &admin_text, &json); !s.ok()) {
    return out.Fail(s);
  }
  out.Result(
      absl::StrCat(exists ? "re-provisioned" : "provisioned", " device ",
                   cfg->device_id, "\n  config: ", cfg->source_path,
                   "\n  state:  ", cfg->paths.state_dir,
                   "\n  identities: ", absl::StrJoin(ids, ", "), admin_text),
      json);
  return kExitOk;
}

// `provision admin`: the first admin of a provisioned device that has none.
int ProvisionAdmin(const GlobalOptions& global, const DeviceArgs& args) {
  Output out(global.json);
  absl::StatusOr<config::StackConfig> cfg = global.LoadConfig();
  if (!cfg.ok()) return out.Fail(cfg.status());
  std::string text;
  nlohmann::json json;
  if (absl::Status s = FirstAdmin(*cfg, args, &text, &json); !s.ok()) {
    return out.Fail(s);
  }
  if (json.empty()) {
    return out.FailWithExitCode(
        absl::FailedPreconditionError(
            "the device has accounts already; an admin can create more "
            "('rustiqctl users create') or reset a password "
            "('rustiqctl users reset-password')"),
        kExitFailure);
  }
  out.Result(absl::StrCat("created", text), json);
  return kExitOk;
}

int ProvisionIdentity(const GlobalOptions& global, const std::string& path,
                      uint32_t lifetime_hours) {
  Output out(global.json);
  absl::StatusOr<config::StackConfig> cfg = global.LoadConfig();
  if (!cfg.ok()) return out.Fail(cfg.status());
  absl::StatusOr<identity::SpiffeId> id =
      identity::SpiffeId::FromParts(cfg->device_id, path);
  if (!id.ok()) return out.Fail(id.status());
  absl::StatusOr<pki::IdentityPaths> written = keyd::IssueIdentityThroughKeyd(
      *cfg, *id,
      absl::Hours(lifetime_hours != 0 ? lifetime_hours
                                      : cfg->keyd.identity_lifetime_hours));
  if (!written.ok()) return out.Fail(written.status());
  out.Result(absl::StrCat("issued ", id->ToUri(), "\n  key:  ",
                          written->key_path, "\n  cert: ", written->cert_path),
             {{"id", id->ToUri()},
              {"key", written->key_path},
              {"cert", written->cert_path}});
  return kExitOk;
}

}  // namespace

void AddProvisionCommand(CLI::App& app, const GlobalOptions& global,
                         Action* action) {
  CLI::App* cmd = app.add_subcommand("provision",
                                     "Provision a device or an extra identity");
  cmd->require_subcommand(1);

  auto dev = std::make_shared<DeviceArgs>();
  CLI::App* device = cmd->add_subcommand(
      "device",
      "Create the device CA, every daemon's and the CLI's identity, and the "
      "configuration (reuses an existing device)");
  device->add_option("--root", dev->root,
                     "Put the whole device under DIR (development): "
                     "DIR/etc/rustiq.toml, DIR/state, DIR/run");
  device->add_option("--device-id", dev->device_id,
                     "Device ID and trust domain (default: generated)");
  device->add_option("--service", dev->services,
                     "Also issue an identity for svc/NAME (repeatable)");
  device->add_option("--client", dev->clients,
                     "Also issue an identity for client/NAME (repeatable)");
  device
      ->add_option("--lifetime-hours", dev->lifetime_hours,
                   "Lifetime of the issued certificates (default: "
                   "keyd.identity_lifetime_hours; at most "
                   "keyd.max_identity_lifetime_hours)")
      ->check(CLI::Range(1u, 24u * 365u));
  device->add_option(
      "--bin-dir", dev->bin_dir,
      "Directory of the daemons' binaries for [supervisord.daemons] "
      "(default: the build's bin/ when rustiqctl runs from a build, else "
      "/usr/libexec/rustiq)");
  device->add_option("--admin-name", dev->admin_name,
                     "Name of the first admin account (default: admin)");
  device->add_option("--admin-password-file", dev->admin_password_file,
                     "Read the first admin's initial password from FILE "
                     "instead of generating one (it must be changed at "
                     "first login)");
  device->callback([&global, action, dev] {
    *action = [&global, dev] { return ProvisionDevice(global, *dev); };
  });

  auto adm = std::make_shared<DeviceArgs>();
  CLI::App* admin = cmd->add_subcommand(
      "admin",
      "Create the first admin of a device that has no account (authd "
      "stopped); prints its initial credential once");
  admin->add_option("--name", adm->admin_name, "Account name (default: admin)");
  admin->add_option("--password-file", adm->admin_password_file,
                    "Read the initial password from FILE instead of "
                    "generating one");
  admin->callback([&global, action, adm] {
    *action = [&global, adm] { return ProvisionAdmin(global, *adm); };
  });

  auto id_path = std::make_shared<std::string>();
  auto id_hours = std::make_shared<uint32_t>(0);
  CLI::App* ident = cmd->add_subcommand(
      "identity", "Issue (or re-issue) one identity from the device CA");
  ident->add_option("id", *id_path, "svc/NAME or client/NAME")->required();
  ident
      ->add_option("--lifetime-hours", *id_hours,
                   "Lifetime of the certificate (default: "
                   "keyd.identity_lifetime_hours)")
      ->check(CLI::Range(1u, 24u * 365u));
  ident->callback([&global, action, id_path, id_hours] {
    *action = [&global, id_path, id_hours] {
      return ProvisionIdentity(global, *id_path, *id_hours);
    };
  });
}

}  // namespace rustiq::cli
