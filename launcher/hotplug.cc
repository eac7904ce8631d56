#include "launcher/hotplug.h"

#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>

#include "util/file_io.h"
#include "util/open_in_root.h"

namespace nestbox::launcher {
namespace {

constexpr const char kClassBlock[] = "/sys/class/block";

// A kernel name this code may put into a path: what the kernel makes of
// block names ('/' becomes '!').
bool plain_name(const std::string& n) {
  if (n.empty() || n.size() > 64 || n == "." || n == "..") return false;
  for (char c : n) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
              c == '_' || c == '+' || c == ':' || c == '!' || c == '-';
    if (!ok) return false;
  }
  return true;
}

bool decimal(const std::string* s, uint64_t max, uint64_t& out) {
  if (!s || s->empty() || s->size() > 20) return false;
  out = 0;
  for (char c : *s) {
    if (c < '0' || c > '9') return false;
    out = out * 10 + static_cast<uint64_t>(c - '0');
    if (out > max) return false;
  }
  return true;
}

// Subsystems of the sysfs ancestors of /sys/class/block/<name>, nearest first.
std::vector<std::string> parent_subsystems(const std::string& name) {
  std::vector<std::string> out;
  char real[PATH_MAX];
  if (!::realpath((std::string(kClassBlock) + "/" + name).c_str(), real)) return out;
  std::string dir = real;
  const std::string top = "/sys/devices/";
  while (true) {
    size_t slash = dir.rfind('/');
    if (slash == std::string::npos) break;
    dir.resize(slash);
    if (dir.size() <= top.size() || dir.compare(0, top.size(), top) != 0) break;
    char link[PATH_MAX];
    ssize_t n = ::readlink((dir + "/subsystem").c_str(), link, sizeof link - 1);
    if (n <= 0) continue;
    std::string target(link, static_cast<size_t>(n));
    out.push_back(target.substr(target.rfind('/') + 1));
  }
  return out;
}

// The devices present now, each with its first matching rule.
struct Wanted {
  dev_t dev;
  size_t rule;
};

std::map<std::string, Wanted> scan(const std::vector<policy::HotplugRule>& rules) {
  std::map<std::string, Wanted> out;
  DIR* d = ::opendir(kClassBlock);
  if (!d) return out;  // no sysfs: nothing is given
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (!plain_name(name)) continue;
    std::string base = std::string(kClassBlock) + "/" + name;
    auto text = read_file(base + "/uevent");
    if (!text.ok()) continue;  // gone meanwhile
    auto vars = parse_uevent_file(*text);
    if (!vars.ok()) continue;
    uint64_t major, minor, size;
    const std::string* devname = uevent_var(*vars, "DEVNAME");
    if (!devname || *devname != name || !decimal(uevent_var(*vars, "MAJOR"), 4095, major) ||
        !decimal(uevent_var(*vars, "MINOR"), 1048575, minor))
      continue;
    auto size_text = read_file(base + "/size");
    if (!size_text.ok()) continue;
    std::string sz = *size_text;
    while (!sz.empty() && sz.back() == '\n') sz.pop_back();
    if (!decimal(&sz, UINT64_MAX / 10, size) || size == 0) continue;  // no media
    BlockDevice dev{name, std::move(*vars), {}};
    dev.vars.emplace_back("SUBSYSTEM", "block");
    bool need_parents = false;
    for (const policy::HotplugRule& r : rules) need_parents |= !r.parent.empty();
    if (need_parents) dev.parents = parent_subsystems(name);
    for (size_t i = 0; i < rules.size(); ++i)
      if (hotplug_matches(rules[i], dev)) {
        out[name] = {makedev(static_cast<unsigned>(major), static_cast<unsigned>(minor)), i};
        break;
      }
  }
  ::closedir(d);
  return out;
}

DeviceRule cgroup_rule(dev_t dev, const policy::HotplugRule& r) {
  uint8_t access = kDevRead;
  if (r.access & policy::kHotplugWrite) access |= kDevWrite;
  return {'b', static_cast<int64_t>(::major(dev)), static_cast<int64_t>(::minor(dev)), access};
}

std::string numbers(dev_t dev) { return std::to_string(::major(dev)) + ":" + std::to_string(::minor(dev)); }

void say(const std::string& line) { std::fprintf(stderr, "nestbox-launch: hotplug: %s\n", line.c_str()); }

// Is `name` beneath `dir` still the block node of `dev`? (never following a link)
bool ours(int dir, const std::string& name, dev_t dev) {
  struct stat st;
  return ::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISBLK(st.st_mode) && st.st_rdev == dev;
}

// mkdir -p of `path` (below /dev) beneath the /dev fd, never following a link.
Result<UniqueFd> open_dir(int dev_fd, const std::string& path) {
  size_t end = 0;
  std::string below = path.size() > 5 ? path.substr(5) : "";
  UniqueFd dir = open_dirs_no_symlinks(dev_fd, below, /*create=*/true, &end);
  if (!dir) return sys_error("open " + path.substr(0, 5 + end));
  return dir;
}

}  // namespace

bool hotplug_matches(const policy::HotplugRule& r, const BlockDevice& dev) {
  if (::fnmatch(r.name.c_str(), dev.name.c_str(), FNM_PERIOD) != 0) return false;
  if (r.devtype != policy::HotplugDevtype::kAny) {
    const std::string* t = uevent_var(dev.vars, "DEVTYPE");
    const char* want = r.devtype == policy::HotplugDevtype::kDisk ? "disk" : "partition";
    if (!t || *t != want) return false;
  }
  for (const policy::HotplugProperty& p : r.properties) {
    const std::string* v = uevent_var(dev.vars, p.key);
    if (!v || ::fnmatch(p.value.c_str(), v->c_str(), 0) != 0) return false;
  }
  if (!r.parent.empty()) {
    bool found = false;
    for (const std::string& s : dev.parents) found |= s == r.parent;
    if (!found) return false;
  }
  return true;
}

Result<Hotplug> Hotplug::start(const policy::Policy& p, DeviceAccess access, UniqueFd dev_fd) {
  // The launcher's /dev tmpfs of this container (its setup opened it).
  struct statfs fs;
  struct stat st;
  if (!dev_fd || ::fstatfs(dev_fd.get(), &fs) != 0 || fs.f_type != TMPFS_MAGIC ||
      ::fstat(dev_fd.get(), &st) != 0 || !S_ISDIR(st.st_mode))
    return failure("hotplug: the container's /dev is not the launcher's tmpfs");
  NESTBOX_TRY(access.probe());
  auto socket = UeventSocket::open();
  if (!socket.ok()) return std::move(socket.error().context("hotplug"));
  Hotplug h(p, std::move(access), std::move(*socket));
  for (const policy::HotplugRule& r : p.hotplug) {
    auto dir = open_dir(dev_fd.get(), r.dir);
    if (!dir.ok()) return std::move(dir.error().context("hotplug"));
    h.dirs_.push_back(std::move(*dir));
  }
  // Listening first: a device that comes during the scan is seen again.
  NESTBOX_TRY(h.reconcile());
  return h;
}

Status Hotplug::on_readable() {
  bool look = false;
  for (int i = 0; i < 256; ++i) {  // bounded: a flood cannot starve the supervisor
    UeventSocket::Message m = socket_.receive();
    if (m.got == UeventSocket::Got::kNone) break;
    if (m.got == UeventSocket::Got::kLost) look = true;  // messages lost: sysfs tells
    if (m.got == UeventSocket::Got::kDropped) say("uevent refused: " + m.why);
    if (m.got == UeventSocket::Got::kEvent && m.event.subsystem == "block") look = true;
  }
  return look ? reconcile() : Status();
}

Status Hotplug::reconcile() {
  std::map<std::string, Wanted> want = scan(policy_->hotplug);
  // Take back first: a major:minor that moved to another device is never
  // allowed for a moment under the old name.
  for (auto it = given_.begin(); it != given_.end();) {
    auto w = want.find(it->first);
    if (w != want.end() && w->second.dev == it->second.dev && w->second.rule == it->second.rule) {
      ++it;
      continue;
    }
    NESTBOX_TRY(take_back(it->first, it->second));
    it = given_.erase(it);
  }
  for (const auto& [name, w] : want)
    if (!given_.count(name)) {
      bool fatal = false;
      Status s = give(name, w.dev, w.rule, fatal);
      if (fatal) return s;
      if (!s.ok()) say(name + " not given: " + s.error().message);
    }
  return {};
}

Status Hotplug::give(const std::string& name, dev_t dev, size_t rule, bool& fatal) {
  const policy::HotplugRule& r = policy_->hotplug[rule];
  int dir = dirs_[rule].get();
  std::string path = r.dir + "/" + name;
  // Whatever the container put under this name goes (a link, a node of its own).
  if (::unlinkat(dir, name.c_str(), 0) != 0 && errno != ENOENT) return sys_error("remove " + path);
  mode_t old = ::umask(0);
  int made = ::mknodat(dir, name.c_str(), S_IFBLK | r.mode, dev);
  ::umask(old);
  if (made != 0) return sys_error("mknod " + path);
  if (::fchownat(dir, name.c_str(), r.uid, r.gid, AT_SYMLINK_NOFOLLOW) != 0) {
    Status s = sys_error("chown " + path);
    if (ours(dir, name, dev)) ::unlinkat(dir, name.c_str(), 0);
    return s;
  }
  // In use by the host (mounted anywhere, held by dm/md, a container's
  // image)? Opened through the node just made, not following a link, and
  // checked to be it: the container may have swapped the name meanwhile.
  UniqueFd probe(::openat(dir, name.c_str(), O_RDONLY | O_EXCL | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  int err = errno;
  struct stat st;
  if (!probe || ::fstat(probe.get(), &st) != 0 || !S_ISBLK(st.st_mode) || st.st_rdev != dev) {
    if (ours(dir, name, dev)) ::unlinkat(dir, name.c_str(), 0);
    return probe ? failure(path + " was replaced") : sys_error(err == EBUSY ? "in use on the host" : "open " + path, err);
  }
  probe.reset();
  Status s = access_.allow(cgroup_rule(dev, r));
  if (!s.ok()) {
    if (ours(dir, name, dev)) ::unlinkat(dir, name.c_str(), 0);
    fatal = s.error().message.rfind("revoke", 0) == 0;  // access may be left behind
    return s;
  }
  given_[name] = {dev, rule};
  say(name + " (" + numbers(dev) + ") given as " + path + ((r.access & policy::kHotplugWrite) ? " rw" : " ro"));
  return {};
}

Status Hotplug::take_back(const std::string& name, const Given& g) {
  const policy::HotplugRule& r = policy_->hotplug[g.rule];
  Status s = access_.revoke(cgroup_rule(g.dev, r));
  if (!s.ok()) return std::move(s.error().context("revoke: " + name));
  int dir = dirs_[g.rule].get();
  if (ours(dir, name, g.dev)) ::unlinkat(dir, name.c_str(), 0);
  say(name + " (" + numbers(g.dev) + ") taken back from " + r.dir + "/" + name);
  return {};
}

}  // namespace nestbox::launcher
