// Who ubusd takes a container with [ipc.ubus] for (launcher/ubus_identity.h):
// ubusd names a client by getpwuid()/getgrgid() of its peer ids and grants
// it the ACL files of those names, so the host ids the app has or can take
// must be absent or be the account compose wrote for this very container.
#include <linux/capability.h>

#include <string>

#include <gtest/gtest.h>

#include "launcher/ubus_identity.h"

namespace nestbox::launcher {
namespace {

// The example app: uid/gid 1000 inside, 0..65535 mapped to 100000.., so the
// app is host 101000; no_new_privs on, no capabilities.
policy::Policy app() {
  policy::Policy p;
  p.name = "weather-app";
  p.uid_map = {{0, 100000, 65536}};
  p.gid_map = {{0, 100000, 65536}};
  p.process.uid = p.process.gid = 1000;
  p.ipc.ubus_socket = "/var/run/ubus/ubus.sock";
  p.ipc.ubus_target = "/var/run/ubus/ubus.sock";
  return p;
}

const std::string kSystem =
    "root:x:0:0:root:/root:/bin/ash\n"
    "# a comment, and a blank line\n"
    "\n"
    "dnsmasq:x:453:453:dnsmasq:/var/run/dnsmasq:/bin/false\n";
const std::string kApp = "weather-app:x:101000:101000:nestbox weather-app:/var/empty:/bin/false\n";
const std::string kGroups = "root:x:0:\ndnsmasq:x:453:\n";
const std::string kAppGroup = "weather-app:x:101000:\n";

std::string refusal(const policy::Policy& p, const std::string& passwd, const std::string& group) {
  Status s = check_ubus_identity(p, passwd, group);
  return s.ok() ? "" : s.error().message;
}

TEST(UbusIdentity, TheAccountComposeWroteForThisContainerPasses) {
  EXPECT_EQ(refusal(app(), kSystem + kApp, kGroups + kAppGroup), "");
}

TEST(UbusIdentity, NoAccountForTheAppsUidPassesSinceUbusdRefusesSuchAClient) {
  EXPECT_EQ(refusal(app(), kSystem, kGroups + "network:x:101000:\n"), "");
}

TEST(UbusIdentity, AnAppNamingASystemAccountIsRefused) {
  // `user = "dnsmasq"` in the manifest: compose wrote a second "dnsmasq" line;
  // ubusd would name uid 101000 "dnsmasq" and grant dnsmasq's ACL files.
  std::string passwd = kSystem + "dnsmasq:x:101000:101000:nestbox weather-app:/var/empty:/bin/false\n";
  EXPECT_EQ(refusal(app(), passwd, kGroups + "dnsmasq:x:101000:\n"),
            "policy weather-app [ipc.ubus]: host uid 101000 (which the container's processes have or can take) is "
            "'dnsmasq' (/etc/passwd line 5), a name another line of /etc/passwd has too: ubusd would grant the "
            "container what the ACL files of that account grant");
}

TEST(UbusIdentity, AMapOntoAnotherAccountsUidIsRefused) {
  policy::Policy p = app();
  p.uid_map = {{1000, 453, 1}};
  p.gid_map = {{1000, 453, 1}};
  EXPECT_EQ(refusal(p, kSystem + kApp, kGroups + kAppGroup),
            "policy weather-app [ipc.ubus]: host uid 453 (which the container's processes have or can take) is "
            "'dnsmasq' (/etc/passwd line 4), not the account compose wrote for this container (comment 'nestbox "
            "weather-app'): ubusd would grant the container what its ACL files grant 'dnsmasq'");
}

TEST(UbusIdentity, AnotherContainersAccountOnTheSameUidIsRefused) {
  // getpwuid() returns the first line: this app would be the other one.
  std::string passwd = kSystem + "news-app:x:101000:101000:nestbox news-app:/var/empty:/bin/false\n" + kApp;
  EXPECT_NE(refusal(app(), passwd, kGroups + kAppGroup).find("is 'news-app' (/etc/passwd line 5), not the account"),
            std::string::npos);
}

TEST(UbusIdentity, TheGroupMustBeTheAppsOwnAndUnique) {
  EXPECT_NE(refusal(app(), kSystem + kApp, kGroups + "network:x:101000:\n" + kAppGroup)
                .find("host gid 101000 (which the container's processes have or can take) is 'network' (/etc/group "
                      "line 3), not the group compose wrote for this container ('weather-app')"),
            std::string::npos);
  EXPECT_NE(refusal(app(), kSystem + kApp, "weather-app:x:7:\n" + kGroups + kAppGroup)
                .find("is 'weather-app' (/etc/group line 4), a name another line of /etc/group has too"),
            std::string::npos);
}

TEST(UbusIdentity, AProcessThatCanChangeItsIdsAnswersForItsWholeMap) {
  // Another account inside the app's range: reachable by setuid() with
  // CAP_SETUID, or by a setuid program without no_new_privs.
  std::string passwd = kSystem + kApp + "other:x:100500:100500:nestbox other:/var/empty:/bin/false\n";
  EXPECT_EQ(refusal(app(), passwd, kGroups + kAppGroup), "");
  policy::Policy setuid = app();
  setuid.caps.keep = 1ull << CAP_SETUID;
  EXPECT_NE(refusal(setuid, passwd, kGroups + kAppGroup).find("host uid 100500"), std::string::npos);
  policy::Policy privs = app();
  privs.no_new_privs = false;
  EXPECT_NE(refusal(privs, passwd, kGroups + kAppGroup).find("host uid 100500"), std::string::npos);
  // The group side: with CAP_SETGID every mapped gid counts.
  policy::Policy setgid = app();
  setgid.caps.keep = 1ull << CAP_SETGID;
  EXPECT_NE(refusal(setgid, kSystem + kApp, kGroups + kAppGroup + "other:x:100500:\n").find("host gid 100500"),
            std::string::npos);
  EXPECT_EQ(refusal(app(), kSystem + kApp, kGroups + kAppGroup + "other:x:100500:\n"), "");
}

TEST(UbusIdentity, WithoutAUserNamespaceCapSetgidReachesEveryHostGroup) {
  policy::Policy p = app();
  p.uid_map.clear();
  p.gid_map.clear();
  p.process.uid = p.process.gid = 101000;
  EXPECT_EQ(refusal(p, kSystem + kApp, kGroups + kAppGroup), "");
  p.caps.keep = 1ull << CAP_SETGID;
  EXPECT_NE(refusal(p, kSystem + kApp, kGroups + kAppGroup).find("host gid 0 "), std::string::npos);
}

}  // namespace
}  // namespace nestbox::launcher
