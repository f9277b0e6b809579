#include "common/rpc/method_access.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "rustiq/v1/options.pb.h"

namespace rustiq::rpc {

bool MethodAccess::AllowsCaller(absl::string_view caller_path) const {
  for (const identity::CallerPattern& p : callers) {
    if (p.Matches(caller_path)) return true;
  }
  return false;
}

absl::Status ValidatePermissionName(absl::string_view permission) {
  if (permission.size() < 3 || permission.size() > 64) {
    return absl::InvalidArgumentError("permission must be 3 to 64 characters");
  }
  if (permission.find('.') == absl::string_view::npos) {
    return absl::InvalidArgumentError(
        "permission must look like \"area.verb\" (for example keys.manage)");
  }
  for (char c : permission) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
          c == '.')) {
      return absl::InvalidArgumentError(
          "permission may contain only a-z, 0-9, '_' and '.'");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<MethodAccess> AccessOf(
    const google::protobuf::MethodDescriptor& method) {
  MethodAccess access;
  const auto& options = method.options();
  if (!options.HasExtension(rustiq::v1::access)) return access;
  const rustiq::v1::Access& decl = options.GetExtension(rustiq::v1::access);
  access.declared = true;
  for (const std::string& caller : decl.callers()) {
    absl::StatusOr<identity::CallerPattern> pattern =
        identity::CallerPattern::Parse(caller);
    if (!pattern.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "method ", method.full_name(), ": ", pattern.status().message()));
    }
    access.callers.push_back(*std::move(pattern));
  }
  if (!decl.permission().empty()) {
    if (absl::Status s = ValidatePermissionName(decl.permission()); !s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("method ", method.full_name(), ": bad permission \"",
                       decl.permission(), "\": ", s.message()));
    }
    access.permission = decl.permission();
  }
  return access;
}

absl::Status MethodAccessTable::AddService(
    absl::string_view service_full_name) {
  const google::protobuf::ServiceDescriptor* service =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
          std::string(service_full_name));
  if (service == nullptr) {
    return absl::NotFoundError(absl::StrCat(
        "service ", service_full_name,
        " is not in the generated descriptor pool (is its proto linked?)"));
  }
  for (int i = 0; i < service->method_count(); ++i) {
    const google::protobuf::MethodDescriptor& m = *service->method(i);
    absl::StatusOr<MethodAccess> access = AccessOf(m);
    if (!access.ok()) return access.status();
    methods_[absl::StrCat("/", service->full_name(), "/", m.name())] =
        *std::move(access);
  }
  return absl::OkStatus();
}

absl::Status MethodAccessTable::AddBuiltin(
    std::string path, const std::vector<std::string>& callers,
    std::string permission) {
  MethodAccess access;
  access.declared = true;
  for (const std::string& caller : callers) {
    absl::StatusOr<identity::CallerPattern> pattern =
        identity::CallerPattern::Parse(caller);
    if (!pattern.ok()) return pattern.status();
    access.callers.push_back(*std::move(pattern));
  }
  if (!permission.empty()) {
    if (absl::Status s = ValidatePermissionName(permission); !s.ok()) return s;
  }
  access.permission = std::move(permission);
  methods_[std::move(path)] = std::move(access);
  return absl::OkStatus();
}

const MethodAccess* MethodAccessTable::Find(absl::string_view path) const {
  auto it = methods_.find(path);
  return it == methods_.end() ? nullptr : &it->second;
}

}  // namespace rustiq::rpc
