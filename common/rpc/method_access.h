// The table of authorization declarations of a server: for each method path
// ("/rustiq.v1.Keys/Sign"), the caller patterns allowed and the permission a
// person's token must hold. Built once at server start from the
// `(rustiq.v1.access)` options in the protobuf descriptors; a bad declaration
// stops the server at start, never at call time.
#ifndef RUSTIQ_COMMON_RPC_METHOD_ACCESS_H_
#define RUSTIQ_COMMON_RPC_METHOD_ACCESS_H_

#include <google/protobuf/descriptor.h>

#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/identity/caller_pattern.h"

namespace rustiq::rpc {

struct MethodAccess {
  // Empty: the method has no declaration, and nobody may call it.
  std::vector<identity::CallerPattern> callers;
  std::string permission;  // empty: no person's token needed
  bool declared = false;

  bool AllowsCaller(absl::string_view caller_path) const;
};

// Reads and validates one method's declaration.
absl::StatusOr<MethodAccess> AccessOf(
    const google::protobuf::MethodDescriptor& method);

// Validates an RBAC permission name: "area.verb" of [a-z0-9_.], 3..64 chars.
absl::Status ValidatePermissionName(absl::string_view permission);

class MethodAccessTable {
 public:
  // Adds every method of the service (by full name, e.g.
  // "rustiq.v1.Keys"), found in the generated descriptor pool.
  absl::Status AddService(absl::string_view service_full_name);
  // Declares access for a method that has no rustiq proto of its own (the
  // standard grpc.health.v1 service).
  absl::Status AddBuiltin(std::string path,
                          const std::vector<std::string>& callers,
                          std::string permission = "");

  // nullptr when the server has no such method.
  const MethodAccess* Find(absl::string_view path) const;
  size_t size() const { return methods_.size(); }

 private:
  absl::flat_hash_map<std::string, MethodAccess> methods_;
};

}  // namespace rustiq::rpc

#endif  // RUSTIQ_COMMON_RPC_METHOD_ACCESS_H_
