// [ipc.ubus]: the manifest section (manifests/ipc.cc), its baked form
// (section 15) and ubusd's ACL file compose writes (policy/ubus_acl.h),
// asserted byte for byte, in the format ubusd_acl.c loads.
#include <sys/stat.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "manifests/manifest.h"
#include "policy/bake.h"
#include "policy/format.h"
#include "policy/ubus_acl.h"
#include "tests/policy/test_util.h"
#include "util/file_io.h"

namespace nestbox::policy {
namespace {

namespace m = manifests;

const std::string kSource = NESTBOX_SOURCE_DIR;

// A user-namespaced app (uid 1000 inside -> 101000 on the host) with `ipc`
// appended.
std::string app(const std::string& ipc) {
  return "name = \"app\"\nversion = 1\n"                                        // 1-2
         "[process]\ncommand = [\"/bin/app\"]\nuser = 1000\ngroup = 1000\n"      // 3-6
         "[rootfs]\n[[rootfs.source]]\npath = \"s\"\n"                           // 7-9
         "[users]\nnamespace = true\n"                                           // 10-11
         "uid_map = [{ inside = 0, outside = 100000, count = 65536 }]\n"         // 12
         "gid_map = [{ inside = 0, outside = 100000, count = 65536 }]\n" +       // 13
         ipc;                                                                    // 14-
}

std::string load_error(const std::string& text) {
  auto r = m::load_string(text, "t.toml");
  return r.ok() ? "loaded" : r.error().message;
}

TEST(UbusAcl, TheExampleGrantsExactlyItsObjectsAndMethods) {
  auto man = m::load_file(kSource + "/examples/untrusted-app.toml");
  ASSERT_TRUE(man.ok()) << man.error().message;
  auto acl = ubus_acl(*man);
  ASSERT_TRUE(acl.ok()) << acl.error().message;
  EXPECT_EQ(acl->json,
            "{\n"
            "\t\"user\": \"weather-app\",\n"
            "\t\"access\": {\n"
            "\t\t\"network.interface.wan\": {\n"
            "\t\t\t\"methods\": [\n"
            "\t\t\t\t\"status\"\n"
            "\t\t\t]\n"
            "\t\t},\n"
            "\t\t\"system\": {\n"
            "\t\t\t\"methods\": [\n"
            "\t\t\t\t\"board\",\n"
            "\t\t\t\t\"info\"\n"
            "\t\t\t]\n"
            "\t\t}\n"
            "\t}\n"
            "}\n");
  // The uid ubusd sees with SO_PEERCRED: 1000 inside, through the map.
  EXPECT_EQ(acl->passwd, "weather-app:x:101000:101000:nestbox weather-app:/var/empty:/bin/false\n");
  EXPECT_EQ(acl->group, "weather-app:x:101000:\n");
  // ubusd's parser rules: a table with a string "user" and a table "access"
  // whose values are tables with an array "methods" of strings.
  auto doc = nlohmann::json::parse(acl->json);
  ASSERT_TRUE(doc.is_object());
  EXPECT_TRUE(doc["user"].is_string());
  EXPECT_FALSE(doc.contains("group"));
  for (auto& [object, spec] : doc["access"].items()) {
    ASSERT_TRUE(spec["methods"].is_array()) << object;
    for (auto& meth : spec["methods"]) EXPECT_TRUE(meth.is_string()) << object;
  }
  auto baked = bake(*man);
  ASSERT_TRUE(baked.ok()) << baked.error().message;
  EXPECT_EQ(baked->ipc.ubus_socket, "/var/run/ubus/ubus.sock");
  EXPECT_EQ(baked->ipc.ubus_target, "/var/run/ubus/ubus.sock");
}

TEST(UbusAcl, DefaultsAndPrefixGrants) {
  auto man = m::load_string(app("[ipc.ubus]\ngrants = [{ object = \"hostapd.*\", methods = [\"*\"] }]\n"), "t.toml");
  ASSERT_TRUE(man.ok()) << man.error().message;
  EXPECT_EQ(man->ipc.socket, "/var/run/ubus/ubus.sock");
  EXPECT_EQ(man->ipc.target, "/var/run/ubus/ubus.sock");
  EXPECT_EQ(man->ipc.user, "app");
  auto acl = ubus_acl(*man);
  ASSERT_TRUE(acl.ok()) << acl.error().message;
  EXPECT_EQ(acl->json, "{\n\t\"user\": \"app\",\n\t\"access\": {\n\t\t\"hostapd.*\": {\n\t\t\t\"methods\": [\n"
                       "\t\t\t\t\"*\"\n\t\t\t]\n\t\t}\n\t}\n}\n");
}

TEST(UbusAcl, NoSectionNoListAndNoBind) {
  auto man = m::load_string(app(""), "t.toml");
  ASSERT_TRUE(man.ok()) << man.error().message;
  EXPECT_FALSE(man->ipc.ubus);
  EXPECT_EQ(ubus_acl(*man).error().message, "app: no [ipc.ubus] section");
  auto baked = bake(*man);
  ASSERT_TRUE(baked.ok());
  EXPECT_TRUE(baked->ipc.ubus_socket.empty());
}

TEST(UbusAcl, WrittenBesideThePolicyAndRemovedWithTheSection) {
  testing::TempDir dir;
  auto man = m::load_file(kSource + "/examples/untrusted-app.toml");
  ASSERT_TRUE(man.ok()) << man.error().message;
  ASSERT_TRUE(write_ubus_acl(*man, dir.path()).ok());
  struct stat st;
  ASSERT_EQ(stat((dir.path() + "/ubus-acl.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0644u);  // ubusd skips group/other-writable lists
  EXPECT_EQ(testing::read_text(dir.path() + "/ubus-acl.json"), ubus_acl(*man)->json);
  man->ipc.ubus = false;
  ASSERT_TRUE(write_ubus_acl(*man, dir.path()).ok());
  for (const char* f : {"/ubus-acl.json", "/ubus-passwd", "/ubus-group"})
    EXPECT_NE(stat((dir.path() + f).c_str(), &st), 0) << f;
}

TEST(UbusAcl, ManifestMistakesAreRefusedWithTheirPlace) {
  auto ends_with = [](const std::string& s, const std::string& tail) {
    return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
  };
  const std::string grant = "grants = [{ object = \"system\", methods = [\"info\"] }]\n";
  struct Case {
    std::string ipc, expected;
  } cases[] = {
      {"[ipc.ubus]\n",
       "ipc.ubus.grants: missing; expected [{ object = \"network.interface.wan\", methods = [\"status\"] }, ...]"},
      {"[ipc.ubus]\ngrants = []\n", "ipc.ubus.grants: empty; expected at least one grant"},
      {"[ipc.ubus]\ngrants = [{ object = \"*\", methods = [\"info\"] }]\n",
       "ipc.ubus.grants[0].object: a grant must name an object (a bare \"*\" would grant the whole bus)"},
      {"[ipc.ubus]\ngrants = [{ object = \"a b\", methods = [\"info\"] }]\n",
       "ipc.ubus.grants[0].object: object name may hold only letters, digits, '.', '_', '-', '/', '@' and a final '*'"},
      {"[ipc.ubus]\ngrants = [{ object = \"system\", methods = [] }]\n",
       "ipc.ubus.grants[0].methods: empty; expected at least one method"},
      {"[ipc.ubus]\ngrants = [{ object = \"system\", methods = [\"in fo\"] }]\n",
       "ipc.ubus.grants[0].methods: method name may hold only letters, digits, '_', '-' and '.' (or be \"*\")"},
      {"[ipc.ubus]\ngrants = [{ object = \"system\" }]\n",
       "ipc.ubus.grants[0].methods: missing; expected a list of method names such as [\"status\"]"},
      {"[ipc.ubus]\ngrants = [{ object = \"system\", methods = [\"a\"] }, { object = \"system\", methods = [\"b\"] }]\n",
       "ipc.ubus.grants[1].object: \"system\" is granted twice; expected one grant per object"},
      {"[ipc.ubus]\nsocket = \"ubus.sock\"\n" + grant, "ipc.ubus.socket: must be an absolute path"},
      {"[ipc.ubus]\ntarget = \"/var/../etc/passwd\"\n" + grant,
       "ipc.ubus.target: path may not hold empty, '.' or '..' components"},
      {"[ipc.ubus]\nuser = \"Root User\"\n" + grant, "ipc.ubus.user: account name must start with a-z or '_'"},
      {"[ipc.ubus]\nsokcet = \"/x\"\n" + grant, "ipc.ubus.sokcet: unknown key; did you mean \"socket\"?"},
  };
  for (const Case& c : cases) {
    std::string msg = load_error(app(c.ipc));
    EXPECT_EQ(msg.rfind("t.toml:", 0), 0u) << c.ipc << msg;
    EXPECT_TRUE(ends_with(msg, ": " + c.expected)) << c.ipc << msg;
  }
  EXPECT_EQ(load_error(app("[ipc.ubus]\nuser = \"app\"\n[[ipc.ubus.grants]]\nobject = \"system\"\n"
                           "methods = [\"info\"]\n")), "loaded");
  // Host uid 0: ubusd would not check the list at all.
  std::string root = load_error("name = \"app\"\nversion = 1\n[process]\ncommand = [\"/bin/app\"]\n"
                                "[rootfs]\n[[rootfs.source]]\npath = \"s\"\n[ipc.ubus]\n" + grant);
  EXPECT_TRUE(ends_with(root, ": ipc.ubus: the process runs as host uid 0, which ubusd lets call every object "
                              "whatever its ACL; expected a user namespace or a non-root process.user"))
      << root;
  // Host uid 1000 that a setuid-root program (no_new_privs off) or
  // CAP_SETUID turns into host uid 0: the same.
  const std::string becomes =
      ": ipc.ubus: the process can become host uid 0 (security.no_new_privs = false or CAP_SETUID, without a user "
      "namespace mapping uid 0 elsewhere: a setuid-root program changes its uid), which ubusd lets call every "
      "object whatever its ACL; expected no_new_privs = true and no CAP_SETUID, or a user namespace";
  for (std::string security : {"no_new_privs = false\n", "capabilities = [\"CAP_SETUID\"]\n"}) {
    std::string msg = load_error("name = \"app\"\nversion = 1\n[process]\ncommand = [\"/bin/app\"]\nuser = 1000\n"
                                 "[rootfs]\n[[rootfs.source]]\npath = \"s\"\n[security]\n" + security +
                                 "[ipc.ubus]\n" + grant);
    EXPECT_TRUE(ends_with(msg, becomes)) << security << msg;
  }
  EXPECT_EQ(load_error("name = \"app\"\nversion = 1\n[process]\ncommand = [\"/bin/app\"]\nuser = 1000\n"
                       "[rootfs]\n[[rootfs.source]]\npath = \"s\"\n[ipc.ubus]\n" + grant),
            "loaded");
}

}  // namespace
}  // namespace nestbox::policy
