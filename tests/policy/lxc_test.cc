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
using testing::hostile_manifest;
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
           "lxc.rootfs.options = ro,nodev",  // no declared devices: nodev, as nestbox-launch
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
           // v1 / hybrid hosts: the same limits, converted as the launcher converts them.
           "lxc.cgroup.memory.limit_in_bytes = 67108864",
           "lxc.cgroup.memory.memsw.limit_in_bytes = 83886080",
           "lxc.cgroup.cpu.shares = 5219",
           "lxc.cgroup.cpu.cfs_period_us = 100000",
           "lxc.cgroup.cpu.cfs_quota_us = 50000",
           "lxc.cgroup.pids.max = 64",
           "lxc.cgroup.blkio.weight = 19",
           "lxc.cgroup.cpuset.cpus = 0",
           "# not expressible in LXC: domainname lan",
           "# not expressible in LXC: ambient capabilities (net_bind_service net_raw) for uid 1000",
           "lxc.mount.auto = proc:mixed sys:ro",
           "lxc.autodev = 1",
           // LXC mounts /dev, /sys and /proc/sys/net without these flags: a hook remounts them.
           "lxc.hook.mount = /bin/sh -c '[ ! -L \"$LXC_ROOTFS_MOUNT/dev\" ] && mount -o remount,bind,nosuid,noexec "
           "\"$LXC_ROOTFS_MOUNT/dev\" && [ ! -L \"$LXC_ROOTFS_MOUNT/sys\" ] && mount -o "
           "remount,bind,ro,nosuid,nodev,noexec \"$LXC_ROOTFS_MOUNT/sys\" && [ ! -L \"$LXC_ROOTFS_MOUNT/proc\" ] && "
           "{ ! grep -qF \" $LXC_ROOTFS_MOUNT/proc/sys/net \" /proc/self/mountinfo || mount -o remount,bind,ro,nosuid,nodev,noexec "
           "\"$LXC_ROOTFS_MOUNT/proc/sys/net\"; }'",
           // nestbox-launch's device allow-list and /proc masks (policy/proc_masks.h).
           "lxc.cgroup.devices.deny = a",
           "lxc.cgroup.devices.allow = c 1:3 rwm",
           "lxc.cgroup.devices.allow = c 136:* rwm",
           "lxc.cgroup2.devices.deny = a",
           "lxc.cgroup2.devices.allow = c 5:2 rwm",
           "lxc.mount.entry = /dev/null proc/kpageflags none bind,ro,nosuid,noexec,optional 0 0",
           "lxc.mount.entry = /dev/null proc/kcore none bind,ro,nosuid,noexec,optional 0 0",
           "lxc.mount.entry = /proc/irq proc/irq none bind,ro,nosuid,nodev,noexec,optional 0 0",
           "lxc.mount.entry = tmpfs tmp tmpfs create=dir,nosuid,nodev,noexec,mode=1777,size=8388608 0 0",
           "lxc.mount.entry = /data var/lib/web none bind,nosuid,nodev,noexec 0 0",
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
  // kexec_file_load joins kexec_load's rule (its alias); the last three: the
  // host-keyring guard of a container in the host's user namespace
  // (manifests/effective_seccomp.h).
  EXPECT_EQ(c->seccomp,
            "2\ndenylist\n[all]\nmkdir errno 13\nmkdirat errno 13\nkexec_file_load kill\nkexec_load kill\nreboot kill\n"
            // mkdir is a call io_uring makes: the ring is denied too.
            "io_uring_enter errno 38\nio_uring_register errno 38\nio_uring_setup errno 38\n"
            // The host's user namespace: no user namespace of its own to make
            // or join (value, then mask: lxc's order for SCMP_CMP_MASKED_EQ).
            "clone errno 1 [0,268435456,SCMP_CMP_MASKED_EQ,268435456]\n"
            "unshare errno 1 [0,268435456,SCMP_CMP_MASKED_EQ,268435456]\n"
            "clone3 errno 38\n"
            "setns errno 1 [1,0,SCMP_CMP_MASKED_EQ,4294967295]\n"
            "setns errno 1 [1,268435456,SCMP_CMP_MASKED_EQ,268435456]\n"
            "add_key errno 1\nkeyctl errno 1\nrequest_key errno 1\n");
}

// lxc.conf is a device file: it names device paths only, never the build
// machine's (the manifest's directory) nor a path that could break its lines.
TEST(Lxc, NamesNoBuildPathsAndRefusesUnsafeDevicePaths) {
  m::Manifest man = full_manifest();
  man.file = "/home/builder/src/manifests/web.toml";
  auto c = lxc_config(man, options("/var/lib/lxc/web"));
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->config.find("/home/builder"), std::string::npos) << c->config;
  EXPECT_EQ(c->config.rfind("# Generated by nestbox from web.toml; do not edit.\n", 0), 0u) << c->config;
  for (const char* bad : {"relative/dir", "/a/../b", "/a//b", "/a\nlxc.cap.keep = sys_admin"}) {
    auto r = lxc_config(man, {std::string(bad) + "/rootfs", "/x/seccomp"});
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().kind, ErrorKind::kBadInput);
    EXPECT_NE(r.error().message.find("expected an absolute path on the device"), std::string::npos) << r.error().message;
  }
}

// memory + swap past INT64_MAX wrapped into a memsw limit below the memory
// limit; it is refused, not written.
// The manifest's file name goes into the first comment line. A name holding
// line breaks ("a\nlxc.namespace.keep = net ipc\n#.toml", which validate and
// compose load as any other file) wrote keys of its own: the container kept
// the host's network and IPC namespaces and ran unconfined.
TEST(Lxc, AFileNameCannotAddKeys) {
  m::Manifest man = full_manifest();
  man.file = "/feed/a\nlxc.namespace.keep = net ipc\nlxc.apparmor.profile = unconfined\r\n#.toml";
  auto c = lxc_config(man, options("/var/lib/lxc/web"));
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->config.rfind("# Generated by nestbox from a?lxc.namespace.keep = net ipc?lxc.apparmor.profile = "
                            "unconfined??#.toml; do not edit.\n",
                            0),
            0u)
      << c->config;
  EXPECT_EQ(c->config.find("\nlxc.namespace.keep = net ipc"), std::string::npos) << c->config;
  EXPECT_EQ(c->config.find("\nlxc.apparmor.profile = unconfined"), std::string::npos) << c->config;
}

TEST(Lxc, RefusesMemoryPlusSwapPastInt64) {
  m::Manifest man = full_manifest();
  man.cgroups.memory_max = 9999999999999999999ull;
  man.cgroups.memory_swap_max = 9223372036854775807ull;
  auto c = lxc_config(man, options("/var/lib/lxc/web"));
  ASSERT_FALSE(c.ok()) << c->config;
  EXPECT_EQ(c.error().kind, ErrorKind::kBadInput);
  EXPECT_NE(c.error().message.find("cgroups: memory 9999999999999999999 + swap 9223372036854775807 exceeds 9223372036854775807 bytes"),
            std::string::npos) << c.error().message;
}

// LXC splits a mount entry at whitespace: "/etc /srv none rbind,rw" as a
// read-only bind's source was read as a read-write bind of /etc. Refused here
// too, not only by manifest validation.
TEST(Lxc, RefusesMountPathsThatWouldSplitTheEntry) {
  for (const char* bad : {"/etc /srv none rbind,rw", "/a\tb", "/a\nlxc.cap.keep = sys_admin", "/a\\040b"}) {
    m::Manifest man = full_manifest();
    ASSERT_FALSE(man.mounts.binds.empty());
    man.mounts.binds[0].source = bad;
    man.mounts.binds[0].read_only = true;
    auto c = lxc_config(man, options("/var/lib/lxc/web"));
    ASSERT_FALSE(c.ok()) << bad << "\n" << c->config;
    EXPECT_EQ(c.error().kind, ErrorKind::kBadInput);
    EXPECT_NE(c.error().message.find("holds whitespace or a backslash, which an LXC mount entry cannot carry"),
              std::string::npos) << c.error().message;
  }
}

// A best-effort io weight must not stop LXC where no scheduler honours it.
TEST(Lxc, BestEffortIoWeightIsOnlyNoted) {
  m::Manifest man = full_manifest();
  man.cgroups.io_weight_best_effort = true;
  auto c = lxc_config(man, options("/srv/web"));
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->config.find("io.weight ="), std::string::npos) << c->config;
  EXPECT_EQ(c->config.find("blkio.weight ="), std::string::npos) << c->config;
  EXPECT_NE(c->config.find("# io weight 100 is best effort"), std::string::npos) << c->config;
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

// lxc-execute of <dir>/lxc.conf as `id` (LXC's state in <dir>/lxcpath), in a
// private mount namespace without the cgroup2 mount (LXC 5 on this hybrid
// host); lxc.cgroup.relative keeps LXC's cgroups beneath this process's own.
int lxc_execute(const std::string& dir, const std::string& id, std::string* out) {
  return testing::run_shell("unshare -m --propagation private sh -c 'umount /sys/fs/cgroup/unified 2>/dev/null; "
                            "exec timeout 60 lxc-execute -n " + id + " -P " + dir + "/lxcpath -f " + dir +
                                "/lxc.conf -s lxc.cgroup.relative=1'",
                            out);
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
                      "echo netopts=$(awk '$5==\"/proc/sys/net\" {print $6}' /proc/self/mountinfo)\n"
                      "grep -E ' /(dev|tmp|sys|proc|var/lib/web|etc/resolv.conf) ' /proc/mounts\n"
                      "echo nofile=$(ulimit -n); mkdir /tmp/denied; echo mkdir_rc=$?\n"
                      "echo seccomp=$(grep Seccomp: /proc/self/status | tr -d '\\t')\n"
                      "cg() { echo /sys/fs/cgroup/$1$(sed -n \"s/^[0-9]*:$1:\\(.*\\)/\\1/p\" /proc/self/cgroup); }\n"
                      "echo memory=$(cat $(cg memory)/memory.limit_in_bytes)\n"
                      "echo memsw=$(cat $(cg memory)/memory.memsw.limit_in_bytes)\n"
                      "echo pids=$(cat $(cg pids)/pids.max)\n"
                      "if unshare -U true 2>/dev/null; then echo userns=made; else echo userns=refused; fi\n");
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
  man.cgroups.io_weight_best_effort = true;  // this host's disks have no bfq: blkio.weight is absent
  // Kept CAP_NET_ADMIN: LXC's proc:mixed then binds /proc/sys/net read-write.
  man.security.capabilities.push_back("CAP_NET_ADMIN");
  man.security.capability_mask |= 1ull << 12;
  auto c = lxc_config(man, options(dir.path()));
  ASSERT_TRUE(c.ok()) << c.error().message;
  // The probe reads its cgroup limits: the hierarchies, read-only (the
  // container shares the host's cgroup namespace: /proc/self/cgroup names them).
  testing::write_text(dir.path() + "/lxc.conf", c->config + "lxc.mount.auto = cgroup-full:ro\n");
  testing::write_text(dir.path() + "/seccomp", c->seccomp);

  std::string id = "nbtest-lxc-" + std::to_string(getpid());
  // LXC leaves its pivot cgroup behind; remove it (and anything of ours) after.
  testing::CgroupSweep sweep({"lxc.pivot", "lxc.payload." + id, "lxc.monitor." + id});
  std::string out;
  int rc = lxc_execute(dir.path(), id, &out);
  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("hostname=webbox\n"), std::string::npos) << out;
  EXPECT_NE(out.find("uid=1000 gid=1000"), std::string::npos) << out;
  EXPECT_NE(out.find("rootopts=ro,"), std::string::npos) << out;
  EXPECT_NE(out.find(" /tmp tmpfs rw,nosuid,nodev,noexec"), std::string::npos) << out;
  // nestbox-launch's flags, which LXC's own /dev and /sys mounts lack.
  EXPECT_NE(out.find(" /sys sysfs ro,nosuid,nodev,noexec"), std::string::npos) << out;
  EXPECT_NE(out.find(" /dev tmpfs rw,nosuid,noexec"), std::string::npos) << out;
  // proc:mixed binds the network sysctls read-write (CAP_NET_ADMIN kept);
  // nestbox-launch keeps all of /proc/sys read-only.
  EXPECT_NE(out.find("netopts=ro,nosuid,nodev,noexec"), std::string::npos) << out;
  EXPECT_NE(out.find(" /var/lib/web "), std::string::npos) << out;
  EXPECT_NE(out.find(" /etc/resolv.conf "), std::string::npos) << out;
  EXPECT_NE(out.find("nofile=1024\n"), std::string::npos) << out;
  EXPECT_NE(out.find("Invalid cross-device link"), std::string::npos) << out;
  EXPECT_NE(out.find("seccomp=Seccomp:2\n"), std::string::npos) << out;
  // This host's controllers are v1: LXC honoured the lxc.cgroup.* keys.
  EXPECT_NE(out.find("memory=67108864\n"), std::string::npos) << out;
  EXPECT_NE(out.find("memsw=83886080\n"), std::string::npos) << out;
  EXPECT_NE(out.find("pids=64\n"), std::string::npos) << out;
  // The host's user namespace: the profile's argument rules held under LXC.
  EXPECT_NE(out.find("userns=refused\n"), std::string::npos) << out;
}

// A hostile image under lxc-execute, root without capabilities and without
// a user namespace (testing::add_hostile_image). LXC applies no device list
// of its own ("a *:* rwm"): the image's block node of a host loop device was
// read ("TOPSECRET"); /proc/kpageflags and /proc/kpagecount were readable and
// /proc/irq writable (proc:mixed freezes /proc/sys and sysrq-trigger only);
// the ubus socket was not bound at all.
TEST(LxcRun, HostileImage) {
  if (!testing::have_program("lxc-execute")) GTEST_SKIP() << "lxc is not installed (scripts/install-deps.sh)";
  TempDir dir;
  std::string root = dir.path() + "/rootfs";
  if (!testing::make_busybox_rootfs(root)) GTEST_SKIP() << "busybox-static is not installed";
  testing::LoopDevice loop(dir.path(), "TOPSECRET");
  ASSERT_TRUE(testing::add_hostile_image(root, loop)) << "no loop device for the image's node";
  std::string sock = dir.path() + "/ubus.sock";
  ASSERT_TRUE(testing::make_unix_socket(sock));
  mkdir((dir.path() + "/lxcpath").c_str(), 0755);

  m::Manifest man = hostile_manifest(sock);
  // The weight as a comment: LXC refuses the start when the file is missing.
  man.cgroups.io_weight = full_manifest().cgroups.io_weight;
  man.cgroups.io_weight_best_effort = true;
  auto c = lxc_config(man, options(dir.path()));
  ASSERT_TRUE(c.ok()) << c.error().message;
  testing::write_text(dir.path() + "/lxc.conf", c->config);
  testing::write_text(dir.path() + "/seccomp", c->seccomp);  // the io_uring and keyring guards

  std::string id = "nbhostile-lxc-" + std::to_string(getpid());
  testing::CgroupSweep sweep({"lxc.pivot", "lxc.payload." + id, "lxc.monitor." + id});
  std::string out;
  int rc = lxc_execute(dir.path(), id, &out);
  ASSERT_EQ(rc, 0) << out << "\n" << c->config;
  EXPECT_NE(out.find("loopnode=\n"), std::string::npos) << out;
  EXPECT_EQ(out.find("TOPSECRET"), std::string::npos) << out;
  EXPECT_NE(out.find("kpageflags=\n"), std::string::npos) << out;
  EXPECT_NE(out.find("kpagecount=\n"), std::string::npos) << out;
  EXPECT_NE(out.find("irq_rc="), std::string::npos) << out;
  EXPECT_EQ(out.find("irq_rc=0\n"), std::string::npos) << out;
  EXPECT_NE(out.find("devopts=rw,nosuid,noexec"), std::string::npos) << out;  // as nestbox-launch's /dev
  EXPECT_EQ(out.find("mknod_rc=0\n"), std::string::npos) << out;
  EXPECT_NE(out.find("ubus=socket\n"), std::string::npos) << out;
  EXPECT_NE(out.find(" /ubus.sock ro,nosuid,nodev,noexec"), std::string::npos) << out;
}

// Every value after "key = " stays on its line, whoever built the manifest.
TEST(Lxc, RefusesLineBreaksInAnyValue) {
  auto refused = [](m::Manifest man, const char* what) {
    auto c = lxc_config(man, options("/x"));
    ASSERT_FALSE(c.ok()) << what << ":\n" << c->config;
    EXPECT_EQ(c.error().kind, ErrorKind::kBadInput) << what;
  };
  m::Manifest man = full_manifest();
  man.process.env = {"A=1\nlxc.namespace.keep = net"};
  refused(man, "env");
  man = full_manifest();
  man.namespaces.hostname = "web\nlxc.mount.entry = / host none rbind 0 0";
  refused(man, "hostname");
  man = full_manifest();
  man.process.cwd = "/srv\nlxc.cap.keep = sys_admin";
  refused(man, "cwd");
  man = full_manifest();
  man.process.env = {"SSH_AUTH_SOCK"};  // LXC would hand over the host's value
  refused(man, "env without '='");
  man = full_manifest();
  man.mounts.storage[0].kind = m::StorageKind::kImage;
  man.mounts.storage[0].fstype = "ext4 /x none rw,suid,dev";  // fields of the mount entry's own
  refused(man, "fstype with whitespace");
}

// LXC has no form of nestbox-launch's firewall: a firewalled container's
// interfaces are left out (an empty network namespace), never given to the
// app unfiltered (an app-store macvlan would have reached the whole LAN).
TEST(Lxc, FirewalledInterfacesAreLeftOutNotUnfiltered) {
  m::Manifest man = full_manifest();
  ASSERT_FALSE(man.network.interfaces.empty());
  auto open = lxc_config(man, options("/x"));
  ASSERT_TRUE(open.ok()) << open.error().message;
  EXPECT_TRUE(has_line(open->config, "lxc.net.0.link = br-lan")) << open->config;
  man.network.firewall.enabled = true;
  man.network.firewall.wan = {"eth1"};
  man.network.firewall.allow_out = {"wan"};
  // The sample's other interfaces (macvlan, ...) need CAP_NET_RAW dropped.
  man.security.capabilities.clear();
  man.security.capability_mask = 0;
  auto c = lxc_config(man, options("/x"));
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_TRUE(has_line(c->config, "lxc.net.0.type = empty")) << c->config;
  EXPECT_EQ(c->config.find("lxc.net.0.link"), std::string::npos) << c->config;
  EXPECT_EQ(c->config.find("lxc.net.0.type = veth"), std::string::npos) << c->config;
  EXPECT_NE(c->config.find("# not expressible in LXC: [network.firewall]"), std::string::npos) << c->config;
}

}  // namespace
}  // namespace nestbox::policy
