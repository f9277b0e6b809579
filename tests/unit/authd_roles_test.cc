// authd's RBAC catalogue: the compiled roles.toml, its agreement with every
// permission the protos declare, who can grant what, and each defect of a
// roles.toml refused with a precise error.
#include <google/protobuf/descriptor.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rustiq/v1/auth.pb.h"
#include "rustiq/v1/events.pb.h"
#include "rustiq/v1/keys.pb.h"
#include "rustiq/v1/options.pb.h"
#include "services/authd/roles.h"

namespace rustiq::authd {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(AuthdRoles, CompiledCatalogueParses) {
  absl::StatusOr<RoleCatalog> parsed =
      RoleCatalog::Parse(CompiledRolesToml(), "policies/authd/roles.toml");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  const RoleCatalog& catalog = RoleCatalog::Compiled();
  ASSERT_NE(catalog.Find("admin"), nullptr);
  ASSERT_NE(catalog.Find("operator"), nullptr);
  ASSERT_NE(catalog.Find("auditor"), nullptr);
  EXPECT_EQ(catalog.Find("root"), nullptr);
  EXPECT_EQ(catalog.permissions().size(), 12u);
  for (const Permission& p : catalog.permissions()) {
    EXPECT_TRUE(CheckPermissionName(p.name).ok()) << p.name;
    EXPECT_FALSE(p.description.empty()) << p.name;
  }
  for (const Role& r : catalog.roles()) {
    EXPECT_FALSE(r.description.empty()) << r.name;
    EXPECT_TRUE(std::is_sorted(r.permissions.begin(), r.permissions.end()));
  }
}

TEST(AuthdRoles, AdminHoldsEveryDeclaredPermission) {
  const RoleCatalog& catalog = RoleCatalog::Compiled();
  const Role* admin = catalog.Find(kAdminRole);
  ASSERT_NE(admin, nullptr);
  std::vector<std::string> declared;
  for (const Permission& p : catalog.permissions()) declared.push_back(p.name);
  EXPECT_EQ(admin->permissions, declared);
}

TEST(AuthdRoles, OperatorAndAuditorHoldWhatTheyShould) {
  const RoleCatalog& catalog = RoleCatalog::Compiled();
  EXPECT_THAT(catalog.Find("operator")->permissions,
              ElementsAre("auth.self", "events.read", "keys.read", "roles.read",
                          "services.manage", "services.read", "update.install",
                          "users.read"));
  EXPECT_THAT(catalog.Find("auditor")->permissions,
              ElementsAre("auth.self", "events.read", "keys.read", "roles.read",
                          "services.read", "users.read"));
}

// Every permission a method of a rustiq.v1 service declares can be granted:
// a method whose permission is missing here could be called by nobody.
TEST(AuthdRoles, EveryPermissionTheProtosDeclareIsInTheCatalogue) {
  // Pulls each generated file (and its services) into the pool.
  ASSERT_NE(v1::LoginRequest::descriptor(), nullptr);
  ASSERT_NE(v1::Access::descriptor(), nullptr);
  ASSERT_NE(v1::KeyPolicy::descriptor(), nullptr);
  ASSERT_NE(v1::Event::descriptor(), nullptr);
  const RoleCatalog& catalog = RoleCatalog::Compiled();
  const google::protobuf::DescriptorPool* pool =
      google::protobuf::DescriptorPool::generated_pool();
  std::set<std::string> used;
  for (const char* service_name : {"rustiq.v1.Keys", "rustiq.v1.Certificates",
                                   "rustiq.v1.EventLog", "rustiq.v1.Auth"}) {
    const google::protobuf::ServiceDescriptor* service =
        pool->FindServiceByName(service_name);
    ASSERT_NE(service, nullptr) << service_name;
    for (int i = 0; i < service->method_count(); ++i) {
      const google::protobuf::MethodDescriptor* method = service->method(i);
      const std::string& permission =
          method->options().GetExtension(v1::access).permission();
      if (permission.empty()) continue;
      used.insert(permission);
      EXPECT_TRUE(catalog.Declares(permission))
          << method->full_name() << " declares " << permission
          << ", which policies/authd/roles.toml does not";
    }
  }
  // The walk found the permissions (it is not vacuous).
  EXPECT_TRUE(used.count("keys.manage"));
  EXPECT_TRUE(used.count("events.read"));
  EXPECT_TRUE(used.count("users.manage"));
  EXPECT_TRUE(used.count("auth.self"));
}

TEST(AuthdRoles, NobodyGrantsWhatTheyDoNotHold) {
  const RoleCatalog& catalog = RoleCatalog::Compiled();
  const Role& admin = *catalog.Find("admin");
  const Role& op = *catalog.Find("operator");
  const Role& auditor = *catalog.Find("auditor");
  const std::vector<std::string> admin_holds = catalog.PermissionsOf({"admin"});
  const std::vector<std::string> operator_holds =
      catalog.PermissionsOf({"operator"});
  EXPECT_FALSE(RoleCatalog::Holds(operator_holds, admin));
  EXPECT_TRUE(RoleCatalog::Holds(operator_holds, op));
  EXPECT_TRUE(RoleCatalog::Holds(operator_holds, auditor));
  EXPECT_TRUE(RoleCatalog::Holds(admin_holds, op));
  EXPECT_TRUE(RoleCatalog::Holds(admin_holds, admin));
  EXPECT_FALSE(RoleCatalog::Holds(catalog.PermissionsOf({"auditor"}), op));
  EXPECT_FALSE(RoleCatalog::Holds({}, auditor));
  // Order does not matter.
  std::vector<std::string> reversed(admin_holds.rbegin(), admin_holds.rend());
  EXPECT_TRUE(RoleCatalog::Holds(reversed, admin));
}

TEST(AuthdRoles, PermissionsOfIsASortedUnion) {
  const RoleCatalog& catalog = RoleCatalog::Compiled();
  EXPECT_EQ(catalog.PermissionsOf({"auditor", "operator", "auditor"}),
            catalog.PermissionsOf({"operator"}));
  EXPECT_TRUE(catalog.PermissionsOf({}).empty());
  EXPECT_TRUE(catalog.PermissionsOf({"no-such-role"}).empty());
  EXPECT_EQ(catalog.PermissionsOf({"admin", "ghost"}).size(), 12u);
}

TEST(AuthdRoles, PermissionNames) {
  for (const char* ok : {"keys.read", "a.b", "update.install", "x_1.y_2.z"}) {
    EXPECT_TRUE(CheckPermissionName(ok).ok()) << ok;
  }
  for (const char* bad : {"", "ab", "keys", ".keys", "keys.", "keys..read",
                          "Keys.read", "keys read", "keys-read", "keys.réad"}) {
    EXPECT_EQ(CheckPermissionName(bad).code(),
              absl::StatusCode::kInvalidArgument)
        << bad;
  }
  EXPECT_FALSE(CheckPermissionName(std::string(65, 'a') + ".b").ok());
}

constexpr char kPermissions[] = R"(
[permissions]
a.read = "read"
a.write = "write"
)";

struct BadToml {
  std::string text;
  std::vector<std::string> expected;  // substrings of the error
};

TEST(AuthdRoles, DefectiveTomlGivesAPreciseError) {
  const std::string admin =
      "[[role]]\nname = \"admin\"\ndescription = \"all\"\n"
      "permissions = [\"a.read\", \"a.write\"]\n";
  const std::vector<BadToml> cases = {
      {"[permissions\n", {"t.toml:1"}},
      {"", {"[permissions] table is required"}},
      {"[permissions]\n", {"declares nothing"}},
      {"[permission]\na.read = \"x\"\n",
       {"t.toml:1", "unknown key 'permission'"}},
      {"flavour = 1\n" + std::string(kPermissions) + admin,
       {"t.toml:1", "unknown key 'flavour'"}},
      {"[permissions]\nKeys.Read = \"x\"\n", {"t.toml:2", "Keys.Read"}},
      {"[permissions]\nread = \"x\"\n", {"t.toml:2", "area.verb"}},
      {"[permissions]\na.read = 3\n", {"t.toml:2", "non-empty string"}},
      {"[permissions]\na.read = \"\"\n", {"t.toml:2", "non-empty string"}},
      {"[permissions]\na.read = \"x\"\n\"a.read\" = \"y\"\n",
       {"a.read is declared twice"}},
      {kPermissions, {"no [[role]] named admin"}},
      {std::string(kPermissions) +
           "[[role]]\nname = \"admin\"\ndescription = \"all\"\n"
           "permissions = [\"a.read\"]\n",
       {"role admin must hold every declared permission", "lacks a.write"}},
      {std::string(kPermissions) + admin +
           "[[role]]\nname = \"viewer\"\ndescription = \"v\"\n"
           "permissions = [\"a.delete\"]\n",
       {"t.toml:12", "role viewer", "\"a.delete\" is not declared"}},
      {std::string(kPermissions) + admin + admin,
       {"t.toml:9", "role admin is declared twice"}},
      {std::string(kPermissions) + admin +
           "[[role]]\nname = \"viewer\"\ndescription = \"v\"\n"
           "permissions = [\"a.read\", \"a.read\"]\n",
       {"t.toml:12", "a.read is listed twice"}},
      {std::string(kPermissions) + admin +
           "[[role]]\nname = \"viewer\"\ndescription = \"v\"\n"
           "permissions = []\n",
       {"t.toml:9", "at least one permission"}},
      {std::string(kPermissions) + admin +
           "[[role]]\nname = \"viewer\"\ndescription = \"v\"\n",
       {"t.toml:9", "needs permissions"}},
      {std::string(kPermissions) + admin +
           "[[role]]\nname = \"viewer\"\npermissions = [\"a.read\"]\n",
       {"t.toml:9", "needs description"}},
      {std::string(kPermissions) + admin +
           "[[role]]\ndescription = \"v\"\npermissions = [\"a.read\"]\n",
       {"t.toml:9", "needs name"}},
      {std::string(kPermissions) + admin +
           "[[role]]\nname = \"Viewer\"\ndescription = \"v\"\n"
           "permissions = [\"a.read\"]\n",
       {"t.toml:9", "role name \"Viewer\""}},
      {std::string(kPermissions) + admin +
           "[[role]]\nname = \"viewer\"\ndescription = \"v\"\n"
           "permissions = [\"a.read\"]\ninherits = \"admin\"\n",
       {"t.toml:13", "unknown or mistyped key 'inherits'"}},
      {std::string(kPermissions) + admin +
           "[[role]]\nname = \"viewer\"\ndescription = \"v\"\n"
           "permissions = \"a.read\"\n",
       {"t.toml:12", "unknown or mistyped key 'permissions'"}},
      {std::string(kPermissions) + admin +
           "[[role]]\nname = \"viewer\"\ndescription = \"v\"\n"
           "permissions = [1]\n",
       {"t.toml:12", "permissions must be strings"}},
      {std::string(kPermissions) + "[role]\nname = \"admin\"\n",
       {"t.toml:5", "'role' must be [[role]] tables"}},
  };
  for (const BadToml& c : cases) {
    absl::StatusOr<RoleCatalog> parsed = RoleCatalog::Parse(c.text, "t.toml");
    ASSERT_FALSE(parsed.ok()) << c.text;
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
    for (const std::string& part : c.expected) {
      EXPECT_THAT(std::string(parsed.status().message()), HasSubstr(part))
          << c.text;
    }
  }
}

TEST(AuthdRoles, MinimalCatalogue) {
  const std::string text = std::string(kPermissions) +
                           "[[role]]\nname = \"admin\"\ndescription = \"all\"\n"
                           "permissions = [\"a.write\", \"a.read\"]\n";
  absl::StatusOr<RoleCatalog> parsed = RoleCatalog::Parse(text, "t.toml");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_THAT(parsed->Find("admin")->permissions,
              ElementsAre("a.read", "a.write"));
  EXPECT_TRUE(parsed->Declares("a.read"));
  EXPECT_FALSE(parsed->Declares("a.delete"));
}

}  // namespace
}  // namespace rustiq::authd
