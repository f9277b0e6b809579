// rustiqctl login | logout | whoami | passwd: a person's session with
// rustiq-authd (docs/authd.md), over mTLS as the CLI's identity.
//
//   rustiqctl login USER [--password-stdin]
//   rustiqctl logout
//   rustiqctl whoami
//   rustiqctl passwd USER [--password-stdin]
//
// login stores the token authd issues (cli/token_file.h); PrepareCall sends
// it with every later call. Passwords are read without echo from the
// terminal, or one per line from stdin with --password-stdin
// (cli/password_prompt.h); neither a password nor a token is ever printed.
// Arguments are checked before anything is sent; the account name rules
// themselves are authd's (it answers INVALID_ARGUMENT), so they live in one
// place.
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "cli/commands.h"
#include "cli/daemon_call.h"
#include "cli/password_prompt.h"
#include "cli/text.h"
#include "cli/token_file.h"
#include "rustiq/v1/auth.grpc.pb.h"

namespace rustiq::cli {
namespace {

constexpr absl::string_view kDaemon = "authd";
constexpr size_t kMaxUserNameBytes = 32;

using Stub = v1::Auth::Stub;

// USER is required by CLI11; empty ("") or too long is caught here, so
// that authd is not asked about a name that cannot be one.
absl::Status CheckUserName(const std::string& name) {
  if (name.empty()) {
    return absl::InvalidArgumentError(
        "USER is empty: name the account (1-32 bytes of a-z 0-9 _ . -)");
  }
  if (name.size() > kMaxUserNameBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("USER \"", Shown(name), "\" is longer than ",
                     kMaxUserNameBytes, " bytes"));
  }
  return absl::OkStatus();
}

// ------------------------------------------------------------------ login

struct LoginArgs {
  std::string user;
  bool password_stdin = false;
};

int Login(const GlobalOptions& global, const LoginArgs& args) {
  Output out(global.json);
  if (absl::Status s = CheckUserName(args.user); !s.ok()) return out.Fail(s);
  // The configuration and the CLI's identity first: no password is asked
  // for on a device the CLI cannot talk to at all.
  absl::StatusOr<DaemonConnection> conn = ConnectToDaemon(global, kDaemon);
  if (!conn.ok()) return out.Fail(conn.status());

  PasswordSource passwords(args.password_stdin);
  absl::StatusOr<Secret> password = passwords.Read(
      absl::StrCat("Password for ", Shown(args.user), ": "), "the password");
  if (!password.ok()) return out.Fail(password.status());

  v1::LoginRequest req;
  req.set_user(args.user);
  req.set_password(std::string(password->view()));
  v1::LoginResponse resp;
  grpc::Status s = Invoke(global, conn->channel, &Stub::Login, req, &resp);
  bool changed = false;
  if (s.ok() && resp.password_change_required()) {
    // Provisioning or an admin set this password: authd issues no token
    // until the person has chosen their own, which the same Login sets.
    std::fprintf(stderr,
                 "The password of %s must be changed before first use.\n",
                 Shown(args.user).c_str());
    absl::StatusOr<Secret> fresh = passwords.ReadNew();
    if (!fresh.ok()) {
      Cleanse(req.mutable_password());
      return out.Fail(fresh.status());
    }
    req.set_new_password(std::string(fresh->view()));
    resp.Clear();
    s = Invoke(global, conn->channel, &Stub::Login, req, &resp);
    changed = true;
  }
  Cleanse(req.mutable_password());
  Cleanse(req.mutable_new_password());
  if (!s.ok()) return FailCall(out, kDaemon, s);
  if (resp.password_change_required() || resp.token().empty()) {
    Cleanse(resp.mutable_token());
    return out.Fail(absl::UnknownError(
        "authd: the login was accepted but no token was issued"));
  }
  absl::Status stored = WriteToken(resp.token());
  Cleanse(resp.mutable_token());
  if (!stored.ok()) {
    // A token that cannot be stored is a failed login; authd's token is
    // simply dropped (it expires by itself).
    return stored.code() == absl::StatusCode::kInvalidArgument
               ? out.FailWithExitCode(stored, kExitFailure)
               : out.Fail(stored);
  }
  nlohmann::json object = {
      {"user", resp.user()},
      {"roles", ListJson(resp.roles())},
      {"permissions", ListJson(resp.permissions())},
      {"expires_unix_seconds", resp.expires_unix_seconds()},
      {"expires", TimeText(resp.expires_unix_seconds())},
      {"password_changed", changed},
      {"token_file", TokenPath()}};
  out.Result(absl::StrCat("logged in as ", Shown(resp.user()),
                          " (roles: ", ListText(resp.roles()), ") until ",
                          TimeText(resp.expires_unix_seconds())),
             object);
  return kExitOk;
}

// ----------------------------------------------------------------- logout

int Logout(const GlobalOptions& global) {
  Output out(global.json);
  std::string path = TokenPath();
  absl::StatusOr<std::optional<std::string>> token = ReadToken();
  if (!token.ok()) {
    // A token file that is not safe to use is not sent anywhere; removing
    // it is what logging out asks for anyway.
    absl::Status removed = RemoveToken();
    if (!removed.ok()) return out.Fail(removed);
    out.Result(
        absl::StrCat("removed ", path,
                     " (it was not a file of yours with mode 0600 and "
                     "was not sent to authd)"),
        {{"logged_out", true}, {"revoked", false}, {"token_file", path}});
    return kExitOk;
  }
  if (!token->has_value()) {
    out.Result(
        "not logged in (no token stored)",
        {{"logged_out", true}, {"revoked", false}, {"token_file", path}});
    return kExitOk;
  }
  Cleanse(&**token);

  grpc::Status s;
  absl::StatusOr<DaemonConnection> conn = ConnectToDaemon(global, kDaemon);
  if (conn.ok()) {
    v1::LogoutResponse resp;
    s = Invoke(global, conn->channel, &Stub::Logout, v1::LogoutRequest(),
               &resp);
  }
  // The local token goes whatever authd said: this is what a person who
  // logs out is sure to get.
  absl::Status removed = RemoveToken();
  if (!removed.ok()) return out.Fail(removed);
  if (!conn.ok()) {
    return out.FailWithExitCode(
        absl::Status(conn.status().code(),
                     absl::StrCat(conn.status().message(),
                                  "; the local token was removed, but authd "
                                  "was not asked to revoke it: it stays valid "
                                  "until it expires")),
        ExitCodeFor(conn.status()));
  }
  if (s.error_code() == grpc::StatusCode::UNAUTHENTICATED) {
    // Expired or revoked already: nothing is left to revoke.
    out.Result(
        "logged out (the token had already expired or been revoked)",
        {{"logged_out", true}, {"revoked", false}, {"token_file", path}});
    return kExitOk;
  }
  if (!s.ok()) {
    absl::Status failed(static_cast<absl::StatusCode>(s.error_code()),
                        absl::StrCat(kDaemon, ": ", s.error_message(),
                                     "; the local token was removed, but "
                                     "authd did not revoke it: it stays valid "
                                     "until it expires"));
    return out.FailWithExitCode(failed, ExitCodeForAnswer(failed));
  }
  out.Result("logged out: the token was revoked and removed",
             {{"logged_out", true}, {"revoked", true}, {"token_file", path}});
  return kExitOk;
}

// ----------------------------------------------------------------- whoami

int WhoAmI(const GlobalOptions& global) {
  Output out(global.json);
  absl::StatusOr<std::optional<std::string>> token = ReadToken();
  if (!token.ok()) return out.Fail(token.status());
  if (!token->has_value()) {
    return out.Fail(absl::UnauthenticatedError(
        "not logged in (no token stored): log in with 'rustiqctl login "
        "USER'"));
  }
  Cleanse(&**token);
  v1::WhoAmIResponse resp;
  if (int rc = CallDaemon(global, out, kDaemon, &Stub::WhoAmI,
                          v1::WhoAmIRequest(), &resp);
      rc != kExitOk) {
    return rc;
  }
  absl::Duration left =
      absl::FromUnixSeconds(resp.expires_unix_seconds()) - absl::Now();
  std::string left_text =
      left > absl::ZeroDuration()
          ? absl::StrCat(
                " (in ",
                absl::FormatDuration(absl::Trunc(left, absl::Seconds(1))), ")")
          : " (expired)";
  out.Result(
      absl::StrCat("user:        ", Shown(resp.user()),              //
                   "\nroles:       ", ListText(resp.roles()),        //
                   "\npermissions: ", ListText(resp.permissions()),  //
                   "\ntoken id:    ", Shown(resp.token_id()),        //
                   "\nissued:      ", TimeText(resp.issued_unix_seconds()),
                   "\nexpires:     ", TimeText(resp.expires_unix_seconds()),
                   left_text),
      {{"user", resp.user()},
       {"roles", ListJson(resp.roles())},
       {"permissions", ListJson(resp.permissions())},
       {"token_id", resp.token_id()},
       {"issued_unix_seconds", resp.issued_unix_seconds()},
       {"issued", TimeText(resp.issued_unix_seconds())},
       {"expires_unix_seconds", resp.expires_unix_seconds()},
       {"expires", TimeText(resp.expires_unix_seconds())}});
  return kExitOk;
}

// ----------------------------------------------------------------- passwd

struct PasswdArgs {
  std::string user;
  bool password_stdin = false;
};

int Passwd(const GlobalOptions& global, const PasswdArgs& args) {
  Output out(global.json);
  if (absl::Status s = CheckUserName(args.user); !s.ok()) return out.Fail(s);
  absl::StatusOr<DaemonConnection> conn = ConnectToDaemon(global, kDaemon);
  if (!conn.ok()) return out.Fail(conn.status());

  PasswordSource passwords(args.password_stdin);
  absl::StatusOr<Secret> old_password = passwords.Read(
      absl::StrCat("Current password of ", Shown(args.user), ": "),
      "the current password");
  if (!old_password.ok()) return out.Fail(old_password.status());
  absl::StatusOr<Secret> new_password = passwords.ReadNew();
  if (!new_password.ok()) return out.Fail(new_password.status());

  v1::ChangePasswordRequest req;
  req.set_user(args.user);
  req.set_old_password(std::string(old_password->view()));
  req.set_new_password(std::string(new_password->view()));
  v1::ChangePasswordResponse resp;
  grpc::Status s =
      Invoke(global, conn->channel, &Stub::ChangePassword, req, &resp);
  Cleanse(req.mutable_old_password());
  Cleanse(req.mutable_new_password());
  if (!s.ok()) return FailCall(out, kDaemon, s);
  out.Result(absl::StrCat("password of ", Shown(args.user),
                          " changed; its tokens were revoked: log in again "
                          "with 'rustiqctl login ",
                          Shown(args.user), "'"),
             {{"user", args.user}, {"password_changed", true}});
  return kExitOk;
}

}  // namespace

void AddAuthCommands(CLI::App& app, const GlobalOptions& global,
                     Action* action) {
  auto login_args = std::make_shared<LoginArgs>();
  CLI::App* login = app.add_subcommand(
      "login", "Log in to rustiq-authd and store the token for later commands");
  // Global options may follow the command ("login alice --json").
  login->fallthrough();
  login->add_option("USER", login_args->user, "Account name")->required();
  login->add_flag("--password-stdin", login_args->password_stdin,
                  "Read the password from stdin (one line; if it must be "
                  "changed, the new one from the next line) instead of the "
                  "terminal");
  login->callback([&global, action, login_args] {
    *action = [&global, login_args] { return Login(global, *login_args); };
  });

  CLI::App* logout = app.add_subcommand(
      "logout", "Revoke the stored token at rustiq-authd and remove it");
  logout->fallthrough();
  logout->callback(
      [&global, action] { *action = [&global] { return Logout(global); }; });

  CLI::App* whoami = app.add_subcommand(
      "whoami", "Who the stored token belongs to: roles, permissions, expiry");
  whoami->fallthrough();
  whoami->callback(
      [&global, action] { *action = [&global] { return WhoAmI(global); }; });

  auto passwd_args = std::make_shared<PasswdArgs>();
  CLI::App* passwd = app.add_subcommand(
      "passwd", "Change the password of an account, giving the current one");
  passwd->fallthrough();
  passwd->add_option("USER", passwd_args->user, "Account name")->required();
  passwd->add_flag("--password-stdin", passwd_args->password_stdin,
                   "Read the current and the new password from two lines of "
                   "stdin instead of the terminal");
  passwd->callback([&global, action, passwd_args] {
    *action = [&global, passwd_args] { return Passwd(global, *passwd_args); };
  });
}

}  // namespace rustiq::cli
