#include "policy/render.h"

#include <nlohmann/json.hpp>

#include "manifests/model.h"
#include "policy/bake.h"
#include "policy/names.h"
#include "policy/wire.h"
#include "util/json_text.h"

namespace nestbox::policy {
namespace {

using json = nlohmann::ordered_json;

const char* model_name(Model m) { return m == Model::kSystem ? "system" : "process"; }
// The manifest's name of the strategy that bakes to `k` (one table: manifests).
const char* rootfs_name(RootfsKind k) {
  for (const auto& [name, strategy] : manifests::strategy_names())
    if (rootfs_kind(strategy) == k) return name;
  return "?";
}
const char* ns_mode(NsMode m) {
  static const char* kNames[] = {"new", "host", "join"};
  return kNames[static_cast<int>(m)];
}
const char* sys_name(SysMode m) {
  static const char* kNames[] = {"ro", "rw", "none"};
  return kNames[static_cast<int>(m)];
}
const char* net_name(NetMode m) {
  static const char* kNames[] = {"none", "empty", "interfaces"};
  return kNames[static_cast<int>(m)];
}
const char* if_type(IfType t) {
  static const char* kNames[] = {"phys", "vlan", "veth", "macvlan"};
  return kNames[static_cast<int>(t)];
}
const char* macvlan_name(MacvlanMode m) {
  static const char* kNames[] = {"vepa", "private", "bridge", "passthru"};
  return kNames[static_cast<int>(m)];
}
const char* mount_kind(MountKind k) {
  static const char* kNames[] = {"tmpfs", "bind", "storage-dir", "storage-image", "storage-partition",
                                 "storage-overlay"};
  return kNames[static_cast<int>(k)];
}

json flags(uint32_t f) {
  json o = json::array();
  if (f & kMountReadOnly) o.push_back("ro");
  if (f & kMountNoexec) o.push_back("noexec");
  if (f & kMountNosuid) o.push_back("nosuid");
  if (f & kMountNodev) o.push_back("nodev");
  return o;
}

json caps(uint64_t mask) {
  json o = json::array();
  for (unsigned c = 0; c <= wire::kLastCap; ++c)
    if (mask & (1ull << c)) o.push_back(capability_name(c));
  return o;
}

json build(const Policy& p) {
  json j;
  j["name"] = p.name;
  j["arch"] = p.arch;
  j["hostname"] = p.hostname;
  j["domainname"] = p.domainname;
  json proc{{"model", model_name(p.process.model)}, {"argv", p.process.argv}, {"env", p.process.env},
            {"cwd", p.process.cwd}, {"uid", p.process.uid}, {"gid", p.process.gid},
            {"groups", p.process.groups}};
  json services = json::array();
  static const char* const kRestart[] = {"on-failure", "always", "never"};
  for (const Service& s : p.process.services)
    services.push_back({{"name", s.name}, {"argv", s.argv},
                        {"restart", kRestart[static_cast<int>(s.restart) % 3]},
                        {"restart_limit", s.restart_limit}, {"restart_delay_ms", s.restart_delay_ms}});
  proc["services"] = services;
  j["process"] = proc;
  j["rootfs"] = {{"kind", rootfs_name(p.rootfs)}, {"read_only", p.read_only_root}, {"base", p.base}, {"base_sha256", p.base_sha256},
                {"base_key_id", p.base_requirement.key_id}, {"base_min_version", p.base_requirement.min_version},
                {"base_max_version", p.base_requirement.max_version}};
  json devices = json::array();
  for (const Device& d : p.devices)
    devices.push_back({{"path", d.path}, {"type", d.type == DeviceType::kBlock ? "block" : "char"},
                       {"major", d.major}, {"minor", d.minor}, {"mode", d.mode}, {"uid", d.uid}, {"gid", d.gid}});
  j["rootfs"]["devices"] = devices;
  json hotplug = json::array();
  static const char* const kDevtype[] = {"any", "disk", "partition"};
  for (const HotplugRule& h : p.hotplug) {
    json props = json::object();
    for (const HotplugProperty& prop : h.properties) props[prop.key] = prop.value;
    hotplug.push_back({{"name", h.name}, {"devtype", kDevtype[static_cast<int>(h.devtype) % 3]},
                       {"properties", props}, {"parent", h.parent},
                       {"access", (h.access & kHotplugWrite) ? "rw" : "ro"}, {"dir", h.dir},
                       {"mode", h.mode}, {"uid", h.uid}, {"gid", h.gid}});
  }
  j["hotplug"] = hotplug;
  json ns;
  for (int i = 0; i < kNsCount; ++i) {
    json one{{"mode", ns_mode(p.namespaces[i].mode)}};
    if (p.namespaces[i].mode == NsMode::kJoin) one["join"] = p.namespaces[i].join;
    ns[namespace_proc_name(static_cast<NsIndex>(i))] = one;
  }
  j["namespaces"] = ns;
  auto maps = [](const std::vector<IdMap>& v) {
    json o = json::array();
    for (const IdMap& m : v) o.push_back({{"inside", m.inside}, {"outside", m.outside}, {"count", m.count}});
    return o;
  };
  j["uid_map"] = maps(p.uid_map);
  j["gid_map"] = maps(p.gid_map);
  char mask[32];
  snprintf(mask, sizeof mask, "0x%016llx", static_cast<unsigned long long>(p.caps.keep));
  j["security"] = {{"capabilities", caps(p.caps.keep)}, {"capability_mask", mask},
                   {"no_new_privs", p.no_new_privs}, {"apparmor_profile", p.apparmor_profile},
                   {"selinux_context", p.selinux_context}};
  const Cgroups& c = p.cgroups;
  j["cgroups"] = {{"memory_max", c.memory_max}, {"memory_swap_max", c.memory_swap_max ? json(*c.memory_swap_max) : json(nullptr)},
                  {"cpu_weight", c.cpu_weight}, {"cpu_quota_us", c.cpu_quota_us},
                  {"cpu_period_us", c.cpu_period_us}, {"pids_max", c.pids_max}, {"io_weight", c.io_weight},
                  {"io_weight_best_effort", c.io_weight_best_effort},
                  {"cpuset_cpus", c.cpuset_cpus}, {"cpuset_mems", c.cpuset_mems}, {"freezer", c.freezer}};
  json mounts = json::array();
  for (const Mount& m : p.mounts) {
    char mode[16];
    snprintf(mode, sizeof mode, "%04o", m.mode);  // octal, as in manifests
    json one{{"kind", mount_kind(m.kind)}, {"source", m.source}, {"target", m.target},
             {"fstype", m.fstype}, {"size", m.size}, {"mode", mode}, {"flags", flags(m.flags)}};
    if (m.owner_set) one["owner"] = {{"uid", m.uid}, {"gid", m.gid}};
    mounts.push_back(std::move(one));
  }
  j["mounts"] = {{"proc", p.proc}, {"sys", sys_name(p.sys)},
                 {"dev", p.dev == DevMode::kMinimal ? "minimal" : "none"}, {"list", mounts}};
  json ifs = json::array();
  for (const Interface& i : p.interfaces) {
    json routes = json::array();
    for (const Route& r : i.routes) routes.push_back({{"to", r.destination}, {"via", r.gateway}});
    ifs.push_back({{"type", if_type(i.type)}, {"name", i.name}, {"parent", i.parent}, {"bridge", i.bridge},
                   {"host_name", i.host_name}, {"mac", i.mac}, {"vlan_id", i.vlan_id},
                   {"macvlan_mode", macvlan_name(i.macvlan_mode)}, {"mtu", i.mtu}, {"addresses", i.addresses},
                   {"routes", routes}});
  }
  j["network"] = {{"mode", net_name(p.net)}, {"interfaces", ifs}};
  if (p.firewall.enabled) {
    auto zones = [](uint8_t bits) {
      json z = json::array();
      if (bits & kZoneHost) z.push_back("host");
      if (bits & kZoneLan) z.push_back("lan");
      if (bits & kZoneWan) z.push_back("wan");
      return z;
    };
    json allow = json::array();
    for (const FirewallAllow& a : p.firewall.allow_in)
      allow.push_back({{"interface", a.interface},
                       {"protocol", a.protocol == FwProtocol::kTcp ? "tcp" : a.protocol == FwProtocol::kUdp ? "udp" : "icmp"},
                       {"ports", a.ports}, {"from", zones(a.from)}});
    j["network"]["firewall"] = {{"lan", p.firewall.lan}, {"wan", p.firewall.wan},
                                {"allow_out", zones(p.firewall.allow_out)},
                                {"masquerade", p.firewall.masquerade}, {"allow_in", allow}};
  }
  json rl = json::array();
  for (const Rlimit& r : p.rlimits) {
    const char* n = rlimit_name(r.resource);
    rl.push_back({{"resource", n ? n : std::to_string(r.resource)}, {"soft", r.soft}, {"hard", r.hard}});
  }
  j["rlimits"] = rl;
  j["seccomp"] = {{"bpf_instructions", p.seccomp.bpf.size() / wire::kBpfInsnSize},
                  {"bpf_bytes", p.seccomp.bpf.size()}};
  if (!p.ipc.ubus_socket.empty())  // shown only when set ([ipc.ubus])
    j["ipc"] = {{"ubus_socket", p.ipc.ubus_socket}, {"ubus_target", p.ipc.ubus_target}};
  char feat[32];
  snprintf(feat, sizeof feat, "0x%016llx", static_cast<unsigned long long>(p.required_features));
  j["required_features"] = feat;
  return j;
}

// Flattens JSON into "a.b[0].c = value" lines.
void flatten(const json& j, const std::string& prefix, std::string& out) {
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it)
      flatten(it.value(), prefix.empty() ? it.key() : prefix + "." + it.key(), out);
  } else if (j.is_array() && !j.empty() && (j.front().is_object() || j.front().is_array())) {
    for (size_t i = 0; i < j.size(); ++i) flatten(j[i], prefix + "[" + std::to_string(i) + "]", out);
  } else {
    out += prefix + " = " + json_text(j) + "\n";
  }
}

}  // namespace

std::string to_json(const Policy& p) { return json_text(build(p), 2) + "\n"; }

std::string to_text(const Policy& p) {
  std::string out;
  flatten(build(p), "", out);
  return out;
}

}  // namespace nestbox::policy
