#include "policy/lxc.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "tests/policy/sample.h"
#include "tests/policy/test_util.h"

namespace nestbox::policy {
namespace {

namespace m = manifests;
using testing::full_manifest;
using testing::TempDir;

LxcOptions options(const std::string& dir) { return {dir + "/rootfs", dir + "/seccomp"}; }

bool has_line(const std::string& text, const std::string& line) {
  return ("\n" + text).find("\n" + line + "\n") != std::string::npos;
}

TEST(Lxc, ConfigCarriesTheManifest) {
  auto c = lxc_config(full_manifest(), options("/srv/web"));
  ASSERT_TRUE(c.ok()) << c.error().message;
  const std::string& t = c->config;
  for (const char* line : {
           "lxc.uts.name = webbox",
           "lxc.rootfs.path = dir:/srv/web/rootfs",
           "lxc.rootfs.options = ro",
           "lxc.namespace.keep = user cgroup",
           "lxc.execute.cmd = /bin/httpd -f -p 8080",
           "lxc.init.cwd = /srv",
           "lxc.init.uid = 1000",
           "lxc.environment = PATH=/bin:/sbin",
           "lxc.prlimit.nofile = 1024:4096",
           "lxc.cap.keep = net_bind_service net_raw",
           "lxc.no_new_privs = 1",
           "lxc.apparmor.profile = nestbox-web",
           "lxc.seccomp.profile = /srv/web/seccomp",
           "lxc.cgroup2.memory.max = 67108864",
           "lxc.cgroup2.memory.swap.max = 16777216",
           "lxc.cgroup2.cpu.max = 50000 100000",
           "lxc.cgroup2.cpu.weight = 200",
           "lxc.cgroup2.pids.max = 64",
           "lxc.cgroup2.io.weight = 100",
           "lxc.cgroup2.cpuset.cpus = 0",
           "lxc.mount.auto = proc:mixed sys:ro",
           "lxc.autodev = 1",
           "lxc.mount.entry = tmpfs tmp tmpfs create=dir,nosuid,nodev,noexec,mode=1777,size=8388608 0 0",
           "lxc.mount.entry = /data var/lib/web none rbind,nosuid,nodev,noexec 0 0",
           "lxc.net.0.type = veth",
           "lxc.net.0.link = br-lan",
           "lxc.net.0.veth.pair = veth-web",
           "lxc.net.0.name = eth0",
           "lxc.net.0.hwaddr = 02:00:00:00:00:01",
           "lxc.net.0.mtu = 1500",
           "lxc.net.0.ipv4.address = 192.168.1.50/24",
           "lxc.net.0.ipv6.address = fd00::50/64",
           "lxc.net.0.ipv4.gateway = 192.168.1.1",
           "lxc.net.1.type = macvlan",
           "lxc.net.1.link = eth1",
           "lxc.net.1.macvlan.mode = bridge",
       })
    EXPECT_TRUE(has_line(t, line)) << "missing: " << line << "\n" << t;
  EXPECT_EQ(c->seccomp, "2\ndenylist\n[all]\nmkdir errno 13\nmkdirat errno 13\nkexec_load kill\nreboot kill\n");
}

TEST(Lxc, NetworkTypesAndSharedNamespaces) {
  m::Manifest man = full_manifest();
  man.namespaces.ipc = {m::NsMode::kJoin, "router"};
  m::NetInterface vlan;
  vlan.type = m::InterfaceType::kVlan;
  vlan.name = "lan";
  vlan.parent = "eth0";
  vlan.vlan_id = 42;
  vlan.routes = {{"10.0.0.0/8", "10.1.1.1"}};
  m::NetInterface phys;
  phys.type = m::InterfaceType::kPhys;
  phys.name = "usb0";
  phys.parent = "usb0";
  man.network.interfaces = {vlan, phys};
  auto c = lxc_config(man, options("/x"));
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_TRUE(has_line(c->config, "lxc.namespace.share.ipc = router")) << c->config;
  EXPECT_TRUE(has_line(c->config, "lxc.net.0.type = vlan"));
  EXPECT_TRUE(has_line(c->config, "lxc.net.0.vlan.id = 42"));
  EXPECT_TRUE(has_line(c->config, "# not expressible in LXC: route 10.0.0.0/8 via 10.1.1.1 on lan"));
  EXPECT_TRUE(has_line(c->config, "lxc.net.1.type = phys"));
  EXPECT_TRUE(has_line(c->config, "lxc.net.1.link = usb0"));

  man.network.mode = m::NetworkMode::kEmpty;
  man.network.interfaces.clear();
  c = lxc_config(man, options("/x"));
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(has_line(c->config, "lxc.net.0.type = empty"));

  // The host's UTS namespace: no lxc.uts.name, or LXC would rename the host.
  man.namespaces.uts.mode = m::NsMode::kHost;
  c = lxc_config(man, options("/x"));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->config.find("lxc.uts.name"), std::string::npos) << c->config;
  EXPECT_TRUE(has_line(c->config, "lxc.namespace.keep = uts user cgroup")) << c->config;
}

TEST(Lxc, AllowlistProfileAndUserNamespace) {
  m::Manifest man = full_manifest();
  man.namespaces.user.mode = m::NsMode::kNew;
  man.users.uid_map = {{0, 100000, 65536}};
  man.users.gid_map = {{0, 100000, 65536}};
  man.seccomp.default_action = m::SeccompAction::kErrno;
  man.seccomp.default_errno = ENOSYS;
  man.seccomp.allow = {"write", "read"};
  man.process.command = {"/bin/sh", "-c", "echo 'hi there'"};
  auto c = lxc_config(man, options("/x"));
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_TRUE(has_line(c->config, "lxc.idmap = u 0 100000 65536"));
  EXPECT_TRUE(has_line(c->config, "lxc.idmap = g 0 100000 65536"));
  EXPECT_TRUE(has_line(c->config, "lxc.execute.cmd = /bin/sh -c \"echo 'hi there'\""));
  EXPECT_EQ(c->seccomp, "2\nallowlist errno 38\n[all]\nread allow\nwrite allow\nmkdir errno 13\nmkdirat errno 13\n"
                        "kexec_load kill\nreboot kill\n");
}

// Real run with Debian's lxc-execute on a busybox rootfs.
TEST(LxcRun, LxcExecute) {
  if (!testing::have_program("lxc-execute")) GTEST_SKIP() << "lxc is not installed (scripts/install-deps.sh)";
  TempDir dir;
  std::string root = dir.path() + "/rootfs";
  if (!testing::make_busybox_rootfs(root)) GTEST_SKIP() << "busybox-static is not installed";
  // A read-only rootfs must carry its mount points (the composer creates them).
  mkdir((root + "/var/lib/web").c_str(), 0755);
  testing::write_text(root + "/etc/resolv.conf", "");
  std::string data = dir.path() + "/data";
  mkdir(data.c_str(), 0755);
  mkdir((dir.path() + "/lxcpath").c_str(), 0755);

  // The probe lives in the rootfs: LXC's command line has no escape for quotes.
  testing::write_text(root + "/probe.sh",
                      "echo hostname=$(hostname); id\n"
                      "echo rootopts=$(awk '$5==\"/\" {print $6}' /proc/self/mountinfo)\n"
                      "grep -E ' /(tmp|sys|proc|var/lib/web|etc/resolv.conf) ' /proc/mounts\n"
                      "echo nofile=$(ulimit -n); mkdir /tmp/denied; echo mkdir_rc=$?\n"
                      "echo seccomp=$(grep Seccomp: /proc/self/status | tr -d '\\t')\n");
  m::Manifest man = full_manifest();
  man.process.command = {"/bin/busybox", "sh", "/probe.sh"};
  man.process.env = {"PATH=/bin"};
  man.process.cwd = "/";
  man.mounts.storage[0].source = data;
  man.seccomp.deny[0].errno_value = EXDEV;
  man.security.apparmor_profile.clear();  // no LSM on this host
  man.security.selinux_context.clear();
  man.network.mode = m::NetworkMode::kEmpty;  // no bridge here
  man.network.interfaces.clear();
  auto c = lxc_config(man, options(dir.path()));
  ASSERT_TRUE(c.ok()) << c.error().message;
  testing::write_text(dir.path() + "/lxc.conf", c->config);
  testing::write_text(dir.path() + "/seccomp", c->seccomp);

  std::string id = "nbtest-lxc-" + std::to_string(getpid());
  // LXC leaves its pivot cgroup behind; remove it (and anything of ours) after.
  testing::CgroupSweep sweep({"lxc.pivot", "lxc.payload." + id, "lxc.monitor." + id});
  // lxc.cgroup.relative keeps LXC's cgroups beneath this process's own.
  std::string cmd = "unshare -m --propagation private sh -c 'umount /sys/fs/cgroup/unified 2>/dev/null; "
                    "exec timeout 60 lxc-execute -n " + id + " -P " + dir.path() + "/lxcpath -f " + dir.path() +
                    "/lxc.conf -s lxc.cgroup.relative=1'";
  std::string out;
  int rc = testing::run_shell(cmd, &out);
  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("hostname=webbox\n"), std::string::npos) << out;
  EXPECT_NE(out.find("uid=1000 gid=1000"), std::string::npos) << out;
  EXPECT_NE(out.find("rootopts=ro,"), std::string::npos) << out;
  EXPECT_NE(out.find(" /tmp tmpfs rw,nosuid,nodev,noexec"), std::string::npos) << out;
  EXPECT_NE(out.find(" /sys sysfs ro,"), std::string::npos) << out;
  EXPECT_NE(out.find(" /var/lib/web "), std::string::npos) << out;
  EXPECT_NE(out.find(" /etc/resolv.conf "), std::string::npos) << out;
  EXPECT_NE(out.find("nofile=1024\n"), std::string::npos) << out;
  EXPECT_NE(out.find("Invalid cross-device link"), std::string::npos) << out;
  EXPECT_NE(out.find("seccomp=Seccomp:2\n"), std::string::npos) << out;
}

}  // namespace
}  // namespace nestbox::policy
