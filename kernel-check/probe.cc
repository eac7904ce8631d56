#include "kernel-check/probe.h"

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <set>

#include "kernel-check/expr.h"
#include "kernel-check/link_probe.h"
#include "kernel-check/version.h"
#include "util/fd.h"
#include "util/file_io.h"
#include "util/io_schedulers.h"
#include "util/open_in_root.h"

namespace nestbox::kernel_check {

namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    out.push_back(text.substr(pos, end - pos));
    pos = end + 1;
  }
  return out;
}

std::vector<std::string> words_of(const std::string& line) {
  std::vector<std::string> out;
  size_t pos = 0;
  while ((pos = line.find_first_not_of(" \t\n", pos)) != std::string::npos) {
    size_t end = line.find_first_of(" \t\n", pos);
    if (end == std::string::npos) end = line.size();
    out.push_back(line.substr(pos, end - pos));
    pos = end;
  }
  return out;
}

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= s.size()) {
    size_t end = s.find(',', pos);
    if (end == std::string::npos) end = s.size();
    out.push_back(s.substr(pos, end - pos));
    pos = end + 1;
  }
  return out;
}

// What one probe found.
struct Finding {
  State state;
  std::string detail;
};

Finding found(std::string detail) { return {State::kAvailable, std::move(detail)}; }
Finding as_module(std::string detail) { return {State::kModule, std::move(detail)}; }
Finding absent(std::string detail) { return {State::kMissing, std::move(detail)}; }
Finding unknown(std::string detail) { return {State::kUnknown, std::move(detail)}; }

class Prober {
 public:
  explicit Prober(const ProbeOptions& o) : root_(o.root), mask_(o.features) {
    utsname u;
    if (::uname(&u) == 0) {
      release_ = u.release;
      machine_ = u.machine;
      if (auto v = parse_version(release_)) version_ = *v;
    }
    for (const std::string& line : lines_of(read(path("/proc/filesystems")))) {
      std::vector<std::string> w = words_of(line);
      if (!w.empty()) filesystems_.insert(w.back());
    }
    read_cgroups();
    read_modules();
    read_boot_config();
    const uint64_t compressors = feature_bit(Feature::kSquashfsGzip) | feature_bit(Feature::kSquashfsXz) |
                                 feature_bit(Feature::kSquashfsLzo) | feature_bit(Feature::kSquashfsLz4) |
                                 feature_bit(Feature::kSquashfsZstd);
    if (boot_config_.empty() && (mask_ & compressors)) read_squashfs_symbols();
  }

  Report run() {
    Report r;
    r.source = "running kernel";
    r.arch = machine_;
    r.version = version_;
    r.version_source = "uname -r";
    const uint64_t links = feature_bit(Feature::kVeth) | feature_bit(Feature::kBridge) |
                           feature_bit(Feature::kMacvlan) | feature_bit(Feature::kVlan);
    if (mask_ & links) link_kinds_ = probe_link_kinds({"veth", "bridge", "macvlan", "vlan"});
    for (const Facility& f : kFeatures) {
      if (mask_ & feature_bit(static_cast<Feature>(f.bit)))
        r.facilities.push_back(status(f));
      else
        r.facilities.push_back({&f, State::kUnknown, "not probed", ""});
    }
    return r;
  }

 private:
  std::string path(const std::string& p) const { return root_ + p; }
  std::string read(const std::string& p) const {
    Result<std::string> r = read_file(p);
    return r.ok() ? *r : std::string();
  }
  bool exists(const std::string& p) const {
    struct stat st;
    return ::stat(path(p).c_str(), &st) == 0;
  }
  bool has_fs(const char* name) const { return filesystems_.count(name) != 0; }

  void read_cgroups() {
    for (const std::string& line : lines_of(read(path("/proc/cgroups")))) {
      std::vector<std::string> w = words_of(line);
      if (w.size() >= 4 && w[0][0] != '#' && w[3] == "1") v1_controllers_.insert(w[0]);
    }
    for (const std::string& line : lines_of(read(path("/proc/self/mounts")))) {
      std::vector<std::string> w = words_of(line);
      if (w.size() >= 3 && w[2] == "cgroup2" && cgroup2_mount_.empty()) cgroup2_mount_ = w[1];
      if (w.size() >= 4 && w[2] == "cgroup")  // v1: the controllers are mount options
        for (const std::string& opt : split_commas(w[3])) v1_mounts_.emplace(opt, w[1]);
    }
    if (!cgroup2_mount_.empty())
      for (const std::string& c : words_of(read(path(cgroup2_mount_ + "/cgroup.controllers"))))
        v2_controllers_.insert(c);
    for (const std::string& line : lines_of(read(path("/proc/self/cgroup")))) {
      if (line.rfind("0::", 0) == 0) own_cgroup_ = line.substr(3);
      size_t a = line.find(':'), b = line.find(':', a + 1);  // "4:memory,foo:/path"
      if (a == std::string::npos || b == std::string::npos || b == a + 1) continue;
      for (const std::string& c : split_commas(line.substr(a + 1, b - a - 1)))
        v1_paths_[c] = line.substr(b + 1);
    }
  }

  // Non-root cgroups of a hierarchy mounted at `mount` to look at for
  // interface files: this process's cgroup `own` and its ancestors below the
  // root, then the root's children (sorted, at most 256).
  std::vector<std::string> cgroup_dirs(const std::string& mount, const std::string& own) const {
    std::vector<std::string> dirs;
    if (mount.empty()) return dirs;
    for (std::string dir = own; !dir.empty() && dir != "/"; dir = dir.substr(0, dir.rfind('/')))
      dirs.push_back(mount + dir);
    std::vector<std::string> children;
    if (DIR* d = ::opendir(path(mount).c_str())) {
      while (dirent* e = ::readdir(d))
        if (e->d_type == DT_DIR && e->d_name[0] != '.' && children.size() < 256)
          children.push_back(mount + "/" + e->d_name);
      ::closedir(d);
    }
    std::sort(children.begin(), children.end());
    dirs.insert(dirs.end(), children.begin(), children.end());
    return dirs;
  }
  std::vector<std::string> cgroup_dirs() const { return cgroup_dirs(cgroup2_mount_, own_cgroup_); }

  bool cgroup_file(const std::string& name, std::string* where) const {
    for (const std::string& dir : cgroup_dirs())
      if (exists(dir + "/" + name)) {
        *where = dir + "/" + name;
        return true;
      }
    return false;
  }

  void read_modules() {
    std::string dir = "/lib/modules/" + release_;
    const std::pair<const char*, std::set<std::string>*> lists[] = {
        {"/modules.builtin", &builtin_}, {"/modules.dep", &loadable_}};
    for (const auto& [list, names] : lists) {
      std::string text = read(path(dir + list));
      if (!text.empty()) have_module_lists_ = true;
      for (const std::string& line : lines_of(text)) {
        std::string file = line.substr(0, line.find(':'));  // "kernel/fs/overlayfs/overlay.ko.xz"
        std::string base = file.substr(file.rfind('/') + 1);
        names->insert(base.substr(0, base.find(".ko")));
      }
    }
  }

  void read_boot_config() {
    boot_config_path_ = "/boot/config-" + release_;
    for (const std::string& line : lines_of(read(path(boot_config_path_)))) {
      size_t eq = line.find('=');
      if (line.rfind("CONFIG_", 0) != 0 || eq == std::string::npos) continue;
      std::string v = line.substr(eq + 1);
      if (v == "y" || v == "m") boot_config_[line.substr(7, eq - 7)] = v[0];
    }
  }

  // The squashfs decompressors the running kernel has, from /proc/kallsyms:
  // each CONFIG_SQUASHFS_<X> compiles fs/squashfs/<x>_wrapper.c, whose
  // uncompress function is a text symbol (listed even without
  // CONFIG_KALLSYMS_ALL; its address is taken by the comp_ops table, so it is
  // never inlined away). Read when there is no /boot/config-*: a device's
  // kernel rarely ships one, and /proc/config.gz (CONFIG_IKCONFIG_PROC) is
  // gzip, which the target side cannot inflate (no zlib). Only symbols of the
  // module that also holds squashfs_read_data count ("" = built in), so a
  // namesake elsewhere is not taken for squashfs's; without that anchor
  // (squashfs not loaded, no CONFIG_KALLSYMS) nothing is learned.
  void read_squashfs_symbols() {
    FILE* f = std::fopen(path("/proc/kallsyms").c_str(), "re");
    if (!f) return;
    static const char* const kWanted[] = {"squashfs_read_data", "zlib_uncompress", "squashfs_xz_uncompress",
                                          "lzo_uncompress", "lz4_uncompress", "zstd_uncompress"};
    std::map<std::string, std::set<std::string>> modules_of;  // symbol -> modules ("" = built in)
    char* line = nullptr;
    size_t cap = 0;
    ssize_t n;
    while ((n = ::getline(&line, &cap, f)) > 0) {
      // "ffffffffc0a1b2c0 t zlib_uncompress\t[squashfs]" or "... T squashfs_read_data"
      std::string l(line, static_cast<size_t>(n));
      size_t name = l.find(' ', l.find(' ') + 1);
      if (name == std::string::npos) continue;
      size_t end = l.find_first_of("\t\n", ++name);
      std::string sym = l.substr(name, end == std::string::npos ? std::string::npos : end - name);
      if (std::find_if(std::begin(kWanted), std::end(kWanted), [&](const char* w) { return sym == w; }) ==
          std::end(kWanted))
        continue;
      std::string module;
      size_t open = l.find('[', name);
      if (open != std::string::npos) module = l.substr(open + 1, l.find(']', open) - open - 1);
      modules_of[sym].insert(module);
    }
    std::free(line);
    std::fclose(f);
    auto anchor = modules_of.find("squashfs_read_data");
    if (anchor == modules_of.end() || anchor->second.size() != 1) return;
    const std::string& module = *anchor->second.begin();
    const std::pair<const char*, const char*> kSymbols[] = {
        {"SQUASHFS_ZLIB", "zlib_uncompress"}, {"SQUASHFS_XZ", "squashfs_xz_uncompress"},
        {"SQUASHFS_LZO", "lzo_uncompress"},   {"SQUASHFS_LZ4", "lz4_uncompress"},
        {"SQUASHFS_ZSTD", "zstd_uncompress"}};
    kallsyms_squashfs_ = module.empty() ? "built in" : "[" + module + "]";
    for (const auto& [config, sym] : kSymbols) {
      auto it = modules_of.find(sym);
      squashfs_symbols_[config] = it != modules_of.end() && it->second.count(module);
    }
  }

  // Built in, loaded, or loadable as a module, by module name ("dm-verity").
  bool module_state(const std::string& name, Finding* out) const {
    std::string sys = name;
    for (char& c : sys) c = c == '-' ? '_' : c;
    if (builtin_.count(name) || builtin_.count(sys)) {
      *out = found("built in (modules.builtin)");
      return true;
    }
    if (exists("/sys/module/" + sys)) {
      *out = found("/sys/module/" + sys);
      return true;
    }
    if (loadable_.count(name) || loadable_.count(sys)) {
      *out = as_module(name + ".ko in modules.dep");
      return true;
    }
    return false;
  }

  Finding filesystem(const char* fs, const char* module) const {
    if (has_fs(fs)) return found(std::string(fs) + " in /proc/filesystems");
    Finding m{};
    if (module_state(module, &m)) return m;
    return absent(std::string("no ") + fs + " in /proc/filesystems" +
                  (have_module_lists_ ? " nor in modules.dep" : ""));
  }

  Finding ns(const char* name) const {
    std::string p = "/proc/self/ns/" + std::string(name);
    return exists(p) ? found(p) : absent("no " + p);
  }

  Finding controller(const char* v2, const char* v1) const {
    if (v2_controllers_.count(v2)) return found(cgroup2_mount_ + "/cgroup.controllers: " + v2);
    if (v1_controllers_.count(v1)) return found(std::string("/proc/cgroups: ") + v1);
    return absent(std::string("no ") + v2 + " controller");
  }

  // The interface files that show a controller feature, for one hierarchy
  // version: in a cgroup where the controller is enabled (`marker` exists)
  // one of `files` is there exactly when the kernel has the feature.
  struct Shows {
    const char* controller;
    const char* marker;
    std::vector<const char*> files;
  };

  // First a cgroup v2 directory where the controller is enabled, else the
  // root of a v1 hierarchy (hybrid systems) that carries the controller.
  Finding controller_file(const Shows& v2, const Shows& v1) const {
    Finding base = controller(v2.controller, v1.controller);
    if (base.state != State::kAvailable) return base;
    struct Place {
      std::string dir;
      const Shows* shows;
      bool root;  // some interface files are never on a root cgroup: no verdict from its absence
    };
    std::vector<Place> places;
    for (const std::string& dir : cgroup_dirs()) places.push_back({dir, &v2, false});
    auto v1_mount = v1_mounts_.find(v1.controller);
    if (v1_mount != v1_mounts_.end()) {
      auto own = v1_paths_.find(v1.controller);
      for (const std::string& dir :
           cgroup_dirs(v1_mount->second, own == v1_paths_.end() ? "" : own->second))
        places.push_back({dir, &v1, false});
      places.push_back({v1_mount->second, &v1, true});
    }
    for (const Place& p : places) {
      if (!exists(p.dir + "/" + p.shows->marker)) continue;
      for (const char* f : p.shows->files)
        if (exists(p.dir + "/" + f)) return found(p.dir + "/" + f);
      if (!p.root) return absent(p.dir + " has " + p.shows->marker + " but no " + p.shows->files[0]);
    }
    return unknown(std::string("the ") + v2.controller + " controller exists; no cgroup here has it enabled");
  }

  // An I/O weight takes effect only where a scheduler honours it, and which
  // scheduler a disk uses is chosen at run time (/sys/block/*/queue/scheduler):
  // iocost's io.weight (cgroup v2) acts on every disk; bfq's weights
  // (io.bfq.weight, blkio.bfq.weight, and blkio.weight of older kernels, where
  // cfq honoured it too) only on disks that bfq (or cfq) schedules. A kernel
  // that has the weights but a host that cannot use them is kUnusable, with
  // the disks' schedulers named, not kMissing with CONFIG_ symbols already set.
  Finding io_weight() const {
    Finding f = controller_file({"io", "io.stat", {"io.weight", "io.bfq.weight"}},
                                {"blkio", "blkio.reset_stats", {"blkio.weight", "blkio.bfq.weight"}});
    std::vector<DiskScheduler> disks = disk_schedulers(path("/sys/block"));
    auto ends_with = [](const std::string& s, const std::string& tail) {
      return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
    };
    if (f.state == State::kAvailable) {
      if (ends_with(f.detail, "/io.weight")) return found(f.detail + " (iocost: every disk)");
      const char* by = any_disk_uses(disks, "bfq") ? "bfq" : any_disk_uses(disks, "cfq") ? "cfq" : nullptr;
      if (by && (ends_with(f.detail, "/blkio.weight") || std::strcmp(by, "bfq") == 0))
        return found(f.detail + " (" + describe(disks) + ")");
      return {State::kUnusable, f.detail + " acts only on disks the bfq scheduler drives; none is here (" +
                                    describe(disks) + ")" + bfq_hint(disks)};
    }
    if (f.state == State::kMissing && f.detail.find("blkio.reset_stats but no") != std::string::npos)
      return {State::kUnusable, "cgroup v1 blkio has no weight file: weights there need the bfq I/O scheduler (" +
                                    describe(disks) + ")" + bfq_hint(disks) +
                                    "; iocost weights need the io controller on cgroup v2"};
    return f;
  }
  static std::string bfq_hint(const std::vector<DiskScheduler>& disks) {
    return any_disk_offers(disks, "bfq") ? "; select it: echo bfq > /sys/block/DISK/queue/scheduler"
                                         : "; no disk offers bfq (CONFIG_IOSCHED_BFQ)";
  }

  Finding since_version(bool base, const std::string& base_detail, const Facility& f) const {
    if (!base) return absent(base_detail);
    if (version_ >= f.since) return found(base_detail + ", kernel " + to_string(version_));
    return {State::kTooOld, "kernel " + to_string(version_)};
  }

  Finding seccomp_action(uint32_t action) const {
    long rc = ::syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action);
    if (rc == 0) return found("seccomp(SECCOMP_GET_ACTION_AVAIL)");
    return absent(std::string("seccomp(SECCOMP_GET_ACTION_AVAIL): ") + std::strerror(errno));
  }

  Finding compressor(const char* symbol) const {
    Finding sq = filesystem("squashfs", "squashfs");
    if (!enforceable(sq.state)) return sq;
    if (boot_config_.empty()) {
      auto sym = squashfs_symbols_.find(symbol);
      if (sym == squashfs_symbols_.end())
        return unknown("not visible on a running kernel (no " + boot_config_path_ +
                       ", no squashfs symbols in /proc/kallsyms)");
      if (sym->second) return found("/proc/kallsyms: the squashfs decompressor (" + kallsyms_squashfs_ + ")");
      return absent("/proc/kallsyms: squashfs (" + kallsyms_squashfs_ + ") without this decompressor");
    }
    auto it = boot_config_.find(symbol);
    if (it == boot_config_.end()) return absent(boot_config_path_ + ": CONFIG_" + symbol + " not set");
    return found(boot_config_path_ + ": CONFIG_" + symbol + "=" + it->second);
  }

  Finding link_kind(size_t index, const char* module) const {
    Finding m{};
    if (have_module_lists_ && module_state(module, &m)) return m;
    char r = index < link_kinds_.size() ? link_kinds_[index] : '?';
    if (r == '1') return found("rtnetlink knows the link kind (probed in a new network namespace)");
    if (r == '0') return absent("rtnetlink: unknown link kind");
    return unknown("could not probe rtnetlink in a new network namespace");
  }

  Finding probe(const Facility& f) const {
    switch (static_cast<Feature>(f.bit)) {
      case Feature::kMountNs: return ns("mnt");
      case Feature::kUtsNs: return ns("uts");
      case Feature::kIpcNs: return ns("ipc");
      case Feature::kPidNs: return ns("pid");
      case Feature::kNetNs: return ns("net");
      case Feature::kCgroupNs: return ns("cgroup");
      case Feature::kUserNs: {
        Finding n = ns("user");
        std::string max = read(path("/proc/sys/user/max_user_namespaces"));
        if (n.state == State::kAvailable && !max.empty() && std::atol(max.c_str()) == 0)
          return absent("disabled: /proc/sys/user/max_user_namespaces is 0");
        return n;
      }
      case Feature::kCgroupV1:
        return has_fs("cgroup") ? found("cgroup in /proc/filesystems") : absent("no cgroup filesystem");
      case Feature::kCgroupV2:
        if (!has_fs("cgroup2")) return absent("no cgroup2 filesystem");
        return found(cgroup2_mount_.empty() ? "cgroup2 in /proc/filesystems (not mounted)"
                                            : "cgroup2 mounted on " + cgroup2_mount_);
      case Feature::kAppArmor: return lsm("apparmor", "/sys/module/apparmor/parameters/enabled");
      case Feature::kSelinux: return lsm("selinux", "/sys/fs/selinux/enforce");
      case Feature::kSeccomp:
        return ::prctl(PR_GET_SECCOMP, 0, 0, 0, 0) >= 0 ? found("prctl(PR_GET_SECCOMP)")
                                                        : absent("prctl(PR_GET_SECCOMP): EINVAL");
      case Feature::kSeccompFilter:
        // A NULL filter program faults (EFAULT) only where filters exist.
        if (::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, nullptr, 0, 0) < 0 && errno == EFAULT)
          return found("prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER)");
        return absent("prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER): " + std::string(std::strerror(errno)));
      case Feature::kSeccompKillProcess: return seccomp_action(SECCOMP_RET_KILL_PROCESS);
      case Feature::kSeccompLog: return seccomp_action(SECCOMP_RET_LOG);
      case Feature::kNoNewPrivs:
        return ::prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) >= 0 ? found("prctl(PR_GET_NO_NEW_PRIVS)")
                                                             : absent("prctl(PR_GET_NO_NEW_PRIVS): EINVAL");
      case Feature::kAmbientCaps:
        return ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, 0, 0, 0) >= 0
                   ? found("prctl(PR_CAP_AMBIENT)")
                   : absent("prctl(PR_CAP_AMBIENT): EINVAL");
      case Feature::kMemory: return controller("memory", "memory");
      case Feature::kMemorySwap:
        return controller_file({"memory", "memory.current", {"memory.swap.max"}},
                               {"memory", "memory.usage_in_bytes", {"memory.memsw.limit_in_bytes"}});
      case Feature::kCpu: return controller("cpu", "cpu");
      case Feature::kCpuQuota: return controller_file({"cpu", "cpu.weight", {"cpu.max"}},
                                                          {"cpu", "cpu.shares", {"cpu.cfs_quota_us"}});
      case Feature::kPids: return controller("pids", "pids");
      case Feature::kIoWeight: return io_weight();
      case Feature::kCpuset: return controller("cpuset", "cpuset");
      case Feature::kFreeze: return cgroup_core_file("cgroup.freeze", f);
      case Feature::kCgroupKill: return cgroup_core_file("cgroup.kill", f);
      case Feature::kDeviceCgroup:
        return has_fs("cgroup2") ? unknown("BPF device programs are not probed")
                                 : absent("no cgroup2 filesystem");
      case Feature::kLoop: {
        struct stat st;
        if (::stat(path("/dev/loop-control").c_str(), &st) == 0 && S_ISCHR(st.st_mode))
          return found("/dev/loop-control");
        Finding m{};
        if (module_state("loop", &m)) return m;
        return absent("no /dev/loop-control");
      }
      case Feature::kLoopConfigure: {
        Finding loop = probe(facility(Feature::kLoop));
        if (!enforceable(loop.state)) return loop;
        return since_version(true, "loop", f);
      }
      case Feature::kSquashfs: return filesystem("squashfs", "squashfs");
      case Feature::kSquashfsGzip: return compressor("SQUASHFS_ZLIB");
      case Feature::kSquashfsXz: return compressor("SQUASHFS_XZ");
      case Feature::kSquashfsLzo: return compressor("SQUASHFS_LZO");
      case Feature::kSquashfsLz4: return compressor("SQUASHFS_LZ4");
      case Feature::kSquashfsZstd: return compressor("SQUASHFS_ZSTD");
      case Feature::kOverlayFs: return filesystem("overlay", "overlay");
      case Feature::kDmVerity: {
        Finding m{};
        if (module_state("dm-verity", &m)) return m;
        if (read(path("/proc/devices")).find(" device-mapper\n") == std::string::npos)
          return absent("no device-mapper in /proc/devices");
        return unknown("device-mapper present; dm-verity target not visible");
      }
      case Feature::kTmpfs: return filesystem("tmpfs", "tmpfs");
      case Feature::kDevpts: return filesystem("devpts", "devpts");
      case Feature::kProcFs: return exists("/proc/self/stat") ? found("/proc/self") : absent("no /proc");
      case Feature::kSysfs: return filesystem("sysfs", "sysfs");
      case Feature::kVeth: return link_kind(0, "veth");
      case Feature::kBridge: return link_kind(1, "bridge");
      case Feature::kMacvlan: return link_kind(2, "macvlan");
      case Feature::kVlan: return link_kind(3, "8021q");
      case Feature::kIpv6: {
        if (exists("/proc/net/if_inet6")) return found("/proc/net/if_inet6");
        Finding m{};
        if (module_state("ipv6", &m)) return m;
        return absent("no /proc/net/if_inet6");
      }
      case Feature::kExt4: return filesystem("ext4", "ext4");
      case Feature::kF2fs: return filesystem("f2fs", "f2fs");
      case Feature::kUbifs: return filesystem("ubifs", "ubifs");
      case Feature::kJffs2: return filesystem("jffs2", "jffs2");
      case Feature::kVfat: return filesystem("vfat", "vfat");
      case Feature::kOpenat2: {
        // Through the one openat2 wrapper: "/" is the directory itself.
        UniqueFd root(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
        if (root && open_confined(root.get(), "/", O_PATH, Confine::kBeneathNoSymlinks))
          return found("openat2(2)");
        return absent(std::string("openat2(2): ") + std::strerror(errno));
      }
      case Feature::kPosixMqueue: return filesystem("mqueue", "mqueue");
    }
    return unknown("no probe");
  }

  Finding lsm(const char* name, const char* marker) const {
    std::string lsms = read(path("/sys/kernel/security/lsm"));
    if (("," + lsms + ",").find(std::string(",") + name + ",") != std::string::npos)
      return found(std::string("/sys/kernel/security/lsm: ") + name);
    std::string enabled = read(path(marker));
    if (!enabled.empty() && enabled[0] != 'N' && enabled[0] != '0') return found(marker);
    if (lsms.empty() && enabled.empty())
      return absent(std::string("no ") + name + " (no /sys/kernel/security/lsm, no " + marker + ")");
    return absent(std::string(name) + " not active");
  }

  Finding cgroup_core_file(const char* file, const Facility& f) const {
    std::string where;
    if (cgroup_file(file, &where)) return found(where);
    return since_version(has_fs("cgroup2"), has_fs("cgroup2") ? "cgroup2" : "no cgroup2 filesystem", f);
  }

  FacilityStatus status(const Facility& f) const {
    Finding found_ = probe(f);
    if ((found_.state == State::kMissing || found_.state == State::kUnknown) && f.since.known() &&
        version_.known() && version_ < f.since)
      found_.state = State::kTooOld;
    FacilityStatus s{&f, found_.state, found_.detail, ""};
    if (s.state == State::kMissing) s.enable = symbols_to_enable(f.config, version_);
    return s;
  }

  std::string root_, release_, machine_;
  uint64_t mask_ = ~uint64_t{0};
  Version version_;
  std::set<std::string> filesystems_, v1_controllers_, v2_controllers_, builtin_, loadable_;
  std::string cgroup2_mount_, own_cgroup_, boot_config_path_;
  std::map<std::string, char> boot_config_;
  std::map<std::string, bool> squashfs_symbols_;  // CONFIG_ symbol -> decompressor in /proc/kallsyms
  std::string kallsyms_squashfs_;                 // where squashfs's symbols are: "built in", "[squashfs]"
  std::map<std::string, std::string> v1_mounts_;  // controller -> v1 mount point
  std::map<std::string, std::string> v1_paths_;   // controller -> this process's v1 cgroup
  bool have_module_lists_ = false;
  std::string link_kinds_;
};

}  // namespace

Report probe_running_kernel(const ProbeOptions& options) { return Prober(options).run(); }

std::vector<Feature> unmet_features(const Report& report, uint64_t mask) {
  std::vector<Feature> out;
  for (int i = 0; i < kFeatureCount; ++i) {
    Feature f = static_cast<Feature>(i);
    if (!(mask & feature_bit(f))) continue;
    const FacilityStatus* s = report.find(f);
    if (!s || !enforceable(s->state)) out.push_back(f);
  }
  return out;
}

}  // namespace nestbox::kernel_check
