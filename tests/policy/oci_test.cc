#include "policy/oci.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "policy/proc_masks.h"
#include "tests/policy/sample.h"
#include "tests/policy/test_util.h"

namespace nestbox::policy {
namespace {

namespace m = manifests;
using json = nlohmann::json;
using testing::full_manifest;
using testing::TempDir;

const std::string kSchemaDir = std::string(NESTBOX_SOURCE_DIR) + "/tests/policy/oci-schema";
const std::string kValidator = std::string(NESTBOX_SOURCE_DIR) + "/tests/policy/validate_oci.py";

m::Manifest minimal_manifest() {
  m::Manifest man;
  man.name = "tiny";
  man.process.command = {"/bin/sh"};
  man.namespaces.user.mode = m::NsMode::kHost;
  return man;
}

m::Manifest userns_manifest() {
  m::Manifest man = full_manifest();
  man.name = "unpriv";
  man.namespaces.user.mode = m::NsMode::kNew;
  man.users.user_namespace = true;
  man.users.uid_map = {{0, 100000, 65536}};
  man.users.gid_map = {{0, 100000, 65536}};
  man.namespaces.ipc = {m::NsMode::kJoin, "web"};
  man.network.mode = m::NetworkMode::kEmpty;
  man.network.interfaces.clear();
  return man;
}

m::Manifest system_manifest() {
  m::Manifest man = minimal_manifest();
  man.name = "nas";
  man.arch = m::Arch::kMips;
  man.process.model = m::Model::kSystem;
  man.process.command = {"/sbin/init"};
  man.process.services = {{"smbd", {"/usr/sbin/smbd", "-F"}}};
  man.seccomp.enabled = true;
  man.seccomp.default_action = m::SeccompAction::kErrno;
  man.seccomp.default_errno = ENOSYS;
  man.seccomp.allow = {"read", "write", "exit_group", "socket"};
  man.mounts.storage = {{m::StorageKind::kImage, "/srv", "/overlay/nas.img", 32u << 20, "ext4", true, true, true},
                        {m::StorageKind::kPartition, "/mnt/data", "nasdata", 0, "ubifs", true, true, true}};
  return man;
}

json config_of(const m::Manifest& man, const OciOptions& o = {}) {
  auto c = oci_config(man, o);
  EXPECT_TRUE(c.ok()) << c.error().message;
  return c.ok() ? json::parse(*c) : json();
}

TEST(Oci, EveryGeneratedConfigValidatesAgainstTheSchema) {
  TempDir dir;
  std::string files;
  for (const m::Manifest& man : {full_manifest(), minimal_manifest(), userns_manifest(), system_manifest()}) {
    auto c = oci_config(man);
    ASSERT_TRUE(c.ok()) << c.error().message;
    std::string path = dir.path() + "/" + man.name + ".json";
    testing::write_text(path, *c);
    files += " " + path;
  }
  std::string out;
  int rc = testing::run_shell("/usr/bin/python3 " + kValidator + " " + kSchemaDir + files, &out);
  EXPECT_EQ(rc, 0) << out;
}

TEST(Oci, ValidatorRejectsABrokenConfig) {
  TempDir dir;
  json c = config_of(minimal_manifest());
  c["process"]["user"]["uid"] = "root";
  c["linux"]["namespaces"].push_back({{"type", "time-travel"}});
  testing::write_text(dir.path() + "/bad.json", c.dump());
  std::string out;
  EXPECT_EQ(testing::run_shell("/usr/bin/python3 " + kValidator + " " + kSchemaDir + " " + dir.path() + "/bad.json", &out), 1);
  EXPECT_NE(out.find("process/user/uid"), std::string::npos) << out;
  EXPECT_NE(out.find("linux/namespaces/"), std::string::npos) << out;
}

TEST(Oci, ConfigCarriesTheManifest) {
  json c = config_of(full_manifest());
  EXPECT_EQ(c["hostname"], "webbox");
  EXPECT_EQ(c["domainname"], "lan");
  EXPECT_EQ(c["root"]["readonly"], true);
  EXPECT_EQ(c["process"]["user"]["uid"], 1000);
  EXPECT_EQ(c["process"]["user"]["additionalGids"], json({20, 30}));
  EXPECT_EQ(c["process"]["capabilities"]["ambient"], json({"CAP_NET_BIND_SERVICE", "CAP_NET_RAW"}));
  EXPECT_EQ(c["process"]["rlimits"][0], json({{"type", "RLIMIT_NOFILE"}, {"hard", 4096}, {"soft", 1024}}));
  EXPECT_EQ(c["process"]["apparmorProfile"], "nestbox-web");
  EXPECT_EQ(c["linux"]["resources"]["memory"]["limit"], 64 << 20);
  EXPECT_EQ(c["linux"]["resources"]["memory"]["swap"], 80 << 20);  // memory + swap
  EXPECT_EQ(c["linux"]["resources"]["cpu"]["quota"], 50000);
  EXPECT_EQ(c["linux"]["resources"]["pids"]["limit"], 64);
  EXPECT_EQ(c["linux"]["seccomp"]["defaultAction"], "SCMP_ACT_ALLOW");
  EXPECT_EQ(c["linux"]["seccomp"]["architectures"], json({"SCMP_ARCH_X86_64"}));
  EXPECT_EQ(c["linux"]["seccomp"]["syscalls"][0],
            json({{"names", {"mkdir", "mkdirat"}}, {"action", "SCMP_ACT_ERRNO"}, {"errnoRet", 13}}));
  std::vector<std::string> ns;
  for (const auto& n : c["linux"]["namespaces"]) ns.push_back(n["type"]);
  EXPECT_EQ(ns, (std::vector<std::string>{"mount", "uts", "ipc", "pid", "network"}));  // cgroup: host
  std::vector<std::string> dests;
  for (const auto& mt : c["mounts"]) dests.push_back(mt["destination"]);
  EXPECT_EQ(dests, (std::vector<std::string>{"/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys", "/tmp",
                                             "/run", "/etc/resolv.conf", "/var/lib/web"}));
}

TEST(Oci, JoinedNamespacesPointAtPinnedPaths) {
  json c = config_of(userns_manifest());
  json ipc;
  for (const auto& n : c["linux"]["namespaces"])
    if (n["type"] == "ipc") ipc = n;
  EXPECT_EQ(ipc["path"], "/run/nestbox/web/ns/ipc");
  EXPECT_EQ(c["linux"]["uidMappings"], json::parse(R"([{"containerID":0,"hostID":100000,"size":65536}])"));
  // No own IPC namespace: no mqueue mount.
  for (const auto& mt : c["mounts"]) EXPECT_NE(mt["destination"], "/dev/mqueue");
}

TEST(Oci, ForeignArchSeccompAndStorageStaging) {
  json c = config_of(system_manifest());
  EXPECT_EQ(c["linux"]["seccomp"]["architectures"], json({"SCMP_ARCH_MIPS"}));
  EXPECT_EQ(c["linux"]["seccomp"]["defaultErrnoRet"], ENOSYS);
  EXPECT_EQ(c["annotations"]["org.nestbox.model"], "system");
  json srv;
  for (const auto& mt : c["mounts"])
    if (mt["destination"] == "/srv") srv = mt;
  EXPECT_EQ(srv["source"], "/run/nestbox/nas/storage/0");
  EXPECT_EQ(srv["type"], "bind");
}

// OCI's memory.swap is memory + swap, an int64: past INT64_MAX it wrapped
// into a swap limit below the memory limit; it is refused, not written.
TEST(Oci, RefusesMemoryPlusSwapPastInt64) {
  m::Manifest man = minimal_manifest();
  man.cgroups.memory_max = 9999999999999999999ull;
  man.cgroups.memory_swap_max = 9223372036854775807ull;
  auto c = oci_config(man);
  ASSERT_FALSE(c.ok()) << *c;
  EXPECT_EQ(c.error().kind, ErrorKind::kBadInput);
  EXPECT_NE(c.error().message.find("cgroups: memory 9999999999999999999 + swap 9223372036854775807 exceeds 9223372036854775807 bytes"),
            std::string::npos) << c.error().message;
}

TEST(Oci, BadManifestIsRefused) {
  m::Manifest man = minimal_manifest();
  man.process.command = {"sh"};
  auto c = oci_config(man);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().kind, ErrorKind::kBadInput);
  EXPECT_NE(c.error().message.find("process.argv[0]: path is not absolute"), std::string::npos) << c.error().message;
}

// ---- Real runs under crun and runc ----

// What the container reports about itself.
const char* kProbe =
    "echo hostname=$(hostname); echo pid=$$; echo uid=$(id -u) gid=$(id -g) groups=\"$(id -G)\"; "
    "grep CapEff /proc/self/status; "
    "echo rootopts=$(awk '$5==\"/\" {print $6}' /proc/self/mountinfo); "
    "grep -E ' /(tmp|sys|proc|var/lib/web|var/lib/web/sub) ' /proc/mounts; "
    "echo nofile=$(ulimit -n); "
    "mkdir /tmp/denied; echo mkdir_rc=$?; "
    "echo seccomp=$(grep Seccomp: /proc/self/status | tr -d '\\t')";

void run_in_runtime(const std::string& runtime) {
  if (!testing::have_program(runtime)) GTEST_SKIP() << runtime << " is not installed (scripts/install-deps.sh)";
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  std::string bundle = dir.path() + "/bundle";
  mkdir(bundle.c_str(), 0755);
  if (!testing::make_busybox_rootfs(bundle + "/rootfs")) GTEST_SKIP() << "busybox-static is not installed";
  std::string data = dir.path() + "/data";
  mkdir(data.c_str(), 0755);

  m::Manifest man = full_manifest();
  man.process.command = {"/bin/busybox", "sh", "-c", kProbe};
  man.process.env = {"PATH=/bin"};
  man.process.cwd = "/";
  man.mounts.storage[0].source = data;
  man.seccomp.deny[0].errno_value = EXDEV;  // distinctive: not a permission error
  // This host has neither AppArmor nor SELinux; the runtimes refuse labels then.
  man.security.apparmor_profile.clear();
  man.security.selinux_context.clear();
  // Without a proportional-weight I/O scheduler the kernel has no blkio
  // weight file, and crun (rightly) fails to apply one.
  if (access("/sys/fs/cgroup/blkio/blkio.weight", F_OK) != 0 &&
      access("/sys/fs/cgroup/blkio/blkio.bfq.weight", F_OK) != 0)
    man.cgroups.io_weight.reset();
  std::string id = "nbtest-" + std::to_string(getpid()) + "-" + runtime;
  testing::CgroupScope cg(id);
  OciOptions opts;
  opts.cgroups_path = cg.path();
  auto config = oci_config(man, opts);
  ASSERT_TRUE(config.ok()) << config.error().message;
  testing::write_text(bundle + "/config.json", *config);

  std::string state = dir.path() + "/state";
  // A tmpfs mounted below the host directory (in the runtime's private
  // mount namespace): an rbind would show it inside, writable and suid
  // whatever the bind's flags, since runtimes set them on the top mount.
  mkdir((data + "/sub").c_str(), 0755);
  std::string cmd = "unshare -m --propagation private sh -c 'umount /sys/fs/cgroup/unified 2>/dev/null; "
                    "mount -t tmpfs nbsub " + data + "/sub || exit 99; "
                    "exec timeout 60 " + runtime + " --root " + state + " run --bundle " + bundle + " " + id + "'";
  std::string out;
  int rc = testing::run_shell(cmd, &out);
  testing::run_shell(runtime + " --root " + state + " delete -f " + id + " >/dev/null 2>&1", nullptr);
  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("hostname=webbox\n"), std::string::npos) << out;
  EXPECT_NE(out.find("pid=1\n"), std::string::npos) << out;
  EXPECT_NE(out.find("uid=1000 gid=1000 groups=1000 20 30\n"), std::string::npos) << out;
  // CAP_NET_BIND_SERVICE (10) + CAP_NET_RAW (13), kept by a non-root user via ambient.
  EXPECT_NE(out.find("CapEff:\t0000000000002400\n"), std::string::npos) << out;
  EXPECT_NE(out.find("rootopts=ro,"), std::string::npos) << out;
  EXPECT_NE(out.find(" /tmp tmpfs rw,nosuid,nodev,noexec"), std::string::npos) << out;
  EXPECT_NE(out.find(" /sys sysfs ro,nosuid,nodev,noexec"), std::string::npos) << out;
  EXPECT_NE(out.find(" /proc proc rw,nosuid,nodev,noexec"), std::string::npos) << out;
  EXPECT_NE(out.find(" /var/lib/web "), std::string::npos) << out;
  EXPECT_EQ(out.find(" /var/lib/web/sub "), std::string::npos) << out;  // a plain bind, not rbind
  EXPECT_NE(out.find("nofile=1024\n"), std::string::npos) << out;
  EXPECT_NE(out.find("Invalid cross-device link"), std::string::npos) << out;  // EXDEV from seccomp
  EXPECT_NE(out.find("mkdir_rc=1\n"), std::string::npos) << out;
  EXPECT_NE(out.find("seccomp=Seccomp:2\n"), std::string::npos) << out;
}

TEST(OciRun, Crun) { run_in_runtime("crun"); }
TEST(OciRun, Runc) { run_in_runtime("runc"); }

// What nestbox-launch hides below /proc (policy/proc_masks.h) was only
// partly in maskedPaths: the container's root read the host's physical page
// flags and counts (/proc/kpageflags, /proc/kpagecount) under crun and runc.
// A block device node shipped in the image stays closed (device cgroup), and
// the ubus socket is bound read-only as nestbox-launch binds it.
void run_hostile_image(const std::string& runtime) {
  if (!testing::have_program(runtime)) GTEST_SKIP() << runtime << " is not installed (scripts/install-deps.sh)";
  TempDir dir;
  std::string bundle = dir.path() + "/bundle";
  mkdir(bundle.c_str(), 0755);
  if (!testing::make_busybox_rootfs(bundle + "/rootfs")) GTEST_SKIP() << "busybox-static is not installed";
  testing::LoopDevice loop(dir.path(), "TOPSECRET");
  ASSERT_TRUE(testing::add_hostile_image(bundle + "/rootfs", loop)) << "no loop device for the image's node";
  std::string sock = dir.path() + "/ubus.sock";
  ASSERT_TRUE(testing::make_unix_socket(sock));

  std::string id = "nbhostile-" + std::to_string(getpid()) + "-" + runtime;
  testing::CgroupScope cg(id);
  OciOptions opts;
  opts.cgroups_path = cg.path();
  auto config = oci_config(testing::hostile_manifest(sock), opts);
  ASSERT_TRUE(config.ok()) << config.error().message;
  testing::write_text(bundle + "/config.json", *config);
  std::string state = dir.path() + "/state";
  std::string cmd = "unshare -m --propagation private sh -c 'umount /sys/fs/cgroup/unified 2>/dev/null; "
                    "exec timeout 60 " + runtime + " --root " + state + " run --bundle " + bundle + " " + id + "'";
  std::string out;
  int rc = testing::run_shell(cmd, &out);
  testing::run_shell(runtime + " --root " + state + " delete -f " + id + " >/dev/null 2>&1", nullptr);
  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("loopnode=\n"), std::string::npos) << out;
  EXPECT_EQ(out.find("TOPSECRET"), std::string::npos) << out;
  EXPECT_NE(out.find("kpageflags=\n"), std::string::npos) << out;
  EXPECT_NE(out.find("kpagecount=\n"), std::string::npos) << out;
  EXPECT_NE(out.find("irq_rc="), std::string::npos) << out;
  EXPECT_EQ(out.find("irq_rc=0\n"), std::string::npos) << out;  // /proc/irq read-only
  EXPECT_NE(out.find("devopts=rw,nosuid,noexec"), std::string::npos) << out;  // as nestbox-launch's /dev
  EXPECT_EQ(out.find("mknod_rc=0\n"), std::string::npos) << out;
  EXPECT_NE(out.find("ubus=socket\n"), std::string::npos) << out;
  EXPECT_NE(out.find(" /ubus.sock ro,nosuid,nodev,noexec"), std::string::npos) << out;
}

TEST(OciRun, CrunHostileImage) { run_hostile_image("crun"); }
TEST(OciRun, RuncHostileImage) { run_hostile_image("runc"); }

// /sys for a user namespace without its own network namespace: a plain bind
// (rbind,ro left the host's cgroup hierarchies below it read-write under
// runc). Declared devices: allowed, and created below /dev.
TEST(Oci, SysBindIsNotRecursiveAndDeclaredDevicesAreAllowed) {
  m::Manifest man = userns_manifest();
  man.network.mode = m::NetworkMode::kNone;  // the host's network namespace
  man.namespaces.net.mode = m::NsMode::kHost;
  man.rootfs.devices = {{"/dev/ttyUSB0", m::DeviceType::kChar, 188, 0, 0660, {}}};
  json c = config_of(man);
  json sys;
  for (const auto& mt : c["mounts"])
    if (mt["destination"] == "/sys") sys = mt;
  ASSERT_EQ(sys["type"], "bind") << c.dump(2);
  EXPECT_EQ(std::count(sys["options"].begin(), sys["options"].end(), "rbind"), 0) << sys.dump();
  EXPECT_EQ(std::count(sys["options"].begin(), sys["options"].end(), "bind"), 1) << sys.dump();
  EXPECT_EQ(std::count(sys["options"].begin(), sys["options"].end(), "ro"), 1) << sys.dump();
  json allow = {{"allow", true}, {"type", "c"}, {"major", 188}, {"minor", 0}, {"access", "rwm"}};
  EXPECT_EQ(c["linux"]["resources"]["devices"][0], json({{"allow", false}, {"access", "rwm"}}));
  EXPECT_EQ(c["linux"]["resources"]["devices"][1], allow) << c["linux"]["resources"].dump();
  EXPECT_EQ(c["linux"]["devices"][0]["path"], "/dev/ttyUSB0") << c["linux"].dump();
  EXPECT_EQ(c["linux"]["devices"][0]["fileMode"], 0660);
}

// Every path nestbox-launch masks or freezes is in the bundle.
TEST(Oci, MasksWhatTheLauncherMasks) {
  json c = config_of(full_manifest());
  for (const char* f : kProcMaskedFiles)
    EXPECT_NE(std::find(c["linux"]["maskedPaths"].begin(), c["linux"]["maskedPaths"].end(), f),
              c["linux"]["maskedPaths"].end()) << f;
  for (const char* f : kProcReadonlyPaths)
    EXPECT_NE(std::find(c["linux"]["readonlyPaths"].begin(), c["linux"]["readonlyPaths"].end(), f),
              c["linux"]["readonlyPaths"].end()) << f;
}

}  // namespace
}  // namespace nestbox::policy
