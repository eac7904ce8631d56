#include "launcher/cgroups.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "policy/cgroup_v1.h"
#include "util/fd.h"
#include "util/file_io.h"
#include "util/io_schedulers.h"
#include "util/pidfd.h"

namespace nestbox::launcher {
namespace {

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t i = 0;
  while (true) {
    size_t j = s.find(sep, i);
    out.push_back(s.substr(i, j == std::string::npos ? std::string::npos : j - i));
    if (j == std::string::npos) return out;
    i = j + 1;
  }
}

bool has(const std::string& list, const std::string& item, char sep = ',') {
  for (const std::string& s : split(list, sep))
    if (s == item) return true;
  return false;
}

struct Hierarchy {
  bool v2 = false;
  std::string controllers;  // v1 controller list ("memory"); v2: available controllers
  std::string mount;        // mount point
  std::string own;          // this process's cgroup path in it
};

// The kernel has cgroup2 ("nodev\tcgroup2" in /proc/filesystems).
bool kernel_has_cgroup2() {
  auto fs = read_file("/proc/filesystems");
  if (!fs.ok()) return false;
  for (const std::string& line : split(*fs, '\n'))
    if (line.size() > 8 && line.compare(line.size() - 8, 8, "\tcgroup2") == 0) return true;
  return false;
}

// The hierarchies this process belongs to, with their mount points. The
// unified one, when the kernel has it but it is not mounted here, is left
// out and its path for this process put in `unmounted_v2`.
std::vector<Hierarchy> discover(std::optional<std::string>* unmounted_v2) {
  std::vector<Hierarchy> out;
  auto self = read_file("/proc/self/cgroup");
  auto info = read_file("/proc/self/mountinfo");
  if (!self.ok() || !info.ok()) return out;
  for (const std::string& line : split(*self, '\n')) {
    std::vector<std::string> f = split(line, ':');
    // Named v1 hierarchies (name=systemd) too: a container left in the
    // launcher's cgroup of any hierarchy could mount it (seal() below).
    if (f.size() < 3 || (f[1].empty() && f[0] != "0")) continue;
    Hierarchy h;
    h.v2 = f[1].empty();
    h.controllers = f[1];
    h.own = line.substr(f[0].size() + f[1].size() + 2);
    for (const std::string& m : split(*info, '\n')) {
      size_t dash = m.find(" - ");
      if (dash == std::string::npos) continue;
      std::vector<std::string> left = split(m.substr(0, dash), ' ');
      std::vector<std::string> right = split(m.substr(dash + 3), ' ');
      if (left.size() < 5 || right.size() < 3) continue;
      bool match = h.v2 ? right[0] == "cgroup2"
                        : right[0] == "cgroup" && has(right[2], split(h.controllers, ',')[0]);
      if (match) h.mount = left[4];
    }
    // An unmounted v1 hierarchy is kept (create() refuses it); an unmounted
    // unified one (a pure v1 host has one, never mounted; a hybrid one
    // without /sys/fs/cgroup/unified) gets a private mount (create()).
    if (h.mount.empty() && h.v2) {
      if (kernel_has_cgroup2()) *unmounted_v2 = h.own;
      continue;
    }
    if (h.v2) {
      auto c = read_file(h.mount + h.own + "/cgroup.controllers");
      h.controllers = c.ok() ? *c : "";
      while (!h.controllers.empty() && h.controllers.back() == '\n') h.controllers.pop_back();
    }
    out.push_back(h);
  }
  return out;
}

Status write_to(const std::string& path, const std::string& value) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd) return sys_error("open " + path);
  if (::write(fd.get(), value.data(), value.size()) < 0)
    return sys_error("write '" + value + "' to " + path);
  return {};
}

std::string trimmed(const std::string& path) {
  auto r = read_file(path);
  if (!r.ok()) return "";
  std::string s = *r;
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

uint64_t stat_value(const std::string& path, const std::string& key) {
  auto r = read_file(path);
  if (!r.ok()) return 0;
  for (const std::string& line : split(*r, '\n'))
    if (line.rfind(key + " ", 0) == 0) return std::strtoull(line.c_str() + key.size() + 1, nullptr, 10);
  return 0;
}

// The owner of every directory and file of a container's cgroups
// ((uid_t)-2, root's group stays out too): not root, no id a policy runs as
// (check_policy) and not one a container can map into a user namespace of
// its own, which may map only its own uid. A container whose processes are
// the host's uid 0 (no user namespace, no capabilities) is otherwise the
// owner of these files: it mounts its hierarchies from a nested user, mount
// and cgroup namespace (cgroup and cgroup2 may be mounted there) and rewrites
// pids.max, memory.limit_in_bytes, freezer.state, makes sub-cgroups, moves
// itself. Owned by this id, with modes 0644/0755, every write and mkdir
// needs CAP_DAC_OVERRIDE over an id the container cannot map.
constexpr uid_t kSealedId = kCgroupOwner;

Status seal(const std::string& dir) {
  if (dir.empty()) return failure("seal: no path to the cgroup");
  UniqueFd d(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!d) return sys_error("open " + dir);
  if (::fchown(d.get(), kSealedId, kSealedId) != 0) return sys_error("chown " + dir);
  DIR* list = ::fdopendir(::dup(d.get()));
  if (!list) return sys_error("list " + dir);
  Status result;
  while (dirent* e = ::readdir(list)) {
    if (e->d_name[0] == '.' && (e->d_name[1] == 0 || (e->d_name[1] == '.' && e->d_name[2] == 0))) continue;
    if (::fchownat(d.get(), e->d_name, kSealedId, kSealedId, AT_SYMLINK_NOFOLLOW) != 0) {
      result = sys_error("chown " + dir + "/" + e->d_name);
      break;
    }
  }
  ::closedir(list);
  return result;
}

void sleep_ms(int ms) {
  timespec ts{ms / 1000, (ms % 1000) * 1000000L};
  ::nanosleep(&ts, nullptr);
}

// A process named by `text`, a line of cgroup.procs, pinned: a pidfd, or
// before 5.3 an fd of its /proc directory (pidfd_send_signal takes either,
// 5.1). Invalid when it is gone or cannot be pinned.
UniqueFd pin_listed(const std::string& text) {
  if (text.empty() || text.size() > 10 || text.find_first_not_of("0123456789") != std::string::npos) return {};
  long pid = std::strtol(text.c_str(), nullptr, 10);
  if (pid <= 0 || pid > INT32_MAX) return {};
  UniqueFd fd = pidfd_open(static_cast<pid_t>(pid));
  if (!fd && errno == ENOSYS) fd.reset(::open(("/proc/" + text).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  return fd;
}

// SIGKILLs what the cgroup.procs file `procs` lists, never a process that
// got a listed pid after the listed one was gone (reaped: by the container's
// init, or by `exec` outside it) — a host process or another container's. Each
// listed pid is pinned first, the file is read again, and a pinned process
// is signalled through its pin only if its pid is still listed: a pinned
// process that is still there when signalled held its pid throughout, so
// the second listing named it; one that is gone gets nothing. A pid that
// cannot be pinned is never signalled by number (the next round, or
// cgroup.kill, gets it). In batches: every pin is a descriptor.
void kill_listed(const std::string& procs) {
  constexpr size_t kBatch = 256;
  std::vector<std::string> listed = split(trimmed(procs), '\n');
  for (size_t at = 0; at < listed.size(); at += kBatch) {
    std::vector<std::pair<std::string, UniqueFd>> pinned;
    for (size_t i = at; i < std::min(listed.size(), at + kBatch); ++i)
      if (UniqueFd fd = pin_listed(listed[i])) pinned.emplace_back(listed[i], std::move(fd));
    if (pinned.empty()) continue;
    std::vector<std::string> still = split(trimmed(procs), '\n');
    for (const auto& [pid, fd] : pinned)
      if (std::find(still.begin(), still.end(), pid) != still.end()) (void)pidfd_signal(fd.get(), SIGKILL);
  }
}

// A pids controller the container's limit can be written to: v2's (on
// offer in the unified hierarchy) or a v1 hierarchy's.
bool has_pids_controller(const std::vector<Hierarchy>& hs) {
  for (const Hierarchy& h : hs)
    if (h.v2 ? has(h.controllers, "pids", ' ') : has(h.controllers, "pids")) return true;
  return false;
}

struct Need {
  const char* v2;
  const char* v1;
};

// A v1 cpuset accepts no task until both masks are set, and a new one starts
// with them empty: each level of a configured parent made below `mount`
// gets its parent's masks (kept where already set).
Status fill_cpusets(const std::string& mount, const std::string& base) {
  for (size_t at = base.find('/', mount.size() + 1); ; at = base.find('/', at + 1)) {
    std::string level = base.substr(0, at), up = level.substr(0, level.rfind('/'));
    for (const char* mask : {"/cpuset.cpus", "/cpuset.mems"})
      if (trimmed(level + mask).empty()) NESTBOX_TRY(write_to(level + mask, trimmed(up + mask)));
    if (at == std::string::npos) return {};
  }
}

// An io_weight no scheduler here honours (docs/manifest.md): refused, or with
// io_weight_best_effort, skipped with a warning. `why` names the disks'
// schedulers: whether weights act is decided by them at run time.
Status io_weight_unusable(const policy::Cgroups& l, const std::string& why) {
  if (l.io_weight_best_effort) {
    std::fprintf(stderr, "nestbox-launch: warning: io_weight %u not enforced (io_weight_best_effort): %s\n",
                 l.io_weight, why.c_str());
    return {};
  }
  return failure("io_weight: cannot be enforced on this host: " + why +
                 "; set cgroups.io_weight_best_effort = true to start without it");
}

// bfq's weights (and cfq's blkio.weight on old kernels) act only on disks
// that scheduler drives; iocost's io.weight acts on every disk.
Status apply_io_weight(const std::string& d, const policy::Cgroups& l, bool v2) {
  std::vector<DiskScheduler> disks = disk_schedulers();
  bool bfq = any_disk_uses(disks, "bfq"), cfq = any_disk_uses(disks, "cfq");
  std::string bfq_weight = std::to_string(std::clamp<uint32_t>(l.io_weight / 10, 1, 1000));
  if (v2) {
    if (write_to(d + "/io.weight", "default " + std::to_string(l.io_weight)).ok()) return {};
    if (bfq && write_to(d + "/io.bfq.weight", bfq_weight).ok()) return {};
    return io_weight_unusable(l, d + " has no io.weight (iocost) and no disk uses bfq (" + describe(disks) + ")");
  }
  std::string w = std::to_string(policy::blkio_weight_from_io_weight(l.io_weight));
  if ((bfq || cfq) && write_to(d + "/blkio.weight", w).ok()) return {};
  if (bfq && write_to(d + "/blkio.bfq.weight", w).ok()) return {};
  return io_weight_unusable(l, "cgroup v1 blkio weights need the bfq I/O scheduler, which no disk uses (" +
                                   describe(disks) + ")");
}

// Limits of the controllers the v2 hierarchy has (`on`); the rest go to v1.
Status apply_v2(const std::string& d, policy::Cgroups l, const std::string& on) {
  auto has_v2 = [&](const char* c) { return has(on, c, ' '); };
  if (!has_v2("memory")) l.memory_max = 0, l.memory_swap_max.reset();
  if (!has_v2("cpu")) l.cpu_weight = 0, l.cpu_quota_us = 0;
  if (!has_v2("pids")) l.pids_max = 0;
  if (!has_v2("io")) l.io_weight = 0;
  if (!has_v2("cpuset")) l.cpuset_cpus.clear(), l.cpuset_mems.clear();
  if (l.memory_max) NESTBOX_TRY(write_to(d + "/memory.max", std::to_string(l.memory_max)));
  if (l.memory_swap_max) {  // 0 is "no swap", a limit like any other
    if (::access((d + "/memory.swap.max").c_str(), F_OK) != 0)
      return failure("memory_swap_max: memory.swap.max is not available (no swap accounting: CONFIG_MEMCG_SWAP)");
    NESTBOX_TRY(write_to(d + "/memory.swap.max", std::to_string(*l.memory_swap_max)));
  } else if (l.memory_max && ::access((d + "/memory.swap.max").c_str(), F_OK) == 0) {
    NESTBOX_TRY(write_to(d + "/memory.swap.max", "0"));  // unset: no swap where it is accounted
  }
  if (l.cpu_weight) NESTBOX_TRY(write_to(d + "/cpu.weight", std::to_string(l.cpu_weight)));
  if (l.cpu_quota_us)
    NESTBOX_TRY(write_to(d + "/cpu.max", std::to_string(l.cpu_quota_us) + " " +
                                             std::to_string(l.cpu_period_us)));
  if (l.pids_max) NESTBOX_TRY(write_to(d + "/pids.max", std::to_string(l.pids_max)));
  if (l.io_weight) NESTBOX_TRY(apply_io_weight(d, l, true));
  if (!l.cpuset_cpus.empty()) NESTBOX_TRY(write_to(d + "/cpuset.cpus", l.cpuset_cpus));
  if (!l.cpuset_mems.empty()) NESTBOX_TRY(write_to(d + "/cpuset.mems", l.cpuset_mems));
  return {};
}

Status apply_v1(const std::string& d, const std::string& ctrl, const std::string& parent,
                const policy::Cgroups& l) {
  if (ctrl == "memory") {
    if (l.memory_max)
      NESTBOX_TRY(write_to(d + "/memory.limit_in_bytes", std::to_string(l.memory_max)));
    // v1 limits memory + swap together: memsw = memory_max + swap (0: no swap).
    bool memsw = ::access((d + "/memory.memsw.limit_in_bytes").c_str(), F_OK) == 0;
    if (l.memory_swap_max) {
      if (!l.memory_max) return bad_input("memory_swap_max needs memory_max on cgroup v1");
      if (!memsw)
        return failure("memory_swap_max: memory.memsw.limit_in_bytes is not available "
                       "(no swap accounting: CONFIG_MEMCG_SWAP, swapaccount=1)");
      // A wrapped sum would be a swap limit below the memory limit: refuse it.
      auto limit = policy::memory_plus_swap(l.memory_max, *l.memory_swap_max);
      if (!limit)
        return bad_input("memory_max " + std::to_string(l.memory_max) + " + memory_swap_max " +
                         std::to_string(*l.memory_swap_max) + " exceeds 9223372036854775807 bytes");
      NESTBOX_TRY(write_to(d + "/memory.memsw.limit_in_bytes", std::to_string(*limit)));
    } else if (l.memory_max && memsw) {
      NESTBOX_TRY(write_to(d + "/memory.memsw.limit_in_bytes", std::to_string(l.memory_max)));
    }
  } else if (ctrl == "cpu") {
    if (l.cpu_weight) NESTBOX_TRY(write_to(d + "/cpu.shares", std::to_string(policy::cpu_shares_from_weight(l.cpu_weight))));
    if (l.cpu_quota_us) {
      NESTBOX_TRY(write_to(d + "/cpu.cfs_period_us", std::to_string(l.cpu_period_us)));
      NESTBOX_TRY(write_to(d + "/cpu.cfs_quota_us", std::to_string(l.cpu_quota_us)));
    }
  } else if (ctrl == "pids") {
    if (l.pids_max) NESTBOX_TRY(write_to(d + "/pids.max", std::to_string(l.pids_max)));
  } else if (ctrl == "blkio") {
    return apply_io_weight(d, l, false);
  } else if (ctrl == "cpuset") {
    // A v1 cpuset accepts no task until both masks are set.
    std::string cpus = l.cpuset_cpus.empty() ? trimmed(parent + "/cpuset.cpus") : l.cpuset_cpus;
    std::string mems = l.cpuset_mems.empty() ? trimmed(parent + "/cpuset.mems") : l.cpuset_mems;
    NESTBOX_TRY(write_to(d + "/cpuset.cpus", cpus));
    NESTBOX_TRY(write_to(d + "/cpuset.mems", mems));
  }
  return {};
}

}  // namespace

Result<Cgroup> Cgroup::create(const std::string& name, const std::string& parent,
                              const policy::Cgroups& limits) {
  std::optional<std::string> unmounted_v2;
  std::vector<Hierarchy> hs = discover(&unmounted_v2);
  policy::Cgroups l = limits;
  if (!l.pids_max && has_pids_controller(hs)) l.pids_max = kDefaultPidsMax;
  // The container could mount it from a nested user namespace and reach the
  // launcher's cgroup in it (the comment above seal()); a directory of its
  // own there needs the mount.
  for (const Hierarchy& h : hs)
    if (h.mount.empty())
      return failure("cgroup hierarchy '" + h.controllers + "' is not mounted here (/proc/self/mountinfo): the "
                     "container would be left in the launcher's cgroup of it; mount it");
  std::vector<Need> needs;
  if (l.memory_max || l.memory_swap_max) needs.push_back({"memory", "memory"});
  if (l.cpu_weight || l.cpu_quota_us) needs.push_back({"cpu", "cpu"});
  if (l.pids_max) needs.push_back({"pids", "pids"});
  if (l.io_weight) needs.push_back({"io", "blkio"});
  if (!l.cpuset_cpus.empty() || !l.cpuset_mems.empty()) needs.push_back({"cpuset", "cpuset"});

  const Hierarchy* v2 = nullptr;
  for (const Hierarchy& h : hs)
    if (h.v2) v2 = &h;
  Cgroup cg({}, true);
  auto make = [&](const Hierarchy& h, const std::string& ctrl) -> Result<std::string> {
    // parent: "" = our own cgroup, "a/b" = beneath it, "/a/b" = from the root.
    std::string base = h.mount + (parent.empty() || parent[0] != '/' ? h.own : "");
    if (!parent.empty()) {
      if (parent.find("..") != std::string::npos) return bad_input("cgroup parent '" + parent + "': '..'");
      base += (base.back() == '/' || parent[0] == '/' ? "" : "/") + parent;
      NESTBOX_TRY_CTX(make_dirs(base, 0755), "create cgroup");
      if (has(h.controllers, "cpuset")) NESTBOX_TRY(fill_cpusets(h.mount, base));
    }
    std::string dir = base + (base.back() == '/' ? "" : "/") + "nestbox-" + name;
    ::rmdir(dir.c_str());  // a stale, empty one from a crashed launcher
    if (::mkdir(dir.c_str(), 0755) != 0)
      return sys_error("create cgroup " + dir + (errno == EEXIST ? " (container already running?)" : ""));
    cg.dirs_.push_back({dir, h.v2, ctrl});
    return base;
  };
  if (v2) {  // the unified hierarchy tracks, freezes and kills even on hybrid hosts
    auto base = make(*v2, "");
    if (!base.ok()) return std::move(base).error();
    for (const Need& n : needs) {
      if (!has(v2->controllers, n.v2, ' ')) continue;
      NESTBOX_TRY(write_to(*base + "/cgroup.subtree_control", std::string("+") + n.v2));
    }
    NESTBOX_TRY(apply_v2(cg.dirs_.back().path, l, v2->controllers));
  }
  bool tracked = v2 != nullptr;
  for (const Need& n : needs) {
    if (v2 && has(v2->controllers, n.v2, ' ')) continue;
    const Hierarchy* h = nullptr;
    for (const Hierarchy& c : hs)
      if (!c.v2 && has(c.controllers, n.v1)) h = &c;
    if (!h && std::strcmp(n.v1, "blkio") == 0) {
      NESTBOX_TRY(io_weight_unusable(l, "no io or blkio cgroup controller"));
      continue;
    }
    if (!h) return failure(std::string("cgroup controller '") + n.v1 + "' is not available");
    auto base = make(*h, n.v1);
    if (!base.ok()) return std::move(base).error();
    NESTBOX_TRY(apply_v1(cg.dirs_.back().path, n.v1, *base, l));
    tracked = true;
  }
  auto add_v1 = [&](const char* ctrl) -> Status {
    for (const CgroupDir& d : cg.dirs_)
      if (d.controllers == ctrl) return {};
    for (const Hierarchy& c : hs)
      if (!c.v2 && has(c.controllers, ctrl)) {
        auto base = make(c, ctrl);
        if (!base.ok()) return std::move(base).error();
        tracked = true;
        break;
      }
    return {};
  };
  if (!v2 && l.freezer) NESTBOX_TRY(add_v1("freezer"));  // pure v1: freeze with the freezer
  NESTBOX_TRY(add_v1("devices"));  // the device allow-list (devices.h), where v1 has it
  if (!tracked) NESTBOX_TRY(add_v1("pids"));             // and enumerate with pids
  if (!tracked) return failure("no cgroup hierarchy found (is /sys/fs/cgroup mounted?)");
  // A directory of its own in every other hierarchy too: the container's
  // cgroup namespace is rooted where its processes are, so one left in the
  // launcher's cgroup of a hierarchy (on a hybrid host: cpu, cpuset,
  // freezer, blkio, name=systemd, often the root) mounts that hierarchy from
  // a nested user namespace and reaches the host's cgroups in it (freezes
  // them, moves itself).
  for (const Hierarchy& c : hs) {
    if (c.v2) continue;
    bool made = false;
    for (const CgroupDir& d : cg.dirs_)
      for (const std::string& one : split(c.controllers, ','))
        made = made || (!d.v2 && d.controllers == one);
    if (made) continue;
    auto base = make(c, c.controllers);
    if (!base.ok()) return std::move(base).error();
    if (has(c.controllers, "cpuset")) NESTBOX_TRY(apply_v1(cg.dirs_.back().path, "cpuset", *base, policy::Cgroups{}));
  }
  // The unified hierarchy where it is not mounted here: the container's
  // processes would stay in the launcher's cgroup of it, and a container
  // that mounts cgroup2 from a nested user and cgroup namespace would find
  // that cgroup (often the root) as its own. It is mounted for this process
  // alone (never in the host's mount namespace), and the container gets its
  // own, sealed directory there like everywhere else; without that mount,
  // no start.
  if (unmounted_v2) {
    auto mounted = DetachedMount::create("cgroup2");
    if (!mounted.ok())
      return std::move(mounted.error().context(
          "cgroup2 is not mounted here and cannot be mounted privately; the container would be left in the "
          "launcher's cgroup of it: mount cgroup2 (e.g. on /sys/fs/cgroup/unified)"));
    cg.private_v2_ = std::move(*mounted);
    Hierarchy h{.v2 = true, .controllers = "", .mount = cg.private_v2_->path(), .own = *unmounted_v2};
    auto base = make(h, "");
    if (!base.ok()) return std::move(base).error();
    CgroupDir& d = cg.dirs_.back();
    d.path = d.path.substr(h.mount.size());
    d.v2 = false;
    d.unmounted_v2 = true;
  }
  for (const CgroupDir& d : cg.dirs_) NESTBOX_TRY(seal(cg.at(d)));
  return cg;
}

Cgroup Cgroup::attach(std::vector<CgroupDir> dirs) {
  Cgroup cg(std::move(dirs), false);
  cg.mount_private_v2();
  return cg;
}

Cgroup Cgroup::adopt(std::vector<CgroupDir> dirs) {
  Cgroup cg(std::move(dirs), true);
  cg.mount_private_v2();
  return cg;
}

void Cgroup::mount_private_v2() {
  if (std::none_of(dirs_.begin(), dirs_.end(), [](const CgroupDir& d) { return d.unmounted_v2; })) return;
  auto mounted = DetachedMount::create("cgroup2");
  if (mounted.ok())
    private_v2_ = std::move(*mounted);
  else
    private_v2_error_ = mounted.error().message;
}

std::string Cgroup::at(const CgroupDir& d) const {
  if (!d.unmounted_v2) return d.path;
  return private_v2_ ? private_v2_->path() + d.path : "";
}

Cgroup::Cgroup(Cgroup&& o) noexcept
    : dirs_(std::move(o.dirs_)),
      owned_(std::exchange(o.owned_, false)),
      private_v2_(std::move(o.private_v2_)),
      private_v2_error_(std::move(o.private_v2_error_)) {}

Cgroup::~Cgroup() {
  if (owned_) remove();
}

Result<Cgroup> Cgroup::sub(const std::string& leaf) const {
  for (const CgroupDir& d : dirs_) {
    if (!d.v2 && !d.unmounted_v2) continue;
    Cgroup s({CgroupDir{d.path + "/" + leaf, d.v2, "", d.unmounted_v2}}, false);
    s.mount_private_v2();
    std::string dir = s.at(s.dirs_.front());
    if (dir.empty())
      return failure("cgroup2 " + d.path + ": not mounted here and cannot be mounted privately: " + s.private_v2_error_);
    ::rmdir(dir.c_str());  // a stale, empty one from a launcher that died
    if (::mkdir(dir.c_str(), 0755) != 0) return sys_error("create cgroup " + dir);
    s.owned_ = true;
    NESTBOX_TRY(seal(dir));
    return s;
  }
  return failure("the container has no cgroup v2 directory to hold a command apart in");
}

Status Cgroup::add(pid_t pid) const {
  for (const CgroupDir& d : dirs_) {
    std::string dir = at(d);
    if (dir.empty())
      return failure("cgroup2 " + d.path + ": not mounted here and cannot be mounted privately: " + private_v2_error_);
    NESTBOX_TRY(write_to(dir + "/cgroup.procs", std::to_string(pid)));
  }
  return {};
}

// v2 first: a hybrid host has a v1 freezer directory too (every hierarchy
// gets one), but the unified hierarchy is what freezes there.
Status Cgroup::freeze(bool frozen) const {
  for (const CgroupDir& d : dirs_)
    if (d.v2) return write_to(d.path + "/cgroup.freeze", frozen ? "1" : "0");
  for (const CgroupDir& d : dirs_)
    if (d.controllers == "freezer") return write_to(d.path + "/freezer.state", frozen ? "FROZEN" : "THAWED");
  return failure("the container has no freezer cgroup");
}

Result<bool> Cgroup::frozen() const {
  for (const CgroupDir& d : dirs_)
    if (d.v2) return trimmed(d.path + "/cgroup.freeze") == "1";
  for (const CgroupDir& d : dirs_)
    if (d.controllers == "freezer") return trimmed(d.path + "/freezer.state") == "FROZEN";
  return failure("the container has no freezer cgroup");
}

bool Cgroup::empty() const {
  for (const CgroupDir& d : dirs_)
    if (!trimmed(at(d) + "/cgroup.procs").empty()) return false;
  return true;
}

void Cgroup::kill_all() const {
  for (int round = 0; round < 50 && !empty(); ++round) {
    for (const CgroupDir& d : dirs_)  // the unified hierarchy, mounted here or privately
      if ((d.v2 || d.unmounted_v2) && write_to(at(d) + "/cgroup.kill", "1").ok()) break;
    (void)freeze(true);
    for (const CgroupDir& d : dirs_) kill_listed(at(d) + "/cgroup.procs");
    (void)freeze(false);
    sleep_ms(10);
  }
}

bool Cgroup::oom_killed() const {
  for (const CgroupDir& d : dirs_) {
    if (d.v2 && stat_value(d.path + "/memory.events", "oom_kill")) return true;
    if (d.controllers == "memory" && stat_value(d.path + "/memory.oom_control", "oom_kill"))
      return true;
  }
  return false;
}

namespace {

// Sub-cgroups below a container's directory (made by a container that could
// write it despite seal(): one given CAP_DAC_OVERRIDE without a user
// namespace) would keep the directory, and its name, from being removed: the
// next start would fail. Their processes are killed (v1 lists them only
// there; frozen ones are thawed first) and they are removed, deepest first.
void remove_below(const std::string& dir, int depth) {
  DIR* list = ::opendir(dir.c_str());
  if (!list) return;
  std::vector<std::string> subs;
  while (dirent* e = ::readdir(list))
    if (e->d_type == DT_DIR && e->d_name[0] != '.') subs.push_back(dir + "/" + e->d_name);
  ::closedir(list);
  for (const std::string& sub : subs) {
    if (depth < 32) remove_below(sub, depth + 1);
    for (int i = 0; i < 200; ++i) {
      ::access((sub + "/freezer.state").c_str(), F_OK) == 0 ? (void)write_to(sub + "/freezer.state", "THAWED")
                                                            : (void)write_to(sub + "/cgroup.freeze", "0");
      kill_listed(sub + "/cgroup.procs");
      if (::rmdir(sub.c_str()) == 0 || errno != EBUSY) break;
      sleep_ms(10);
    }
  }
}

}  // namespace

void Cgroup::remove() {
  kill_all();
  for (auto it = dirs_.rbegin(); it != dirs_.rend(); ++it) {
    std::string dir = at(*it);
    if (dir.empty()) continue;  // an unmounted_v2 dir this process could not mount
    remove_below(dir, 0);
    // A sub-cgroup made meanwhile (a health check's, Cgroup::sub) keeps the
    // directory busy: it is looked for again.
    for (int i = 0; i < 200 && ::rmdir(dir.c_str()) != 0 && errno == EBUSY; ++i) {
      sleep_ms(10);
      if (i % 20 == 19) remove_below(dir, 0);
    }
  }
  dirs_.clear();
}

std::string Cgroup::describe() const {
  std::string out;
  for (const CgroupDir& d : dirs_)
    out += (d.unmounted_v2 ? "v2u - " : d.v2 ? "v2 - " : "v1 " + d.controllers + " ") + d.path + "\n";
  return out;
}

std::vector<CgroupDir> Cgroup::parse(const std::string& text) {
  std::vector<CgroupDir> out;
  for (const std::string& line : split(text, '\n')) {
    std::vector<std::string> f = split(line, ' ');
    if (f.size() < 3) continue;
    out.push_back({line.substr(f[0].size() + f[1].size() + 2), f[0] == "v2",
                   f[1] == "-" ? "" : f[1], f[0] == "v2u"});
  }
  return out;
}

}  // namespace nestbox::launcher
