#include "policy/lxc.h"

#include <cctype>
#include <sstream>
#include <string_view>
#include <vector>

#include "manifests/effective_seccomp.h"
#include "policy/bake.h"
#include "policy/cgroup_v1.h"
#include "policy/names.h"
#include "policy/proc_masks.h"
#include "policy/seccomp_compile.h"

namespace nestbox::policy {
namespace {

namespace m = manifests;

// "CAP_NET_RAW" -> "net_raw", "RLIMIT_NOFILE" -> "nofile".
std::string lxc_name(const char* name) {
  std::string s(name);
  s = s.substr(s.find('_') + 1);
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Text inside a comment line. LXC reads every line of the file as a key:
// a line break in a name (the manifest's file name "a\nlxc.namespace.keep
// = net\n#.toml") would start a key of its own, here the host's network.
std::string comment_text(std::string s) {
  for (char& c : s)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  return s;
}

// LXC splits lxc.execute.cmd / lxc.init.cmd on blanks, honouring quotes but
// not backslashes.
Result<std::string> command_line(const std::vector<std::string>& argv) {
  std::string out;
  for (const std::string& a : argv) {
    if (a.find('\n') != std::string::npos) return bad_input("lxc: argument holds a newline: " + a);
    bool plain = !a.empty() && a.find_first_of(" \t'\"\\#") == std::string::npos;
    std::string q;
    if (plain) q = a;
    else if (a.find('\'') == std::string::npos) q = "'" + a + "'";
    else if (a.find('"') == std::string::npos) q = "\"" + a + "\"";
    else return bad_input("lxc: argument holds both quote characters: " + a);
    out += (out.empty() ? "" : " ") + q;
  }
  return out;
}

const char* action_word(m::SeccompAction a) {
  switch (a) {
    case m::SeccompAction::kAllow: return "allow";
    case m::SeccompAction::kErrno: return "errno";
    case m::SeccompAction::kKill: return "kill";
    case m::SeccompAction::kLog: return "log";
    case m::SeccompAction::kTrap: return "trap";
  }
  return "kill";
}

std::string action(m::SeccompAction a, int err) {
  std::string s = action_word(a);
  if (a == m::SeccompAction::kErrno) s += " " + std::to_string(err);
  return s;
}

Result<std::string> seccomp_profile(const m::Seccomp& rules, m::Arch arch) {
  auto plan = plan_seccomp(rules, arch);
  if (!plan.ok()) return std::move(plan).error();
  std::ostringstream o;
  o << "2\n";
  if (rules.default_action == m::SeccompAction::kAllow)
    o << "denylist\n";
  else
    o << "allowlist " << action(rules.default_action, rules.default_errno) << "\n";
  o << "[all]\n";
  // An argument condition is "[index,value,op,mask]" (lxc's seccomp.c hands
  // mask and value to libseccomp for SCMP_CMP_MASKED_EQ).
  for (const SeccompPlan::Rule& r : plan->rules)
    for (const std::string& call : r.syscalls) {
      o << call << " " << action(r.action, r.errno_value);
      for (const m::SeccompArg& a : r.args)
        o << " [" << a.index << "," << a.value << ",SCMP_CMP_MASKED_EQ," << a.mask << "]";
      o << "\n";
    }
  return o.str();
}

std::string mount_options(uint32_t flags) {
  std::string o;
  auto add = [&](const char* s) { o += (o.empty() ? "" : ",") + std::string(s); };
  if (flags & kMountReadOnly) add("ro");
  if (flags & kMountNosuid) add("nosuid");
  if (flags & kMountNodev) add("nodev");
  if (flags & kMountNoexec) add("noexec");
  return o;
}

void network(std::ostringstream& o, const Policy& p) {
  if (p.net == NetMode::kNone) {
    o << "lxc.net.0.type = none\n";
    return;
  }
  if (p.net == NetMode::kEmpty || p.interfaces.empty()) {
    o << "lxc.net.0.type = empty\n";
    return;
  }
  // LXC has no form of the launcher's nftables tables: its interfaces would
  // give the app the segment unfiltered (the LAN from an app-store macvlan).
  // Left out, failing closed: the integrator adds filtered interfaces.
  if (p.firewall.enabled) {
    o << "# not expressible in LXC: [network.firewall] (nestbox-launch's nftables tables); the interfaces are "
         "left out rather than given unfiltered\n"
      << "lxc.net.0.type = empty\n";
    return;
  }
  static const char* kTypes[] = {"phys", "vlan", "veth", "macvlan"};
  static const char* kModes[] = {"vepa", "private", "bridge", "passthru"};
  for (size_t i = 0; i < p.interfaces.size(); ++i) {
    const Interface& in = p.interfaces[i];
    std::string k = "lxc.net." + std::to_string(i) + ".";
    o << k << "type = " << kTypes[static_cast<int>(in.type)] << "\n";
    if (in.type == IfType::kVeth) {
      if (!in.bridge.empty()) o << k << "link = " << in.bridge << "\n";
      if (!in.host_name.empty()) o << k << "veth.pair = " << in.host_name << "\n";
    } else {
      o << k << "link = " << in.parent << "\n";
    }
    if (in.type == IfType::kVlan) o << k << "vlan.id = " << in.vlan_id << "\n";
    if (in.type == IfType::kMacvlan) o << k << "macvlan.mode = " << kModes[static_cast<int>(in.macvlan_mode)] << "\n";
    o << k << "name = " << in.name << "\n";
    o << k << "flags = up\n";
    if (!in.mac.empty()) o << k << "hwaddr = " << in.mac << "\n";
    if (in.mtu) o << k << "mtu = " << in.mtu << "\n";
    for (const std::string& a : in.addresses)
      o << k << (a.find(':') == std::string::npos ? "ipv4" : "ipv6") << ".address = " << a << "\n";
    for (const Route& r : in.routes) {
      if (r.destination == "default" && !r.gateway.empty())
        o << k << (r.gateway.find(':') == std::string::npos ? "ipv4" : "ipv6") << ".gateway = " << r.gateway << "\n";
      else
        o << "# not expressible in LXC: route " << comment_text(r.destination) << " via " << comment_text(r.gateway)
          << " on " << comment_text(in.name) << "\n";
    }
  }
}

// LXC applies lxc.cgroup2.* on the unified hierarchy and lxc.cgroup.* on v1
// hierarchies (and ignores the legacy keys on a pure v2 host), so both are
// written: the limits hold on v2, v1 and hybrid hosts, converted as the
// launcher converts them (policy/cgroup_v1.h).
Status cgroups(std::ostringstream& o, const Cgroups& c) {
  if (c.memory_max) o << "lxc.cgroup2.memory.max = " << c.memory_max << "\n";
  if (c.memory_max) o << "lxc.cgroup2.memory.swap.max = " << c.memory_swap_max.value_or(0) << "\n";  // unset: no swap
  if (c.cpu_weight) o << "lxc.cgroup2.cpu.weight = " << c.cpu_weight << "\n";
  if (c.cpu_quota_us) o << "lxc.cgroup2.cpu.max = " << c.cpu_quota_us << " " << c.cpu_period_us << "\n";
  if (c.pids_max) o << "lxc.cgroup2.pids.max = " << c.pids_max << "\n";
  // LXC refuses the start when a weight file is missing (no iocost or bfq):
  // a best-effort weight is only noted, as nestbox-launch would skip it.
  bool io_weight = c.io_weight && !c.io_weight_best_effort;
  if (c.io_weight && c.io_weight_best_effort)
    o << "# io weight " << c.io_weight << " is best effort (io_weight_best_effort): not set for LXC, "
      << "which would refuse to start where no I/O scheduler honours it\n";
  if (io_weight) o << "lxc.cgroup2.io.weight = " << c.io_weight << "\n";
  if (!c.cpuset_cpus.empty()) o << "lxc.cgroup2.cpuset.cpus = " << c.cpuset_cpus << "\n";
  if (!c.cpuset_mems.empty()) o << "lxc.cgroup2.cpuset.mems = " << c.cpuset_mems << "\n";

  if (c.memory_max) {
    // v1 limits memory and swap together (LXC writes memsw after the limit).
    auto memsw = memory_plus_swap(c.memory_max, c.memory_swap_max.value_or(0));
    if (!memsw)
      return bad_input("cgroups: memory " + std::to_string(c.memory_max) + " + swap " +
                       std::to_string(c.memory_swap_max.value_or(0)) + " exceeds 9223372036854775807 bytes");
    o << "lxc.cgroup.memory.limit_in_bytes = " << c.memory_max << "\n";
    o << "lxc.cgroup.memory.memsw.limit_in_bytes = " << *memsw << "\n";
  }
  if (c.cpu_weight) o << "lxc.cgroup.cpu.shares = " << cpu_shares_from_weight(c.cpu_weight) << "\n";
  if (c.cpu_quota_us) {
    o << "lxc.cgroup.cpu.cfs_period_us = " << c.cpu_period_us << "\n";
    o << "lxc.cgroup.cpu.cfs_quota_us = " << c.cpu_quota_us << "\n";
  }
  if (c.pids_max) o << "lxc.cgroup.pids.max = " << c.pids_max << "\n";
  if (io_weight) o << "lxc.cgroup.blkio.weight = " << blkio_weight_from_io_weight(c.io_weight) << "\n";
  if (!c.cpuset_cpus.empty()) o << "lxc.cgroup.cpuset.cpus = " << c.cpuset_cpus << "\n";
  if (!c.cpuset_mems.empty()) o << "lxc.cgroup.cpuset.mems = " << c.cpuset_mems << "\n";
  return ok_status();
}

Status check_device_path(const char* what, const std::string& path) {
  bool clean = !path.empty() && path[0] == '/';
  for (char ch : path) clean = clean && static_cast<unsigned char>(ch) >= 0x20 && ch != 0x7f;
  for (size_t b = 1; clean && b <= path.size();) {
    size_t e = std::min(path.find('/', b), path.size());
    std::string_view part(path.data() + b, e - b);
    clean = part != "." && part != ".." && (!part.empty() || e == path.size());
    b = e + 1;
  }
  if (!clean)
    return bad_input(std::string("lxc: ") + what + " '" + path +
                     "': expected an absolute path on the device, without '.', '..', '//' or control characters");
  return ok_status();
}

// LXC splits an lxc.mount.entry into fstab fields at whitespace and reads
// backslash escapes, and the paths are written as they are: a source
// "/etc /srv none rbind,rw" would be read as a read-write bind of /etc.
// Manifest validation refuses these first; this holds for any other caller.
Status check_mount_entry_path(const char* what, const std::string& path) {
  if (path.find_first_of(" \t\n\r\v\f\\") != std::string::npos)
    return bad_input(std::string("mount ") + what + " '" + path +
                     "': holds whitespace or a backslash, which an LXC mount entry cannot carry");
  return ok_status();
}

// Every value written after "key = " must stay on its line: LXC reads each
// line as a key, so a line break in a hostname, an environment entry or a
// working directory would add keys of its own (lxc.namespace.keep = net, a
// mount entry of the host's /). The manifest loader refuses control
// characters first; this holds for any other caller.
Status check_policy_text(const Policy& p) {
  auto clean = [](const char* what, const std::string& v) -> Status {
    for (char ch : v)
      if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f)
        return bad_input(std::string("lxc: ") + what + " holds a line break or control character: an LXC " +
                         "config line cannot carry it");
    return ok_status();
  };
  NESTBOX_TRY(clean("hostname", p.hostname));
  NESTBOX_TRY(clean("process.cwd", p.process.cwd));
  for (const std::string& e : p.process.env) {
    NESTBOX_TRY(clean("process.env", e));
    // LXC 5 reads "lxc.environment = NAME" (no '=') as "pass the host's NAME".
    if (e.find('=') == std::string::npos || e[0] == '=')
      return bad_input("lxc: process.env entry '" + e + "' is not NAME=value: LXC would pass the host's variable");
  }
  NESTBOX_TRY(clean("apparmor profile", p.apparmor_profile));
  NESTBOX_TRY(clean("selinux context", p.selinux_context));
  for (const Namespace& n : p.namespaces) NESTBOX_TRY(clean("joined namespace", n.join));
  NESTBOX_TRY(clean("cpuset cpus", p.cgroups.cpuset_cpus));
  NESTBOX_TRY(clean("cpuset mems", p.cgroups.cpuset_mems));
  for (const Mount& mt : p.mounts) NESTBOX_TRY(clean("mount fstype", mt.fstype));
  for (const Interface& in : p.interfaces) {
    for (const std::string* v : {&in.name, &in.parent, &in.bridge, &in.host_name, &in.mac})
      NESTBOX_TRY(clean("network interface", *v));
    for (const std::string& a : in.addresses) NESTBOX_TRY(clean("network address", a));
    for (const Route& r : in.routes) NESTBOX_TRY(clean("network gateway", r.gateway));
  }
  return ok_status();
}

// The device allow-list nestbox-launch applies (launcher/devices.h): deny
// every device, then allow the minimal /dev and the declared devices. LXC
// applies no list of its own: without these lines a device node shipped in
// the image (a block device of the host) could be opened by the container's
// root. Both the v1 and the v2 keys: LXC uses the ones of the host's
// hierarchy (a BPF device program on v2).
void device_allow_list(std::ostringstream& o, const Policy& p) {
  std::vector<std::string> allow;
  if (p.dev == DevMode::kMinimal)
    for (const char* r : {"c 1:3", "c 1:5", "c 1:7", "c 1:8", "c 1:9", "c 5:0", "c 5:2", "c 136:*"})
      allow.push_back(std::string(r) + " rwm");
  for (const Device& d : p.devices)
    allow.push_back(std::string(d.type == DeviceType::kBlock ? "b " : "c ") + std::to_string(d.major) + ":" +
                    std::to_string(d.minor) + " rwm");
  for (const char* v : {"lxc.cgroup.", "lxc.cgroup2."}) {
    o << v << "devices.deny = a\n";
    for (const std::string& a : allow) o << v << "devices.allow = " << a << "\n";
  }
}

// What LXC's own mounts leave open that nestbox-launch closes (seen with
// lxc-execute 5.0): its /dev tmpfs (autodev) lacks nosuid and noexec
// ("/dev rw,relatime"), sysfs (sys:ro, sys:rw) lacks nosuid, nodev and
// noexec, and proc:mixed binds /proc/sys/net read-write over the read-only
// /proc/sys when CAP_NET_ADMIN is kept (the container set its network sysctls;
// nestbox-launch keeps all of /proc/sys read-only). No config key sets
// these: a mount hook remounts them, in the container's mount namespace
// after LXC's own mounts and before pivot_root (LXC creates the /dev nodes
// after it; they need no exec). A symlink in the image's place is refused,
// not followed; a failed hook refuses the start. The text is fixed, nothing
// of the manifest's.
std::string mount_flags_hook(const Policy& p) {
  std::vector<std::string> steps;
  auto at = [](const char* dir) { return std::string("\"$LXC_ROOTFS_MOUNT/") + dir + "\""; };
  auto remount = [&](const char* dir, const char* flags) {
    steps.push_back("[ ! -L " + at(dir) + " ] && mount -o remount,bind," + flags + " " + at(dir));
  };
  if (p.dev == DevMode::kMinimal) remount("dev", "nosuid,noexec");
  if (p.sys != SysMode::kNone)
    remount("sys", p.sys == SysMode::kReadOnly ? "ro,nosuid,nodev,noexec" : "nosuid,nodev,noexec");
  // A mount of its own only where LXC made one (CAP_NET_ADMIN kept). Asked
  // of mountinfo with grep: OpenWrt's busybox has no `mountpoint` applet.
  if (p.proc)
    steps.push_back("[ ! -L " + at("proc") + " ] && { ! grep -qF \" $LXC_ROOTFS_MOUNT/proc/sys/net \" /proc/self/mountinfo" +
                    " || mount -o remount,bind,ro,nosuid,nodev,noexec " + at("proc/sys/net") + "; }");
  std::string script;
  for (const std::string& s : steps) script += (script.empty() ? "" : " && ") + s;
  return script.empty() ? script : "/bin/sh -c '" + script + "'";
}

}  // namespace

Result<LxcConfig> lxc_config(const m::Manifest& man, const LxcOptions& options) {
  NESTBOX_TRY(check_device_path("rootfs path", options.rootfs_path));
  NESTBOX_TRY(check_device_path("seccomp profile path", options.seccomp_profile_path));
  auto baked = bake(man);
  if (!baked.ok()) return std::move(baked).error();
  const Policy& p = *baked;
  NESTBOX_TRY_CTX(check_policy_text(p), "lxc " + p.name);
  std::ostringstream o;
  // The manifest's file name only: its directory is the build machine's.
  std::string source = man.file.empty() ? p.name : man.file.substr(man.file.rfind('/') + 1);
  o << "# Generated by nestbox from " << comment_text(source) << "; do not edit.\n";
  // Only in an own UTS namespace: with the host's, LXC would rename the host.
  if (p.namespaces[kNsUts].mode == NsMode::kNew) o << "lxc.uts.name = " << p.hostname << "\n";
  if (!p.domainname.empty()) o << "# not expressible in LXC: domainname " << comment_text(p.domainname) << "\n";
  o << "lxc.rootfs.path = dir:" << options.rootfs_path << "\n";
  // As nestbox-launch: without declared devices the root (and every mount)
  // is nodev, so a node in the image cannot be opened even past the cgroup.
  bool nodev = p.devices.empty();
  if (p.read_only_root || nodev)
    o << "lxc.rootfs.options = " << (p.read_only_root ? (nodev ? "ro,nodev" : "ro") : "nodev") << "\n";

  // Namespaces: LXC clones every namespace unless told to keep or share one.
  std::string keep;
  for (int i = 0; i < kNsCount; ++i) {
    NsIndex ns = static_cast<NsIndex>(i);
    if (p.namespaces[i].mode == NsMode::kHost) keep += std::string(keep.empty() ? "" : " ") + namespace_proc_name(ns);
    if (p.namespaces[i].mode == NsMode::kJoin)
      o << "lxc.namespace.share." << namespace_proc_name(ns) << " = " << p.namespaces[i].join << "\n";
  }
  if (!keep.empty()) o << "lxc.namespace.keep = " << keep << "\n";
  for (const IdMap& mp : p.uid_map) o << "lxc.idmap = u " << mp.inside << " " << mp.outside << " " << mp.count << "\n";
  for (const IdMap& mp : p.gid_map) o << "lxc.idmap = g " << mp.inside << " " << mp.outside << " " << mp.count << "\n";

  // Process.
  // No init of its own: LXC runs the first service; the others need nestbox's init.
  bool nestbox_init = p.process.argv.empty() && !p.process.services.empty();
  auto cmd = command_line(nestbox_init ? p.process.services[0].argv : p.process.argv);
  if (!cmd.ok()) return std::move(cmd.error().context("lxc " + p.name));
  if (nestbox_init && p.process.services.size() > 1)
    o << "# not expressible in LXC 5.0: services supervised by nestbox's init (only the first runs)\n";
  o << "lxc.execute.cmd = " << *cmd << "\n";
  o << "lxc.init.cmd = " << *cmd << "\n";
  o << "lxc.init.cwd = " << p.process.cwd << "\n";
  o << "lxc.init.uid = " << p.process.uid << "\n";
  o << "lxc.init.gid = " << p.process.gid << "\n";
  if (!p.process.groups.empty()) o << "# not expressible in LXC 5.0: supplementary groups\n";
  for (const std::string& e : p.process.env) o << "lxc.environment = " << e << "\n";
  for (const Rlimit& r : p.rlimits) {
    const char* n = rlimit_name(r.resource);
    if (!n) continue;
    std::string name = lxc_name(n);
    auto v = [](uint64_t x) { return x == UINT64_MAX ? std::string("unlimited") : std::to_string(x); };
    o << "lxc.prlimit." << name << " = " << v(r.soft) << ":" << v(r.hard) << "\n";
  }

  // Security.
  std::string caps;
  for (unsigned c = 0; c < 64; ++c)
    if (p.caps.keep & (1ull << c))
      if (const char* n = capability_name(c)) caps += (caps.empty() ? "" : " ") + lxc_name(n);
  o << "lxc.cap.keep = " << (caps.empty() ? "none" : caps) << "\n";
  // nestbox raises the kept capabilities as ambient for a non-root process so
  // they survive its exec; LXC keeps them in the bounding set only.
  if (!caps.empty() && p.process.uid != 0)
    o << "# not expressible in LXC: ambient capabilities (" << caps << ") for uid " << p.process.uid << "\n";
  o << "lxc.no_new_privs = " << (p.no_new_privs ? 1 : 0) << "\n";
  if (!p.apparmor_profile.empty()) o << "lxc.apparmor.profile = " << p.apparmor_profile << "\n";
  if (!p.selinux_context.empty()) o << "lxc.selinux.context = " << p.selinux_context << "\n";
  LxcConfig out;
  if (m::Seccomp rules = m::effective_seccomp(man); rules.enabled) {
    auto prof = seccomp_profile(rules, man.arch);
    if (!prof.ok()) return std::move(prof.error().context("lxc " + p.name));
    out.seccomp = *prof;
    o << "lxc.seccomp.profile = " << options.seccomp_profile_path << "\n";
  }
  NESTBOX_TRY_CTX(cgroups(o, p.cgroups), "lxc " + p.name);
  device_allow_list(o, p);

  // Mounts.
  std::string autos;
  if (p.proc) autos += "proc:mixed";
  if (p.sys != SysMode::kNone) autos += std::string(autos.empty() ? "" : " ") + (p.sys == SysMode::kReadOnly ? "sys:ro" : "sys:rw");
  if (!autos.empty()) o << "lxc.mount.auto = " << autos << "\n";
  o << "lxc.autodev = " << (p.dev == DevMode::kMinimal ? 1 : 0) << "\n";
  if (std::string hook = mount_flags_hook(p); !hook.empty()) o << "lxc.hook.mount = " << hook << "\n";
  if (p.proc) {
    // What nestbox-launch hides below /proc (policy/proc_masks.h). LXC's
    // proc:mixed freezes /proc/sys and /proc/sysrq-trigger only; the rest
    // are bound here, after it (LXC mounts lxc.mount.auto first). A source
    // is a host path: the host's /dev/null (read-only, so the container
    // cannot chmod it), the host's /proc/irq... (system-wide, the same as
    // the container's own). `optional`: a file this kernel lacks is skipped.
    for (const char* f : kProcMaskedFiles)
      o << "lxc.mount.entry = /dev/null " << (f + 1) << " none bind,ro,nosuid,noexec,optional 0 0\n";
    for (const char* d : kProcReadonlyPaths) {
      std::string_view path(d);
      if (path == "/proc/sys" || path == "/proc/sysrq-trigger") continue;  // proc:mixed
      o << "lxc.mount.entry = " << d << " " << (d + 1) << " none bind,ro,nosuid,nodev,noexec,optional 0 0\n";
    }
  }
  for (size_t i = 0; i < p.mounts.size(); ++i) {
    Mount mt = p.mounts[i];
    if (nodev) mt.flags |= kMountNodev;
    NESTBOX_TRY_CTX(check_mount_entry_path("source", mt.source), "lxc " + p.name);
    NESTBOX_TRY_CTX(check_mount_entry_path("target", mt.target), "lxc " + p.name);
    NESTBOX_TRY_CTX(check_mount_entry_path("fstype", mt.fstype), "lxc " + p.name);
    std::string target = mt.target.substr(1);  // LXC: relative to the rootfs
    std::string opts = mount_options(mt.flags);
    auto join = [&](const std::string& more) { return opts.empty() ? more : more + "," + opts; };
    switch (mt.kind) {
      case MountKind::kTmpfs: {
        char mode[16];
        snprintf(mode, sizeof mode, "%o", mt.mode);
        std::string t = join("create=dir") + ",mode=" + mode;
        if (mt.size) t += ",size=" + std::to_string(mt.size);
        o << "lxc.mount.entry = tmpfs " << target << " tmpfs " << t << " 0 0\n";
        break;
      }
      case MountKind::kBind:
      case MountKind::kStorageDir:
        // No create=: whether the target is a file or a directory is the
        // image's business (the composer creates every mount point), and
        // guessing from the build machine would make the output depend on it.
        // Not rbind: the entry's flags would reach the top mount only (see
        // policy/oci.cc); a plain bind shows nothing mounted below the source.
        o << "lxc.mount.entry = " << mt.source << " " << target << " none " << join("bind") << " 0 0\n";
        break;
      case MountKind::kStorageImage:
        o << "lxc.mount.entry = " << mt.source << " " << target << " " << mt.fstype << " "
          << join("loop") << " 0 0\n";
        break;
      case MountKind::kStoragePartition:
        o << "lxc.mount.entry = /run/nestbox/" << p.name << "/storage/" << i << " " << target << " none "
          << join("bind") << " 0 0\n";
        break;
      case MountKind::kStorageOverlay:
        o << "# not expressible in LXC: persistent overlay " << comment_text(mt.source) << " over "
          << comment_text(mt.target) << "\n";
        break;
    }
  }
  if (!p.ipc.ubus_socket.empty()) {
    // The ubus socket, bound as nestbox-launch binds it (the target is the
    // empty file compose makes).
    for (const std::string* v : {&p.ipc.ubus_socket, &p.ipc.ubus_target}) {
      NESTBOX_TRY_CTX(check_device_path("ubus socket path", *v), "lxc " + p.name);
      NESTBOX_TRY_CTX(check_mount_entry_path("ubus socket path", *v), "lxc " + p.name);
    }
    o << "lxc.mount.entry = " << p.ipc.ubus_socket << " " << p.ipc.ubus_target.substr(1)
      << " none bind,ro,nosuid,nodev,noexec 0 0\n";
  }
  network(o, p);
  out.config = o.str();
  return out;
}

}  // namespace nestbox::policy
