#include "services/authd/roles.h"

#include <toml++/toml.h>

#include <algorithm>
#include <cstdlib>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/config/toml_file.h"
#include "common/logging/escape.h"
#include "common/logging/log.h"

namespace rustiq::authd {
namespace {

using config::TomlError;

constexpr size_t kMaxRoleNameChars = 32;
constexpr size_t kMinPermissionChars = 3;
constexpr size_t kMaxPermissionChars = 64;

std::string Shown(absl::string_view text) {
  return log::EscapeUntrusted(text, 64);
}

absl::Status CheckRoleName(absl::string_view name) {
  bool ok = !name.empty() && name.size() <= kMaxRoleNameChars &&
            name[0] >= 'a' && name[0] <= 'z';
  for (char c : name) {
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
                c == '-');
  }
  if (ok) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "role name \"", Shown(name),
      "\" is not 1-32 characters of a-z 0-9 _ -, starting with a-z"));
}

// [permissions] with its dotted keys (keys.read = "...") flattened.
absl::Status CollectPermissions(const toml::table& table,
                                const std::string& prefix,
                                absl::string_view origin,
                                std::vector<Permission>* out,
                                std::vector<const toml::node*>* nodes) {
  for (auto&& [key, value] : table) {
    const std::string name =
        prefix.empty() ? std::string(key.str())
                       : absl::StrCat(prefix, ".", std::string(key.str()));
    if (const toml::table* nested = value.as_table()) {
      if (absl::Status s =
              CollectPermissions(*nested, name, origin, out, nodes);
          !s.ok()) {
        return s;
      }
      continue;
    }
    if (absl::Status s = CheckPermissionName(name); !s.ok()) {
      return TomlError(value, origin, s.message());
    }
    const toml::value<std::string>* text = value.as_string();
    if (text == nullptr || text->get().empty()) {
      return TomlError(value, origin,
                       absl::StrCat("permission ", name,
                                    " must be a non-empty string saying what "
                                    "it allows (",
                                    name, " = \"...\")"));
    }
    out->push_back(Permission{name, text->get()});
    nodes->push_back(&value);
  }
  return absl::OkStatus();
}

absl::StatusOr<Role> ParseRole(const toml::node& node, absl::string_view origin,
                               const std::vector<Permission>& declared) {
  const toml::table* t = node.as_table();
  if (t == nullptr) {
    return TomlError(node, origin, "'role' must be [[role]] tables");
  }
  Role role;
  const toml::array* permissions = nullptr;
  bool has_name = false;
  for (auto&& [key, value] : *t) {
    const std::string k(key.str());
    if (k == "name" && value.is_string()) {
      role.name = value.as_string()->get();
      has_name = true;
    } else if (k == "description" && value.is_string()) {
      role.description = value.as_string()->get();
    } else if (k == "permissions" && value.is_array()) {
      permissions = value.as_array();
    } else {
      return TomlError(value, origin,
                       absl::StrCat("unknown or mistyped key '", Shown(k),
                                    "' in a [[role]] (name = \"...\", "
                                    "description = \"...\", permissions = "
                                    "[\"area.verb\", ...])"));
    }
  }
  if (!has_name) {
    return TomlError(node, origin, "a [[role]] needs name = \"...\"");
  }
  if (absl::Status s = CheckRoleName(role.name); !s.ok()) {
    return TomlError(node, origin, s.message());
  }
  if (role.description.empty()) {
    return TomlError(node, origin,
                     absl::StrCat("role ", role.name,
                                  " needs description = \"...\" (what a "
                                  "holder of it does)"));
  }
  if (permissions == nullptr || permissions->empty()) {
    return TomlError(node, origin,
                     absl::StrCat("role ", role.name,
                                  " needs permissions = [\"area.verb\", ...] "
                                  "with at least one permission"));
  }
  for (const toml::node& p : *permissions) {
    const toml::value<std::string>* name = p.as_string();
    if (name == nullptr) {
      return TomlError(
          p, origin,
          absl::StrCat("role ", role.name, ": permissions must be strings"));
    }
    const std::string& n = name->get();
    const bool known =
        std::any_of(declared.begin(), declared.end(),
                    [&](const Permission& d) { return d.name == n; });
    if (!known) {
      return TomlError(
          p, origin,
          absl::StrCat("role ", role.name, ": permission \"", Shown(n),
                       "\" is not declared in [permissions]"));
    }
    if (std::find(role.permissions.begin(), role.permissions.end(), n) !=
        role.permissions.end()) {
      return TomlError(p, origin,
                       absl::StrCat("role ", role.name, ": permission ", n,
                                    " is listed twice"));
    }
    role.permissions.push_back(n);
  }
  std::sort(role.permissions.begin(), role.permissions.end());
  return role;
}

}  // namespace

absl::Status CheckPermissionName(absl::string_view name) {
  bool ok =
      name.size() >= kMinPermissionChars && name.size() <= kMaxPermissionChars;
  for (char c : name) {
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
                c == '.');
  }
  std::vector<absl::string_view> parts = absl::StrSplit(name, '.');
  ok = ok && parts.size() >= 2;
  for (absl::string_view part : parts) ok = ok && !part.empty();
  if (ok) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "permission name \"", Shown(name),
      "\" is not 3-64 characters of a-z 0-9 _ . in the form area.verb"));
}

absl::StatusOr<RoleCatalog> RoleCatalog::Parse(absl::string_view toml_text,
                                               absl::string_view origin) {
  absl::StatusOr<toml::table> parsed = config::ParseTomlFile(toml_text, origin);
  if (!parsed.ok()) return parsed.status();
  const toml::table& root = *parsed;
  for (auto&& [key, value] : root) {
    if (key.str() != "permissions" && key.str() != "role") {
      return TomlError(
          value, origin,
          absl::StrCat("unknown key '", Shown(std::string(key.str())),
                       "' (only [permissions] and [[role]])"));
    }
  }

  RoleCatalog catalog;
  const toml::node* permissions_node = root.get("permissions");
  const toml::table* permissions =
      permissions_node == nullptr ? nullptr : permissions_node->as_table();
  if (permissions == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(origin,
                     ": a [permissions] table is required (name = \"what it "
                     "allows\")"));
  }
  std::vector<const toml::node*> permission_nodes;
  if (absl::Status s = CollectPermissions(
          *permissions, "", origin, &catalog.permissions_, &permission_nodes);
      !s.ok()) {
    return s;
  }
  for (size_t i = 0; i < catalog.permissions_.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (catalog.permissions_[i].name == catalog.permissions_[j].name) {
        return TomlError(
            *permission_nodes[i], origin,
            absl::StrCat("permission ", catalog.permissions_[i].name,
                         " is declared twice"));
      }
    }
  }
  if (catalog.permissions_.empty()) {
    return TomlError(*permissions, origin, "[permissions] declares nothing");
  }
  std::sort(
      catalog.permissions_.begin(), catalog.permissions_.end(),
      [](const Permission& a, const Permission& b) { return a.name < b.name; });

  const toml::node* role_node = root.get("role");
  const toml::array* roles =
      role_node == nullptr ? nullptr : role_node->as_array();
  if (role_node != nullptr && roles == nullptr) {
    return TomlError(*role_node, origin, "'role' must be [[role]] tables");
  }
  if (roles != nullptr) {
    for (const toml::node& node : *roles) {
      absl::StatusOr<Role> role = ParseRole(node, origin, catalog.permissions_);
      if (!role.ok()) return role.status();
      if (catalog.Find(role->name) != nullptr) {
        return TomlError(
            node, origin,
            absl::StrCat("role ", role->name, " is declared twice"));
      }
      catalog.roles_.push_back(*std::move(role));
    }
  }

  const Role* admin = catalog.Find(kAdminRole);
  if (admin == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(origin, ": there is no [[role]] named ", kAdminRole,
                     " (the role that holds every permission)"));
  }
  std::vector<std::string> missing;
  for (const Permission& p : catalog.permissions_) {
    if (!std::binary_search(admin->permissions.begin(),
                            admin->permissions.end(), p.name)) {
      missing.push_back(p.name);
    }
  }
  if (!missing.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(origin, ": role ", kAdminRole,
                     " must hold every declared permission; it lacks ",
                     absl::StrJoin(missing, ", ")));
  }
  return catalog;
}

const RoleCatalog& RoleCatalog::Compiled() {
  static const RoleCatalog* const kCatalog = [] {
    absl::StatusOr<RoleCatalog> catalog =
        Parse(CompiledRolesToml(), "policies/authd/roles.toml");
    if (!catalog.ok()) {
      // The unit tests parse the same text: this is a broken build.
      log::Error("the compiled roles.toml does not parse",
                 {{"error", std::string(catalog.status().message())}});
      std::abort();
    }
    return new RoleCatalog(*std::move(catalog));
  }();
  return *kCatalog;
}

const Role* RoleCatalog::Find(absl::string_view name) const {
  for (const Role& role : roles_) {
    if (role.name == name) return &role;
  }
  return nullptr;
}

bool RoleCatalog::Declares(absl::string_view permission) const {
  auto it = std::lower_bound(
      permissions_.begin(), permissions_.end(), permission,
      [](const Permission& p, absl::string_view n) { return p.name < n; });
  return it != permissions_.end() && it->name == permission;
}

std::vector<std::string> RoleCatalog::PermissionsOf(
    const std::vector<std::string>& role_names) const {
  std::vector<std::string> out;
  for (const std::string& name : role_names) {
    if (const Role* role = Find(name)) {
      out.insert(out.end(), role->permissions.begin(), role->permissions.end());
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

bool RoleCatalog::Holds(const std::vector<std::string>& granter_permissions,
                        const Role& role) {
  for (const std::string& needed : role.permissions) {
    if (std::find(granter_permissions.begin(), granter_permissions.end(),
                  needed) == granter_permissions.end()) {
      return false;
    }
  }
  return true;
}

}  // namespace rustiq::authd
