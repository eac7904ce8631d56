// Every example runs under crun and runc on a busybox rootfs, and the declared
// isolation is observable from inside: hostname, pid 1, user, capabilities,
// read-only root, mounts, seccomp.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <nlohmann/json.hpp>

#include "manifests/effective_seccomp.h"
#include "manifests/manifest.h"
#include "policy/oci.h"
#include "tests/policy/test_util.h"

namespace nestbox::policy {
namespace {

namespace m = manifests;
using json = nlohmann::json;

const std::string kSource = NESTBOX_SOURCE_DIR;

const char* kProbe =
    "B=/bin/busybox\n"
    "echo hostname=$($B hostname)\n"
    "echo pid=$$\n"
    "echo uid=$($B id -u) gid=$($B id -g)\n"
    "$B grep CapEff /proc/self/status\n"
    "echo rootopts=$($B awk '$5==\"/\" {print $6}' /proc/self/mountinfo)\n"
    "$B cat /proc/mounts\n"
    "echo seccomp=$($B grep Seccomp: /proc/self/status | $B tr -d '\\t')\n"
    "$B mkdir /tmp/probe-dir; echo mkdir_rc=$?\n"
    "if $B unshare -U $B true 2>/dev/null; then echo userns=made; else echo userns=refused; fi\n";

// What the busybox probe shell needs beyond what the examples' own programs use.
const char* kProbeSyscalls[] = {"clone", "clone3", "fork", "vfork", "wait4", "pipe", "pipe2", "dup", "dup3",
                                "getpgrp", "setpgid", "prctl", "getrlimit", "prlimit64", "sysinfo",
                                "readlink", "fchdir", "umask", "faccessat", "faccessat2", "rt_sigsuspend",
                                // untrusted-app's list is httpd's, learned: the shell and its
                                // applets (id, hostname, awk, grep, cat) need these too.
                                "uname", "getpid", "getppid", "gettid", "geteuid", "getegid", "fstat", "stat",
                                "statx", "lseek", "ioctl", "fcntl", "getdents64", "munmap", "rt_sigprocmask",
                                "rt_sigreturn", "open", "poll", "readv", "writev", "exit", "nanosleep",
                                "clock_gettime"};

// What runc 1.1's own init calls after loading the filter and before execve:
// fstatfs, and the Go runtime's background calls (futex, nanosleep, signals,
// memory) — docs/oci.md. An allow-list policy that omits them fails under runc,
// intermittently for the Go runtime ones.
const char* kRuncSyscalls[] = {"fstatfs", "futex", "nanosleep", "sched_yield", "tgkill", "sigaltstack",
                               "madvise", "mmap", "munmap", "rt_sigaction", "rt_sigprocmask", "rt_sigreturn",
                               "gettid", "getpid", "epoll_pwait", "epoll_ctl", "close", "read", "write",
                               "fcntl", "getdents64", "execve", "openat", "newfstatat", "exit_group", "exit"};

std::string hex16(uint64_t v) {
  char buf[32];
  snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

class ExampleRun : public ::testing::TestWithParam<std::tuple<const char*, const char*>> {};

TEST_P(ExampleRun, DeclaredIsolationIsObservable) {
  auto [example, runtime] = GetParam();
  if (!testing::have_program(runtime)) GTEST_SKIP() << runtime << " is not installed (scripts/install-deps.sh)";
  auto man = m::load_file(kSource + "/examples/" + example + ".toml");
  ASSERT_TRUE(man.ok()) << man.error().message;
  testing::TempDir dir;
  chmod(dir.path().c_str(), 0755);  // user-namespaced roots must reach the bundle
  std::string bundle = dir.path() + "/bundle";
  mkdir(bundle.c_str(), 0755);
  if (!testing::make_busybox_rootfs(bundle + "/rootfs")) GTEST_SKIP() << "busybox-static is not installed";
  testing::write_text(bundle + "/rootfs/probe.sh", kProbe);
  // The composer puts every mount point into the image: a read-only or
  // user-namespaced root cannot create them at run time.
  for (const m::StorageMount& s : man->mounts.storage)
    testing::run_shell("mkdir -p " + bundle + "/rootfs" + s.target, nullptr);

  std::string id = "nbtest-" + std::to_string(getpid()) + "-" + example + "-" + runtime;
  testing::CgroupScope cg(id);
  OciOptions opts;
  opts.cgroups_path = cg.path();
  auto text = oci_config(*man, opts);
  ASSERT_TRUE(text.ok()) << text.error().message;
  json c = json::parse(*text);
  // The integrator's part: the probe instead of the real program, staged
  // storage, and what this host lacks.
  c["process"]["args"] = {"/bin/busybox", "sh", "/probe.sh"};
  for (auto& mt : c["mounts"]) {
    std::string src = mt["source"];
    if (man->ipc.ubus && src == man->ipc.socket) {
      // This host has no ubusd: a socket of the test's, and the empty file
      // compose makes at the target.
      std::string sock = dir.path() + "/ubus.sock";
      ASSERT_TRUE(testing::make_unix_socket(sock)) << sock;
      std::string target = bundle + "/rootfs" + std::string(mt["destination"]);
      testing::run_shell("mkdir -p $(dirname " + target + ") && touch " + target, nullptr);
      mt["source"] = sock;
      continue;
    }
    if (src.rfind("/run/nestbox/", 0) == 0) {
      std::string staged = dir.path() + "/staged-" + std::to_string(&mt - &c["mounts"][0]);
      mkdir(staged.c_str(), 0777);
      mt["source"] = staged;
    }
  }
  if (access("/sys/fs/cgroup/blkio/blkio.weight", F_OK) != 0 &&
      access("/sys/fs/cgroup/blkio/blkio.bfq.weight", F_OK) != 0)
    c["linux"]["resources"].erase("blockIO");
  if (c["linux"].contains("seccomp")) {
    for (auto& rule : c["linux"]["seccomp"]["syscalls"])
      if (rule["action"] == "SCMP_ACT_ALLOW")
        for (const char* s : kProbeSyscalls) rule["names"].push_back(s);
    if (std::string(runtime) == "runc")
      for (auto& rule : c["linux"]["seccomp"]["syscalls"])
        if (rule["action"] == "SCMP_ACT_ALLOW")
          for (const char* s : kRuncSyscalls) rule["names"].push_back(s);
  }
  testing::write_text(bundle + "/config.json", c.dump(2));

  std::string state = dir.path() + "/state";
  std::string cmd = std::string("unshare -m --propagation private sh -c 'umount /sys/fs/cgroup/unified 2>/dev/null; "
                                "exec timeout 60 ") + runtime + " --root " + state + " run --bundle " + bundle + " " + id + "'";
  std::string out;
  int rc = testing::run_shell(cmd, &out);
  testing::run_shell(std::string(runtime) + " --root " + state + " delete -f " + id + " >/dev/null 2>&1", nullptr);
  ASSERT_EQ(rc, 0) << out;

  std::string host = man->namespaces.hostname.empty() ? man->name : man->namespaces.hostname;
  EXPECT_NE(out.find("hostname=" + host + "\n"), std::string::npos) << out;
  EXPECT_NE(out.find("pid=1\n"), std::string::npos) << out;
  EXPECT_NE(out.find("uid=" + std::to_string(man->process.uid) + " gid=" + std::to_string(man->process.gid) + "\n"),
            std::string::npos) << out;
  EXPECT_NE(out.find("CapEff:\t" + hex16(man->security.capability_mask) + "\n"), std::string::npos) << out;
  EXPECT_NE(out.find(man->rootfs.read_only ? "rootopts=ro," : "rootopts=rw,"), std::string::npos) << out;
  for (const m::TmpfsMount& t : man->mounts.tmpfs)
    EXPECT_NE(out.find(" " + t.target + " tmpfs rw,nosuid,nodev,noexec"), std::string::npos) << t.target << "\n" << out;
  for (const m::StorageMount& s : man->mounts.storage)
    EXPECT_NE(out.find(" " + s.target + " "), std::string::npos) << s.target << "\n" << out;
  if (man->mounts.sys == m::SysMode::kNone) {
    EXPECT_EQ(out.find(" /sys sysfs "), std::string::npos) << out;
  }
  if (man->mounts.sys == m::SysMode::kReadOnly) {
    EXPECT_NE(out.find(" /sys sysfs ro,"), std::string::npos) << out;
  }
  EXPECT_NE(out.find(m::effective_seccomp(*man).enabled ? "seccomp=Seccomp:2\n" : "seccomp=Seccomp:0\n"), std::string::npos) << out;
  // In the host's user namespace no user namespace of its own to make
  // (manifests/effective_seccomp.h): the NAS example holds CAP_DAC_OVERRIDE
  // and CAP_SETUID in the host's.
  if (m::shares_host_user_namespace(*man)) {
    EXPECT_NE(out.find("userns=refused\n"), std::string::npos) << out;
  }
  // mkdir is not in any example's allow list: a default errno shows up as that errno.
  if (man->seccomp.enabled && man->seccomp.default_action == m::SeccompAction::kErrno) {
    EXPECT_NE(out.find(strerror(man->seccomp.default_errno)), std::string::npos) << out;
  }
}

INSTANTIATE_TEST_SUITE_P(Examples, ExampleRun,
                         ::testing::Combine(::testing::Values("dns", "nas", "untrusted-app"),
                                            ::testing::Values("crun", "runc")),
                         [](const auto& info) {
                           std::string n = std::string(std::get<0>(info.param)) + "_" + std::get<1>(info.param);
                           for (char& ch : n)
                             if (ch == '-') ch = '_';
                           return n;
                         });

}  // namespace
}  // namespace nestbox::policy
