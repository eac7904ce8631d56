// The running-kernel probe on this machine, checked against /proc and, where
// present, against this kernel's own /proc/config.gz.
#include "kernel-check/probe.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/utsname.h>
#include <unistd.h>

#include "kernel-check/kernel_check.h"
#include "kernel-check/version.h"
#include "util/io_schedulers.h"
#include "tests/kernel-check/test_util.h"

namespace nestbox::kernel_check {
namespace {

using testing::slurp;
using testing::TempDir;

bool in_proc_filesystems(const std::string& fs) {
  std::istringstream in(slurp("/proc/filesystems"));
  std::string line;
  while (std::getline(in, line))
    if (line.size() >= fs.size() && line.substr(line.size() - fs.size()) == fs &&
        (line.size() == fs.size() || line[line.size() - fs.size() - 1] == '\t'))
      return true;
  return false;
}

TEST(Probe, AgreesWithProc) {
  Report r = probe_running_kernel();
  ASSERT_EQ(r.facilities.size(), static_cast<size_t>(kFeatureCount));
  utsname u;
  ASSERT_EQ(::uname(&u), 0);
  EXPECT_EQ(r.version, *parse_version(u.release));
  EXPECT_EQ(r.version_source, "uname -r");
  const std::pair<const char*, const char*> ns[] = {{"mount_ns", "mnt"}, {"uts_ns", "uts"},
                                                    {"ipc_ns", "ipc"},   {"pid_ns", "pid"},
                                                    {"net_ns", "net"},   {"cgroup_ns", "cgroup"}};
  for (auto [name, file] : ns)
    EXPECT_EQ(r.find(name)->state == State::kAvailable,
              std::filesystem::exists(std::string("/proc/self/ns/") + file))
        << name;
  const std::pair<const char*, const char*> fs[] = {
      {"cgroup_v2", "cgroup2"}, {"squashfs", "squashfs"}, {"overlayfs", "overlay"},
      {"tmpfs", "tmpfs"},       {"devpts", "devpts"},     {"posix_mqueue", "mqueue"}};
  for (auto [name, fsname] : fs)
    EXPECT_EQ(r.find(name)->state == State::kAvailable, in_proc_filesystems(fsname)) << name;
  bool seccomp = slurp("/proc/self/status").find("\nSeccomp:") != std::string::npos;
  EXPECT_EQ(r.find("seccomp")->state == State::kAvailable, seccomp);
  EXPECT_EQ(r.find("loop")->state == State::kAvailable, std::filesystem::exists("/dev/loop-control"));
  std::string max_userns = slurp("/proc/sys/user/max_user_namespaces");
  if (!max_userns.empty()) {
    EXPECT_EQ(r.find("user_ns")->state == State::kAvailable,
              std::atol(max_userns.c_str()) > 0 && std::filesystem::exists("/proc/self/ns/user"));
  }
  // cgroup v2 controllers: the root's cgroup.controllers when cgroup2 is mounted there.
  std::string controllers = slurp("/sys/fs/cgroup/cgroup.controllers");
  if (!controllers.empty())
    for (const char* c : {"memory", "pids", "cpu", "cpuset"})
      if (controllers.find(c) != std::string::npos) {
        EXPECT_EQ(r.find(c)->state, State::kAvailable) << c;
      }
}

// Where the probe gives a definite answer it must match the kernel's own config.
// nestbox-launch probes only what a policy requires (the link-kind probe
// costs a network namespace): the rest is reported unknown, "not probed".
TEST(Probe, OnlyTheAskedFeatures) {
  ProbeOptions o;
  o.features = feature_bit(Feature::kPidNs) | feature_bit(Feature::kVlan);
  Report some = probe_running_kernel(o);
  Report all = probe_running_kernel();
  ASSERT_EQ(some.facilities.size(), static_cast<size_t>(kFeatureCount));
  for (int i = 0; i < kFeatureCount; ++i) {
    const FacilityStatus& s = some.facilities[i];
    SCOPED_TRACE(s.facility->name);
    if (o.features & feature_bit(static_cast<Feature>(i))) {
      EXPECT_EQ(s.state, all.facilities[i].state);
      EXPECT_EQ(s.detail, all.facilities[i].detail);
    } else {
      EXPECT_EQ(s.state, State::kUnknown);
      EXPECT_EQ(s.detail, "not probed");
    }
  }
  EXPECT_EQ(unmet_features(some, feature_bit(Feature::kPidNs)).size(), 0u);
}

TEST(Probe, AgreesWithThisKernelsConfig) {
  if (!std::filesystem::exists("/proc/config.gz")) GTEST_SKIP() << "/proc/config.gz absent";
  Result<KernelConfig> cfg = load_config("/proc/config.gz");
  ASSERT_TRUE(cfg.ok()) << cfg.error().message;
  if (cfg->tristate("MODULES") != Tristate::kNo)
    GTEST_SKIP() << "this kernel has modules: a =m option may or may not be loaded";
  Report probed = probe_running_kernel();
  Report configured = check_config(*cfg, {*cfg->version, "config header"});
  const char* definite[] = {"uts_ns", "ipc_ns", "pid_ns", "net_ns", "cgroup_ns", "cgroup_v1", "cgroup_v2",
                            "seccomp", "seccomp_filter", "seccomp_kill_process", "seccomp_log",
                            "no_new_privs", "ambient_caps", "memory", "pids", "cpu", "cpuset",
                            "squashfs", "overlayfs", "tmpfs", "devpts", "veth", "bridge", "macvlan",
                            "vlan", "ipv6", "ext4", "vfat", "posix_mqueue", "openat2", "cgroup_kill",
                            "cgroup_freeze"};
  for (const char* name : {"memory_swap", "cpu_quota", "io_weight"}) {  // definite when a cgroup shows them
    State p = probed.find(name)->state, c = configured.find(name)->state;
    if (p == State::kUnusable) {  // the kernel has it; this host's disks or hierarchy cannot use it
      EXPECT_TRUE(enforceable(c)) << name << ": " << probed.find(name)->detail;
      EXPECT_NE(probed.find(name)->detail.find(describe(disk_schedulers())), std::string::npos)
          << name << ": the reason names the disks' schedulers: " << probed.find(name)->detail;
    } else if (p != State::kUnknown) {
      EXPECT_EQ(enforceable(p), enforceable(c)) << name << ": " << probed.find(name)->detail;
    }
  }
  for (const char* name : definite) {
    State p = probed.find(name)->state, c = configured.find(name)->state;
    EXPECT_NE(p, State::kUnknown) << name << ": " << probed.find(name)->detail;
    EXPECT_EQ(enforceable(p), enforceable(c))
        << name << ": probe says " << to_string(p) << " (" << probed.find(name)->detail
        << "), config says " << to_string(c);
  }
}

TEST(Probe, FallsBackToModuleListsAndBootConfig) {
  utsname u;
  ASSERT_EQ(::uname(&u), 0);
  TempDir root;
  std::filesystem::create_directories(root.path() + "/proc");
  std::filesystem::create_directories(root.path() + "/boot");
  std::filesystem::create_directories(root.path() + "/lib/modules/" + u.release);
  root.write("proc/filesystems", "nodev\tsysfs\nnodev\ttmpfs\n\tsquashfs\n");
  root.write("boot/config-" + std::string(u.release),
             "CONFIG_SQUASHFS=y\nCONFIG_SQUASHFS_XZ=y\n# CONFIG_SQUASHFS_ZSTD is not set\n");
  root.write("lib/modules/" + std::string(u.release) + "/modules.dep",
             "kernel/fs/overlayfs/overlay.ko.xz:\nkernel/drivers/md/dm-verity.ko: kernel/drivers/md/dm-mod.ko\n");
  root.write("lib/modules/" + std::string(u.release) + "/modules.builtin", "kernel/fs/ext4/ext4.ko\n");
  Report r = probe_running_kernel({root.path()});
  EXPECT_EQ(r.find("squashfs")->state, State::kAvailable);
  EXPECT_EQ(r.find("squashfs_xz")->state, State::kAvailable);
  EXPECT_EQ(r.find("squashfs_zstd")->state, State::kMissing);
  EXPECT_EQ(r.find("squashfs_zstd")->enable, "CONFIG_SQUASHFS, CONFIG_SQUASHFS_ZSTD");
  EXPECT_EQ(r.find("overlayfs")->state, State::kModule);
  EXPECT_EQ(r.find("overlayfs")->detail, "overlay.ko in modules.dep");
  EXPECT_EQ(r.find("dm_verity")->state, State::kModule);
  EXPECT_EQ(r.find("ext4")->state, State::kAvailable);
  EXPECT_EQ(r.find("f2fs")->state, State::kMissing);
  EXPECT_EQ(r.find("mount_ns")->state, State::kMissing);  // no proc/self/ns in the fake root
}

// Controller features read from interface files in a (fake) cgroup tree.
TEST(Probe, CgroupInterfaceFiles) {
  TempDir root;
  for (const char* d : {"/proc/self", "/cg/a", "/cg/b", "/v1cpu/x"})
    std::filesystem::create_directories(root.path() + d);
  root.write("proc/filesystems", "nodev\tcgroup\nnodev\tcgroup2\n");
  root.write("proc/self/mounts", "cgroup2 /cg cgroup2 rw 0 0\ncgroup /v1cpu cgroup rw,cpu,cpuacct 0 0\n");
  root.write("proc/self/cgroup", "1:cpu,cpuacct:/x\n0::/b\n");
  root.write("proc/cgroups", "#subsys_name\thierarchy\tnum_cgroups\tenabled\ncpu\t1\t1\t1\n");
  root.write("cg/cgroup.controllers", "memory io\n");
  root.write("cg/a/memory.current", "0\n");  // memory enabled in a, but no swap file: CONFIG_SWAP off
  root.write("cg/b/io.stat", "");
  root.write("cg/b/io.weight", "default 100\n");
  root.write("cg/b/cgroup.freeze", "0\n");
  root.write("v1cpu/x/cpu.shares", "1024\n");  // cpu via v1: shares but no cfs quota
  Report r = probe_running_kernel({root.path()});
  EXPECT_EQ(r.find("memory")->state, State::kAvailable);
  EXPECT_EQ(r.find("memory_swap")->state, State::kMissing);
  EXPECT_EQ(r.find("memory_swap")->detail, "/cg/a has memory.current but no memory.swap.max");
  EXPECT_EQ(r.find("io_weight")->state, State::kAvailable);
  EXPECT_EQ(r.find("io_weight")->detail, "/cg/b/io.weight (iocost: every disk)");  // own cgroup first
  EXPECT_EQ(r.find("cpu")->state, State::kAvailable);  // /proc/cgroups
  EXPECT_EQ(r.find("cpu_quota")->state, State::kMissing);
  EXPECT_EQ(r.find("cpu_quota")->detail, "/v1cpu/x has cpu.shares but no cpu.cfs_quota_us");
  EXPECT_EQ(r.find("cgroup_freeze")->state, State::kAvailable);
  EXPECT_EQ(r.find("pids")->state, State::kMissing);
}

TEST(Probe, CompressorsUnknownWithoutAConfig) {
  TempDir root;
  std::filesystem::create_directories(root.path() + "/proc");
  root.write("proc/filesystems", "\tsquashfs\n");
  Report r = probe_running_kernel({root.path()});
  EXPECT_EQ(r.find("squashfs_xz")->state, State::kUnknown);
  std::vector<Feature> unmet = unmet_features(r, feature_bit(Feature::kSquashfs) | feature_bit(Feature::kSquashfsXz));
  ASSERT_EQ(unmet.size(), 1u);  // unknown fails closed
  EXPECT_EQ(unmet[0], Feature::kSquashfsXz);
}

// Without /boot/config-*, the decompressors squashfs was built with are read
// from its text symbols in /proc/kallsyms: those of the module that holds
// squashfs_read_data only (a namesake in another module does not count).
TEST(Probe, CompressorsFromKallsyms) {
  TempDir root;
  std::filesystem::create_directories(root.path() + "/proc");
  root.write("proc/filesystems", "\tsquashfs\n");
  root.write("proc/kallsyms",
             "ffffffff81000000 T _stext\n"
             "ffffffff81234560 t lzo_uncompress\n"
             "ffffffffc0a00000 t squashfs_read_data\t[squashfs]\n"
             "ffffffffc0a01000 t zlib_uncompress\t[squashfs]\n"
             "ffffffffc0a02000 t squashfs_xz_uncompress\t[squashfs]\n"
             "ffffffffc0b00000 t zstd_uncompress\t[zram]\n");
  Report r = probe_running_kernel({root.path()});
  EXPECT_EQ(r.find("squashfs_gzip")->state, State::kAvailable);
  EXPECT_EQ(r.find("squashfs_gzip")->detail, "/proc/kallsyms: the squashfs decompressor ([squashfs])");
  EXPECT_EQ(r.find("squashfs_xz")->state, State::kAvailable);
  EXPECT_EQ(r.find("squashfs_lzo")->state, State::kMissing);
  EXPECT_EQ(r.find("squashfs_zstd")->state, State::kMissing);
  EXPECT_EQ(r.find("squashfs_zstd")->detail, "/proc/kallsyms: squashfs ([squashfs]) without this decompressor");
  EXPECT_EQ(r.find("squashfs_lz4")->state, State::kMissing);

  // Built in: the untagged symbols.
  root.write("proc/kallsyms",
             "ffffffff81000000 T squashfs_read_data\n"
             "ffffffff81000100 t zstd_uncompress\n"
             "ffffffffc0a01000 t zlib_uncompress\t[other]\n");
  r = probe_running_kernel({root.path()});
  EXPECT_EQ(r.find("squashfs_zstd")->state, State::kAvailable);
  EXPECT_EQ(r.find("squashfs_zstd")->detail, "/proc/kallsyms: the squashfs decompressor (built in)");
  EXPECT_EQ(r.find("squashfs_gzip")->state, State::kMissing);

  // No squashfs code in kallsyms (a module not loaded yet): still unknown.
  root.write("proc/kallsyms", "ffffffffc0a01000 t zlib_uncompress\t[squashfs]\n");
  r = probe_running_kernel({root.path()});
  utsname u;
  ASSERT_EQ(::uname(&u), 0);
  EXPECT_EQ(r.find("squashfs_gzip")->state, State::kUnknown);
  EXPECT_EQ(r.find("squashfs_gzip")->detail, "not visible on a running kernel (no /boot/config-" +
                                                 std::string(u.release) + ", no squashfs symbols in /proc/kallsyms)");
}

// Runs run_check_command with stdout captured.
int run_check(std::vector<std::string> args, std::string* out) {
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  std::fflush(stdout);
  TempDir dir;
  std::string path = dir.path() + "/out";
  int saved = ::dup(1);
  FILE* f = std::fopen(path.c_str(), "w");
  ::dup2(::fileno(f), 1);
  int rc = run_check_command(static_cast<int>(argv.size()), argv.data());
  std::fflush(stdout);
  ::dup2(saved, 1);
  ::close(saved);
  std::fclose(f);
  *out = slurp(path);
  return rc;
}

TEST(CheckCommand, TextAndJson) {
  std::string out;
  EXPECT_EQ(run_check({"check"}, &out), 0);
  EXPECT_NE(out.find("nestbox kernel-check: running kernel\n"), std::string::npos) << out;
  EXPECT_NE(out.find("Which container facilities does this kernel have? (the talk's table)"), std::string::npos);
  EXPECT_EQ(run_check({"check", "--json"}, &out), 0);
  nlohmann::json j = nlohmann::json::parse(out);
  EXPECT_EQ(j["source"], "running kernel");
  EXPECT_EQ(j["facilities"].size(), static_cast<size_t>(kFeatureCount));
  EXPECT_EQ(j["talk_table"].size(), 11u);
}

TEST(CheckCommand, Require) {
  Report r = probe_running_kernel();
  std::string out;
  // Something this machine has, and something it cannot confirm (unknown fails closed).
  EXPECT_EQ(run_check({"check", "--require", "mount_ns,pid_ns"}, &out), 0) << out;
  EXPECT_NE(out.find("required (--require): enforceable"), std::string::npos) << out;
  const char* lacking = nullptr;
  for (const FacilityStatus& s : r.facilities)
    if (!enforceable(s.state)) lacking = s.facility->name;
  if (lacking) {
    EXPECT_EQ(run_check({"check", "--require", lacking}, &out), 1) << out;
    EXPECT_NE(out.find("CANNOT BE ENFORCED"), std::string::npos);
  }
  EXPECT_EQ(run_check({"check", "--require", "0x3"}, &out), 0);
  EXPECT_EQ(run_check({"check", "--require", "warp_drive"}, &out), 2);
  EXPECT_EQ(run_check({"check", "--require", "0x8000000000000000"}, &out), 2);
  EXPECT_EQ(run_check({"check", "--bogus"}, &out), 2);
}


// io weight on cgroup v1: the weights exist only with bfq (cfq before 5.0),
// and act only on disks bfq schedules; the disks' schedulers are named.
class IoWeightProbe : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* d : {"/proc/self", "/blkio/x", "/sys/block/vda/device", "/sys/block/vda/queue",
                          "/sys/block/loop0/queue"})
      std::filesystem::create_directories(root.path() + d);
    root.write("proc/filesystems", "nodev\tcgroup\nnodev\tcgroup2\n");
    root.write("proc/self/mounts", "cgroup /blkio cgroup rw,blkio 0 0\n");
    root.write("proc/self/cgroup", "1:blkio:/x\n0::/\n");
    root.write("proc/cgroups", "#subsys_name\thierarchy\tnum_cgroups\tenabled\nblkio\t1\t1\t1\n");
    root.write("blkio/x/blkio.reset_stats", "");
    root.write("sys/block/loop0/queue/scheduler", "[none]\n");  // no device: passes I/O on
  }
  const FacilityStatus& probe() {
    report = probe_running_kernel({root.path()});
    return *report.find("io_weight");
  }
  TempDir root;
  Report report;
};

TEST_F(IoWeightProbe, NoWeightFileAndNoBfqIsUnusableNamingTheScheduler) {
  root.write("sys/block/vda/queue/scheduler", "none [mq-deadline] kyber\n");
  const FacilityStatus& s = probe();
  EXPECT_EQ(s.state, State::kUnusable);
  EXPECT_EQ(s.detail,
            "cgroup v1 blkio has no weight file: weights there need the bfq I/O scheduler (vda: mq-deadline); "
            "no disk offers bfq (CONFIG_IOSCHED_BFQ); iocost weights need the io controller on cgroup v2");
  EXPECT_EQ(s.enable, "");
  EXPECT_FALSE(enforceable(s.state));
}

TEST_F(IoWeightProbe, BfqWeightsWithoutABfqDiskAreUnusable) {
  root.write("blkio/x/blkio.bfq.weight", "100\n");
  root.write("sys/block/vda/queue/scheduler", "[mq-deadline] bfq none\n");
  const FacilityStatus& s = probe();
  EXPECT_EQ(s.state, State::kUnusable);
  EXPECT_EQ(s.detail, "/blkio/x/blkio.bfq.weight acts only on disks the bfq scheduler drives; none is here "
                      "(vda: mq-deadline); select it: echo bfq > /sys/block/DISK/queue/scheduler");
}

TEST_F(IoWeightProbe, BfqWeightsWithABfqDiskAreAvailable) {
  root.write("blkio/x/blkio.bfq.weight", "100\n");
  root.write("sys/block/vda/queue/scheduler", "mq-deadline [bfq] none\n");
  const FacilityStatus& s = probe();
  EXPECT_EQ(s.state, State::kAvailable);
  EXPECT_EQ(s.detail, "/blkio/x/blkio.bfq.weight (vda: bfq)");
}

}  // namespace
}  // namespace nestbox::kernel_check
