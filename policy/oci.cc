#include "policy/oci.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "manifests/effective_seccomp.h"
#include "policy/bake.h"
#include "policy/cgroup_v1.h"
#include "policy/names.h"
#include "policy/proc_masks.h"
#include "policy/seccomp_compile.h"
#include "util/json_text.h"

namespace nestbox::policy {
namespace {

using json = nlohmann::ordered_json;
namespace m = manifests;

std::string octal(uint32_t v) {
  char buf[16];
  snprintf(buf, sizeof buf, "%04o", v);
  return buf;
}

json capability_list(uint64_t mask) {
  json names = json::array();
  for (unsigned c = 0; c < 64; ++c)
    if (mask & (1ull << c))
      if (const char* n = capability_name(c)) names.push_back(n);
  return names;
}

json process(const Policy& p) {
  json proc;
  proc["terminal"] = false;
  json user{{"uid", p.process.uid}, {"gid", p.process.gid}};
  if (!p.process.groups.empty()) user["additionalGids"] = p.process.groups;
  proc["user"] = user;
  // No init of the container's own (nestbox's init supervises the services):
  // an OCI runtime runs one process, the first service; the others are
  // listed in the annotation org.nestbox.services.
  proc["args"] = p.process.argv.empty() && !p.process.services.empty() ? p.process.services[0].argv
                                                                        : p.process.argv;
  proc["env"] = p.process.env;
  proc["cwd"] = p.process.cwd;
  json caps = capability_list(p.caps.keep);
  // One keep-list for every set; ambient so a non-root process keeps them across execve.
  proc["capabilities"] = {{"bounding", caps}, {"effective", caps}, {"inheritable", caps},
                          {"permitted", caps}, {"ambient", caps}};
  json rl = json::array();
  for (const Rlimit& r : p.rlimits)
    if (const char* n = rlimit_name(r.resource)) rl.push_back({{"type", n}, {"hard", r.hard}, {"soft", r.soft}});
  if (!rl.empty()) proc["rlimits"] = rl;
  proc["noNewPrivileges"] = p.no_new_privs;
  if (!p.apparmor_profile.empty()) proc["apparmorProfile"] = p.apparmor_profile;
  if (!p.selinux_context.empty()) proc["selinuxLabel"] = p.selinux_context;
  return proc;
}

json mount(const std::string& dest, const std::string& type, const std::string& source, json options) {
  return {{"destination", dest}, {"type", type}, {"source", source}, {"options", std::move(options)}};
}

json flag_options(uint32_t flags) {
  json o = json::array();
  if (flags & kMountReadOnly) o.push_back("ro");
  if (flags & kMountNosuid) o.push_back("nosuid");
  if (flags & kMountNodev) o.push_back("nodev");
  if (flags & kMountNoexec) o.push_back("noexec");
  return o;
}

size_t depth(const std::string& path) { return static_cast<size_t>(std::count(path.begin(), path.end(), '/')); }

json mounts(const Policy& p) {
  json out = json::array();
  bool own_user = p.namespaces[kNsUser].mode == NsMode::kNew;
  if (p.proc) out.push_back(mount("/proc", "proc", "proc", {"nosuid", "noexec", "nodev"}));
  if (p.dev == DevMode::kMinimal) {
    // noexec as nestbox-launch: /dev is writable by the container's root, and
    // the manifest's noexec tmpfs would mean nothing with an exec-able one.
    out.push_back(mount("/dev", "tmpfs", "tmpfs", {"nosuid", "noexec", "strictatime", "mode=755", "size=65536k"}));
    out.push_back(mount("/dev/pts", "devpts", "devpts",
                        {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}));
    out.push_back(mount("/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}));
    if (p.namespaces[kNsIpc].mode == NsMode::kNew)
      out.push_back(mount("/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}));
  }
  if (p.sys != SysMode::kNone) {
    json o = {"nosuid", "noexec", "nodev"};
    if (p.sys == SysMode::kReadOnly) o.push_back("ro");
    // A user namespace may mount sysfs only with its own network namespace:
    // then the host's /sys is bound instead. Not rbind: the flags reach the
    // top mount only, and runc showed the host's cgroup hierarchies below
    // it (/sys/fs/cgroup/*) read-write. A plain bind shows sysfs alone
    // (crun); runc refuses it (EINVAL: the copy's submounts are locked), so
    // the container does not start rather than start with them writable.
    if (own_user && p.namespaces[kNsNet].mode != NsMode::kNew) {
      o.push_back("bind");
      out.push_back(mount("/sys", "bind", "/sys", o));
    } else {
      out.push_back(mount("/sys", "sysfs", "sysfs", o));
    }
  }
  // The manifest's own mounts, parents before children.
  std::vector<size_t> order;
  for (size_t i = 0; i < p.mounts.size(); ++i)
    if (p.mounts[i].kind != MountKind::kStorageOverlay) order.push_back(i);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return depth(p.mounts[a].target) < depth(p.mounts[b].target); });
  for (size_t i : order) {
    const Mount& mt = p.mounts[i];
    // As nestbox-launch: without declared devices no mount may carry live
    // device nodes (a storage image or a bound directory could bring some).
    json o = flag_options(mt.flags | (p.devices.empty() ? uint32_t{kMountNodev} : 0u));
    switch (mt.kind) {
      case MountKind::kTmpfs:
        o.push_back("mode=" + octal(mt.mode));
        if (mt.size) o.push_back("size=" + std::to_string(mt.size));
        out.push_back(mount(mt.target, "tmpfs", "tmpfs", o));
        break;
      case MountKind::kBind:
      case MountKind::kStorageDir:
        // Not rbind: runtimes apply ro/nosuid/nodev to the bind's top mount
        // only, so a mount below the host directory would stay writable,
        // suid and dev inside. A plain bind shows none of them.
        o.insert(o.begin(), "bind");
        out.push_back(mount(mt.target, "bind", mt.source, o));
        break;
      case MountKind::kStorageImage:
      case MountKind::kStoragePartition:
        // Loop images and flash partitions are mounted by the integrator (or
        // nestbox-launch) at a staging path first; the bundle binds that.
        o.insert(o.begin(), "bind");
        out.push_back(mount(mt.target, "bind", "/run/nestbox/" + p.name + "/storage/" + std::to_string(i), o));
        break;
      case MountKind::kStorageOverlay:
        break;
    }
  }
  // The ubus socket, as nestbox-launch binds it: read-only (a connect still
  // works), nosuid, nodev, noexec; the target is the empty file compose makes.
  if (!p.ipc.ubus_socket.empty())
    out.push_back(mount(p.ipc.ubus_target, "bind", p.ipc.ubus_socket, {"bind", "ro", "nosuid", "nodev", "noexec"}));
  return out;
}

// Declared devices: the minimal /dev tmpfs hides the image's own nodes, so
// the runtime creates those below /dev (as nestbox-launch does).
json devices(const Policy& p) {
  json out = json::array();
  if (p.dev != DevMode::kMinimal) return out;
  for (const Device& d : p.devices) {
    if (d.path.rfind("/dev/", 0) != 0) continue;
    out.push_back({{"path", d.path},
                   {"type", d.type == DeviceType::kBlock ? "b" : "c"},
                   {"major", d.major},
                   {"minor", d.minor},
                   {"fileMode", d.mode & 07777},
                   {"uid", d.uid},
                   {"gid", d.gid}});
  }
  return out;
}

json namespaces(const Policy& p) {
  json out = json::array();
  for (int i = 0; i < kNsCount; ++i) {
    NsIndex ns = static_cast<NsIndex>(i);
    const Namespace& n = p.namespaces[i];
    if (n.mode == NsMode::kNew) out.push_back({{"type", namespace_oci_name(ns)}});
    if (n.mode == NsMode::kJoin)
      out.push_back({{"type", namespace_oci_name(ns)}, {"path", namespace_pin_path(n.join, ns)}});
  }
  return out;
}

json idmap(const std::vector<IdMap>& maps) {
  json out = json::array();
  for (const IdMap& m : maps) out.push_back({{"containerID", m.inside}, {"hostID", m.outside}, {"size", m.count}});
  return out;
}

// cgroup v2 cpu.weight (1..10000) to v1 cpu.shares (2..262144), the inverse
// of the conversion runc and crun apply on v2 hosts.
uint64_t weight_to_shares(uint32_t w) { return 2 + (uint64_t{w} - 1) * 262142 / 9999; }

Result<json> resources(const Policy& p) {
  const Cgroups& c = p.cgroups;
  json r;
  // Deny every device, then allow the declared ones (the runtime adds its
  // standard /dev nodes: null zero full random urandom tty ptmx pts).
  json dev = json::array({{{"allow", false}, {"access", "rwm"}}});
  for (const Device& d : p.devices)
    dev.push_back({{"allow", true},
                   {"type", d.type == DeviceType::kBlock ? "b" : "c"},
                   {"major", d.major},
                   {"minor", d.minor},
                   {"access", "rwm"}});
  r["devices"] = dev;
  if (c.memory_max) {
    json mem{{"limit", c.memory_max}};
    // OCI swap is memory+swap (unset: no swap), an int64.
    auto swap = memory_plus_swap(c.memory_max, c.memory_swap_max.value_or(0));
    if (!swap)
      return bad_input("cgroups: memory " + std::to_string(c.memory_max) + " + swap " +
                       std::to_string(c.memory_swap_max.value_or(0)) + " exceeds 9223372036854775807 bytes");
    mem["swap"] = *swap;
    r["memory"] = mem;
  }
  json cpu = json::object();
  if (c.cpu_weight) cpu["shares"] = weight_to_shares(c.cpu_weight);
  if (c.cpu_quota_us) {
    cpu["quota"] = c.cpu_quota_us;
    cpu["period"] = c.cpu_period_us;
  }
  if (!c.cpuset_cpus.empty()) cpu["cpus"] = c.cpuset_cpus;
  if (!c.cpuset_mems.empty()) cpu["mems"] = c.cpuset_mems;
  if (!cpu.empty()) r["cpu"] = cpu;
  if (c.pids_max) r["pids"] = {{"limit", c.pids_max}};
  // v2 io.weight 1..10000 to v1 blkio.weight 10..1000.
  if (c.io_weight) r["blockIO"] = {{"weight", std::clamp<uint32_t>(c.io_weight / 10, 10, 1000)}};
  return r;
}

const char* oci_action(m::SeccompAction a) {
  switch (a) {
    case m::SeccompAction::kAllow: return "SCMP_ACT_ALLOW";
    case m::SeccompAction::kErrno: return "SCMP_ACT_ERRNO";
    case m::SeccompAction::kKill: return "SCMP_ACT_KILL_PROCESS";
    case m::SeccompAction::kLog: return "SCMP_ACT_LOG";
    case m::SeccompAction::kTrap: return "SCMP_ACT_TRAP";
  }
  return "SCMP_ACT_KILL_PROCESS";
}

Result<json> seccomp(const m::Seccomp& rules, m::Arch arch) {
  auto plan = plan_seccomp(rules, arch);
  if (!plan.ok()) return std::move(plan).error();
  json s;
  s["defaultAction"] = oci_action(rules.default_action);
  if (rules.default_action == m::SeccompAction::kErrno) s["defaultErrnoRet"] = rules.default_errno;
  s["architectures"] = json::array({oci_seccomp_arch(arch)});
  json calls = json::array();
  for (const SeccompPlan::Rule& r : plan->rules) {
    json rule{{"names", r.syscalls}, {"action", oci_action(r.action)}};
    if (r.action == m::SeccompAction::kErrno) rule["errnoRet"] = r.errno_value;
    // runc and crun hand value and valueTwo to libseccomp as its datum_a
    // and datum_b: for SCMP_CMP_MASKED_EQ the mask and the value.
    for (const m::SeccompArg& a : r.args)
      rule["args"].push_back({{"index", a.index}, {"value", a.mask}, {"valueTwo", a.value}, {"op", "SCMP_CMP_MASKED_EQ"}});
    calls.push_back(rule);
  }
  s["syscalls"] = calls;
  return s;
}

// Beyond nestbox-launch's files (policy/proc_masks.h), the directories the
// usual Docker list hides too.
const char* const kMaskedDirs[] = {"/proc/acpi", "/proc/asound", "/proc/scsi", "/sys/firmware"};

}  // namespace

Result<std::string> oci_config(const m::Manifest& man, const OciOptions& options) {
  auto baked = bake(man);
  if (!baked.ok()) return std::move(baked).error();
  const Policy& p = *baked;
  json c;
  c["ociVersion"] = "1.1.0";
  c["process"] = process(p);
  c["root"] = {{"path", options.root_path}, {"readonly", p.read_only_root}};
  if (p.namespaces[kNsUts].mode == NsMode::kNew) {
    c["hostname"] = p.hostname;
    if (!p.domainname.empty()) c["domainname"] = p.domainname;
  }
  c["mounts"] = mounts(p);
  json linux;
  linux["namespaces"] = namespaces(p);
  if (json devs = devices(p); !devs.empty()) linux["devices"] = devs;
  if (p.namespaces[kNsUser].mode == NsMode::kNew) {
    linux["uidMappings"] = idmap(p.uid_map);
    linux["gidMappings"] = idmap(p.gid_map);
  }
  auto res = resources(p);
  if (!res.ok()) return std::move(res.error().context("oci " + p.name));
  linux["resources"] = *res;
  linux["cgroupsPath"] = options.cgroups_path.empty() ? "/nestbox/" + p.name : options.cgroups_path;
  if (m::Seccomp rules = m::effective_seccomp(man); rules.enabled) {
    auto s = seccomp(rules, man.arch);
    if (!s.ok()) return std::move(s.error().context("oci " + man.name));
    linux["seccomp"] = *s;
  }
  if (p.namespaces[kNsMount].mode == NsMode::kNew && p.proc) {
    json masked = json::array();
    for (const char* f : kProcMaskedFiles) masked.push_back(f);
    for (const char* d : kMaskedDirs) masked.push_back(d);
    linux["maskedPaths"] = masked;
    linux["readonlyPaths"] = kProcReadonlyPaths;
  }
  c["linux"] = linux;
  c["annotations"] = {{"org.nestbox.name", p.name},
                      {"org.nestbox.arch", p.arch},
                      {"org.nestbox.model", p.process.model == Model::kSystem ? "system" : "process"}};
  if (p.process.argv.empty() && !p.process.services.empty()) {
    std::string names;
    for (const Service& s : p.process.services) names += (names.empty() ? "" : ",") + s.name;
    c["annotations"]["org.nestbox.services"] = names;  // supervised by nestbox's init only
  }
  return json_text(c, 2) + "\n";
}

}  // namespace nestbox::policy
