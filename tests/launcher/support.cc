#include "tests/launcher/support.h"

#include <dirent.h>
#include <signal.h>
#include <fcntl.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "util/file_io.h"

namespace nestbox::launcher::testing {
namespace {

bool system_ok(const std::string& cmd) { return std::system(cmd.c_str()) == 0; }

// Removes the image directory when the test binary ends.
class Cleanup : public ::testing::Environment {
 public:
  void TearDown() override {
    if (images()) system_ok("rm -rf '" + images()->dir + "'");
  }
};
::testing::Environment* const kCleanup = ::testing::AddGlobalTestEnvironment(new Cleanup);

const char* const kApplets[] = {"sh", "true", "false", "sleep", "cat", "ls", "echo",
                                "mount", "id", "ps", "hostname", "touch", "mkdir"};

bool make_rootfs(const std::string& root, bool busybox, bool probe) {
  std::string cmd = "mkdir -p " + root + " && cd " + root +
                    " && mkdir -p bin proc sys dev tmp data mnt etc var/lib";
  if (busybox) {
    cmd += " && cp /bin/busybox bin/busybox";
    for (const char* a : kApplets) cmd += std::string(" && ln -s busybox bin/") + a;
  }
  if (probe) cmd += std::string(" && cp ") + NESTBOX_PROBE + " bin/probe";
  cmd += " && echo 'hello from the image' > etc/motd";
  return system_ok(cmd);
}

bool mksquashfs(const std::string& tree, const std::string& out) {
  return system_ok("mksquashfs " + tree + " " + out +
                   " -noappend -quiet -no-progress -all-root -noI -noD -noF -noX -processors 1 >/dev/null");
}

// The read-only images are cached between test processes (ctest runs each
// test alone), keyed by the probe's and busybox's size and mtime.
std::string cache_key() {
  struct stat a, b;
  if (::stat(NESTBOX_PROBE, &a) != 0 || ::stat("/bin/busybox", &b) != 0) return "";
  char buf[128];
  std::snprintf(buf, sizeof buf, "%llx-%llx-%llx-%llx", (unsigned long long)a.st_size,
                (unsigned long long)a.st_mtim.tv_sec * 1000000000ull + a.st_mtim.tv_nsec,
                (unsigned long long)b.st_size, (unsigned long long)b.st_mtim.tv_sec);
  return buf;
}

bool build_cache(const std::string& dir) {
  std::string tmp = dir + ".tmp-" + std::to_string(::getpid());
  system_ok("rm -rf '" + tmp + "'");
  bool ok = make_rootfs(tmp + "/tree", true, true) && mksquashfs(tmp + "/tree", tmp + "/rootfs.sqfs") &&
            make_rootfs(tmp + "/basetree", true, false) && mksquashfs(tmp + "/basetree", tmp + "/base.sqfs") &&
            make_rootfs(tmp + "/layertree", false, true) && mksquashfs(tmp + "/layertree", tmp + "/layer.sqfs");
  auto sqfs = ok ? read_file(tmp + "/rootfs.sqfs") : Result<std::string>(failure("build"));
  ok = ok && sqfs.ok() &&
       write_file_atomic(tmp + "/windowed.img", std::string(4096, 'H') + *sqfs + std::string(4096, 'T')).ok();
  if (ok && ::rename(tmp.c_str(), dir.c_str()) == 0) return true;
  system_ok("rm -rf '" + tmp + "'");
  return ::access((dir + "/windowed.img").c_str(), F_OK) == 0;  // another process won the race
}

Images* build() {
  if (::geteuid() != 0 || !system_ok("command -v mksquashfs >/dev/null") ||
      ::access(NESTBOX_PROBE, X_OK) != 0 || ::access("/bin/busybox", X_OK) != 0)
    return nullptr;
  std::string key = cache_key();
  std::string cache_root = "/var/cache/nestbox-test/launcher";
  if (key.empty() || !system_ok("mkdir -p " + cache_root)) return nullptr;
  std::string cache = cache_root + "/" + key;
  if (::access((cache + "/windowed.img").c_str(), F_OK) != 0) {
    system_ok("find " + cache_root + " -mindepth 1 -maxdepth 1 -mmin +60 -exec rm -rf {} +");  // stale keys
    if (!build_cache(cache)) return nullptr;
  }
  char tmpl[] = "/tmp/nestbox-launcher-test-XXXXXX";
  if (!::mkdtemp(tmpl)) return nullptr;
  auto* im = new Images;
  im->dir = tmpl;
  im->cache = cache;
  im->tree = cache + "/tree";
  im->squashfs = cache + "/rootfs.sqfs";
  im->windowed = cache + "/windowed.img";
  im->base = cache + "/base.sqfs";
  im->layer = cache + "/layer.sqfs";
  im->state_root = im->dir + "/run";
  struct stat st;
  if (::stat(im->squashfs.c_str(), &st) != 0) return nullptr;
  im->window_size = static_cast<uint64_t>(st.st_size);
  return im;
}

}  // namespace

const Images* images() {
  static Images* im = build();
  return im;
}

policy::Policy full_policy(const std::string& name, std::vector<std::string> argv) {
  policy::Policy p;
  p.name = name;
  p.arch = "x86_64";
  p.hostname = name + "-host";
  p.process.argv = std::move(argv);
  p.process.env = {"PATH=/bin", "HOME=/"};
  p.uid_map = {{0, 100000, 65536}};
  p.gid_map = {{0, 100000, 65536}};
  p.caps.keep = 0;
  p.cgroups.pids_max = 256;
  policy::Mount tmp;
  tmp.kind = policy::MountKind::kTmpfs;
  tmp.target = "/tmp";
  tmp.size = 1 << 20;
  tmp.mode = 01777;
  tmp.flags = policy::kMountNoexec | policy::kMountNosuid | policy::kMountNodev;
  p.mounts.push_back(tmp);
  return p;
}

RootfsSource squashfs_source() {
  RootfsSource s;
  s.kind = RootfsSource::Kind::kSquashfs;
  s.image.path = images()->squashfs;
  return s;
}

Options test_options() {
  Options o;
  o.state_root = images()->state_root;
  o.stop_timeout_ms = 2000;
  return o;
}

Background::Background(const policy::Policy& p, Options o, bool own_session) : name_(p.name) {
  out_ = images()->dir + "/" + p.name + ".out";
  pid_ = ::fork();
  if (pid_ == 0) {
    if (own_session) ::setsid();
    FILE* f = std::fopen(out_.c_str(), "w");
    o.stdout_fd = o.stderr_fd = ::fileno(f);
    auto r = run_container(p, squashfs_source(), o);
    if (!r.ok()) std::fprintf(f, "launcher error: %s\n", r.error().message.c_str());
    std::fflush(f);
    ::_exit(r.ok() ? r->exit_code : 200);
  }
}

Background::~Background() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
}

bool Background::wait_for(const std::string& line) {
  std::string last_link = images()->state_root + "/" + name_ + "/ns/cgroup";
  for (int i = 0; i < 1000; ++i) {
    auto r = read_file(out_);
    if (r.ok() && r->find(line) != std::string::npos && ::access(last_link.c_str(), F_OK) == 0) return true;
    ::usleep(10000);
  }
  return false;
}

int Background::finish() {
  int st = 0;
  ::waitpid(pid_, &st, 0);
  pid_ = -1;
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

std::string Background::main_pid() const {
  std::string init = sh("cat " + images()->state_root + "/" + name_ + "/init");
  init = init.substr(0, init.find('\n'));
  std::string children = sh("cat /proc/" + init + "/task/" + init + "/children");
  return children.substr(0, children.find(' '));
}

std::string Background::output() const {
  auto r = read_file(out_);
  return r.ok() ? *r : "";
}

Outcome run(const policy::Policy& p, const RootfsSource& src, Options o) {
  Outcome r;
  FILE* out = std::tmpfile();
  o.stdout_fd = o.stderr_fd = ::fileno(out);
  auto result = run_container(p, src, o);
  r.ok = result.ok();
  if (r.ok)
    r.result = *result;
  else
    r.error = result.error().message;
  std::rewind(out);
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, out)) > 0) r.out.append(buf, n);
  std::fclose(out);
  return r;
}

std::vector<std::string> leftovers(const std::string& name) {
  std::vector<std::string> out;
  const Images* im = images();
  auto mounts = read_file("/proc/self/mountinfo");
  std::istringstream lines(mounts.ok() ? *mounts : "");
  for (std::string line; std::getline(lines, line);)
    if (line.find(im->dir) != std::string::npos || line.find(im->cache) != std::string::npos)
      out.push_back("mount: " + line);
  std::string loops = sh("cat /sys/block/loop*/loop/backing_file 2>/dev/null");
  if (loops.find(im->dir) != std::string::npos || loops.find(im->cache) != std::string::npos)
    out.push_back("loop device: " + loops);
  std::string cgroups = sh("find /sys/fs/cgroup -maxdepth 4 -type d -name 'nestbox-" + name + "'");
  if (!cgroups.empty()) out.push_back("cgroup: " + cgroups);
  if (::access((im->state_root + "/" + name).c_str(), F_OK) == 0) out.push_back("state dir");
  // The container's processes, not another test's: ctest runs two test
  // processes at once, each with containers of its own names. A process is
  // this container's when its cgroup is, or when it descends from this test.
  std::string procs;
  std::istringstream comms(sh("grep -lx -e nestbox-init -e probe /proc/[0-9]*/comm 2>/dev/null"));
  for (std::string comm; std::getline(comms, comm);) {
    std::string dir = comm.substr(0, comm.rfind('/'));
    auto cgroup = read_file(dir + "/cgroup");
    bool ours = cgroup.ok() && (cgroup->find("/nestbox-" + name + "\n") != std::string::npos ||
                                cgroup->find("/nestbox-" + name + "/") != std::string::npos);
    for (pid_t pid = static_cast<pid_t>(std::atol(dir.c_str() + 6)); !ours && pid > 1;) {
      if (pid == ::getpid()) ours = true;
      auto stat = read_file("/proc/" + std::to_string(pid) + "/stat");  // "pid (comm) state ppid ..."
      size_t close = stat.ok() ? stat->rfind(')') : std::string::npos;
      if (close == std::string::npos) break;
      pid = static_cast<pid_t>(std::atol(stat->c_str() + close + 4));
    }
    if (ours) procs += comm + "\n";
  }
  if (!procs.empty()) out.push_back("processes: " + procs);
  return out;
}

std::vector<uint8_t> test_seccomp_bpf() {
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
  seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(getpriority), 0);
  seccomp_rule_add(ctx, SCMP_ACT_KILL_PROCESS, SCMP_SYS(getpgid), 0);
  int fd = ::memfd_create("bpf", 0);
  seccomp_export_bpf(ctx, fd);
  seccomp_release(ctx);
  off_t size = ::lseek(fd, 0, SEEK_END);
  std::vector<uint8_t> bpf(static_cast<size_t>(size));
  ::pread(fd, bpf.data(), bpf.size(), 0);
  ::close(fd);
  return bpf;
}

std::string sh(const std::string& command) {
  FILE* p = ::popen(command.c_str(), "r");
  std::string out;
  char buf[4096];
  size_t n;
  while (p && (n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  if (p) ::pclose(p);
  return out;
}

}  // namespace nestbox::launcher::testing
