#include "tests/policy/test_util.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace nestbox::policy::testing {

int run_shell(const std::string& command, std::string* output) {
  // stdin a pipe of its own, never the test's: crun 1.8 fchown()s its stdio
  // to the container's user, and on the host's /dev/null (what ctest hands
  // a test) that made /dev/null uid 101000 for the whole machine.
  std::string cmd = ": | (" + command + ") 2>&1";
  FILE* f = popen(cmd.c_str(), "r");
  if (!f) return -1;
  char buf[4096];
  size_t n;
  std::string out;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  int st = pclose(f);
  if (output) *output = out;
  if (WIFEXITED(st)) return WEXITSTATUS(st);
  if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
  return -1;
}

bool make_unix_socket(const std::string& path) {
  sockaddr_un a{};
  if (path.size() >= sizeof a.sun_path) return false;
  a.sun_family = AF_UNIX;
  path.copy(a.sun_path, path.size());
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  bool bound = ::bind(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return bound;
}

void write_text(const std::string& path, const std::string& text, unsigned mode) {
  std::ofstream(path) << text;
  chmod(path.c_str(), mode);
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool make_busybox_rootfs(const std::string& dir) {
  if (access("/bin/busybox", X_OK) != 0) return false;
  mkdir(dir.c_str(), 0755);
  for (const char* d : {"/bin", "/proc", "/sys", "/dev", "/tmp", "/run", "/etc", "/srv", "/var", "/var/lib"})
    mkdir((dir + d).c_str(), 0755);
  std::string cmd = "cp /bin/busybox " + dir + "/bin/busybox && ln -s busybox " + dir + "/bin/sh";
  return run_shell(cmd, nullptr) == 0;
}

bool have_program(const std::string& name) {
  return run_shell("command -v " + name + " >/dev/null", nullptr) == 0;
}

CgroupSweep::CgroupSweep(const std::vector<std::string>& leaves) {
  // /proc/self/cgroup: "4:memory:/process_api/x", "0::/"
  std::istringstream in(read_text("/proc/self/cgroup"));
  for (std::string line; std::getline(in, line);) {
    size_t a = line.find(':'), b = line.find(':', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    std::string ctrl = line.substr(a + 1, b - a - 1), own = line.substr(b + 1);
    if (ctrl.rfind("name=", 0) == 0) ctrl = ctrl.substr(5);
    std::string mount = "/sys/fs/cgroup/" + (ctrl.empty() ? std::string("unified") : ctrl);
    if (access(mount.c_str(), F_OK) != 0) continue;
    for (const std::string& leaf : leaves) {
      std::string dir = mount + (own == "/" ? "" : own) + "/" + leaf;
      if (access(dir.c_str(), F_OK) != 0) created_.push_back(dir);
    }
  }
}

CgroupSweep::~CgroupSweep() {
  for (const std::string& d : created_) rmdir(d.c_str());
}

CgroupScope::CgroupScope(const std::string& leaf) {
  std::string own = "/";
  std::istringstream in(read_text("/proc/self/cgroup"));
  for (std::string line; std::getline(in, line);) {
    size_t a = line.find(':'), b = line.find(':', a + 1);
    if (line.substr(a + 1, b - a - 1) == "memory") own = line.substr(b + 1);
  }
  path_ = (own == "/" ? "" : own) + "/" + leaf;
  std::string out;
  run_shell("ls -d /sys/fs/cgroup/*/", &out);
  std::istringstream dirs(out);
  for (std::string h; std::getline(dirs, h);) {
    if (h.find("unified") != std::string::npos) continue;
    // Remember which ancestors exist so only new ones are removed.
    std::string root = h.substr(0, h.size() - 1);
    for (size_t pos = 1; pos != std::string::npos;) {
      pos = path_.find('/', pos);
      std::string dir = root + path_.substr(0, pos);
      if (access(dir.c_str(), F_OK) != 0) created_.push_back(dir);
      if (pos != std::string::npos) ++pos;
    }
  }
}

CgroupScope::~CgroupScope() {
  std::sort(created_.begin(), created_.end(), [](const auto& a, const auto& b) { return a.size() > b.size(); });
  for (const std::string& d : created_) rmdir(d.c_str());
}

LoopDevice::LoopDevice(const std::string& dir, const std::string& marker) {
  std::string image = dir + "/loop.img";
  write_text(image, marker + std::string(4096 - marker.size(), '\0'));
  std::string out;
  if (run_shell("losetup -f --show " + image, &out) != 0) return;
  device_ = out.substr(0, out.find('\n'));
  struct stat st;
  if (stat(device_.c_str(), &st) != 0 || !S_ISBLK(st.st_mode)) return;
  minor_ = static_cast<int>(minor(st.st_rdev));
}

LoopDevice::~LoopDevice() {
  if (!device_.empty()) run_shell("losetup -d " + device_, nullptr);
}

bool add_hostile_image(const std::string& rootfs, const LoopDevice& loop) {
  if (loop.minor_number() < 0) return false;
  std::string node = rootfs + "/loopnode";
  if (mknod(node.c_str(), S_IFBLK | 0666, makedev(7, loop.minor_number())) != 0 || chmod(node.c_str(), 0666) != 0)
    return false;
  write_text(rootfs + "/ubus.sock", "");
  write_text(rootfs + "/hostile.sh",
             "echo loopnode=$(head -c 9 /loopnode 2>/dev/null)\n"
             "echo kpageflags=$(head -c 8 /proc/kpageflags 2>/dev/null | od -An -tx1 | tr -d ' ')\n"
             "echo kpagecount=$(head -c 8 /proc/kpagecount 2>/dev/null | od -An -tx1 | tr -d ' ')\n"
             "a=$(cat /proc/irq/default_smp_affinity); (echo $a > /proc/irq/default_smp_affinity) 2>/dev/null; "
             "echo irq_rc=$?\n"
             "echo devopts=$(awk '$5==\"/dev\" {print $6}' /proc/self/mountinfo)\n"
             "mknod /tmp/blk b 7 " + std::to_string(loop.minor_number()) + " 2>/dev/null; echo mknod_rc=$?\n"
             "if [ -S /ubus.sock ]; then echo ubus=socket; else echo ubus=missing; fi\n"
             "grep ' /ubus.sock ' /proc/self/mountinfo\n"
             "exit 0\n");
  return true;
}

}  // namespace nestbox::policy::testing
