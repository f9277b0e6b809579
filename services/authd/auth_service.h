// The gRPC edge of rustiq-authd (rustiq.v1.Auth): requests in, Accounts
// decides, statuses out. Who calls has been established by the enforcement
// point; the person a call acts for comes from its verified token.
#ifndef RUSTIQ_SERVICES_AUTHD_AUTH_SERVICE_H_
#define RUSTIQ_SERVICES_AUTHD_AUTH_SERVICE_H_

#include "common/rpc/token_verifier.h"
#include "rustiq/v1/auth.grpc.pb.h"
#include "services/authd/accounts.h"
#include "services/authd/revocation_hub.h"

namespace rustiq::authd {

class AuthService final : public v1::Auth::Service {
 public:
  // Not owned; all must outlive the service.
  AuthService(Accounts* accounts, RevocationHub* hub,
              rpc::TokenVerifier* tokens)
      : accounts_(accounts), hub_(hub), tokens_(tokens) {}

  grpc::Status Login(grpc::ServerContext* context,
                     const v1::LoginRequest* request,
                     v1::LoginResponse* response) override;
  grpc::Status ChangePassword(grpc::ServerContext* context,
                              const v1::ChangePasswordRequest* request,
                              v1::ChangePasswordResponse* response) override;
  grpc::Status Logout(grpc::ServerContext* context,
                      const v1::LogoutRequest* request,
                      v1::LogoutResponse* response) override;
  grpc::Status WhoAmI(grpc::ServerContext* context,
                      const v1::WhoAmIRequest* request,
                      v1::WhoAmIResponse* response) override;
  grpc::Status CreateUser(grpc::ServerContext* context,
                          const v1::CreateUserRequest* request,
                          v1::CreateUserResponse* response) override;
  grpc::Status DeleteUser(grpc::ServerContext* context,
                          const v1::DeleteUserRequest* request,
                          v1::DeleteUserResponse* response) override;
  grpc::Status ListUsers(grpc::ServerContext* context,
                         const v1::ListUsersRequest* request,
                         v1::ListUsersResponse* response) override;
  grpc::Status ResetPassword(grpc::ServerContext* context,
                             const v1::ResetPasswordRequest* request,
                             v1::ResetPasswordResponse* response) override;
  grpc::Status GrantRole(grpc::ServerContext* context,
                         const v1::RoleChangeRequest* request,
                         v1::RoleChangeResponse* response) override;
  grpc::Status RevokeRole(grpc::ServerContext* context,
                          const v1::RoleChangeRequest* request,
                          v1::RoleChangeResponse* response) override;
  grpc::Status ListRoles(grpc::ServerContext* context,
                         const v1::ListRolesRequest* request,
                         v1::ListRolesResponse* response) override;
  grpc::Status WatchRevocations(
      grpc::ServerContext* context, const v1::WatchRevocationsRequest* request,
      grpc::ServerWriter<v1::WatchRevocationsResponse>* writer) override;

 private:
  Accounts* accounts_;
  RevocationHub* hub_;
  rpc::TokenVerifier* tokens_;
};

// A user as the API shows it (never its hash).
void ToProto(const UserRecord& user, v1::User* out);

}  // namespace rustiq::authd

#endif  // RUSTIQ_SERVICES_AUTHD_AUTH_SERVICE_H_
