#include "services/authd/auth_service.h"

#include <vector>

#include "common/rpc/peer.h"
#include "common/rpc/status.h"

namespace rustiq::authd {
namespace {

int64_t UnixOrZero(absl::Time t) {
  return t == absl::InfinitePast() ? 0 : absl::ToUnixSeconds(t);
}

}  // namespace

void ToProto(const UserRecord& user, v1::User* out) {
  out->set_name(user.name);
  for (const std::string& r : user.roles) out->add_roles(r);
  out->set_created_unix_seconds(UnixOrZero(user.created));
  out->set_password_change_required(user.must_change);
  out->set_locked_until_unix_seconds(
      user.locked_until > absl::Now() ? absl::ToUnixSeconds(user.locked_until)
                                      : 0);
  out->set_failed_logins(user.failed_logins);
  out->set_last_login_unix_seconds(UnixOrZero(user.last_login));
}

grpc::Status AuthService::Login(grpc::ServerContext* context,
                                const v1::LoginRequest* request,
                                v1::LoginResponse* response) {
  absl::StatusOr<LoginResult> result =
      accounts_->Login(request->user(), request->password(),
                       request->new_password(), rpc::CallerOf(*context));
  if (!result.ok()) return rpc::ToGrpcStatus(result.status());
  response->set_user(request->user());
  if (result->password_change_required) {
    response->set_password_change_required(true);
    return grpc::Status::OK;
  }
  response->set_token(result->token);
  response->set_expires_unix_seconds(
      absl::ToUnixSeconds(result->claims.expires));
  for (const std::string& r : result->claims.roles) response->add_roles(r);
  for (const std::string& p : result->claims.permissions) {
    response->add_permissions(p);
  }
  return grpc::Status::OK;
}

grpc::Status AuthService::ChangePassword(
    grpc::ServerContext* context, const v1::ChangePasswordRequest* request,
    v1::ChangePasswordResponse* /*response*/) {
  return rpc::ToGrpcStatus(accounts_->ChangePassword(
      request->user(), request->old_password(), request->new_password(),
      rpc::CallerOf(*context)));
}

grpc::Status AuthService::Logout(grpc::ServerContext* context,
                                 const v1::LogoutRequest* /*request*/,
                                 v1::LogoutResponse* /*response*/) {
  absl::StatusOr<rpc::TokenClaims> person = rpc::PersonOf(*context, tokens_);
  if (!person.ok()) return rpc::ToGrpcStatus(person.status());
  return rpc::ToGrpcStatus(accounts_->Logout(*person));
}

grpc::Status AuthService::WhoAmI(grpc::ServerContext* context,
                                 const v1::WhoAmIRequest* /*request*/,
                                 v1::WhoAmIResponse* response) {
  absl::StatusOr<rpc::TokenClaims> person = rpc::PersonOf(*context, tokens_);
  if (!person.ok()) return rpc::ToGrpcStatus(person.status());
  response->set_user(person->subject);
  for (const std::string& r : person->roles) response->add_roles(r);
  for (const std::string& p : person->permissions) response->add_permissions(p);
  response->set_token_id(person->token_id);
  response->set_issued_unix_seconds(absl::ToUnixSeconds(person->issued));
  response->set_expires_unix_seconds(absl::ToUnixSeconds(person->expires));
  return grpc::Status::OK;
}

grpc::Status AuthService::CreateUser(grpc::ServerContext* context,
                                     const v1::CreateUserRequest* request,
                                     v1::CreateUserResponse* response) {
  absl::StatusOr<rpc::TokenClaims> person = rpc::PersonOf(*context, tokens_);
  if (!person.ok()) return rpc::ToGrpcStatus(person.status());
  std::vector<std::string> roles(request->roles().begin(),
                                 request->roles().end());
  absl::StatusOr<CreatedUser> created = accounts_->CreateUser(
      *person, request->name(), roles, request->initial_password());
  if (!created.ok()) return rpc::ToGrpcStatus(created.status());
  ToProto(created->user, response->mutable_user());
  response->set_initial_password(created->generated_password);
  return grpc::Status::OK;
}

grpc::Status AuthService::DeleteUser(grpc::ServerContext* context,
                                     const v1::DeleteUserRequest* request,
                                     v1::DeleteUserResponse* /*response*/) {
  absl::StatusOr<rpc::TokenClaims> person = rpc::PersonOf(*context, tokens_);
  if (!person.ok()) return rpc::ToGrpcStatus(person.status());
  return rpc::ToGrpcStatus(accounts_->DeleteUser(*person, request->name()));
}

grpc::Status AuthService::ListUsers(grpc::ServerContext* /*context*/,
                                    const v1::ListUsersRequest* /*request*/,
                                    v1::ListUsersResponse* response) {
  absl::StatusOr<std::vector<UserRecord>> users = accounts_->ListUsers();
  if (!users.ok()) return rpc::ToGrpcStatus(users.status());
  for (const UserRecord& u : *users) ToProto(u, response->add_users());
  return grpc::Status::OK;
}

grpc::Status AuthService::ResetPassword(grpc::ServerContext* context,
                                        const v1::ResetPasswordRequest* request,
                                        v1::ResetPasswordResponse* response) {
  absl::StatusOr<rpc::TokenClaims> person = rpc::PersonOf(*context, tokens_);
  if (!person.ok()) return rpc::ToGrpcStatus(person.status());
  absl::StatusOr<std::string> generated = accounts_->ResetPassword(
      *person, request->name(), request->new_password());
  if (!generated.ok()) return rpc::ToGrpcStatus(generated.status());
  response->set_initial_password(*generated);
  return grpc::Status::OK;
}

grpc::Status AuthService::GrantRole(grpc::ServerContext* context,
                                    const v1::RoleChangeRequest* request,
                                    v1::RoleChangeResponse* response) {
  absl::StatusOr<rpc::TokenClaims> person = rpc::PersonOf(*context, tokens_);
  if (!person.ok()) return rpc::ToGrpcStatus(person.status());
  absl::StatusOr<UserRecord> user =
      accounts_->GrantRole(*person, request->user(), request->role());
  if (!user.ok()) return rpc::ToGrpcStatus(user.status());
  ToProto(*user, response->mutable_user());
  return grpc::Status::OK;
}

grpc::Status AuthService::RevokeRole(grpc::ServerContext* context,
                                     const v1::RoleChangeRequest* request,
                                     v1::RoleChangeResponse* response) {
  absl::StatusOr<rpc::TokenClaims> person = rpc::PersonOf(*context, tokens_);
  if (!person.ok()) return rpc::ToGrpcStatus(person.status());
  absl::StatusOr<UserRecord> user =
      accounts_->RevokeRole(*person, request->user(), request->role());
  if (!user.ok()) return rpc::ToGrpcStatus(user.status());
  ToProto(*user, response->mutable_user());
  return grpc::Status::OK;
}

grpc::Status AuthService::ListRoles(grpc::ServerContext* /*context*/,
                                    const v1::ListRolesRequest* /*request*/,
                                    v1::ListRolesResponse* response) {
  const RoleCatalog& catalog = accounts_->roles();
  for (const Role& r : catalog.roles()) {
    v1::Role* out = response->add_roles();
    out->set_name(r.name);
    out->set_description(r.description);
    for (const std::string& p : r.permissions) out->add_permissions(p);
  }
  for (const auto& p : catalog.permissions()) {
    v1::Permission* out = response->add_permissions();
    out->set_name(p.name);
    out->set_description(p.description);
  }
  return grpc::Status::OK;
}

grpc::Status AuthService::WatchRevocations(
    grpc::ServerContext* context,
    const v1::WatchRevocationsRequest* /*request*/,
    grpc::ServerWriter<v1::WatchRevocationsResponse>* writer) {
  hub_->Follow(
      [&](const v1::WatchRevocationsResponse& m) { return writer->Write(m); },
      [&] { return context->IsCancelled(); });
  return grpc::Status::OK;
}

}  // namespace rustiq::authd
