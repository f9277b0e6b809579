// The RBAC catalogue of rustiq-authd: the permissions a method can declare
// ((rustiq.v1.access).permission in proto/) and the roles that bundle them,
// from policies/authd/roles.toml, compiled in. A person holds the union of
// their roles' permissions; their token carries it.
//
// Immutable once parsed; safe to share between threads.
#ifndef RUSTIQ_SERVICES_AUTHD_ROLES_H_
#define RUSTIQ_SERVICES_AUTHD_ROLES_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace rustiq::authd {

// The role that holds every permission; there is always one, and authd
// never lets the last account holding it lose it.
inline constexpr char kAdminRole[] = "admin";

struct Permission {
  std::string name;         // "area.verb", e.g. "keys.manage"
  std::string description;  // what it allows
};

struct Role {
  std::string name;  // [a-z][a-z0-9_-]*, at most 32
  std::string description;
  std::vector<std::string> permissions;  // sorted, unique, all declared
};

// Permission names: 3-64 characters of [a-z0-9_.], dot-separated non-empty
// parts, at least two ("keys.read").
absl::Status CheckPermissionName(absl::string_view name);

class RoleCatalog {
 public:
  // Parses roles.toml: a [permissions] table (name = "what it allows",
  // dotted keys read as the permission's name) and [[role]] tables
  // { name, description, permissions = [...] }. Errors name `origin`, the
  // line and the key, and say what is expected. Refused: a role naming an
  // undeclared permission, a duplicate role or permission in a role, a role
  // without permissions, a missing admin role, an admin role lacking a
  // declared permission, and any unknown key.
  static absl::StatusOr<RoleCatalog> Parse(
      absl::string_view toml_text, absl::string_view origin = "roles.toml");

  // policies/authd/roles.toml as compiled in; the test suite proves it
  // parses, so a failure here aborts the process.
  static const RoleCatalog& Compiled();

  // nullptr when there is no such role.
  const Role* Find(absl::string_view name) const;
  bool Declares(absl::string_view permission) const;

  // The union of the named roles' permissions, sorted and unique. Names
  // the catalogue does not know (a role dropped in an upgrade) add nothing.
  std::vector<std::string> PermissionsOf(
      const std::vector<std::string>& role_names) const;

  // Whether a granter holding `granter_permissions` (in any order) holds
  // every permission of `role`: nobody can grant a permission they do not
  // hold.
  static bool Holds(const std::vector<std::string>& granter_permissions,
                    const Role& role);

  // In the order of the file.
  const std::vector<Role>& roles() const { return roles_; }
  // Sorted by name.
  const std::vector<Permission>& permissions() const { return permissions_; }

 private:
  RoleCatalog() = default;

  std::vector<Role> roles_;
  std::vector<Permission> permissions_;
};

// roles.toml as compiled into rustiq-authd.
absl::string_view CompiledRolesToml();

}  // namespace rustiq::authd

#endif  // RUSTIQ_SERVICES_AUTHD_ROLES_H_
