// rustiqctl users | roles: the accounts of the people who manage the device
// and the roles they hold, kept by rustiq-authd (docs/authd.md), over mTLS
// as the CLI's identity and for the person whose token is stored.
//
//   rustiqctl users list
//   rustiqctl users create NAME [--role ROLE]... [--password-stdin]
//   rustiqctl users delete NAME --yes
//   rustiqctl users reset-password NAME [--password-stdin]
//   rustiqctl users grant NAME ROLE | revoke NAME ROLE
//   rustiqctl roles list
//
// create and reset-password without --password-stdin let authd generate the
// initial password: it is printed once (the one place rustiqctl shows a
// password) and must be changed at first login. Arguments are checked before
// anything is sent; the rules for names and roles are authd's.
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "cli/commands.h"
#include "cli/confirm.h"
#include "cli/daemon_call.h"
#include "cli/password_prompt.h"
#include "cli/text.h"
#include "rustiq/v1/auth.grpc.pb.h"

namespace rustiq::cli {
namespace {

constexpr absl::string_view kDaemon = "authd";
constexpr size_t kMaxNameBytes = 32;
constexpr size_t kMaxRoles = 64;

using Stub = v1::Auth::Stub;

// An account or role name as an argument: present and short enough to be
// one. `argument` is how --help names it (NAME, ROLE, --role).
absl::Status CheckName(absl::string_view argument, const std::string& name) {
  if (name.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        argument, " is empty: give a name of 1-", kMaxNameBytes, " bytes"));
  }
  if (name.size() > kMaxNameBytes) {
    return absl::InvalidArgumentError(absl::StrCat(argument, " \"", Shown(name),
                                                   "\" is longer than ",
                                                   kMaxNameBytes, " bytes"));
  }
  return absl::OkStatus();
}

bool LockedNow(const v1::User& user) {
  return user.locked_until_unix_seconds() > absl::ToUnixSeconds(absl::Now());
}

nlohmann::json UserJson(const v1::User& user) {
  nlohmann::json j = {
      {"name", user.name()},
      {"roles", ListJson(user.roles())},
      {"created_unix_seconds", user.created_unix_seconds()},
      {"created", TimeText(user.created_unix_seconds())},
      {"password_change_required", user.password_change_required()},
      {"locked", LockedNow(user)},
      {"locked_until_unix_seconds", user.locked_until_unix_seconds()},
      {"failed_logins", user.failed_logins()},
      {"last_login_unix_seconds", user.last_login_unix_seconds()}};
  if (user.locked_until_unix_seconds() != 0) {
    j["locked_until"] = TimeText(user.locked_until_unix_seconds());
  }
  if (user.last_login_unix_seconds() != 0) {
    j["last_login"] = TimeText(user.last_login_unix_seconds());
  }
  return j;
}

std::string UsersTable(const v1::ListUsersResponse& users) {
  if (users.users().empty()) return "no users";
  std::vector<std::vector<std::string>> rows = {{"NAME", "ROLES", "CREATED",
                                                 "LAST-LOGIN", "FAILED",
                                                 "LOCKED", "CHANGE-PW"}};
  for (const v1::User& u : users.users()) {
    rows.push_back(
        {Shown(u.name()), ListText(u.roles()),
         TimeText(u.created_unix_seconds()),
         u.last_login_unix_seconds() == 0
             ? "never"
             : TimeText(u.last_login_unix_seconds()),
         absl::StrCat(u.failed_logins()),
         LockedNow(u)
             ? absl::StrCat("until ", TimeText(u.locked_until_unix_seconds()))
             : "no",
         u.password_change_required() ? "yes" : "no"});
  }
  return TableText(rows);
}

// "Initial password for bob (shown once; ...): ..." when authd made one.
std::string InitialPasswordText(const std::string& name,
                                const std::string& initial_password) {
  if (initial_password.empty()) {
    return absl::StrCat("the password given must be changed at ", Shown(name),
                        "'s first login");
  }
  // Printed as authd made it, since escaping would change what the person
  // has to type; a generated password is printable ASCII, and anything else
  // is escaped rather than sent to the terminal.
  bool printable = std::all_of(initial_password.begin(), initial_password.end(),
                               [](char c) { return c > ' ' && c <= '~'; });
  return absl::StrCat("Initial password for ", Shown(name),
                      " (shown once; must be changed at first login): ",
                      printable ? initial_password
                                : Shown(initial_password, kMaxPasswordBytes));
}

// ---------------------------------------------------------------- commands

int List(const GlobalOptions& global) {
  Output out(global.json);
  v1::ListUsersResponse users;
  if (int rc = CallDaemon(global, out, kDaemon, &Stub::ListUsers,
                          v1::ListUsersRequest(), &users);
      rc != kExitOk) {
    return rc;
  }
  nlohmann::json list = nlohmann::json::array();
  for (const v1::User& u : users.users()) list.push_back(UserJson(u));
  out.Result(UsersTable(users), {{"users", list}});
  return kExitOk;
}

struct CreateArgs {
  std::string name;
  std::vector<std::string> roles;
  bool password_stdin = false;
};

int Create(const GlobalOptions& global, const CreateArgs& args) {
  Output out(global.json);
  if (absl::Status s = CheckName("NAME", args.name); !s.ok()) {
    return out.Fail(s);
  }
  if (args.roles.size() > kMaxRoles) {
    return FailUsage(out, absl::StrCat("--role: at most ", kMaxRoles));
  }
  for (const std::string& role : args.roles) {
    if (absl::Status s = CheckName("--role", role); !s.ok()) {
      return out.Fail(s);
    }
  }
  absl::StatusOr<DaemonConnection> conn = ConnectToDaemon(global, kDaemon);
  if (!conn.ok()) return out.Fail(conn.status());
  v1::CreateUserRequest req;
  req.set_name(args.name);
  for (const std::string& role : args.roles) req.add_roles(role);
  if (args.password_stdin) {
    absl::StatusOr<Secret> initial =
        ReadSecretLine(STDIN_FILENO, "the initial password");
    if (!initial.ok()) return out.Fail(initial.status());
    req.set_initial_password(std::string(initial->view()));
  }
  v1::CreateUserResponse resp;
  grpc::Status s = Invoke(global, conn->channel, &Stub::CreateUser, req, &resp);
  Cleanse(req.mutable_initial_password());
  if (!s.ok()) return FailCall(out, kDaemon, s);
  nlohmann::json object = UserJson(resp.user());
  if (!resp.initial_password().empty()) {
    object["initial_password"] = resp.initial_password();
  }
  out.Result(absl::StrCat("created user ", Shown(resp.user().name()),
                          " (roles: ", ListText(resp.user().roles()), ")\n",
                          InitialPasswordText(resp.user().name(),
                                              resp.initial_password())),
             object);
  Cleanse(resp.mutable_initial_password());
  if (object.contains("initial_password")) {
    Cleanse(object["initial_password"].get_ptr<std::string*>());
  }
  return kExitOk;
}

int Delete(const GlobalOptions& global, const std::string& name, bool yes) {
  Output out(global.json);
  if (absl::Status s = CheckName("NAME", name); !s.ok()) return out.Fail(s);
  if (!yes) {
    return FailUnconfirmed(
        out,
        absl::StrCat("users delete removes the account '", Shown(name),
                     "' and revokes its tokens"),
        "delete");
  }
  v1::DeleteUserRequest req;
  req.set_name(name);
  v1::DeleteUserResponse resp;
  if (int rc = CallDaemon(global, out, kDaemon, &Stub::DeleteUser, req, &resp);
      rc != kExitOk) {
    return rc;
  }
  out.Result(absl::StrCat("deleted user ", Shown(name)), {{"deleted", name}});
  return kExitOk;
}

struct ResetArgs {
  std::string name;
  bool password_stdin = false;
};

int ResetPassword(const GlobalOptions& global, const ResetArgs& args) {
  Output out(global.json);
  if (absl::Status s = CheckName("NAME", args.name); !s.ok()) {
    return out.Fail(s);
  }
  absl::StatusOr<DaemonConnection> conn = ConnectToDaemon(global, kDaemon);
  if (!conn.ok()) return out.Fail(conn.status());
  v1::ResetPasswordRequest req;
  req.set_name(args.name);
  if (args.password_stdin) {
    absl::StatusOr<Secret> initial =
        ReadSecretLine(STDIN_FILENO, "the new initial password");
    if (!initial.ok()) return out.Fail(initial.status());
    req.set_new_password(std::string(initial->view()));
  }
  v1::ResetPasswordResponse resp;
  grpc::Status s =
      Invoke(global, conn->channel, &Stub::ResetPassword, req, &resp);
  Cleanse(req.mutable_new_password());
  if (!s.ok()) return FailCall(out, kDaemon, s);
  nlohmann::json object = {{"user", args.name},
                           {"password_change_required", true}};
  if (!resp.initial_password().empty()) {
    object["initial_password"] = resp.initial_password();
  }
  out.Result(
      absl::StrCat("password of ", Shown(args.name),
                   " reset; its lockout was cleared and its tokens "
                   "revoked\n",
                   InitialPasswordText(args.name, resp.initial_password())),
      object);
  Cleanse(resp.mutable_initial_password());
  if (object.contains("initial_password")) {
    Cleanse(object["initial_password"].get_ptr<std::string*>());
  }
  return kExitOk;
}

struct RoleArgs {
  std::string name;
  std::string role;
};

int ChangeRole(const GlobalOptions& global, const RoleArgs& args, bool grant) {
  Output out(global.json);
  if (absl::Status s = CheckName("NAME", args.name); !s.ok()) {
    return out.Fail(s);
  }
  if (absl::Status s = CheckName("ROLE", args.role); !s.ok()) {
    return out.Fail(s);
  }
  v1::RoleChangeRequest req;
  req.set_user(args.name);
  req.set_role(args.role);
  v1::RoleChangeResponse resp;
  if (int rc =
          CallDaemon(global, out, kDaemon,
                     grant ? &Stub::GrantRole : &Stub::RevokeRole, req, &resp);
      rc != kExitOk) {
    return rc;
  }
  out.Result(
      absl::StrCat(grant ? "granted role " : "revoked role ", Shown(args.role),
                   grant ? " to " : " from ", Shown(resp.user().name()),
                   "; roles now: ", ListText(resp.user().roles()),
                   " (its tokens were revoked: the new roles hold from its "
                   "next login)"),
      UserJson(resp.user()));
  return kExitOk;
}

int ListRoles(const GlobalOptions& global) {
  Output out(global.json);
  v1::ListRolesResponse resp;
  if (int rc = CallDaemon(global, out, kDaemon, &Stub::ListRoles,
                          v1::ListRolesRequest(), &resp);
      rc != kExitOk) {
    return rc;
  }
  nlohmann::json roles = nlohmann::json::array();
  std::vector<std::vector<std::string>> role_rows = {
      {"ROLE", "DESCRIPTION", "PERMISSIONS"}};
  for (const v1::Role& r : resp.roles()) {
    roles.push_back({{"name", r.name()},
                     {"description", r.description()},
                     {"permissions", ListJson(r.permissions())}});
    role_rows.push_back({Shown(r.name()), Shown(r.description(), 120),
                         ListText(r.permissions())});
  }
  nlohmann::json permissions = nlohmann::json::array();
  std::vector<std::vector<std::string>> permission_rows = {
      {"PERMISSION", "DESCRIPTION"}};
  for (const v1::Permission& p : resp.permissions()) {
    permissions.push_back(
        {{"name", p.name()}, {"description", p.description()}});
    permission_rows.push_back({Shown(p.name()), Shown(p.description(), 120)});
  }
  std::string text = absl::StrCat(
      resp.roles().empty() ? "no roles" : TableText(role_rows), "\n\n",
      resp.permissions().empty() ? "no permissions"
                                 : TableText(permission_rows));
  out.Result(text, {{"roles", roles}, {"permissions", permissions}});
  return kExitOk;
}

}  // namespace

void AddUsersCommand(CLI::App& app, const GlobalOptions& global,
                     Action* action) {
  CLI::App* cmd =
      app.add_subcommand("users", "Accounts of people, kept by rustiq-authd");
  cmd->require_subcommand(1);
  // Global options may follow the subcommand ("users list --json"); the
  // subcommands below inherit this.
  cmd->fallthrough();

  CLI::App* list = cmd->add_subcommand(
      "list",
      "Every account: roles, created, last login, failed logins, lockout, "
      "whether the password must be changed");
  list->callback(
      [&global, action] { *action = [&global] { return List(global); }; });

  auto create_args = std::make_shared<CreateArgs>();
  CLI::App* create = cmd->add_subcommand(
      "create",
      "Create an account; its initial password must be changed at first "
      "login");
  create
      ->add_option("NAME", create_args->name,
                   "Account name: 1-32 of a-z 0-9 _ . -, starting with a "
                   "letter or _")
      ->required();
  create->add_option("--role", create_args->roles,
                     "A role to grant (see 'rustiqctl roles list'); "
                     "repeatable");
  create->add_flag("--password-stdin", create_args->password_stdin,
                   "Read the initial password from one line of stdin "
                   "(default: authd generates one and it is printed once)");
  create->callback([&global, action, create_args] {
    *action = [&global, create_args] { return Create(global, *create_args); };
  });

  AddDeleteSubcommand(
      cmd, "Delete an account and revoke its tokens (needs --yes)", "NAME",
      "Account name", action, [&global](const std::string& name, bool yes) {
        return Delete(global, name, yes);
      });

  auto reset_args = std::make_shared<ResetArgs>();
  CLI::App* reset = cmd->add_subcommand(
      "reset-password",
      "Set a new initial password (to be changed at next login), clear a "
      "lockout, revoke the account's tokens");
  reset->add_option("NAME", reset_args->name, "Account name")->required();
  reset->add_flag("--password-stdin", reset_args->password_stdin,
                  "Read the new initial password from one line of stdin "
                  "(default: authd generates one and it is printed once)");
  reset->callback([&global, action, reset_args] {
    *action = [&global, reset_args] {
      return ResetPassword(global, *reset_args);
    };
  });

  for (bool grant : {true, false}) {
    auto role_args = std::make_shared<RoleArgs>();
    CLI::App* sub = cmd->add_subcommand(
        grant ? "grant" : "revoke",
        grant ? "Grant a role to an account (you must hold every permission "
                "of the role)"
              : "Revoke a role from an account (the last admin keeps admin)");
    sub->add_option("NAME", role_args->name, "Account name")->required();
    sub->add_option("ROLE", role_args->role, "Role name")->required();
    sub->callback([&global, action, role_args, grant] {
      *action = [&global, role_args, grant] {
        return ChangeRole(global, *role_args, grant);
      };
    });
  }
}

void AddRolesCommand(CLI::App& app, const GlobalOptions& global,
                     Action* action) {
  CLI::App* cmd =
      app.add_subcommand("roles", "Roles and permissions of rustiq-authd");
  cmd->require_subcommand(1);
  cmd->fallthrough();
  CLI::App* list = cmd->add_subcommand(
      "list", "Every role with its permissions, and every permission");
  list->callback(
      [&global, action] { *action = [&global] { return ListRoles(global); }; });
}

}  // namespace rustiq::cli
