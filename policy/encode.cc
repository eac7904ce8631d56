// Writer of the baked policy (layout: policy/wire.h, docs/policy-format.md).
#include <cstring>

#include "policy/format.h"
#include "policy/wire.h"

namespace nestbox::policy {
namespace {

class Writer {
 public:
  void u8(uint8_t v) { out_.push_back(v); }
  void u16(uint16_t v) { le(v, 2); }
  void u32(uint32_t v) { le(v, 4); }
  void u64(uint64_t v) { le(v, 8); }
  void boolean(bool v) { u8(v ? 1 : 0); }
  void zeros(size_t n) { out_.insert(out_.end(), n, 0); }
  void raw(const void* p, size_t n) {
    const uint8_t* b = static_cast<const uint8_t*>(p);
    out_.insert(out_.end(), b, b + n);
  }
  // Lengths and counts that do not fit are clamped; the reader then rejects the
  // blob naming the field, so encode() fails instead of writing garbage.
  void str(const std::string& s) {
    size_t n = s.size() > 0xffff ? 0xffff : s.size();
    u16(static_cast<uint16_t>(n));
    raw(s.data(), n);
  }
  template <typename T, typename F>
  void list(const std::vector<T>& v, F each) {
    size_t n = v.size() > 0xffff ? 0xffff : v.size();
    u16(static_cast<uint16_t>(n));
    for (size_t i = 0; i < n; ++i) each(v[i]);
  }
  void strings(const std::vector<std::string>& v) {
    list(v, [&](const std::string& s) { str(s); });
  }
  size_t begin_section(uint16_t tag) {
    u16(tag);
    u16(0);
    u32(0);  // patched by end_section
    return out_.size();
  }
  void end_section(size_t start) {
    patch32(start - sizeof(wire::SectionHeader) + offsetof(wire::SectionHeader, length),
            static_cast<uint32_t>(out_.size() - start));
  }
  void patch32(size_t at, uint32_t v) {
    for (int i = 0; i < 4; ++i) out_[at + i] = static_cast<uint8_t>(v >> (8 * i));
  }
  size_t size() const { return out_.size(); }
  std::vector<uint8_t> take() { return std::move(out_); }

 private:
  void le(uint64_t v, int n) {
    for (int i = 0; i < n; ++i) out_.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
  std::vector<uint8_t> out_;
};

void header(Writer& w, const Policy& p) {
  w.raw(wire::kMagic, sizeof wire::kMagic);
  w.u16(wire::kVersion);
  w.u16(sizeof(wire::Header));
  w.u32(0);  // total_size, patched at the end
  w.u32(0);  // flags
  w.u64(p.required_features);
  w.u64(0);  // reserved
}

void identity(Writer& w, const Policy& p) {
  w.str(p.name);
  w.str(p.arch);
  w.str(p.hostname);
  w.str(p.domainname);
}

void process(Writer& w, const Process& p) {
  w.u8(static_cast<uint8_t>(p.model));
  w.strings(p.argv);
  w.strings(p.env);
  w.str(p.cwd);
  w.u32(p.uid);
  w.u32(p.gid);
  w.list(p.groups, [&](uint32_t g) { w.u32(g); });
  w.list(p.services, [&](const Service& s) {
    w.str(s.name);
    w.strings(s.argv);
    w.u8(static_cast<uint8_t>(s.restart));
    w.zeros(3);
    w.u32(s.restart_limit);
    w.u32(s.restart_delay_ms);
  });
}

// Version 4: what an overlay layer needs of its base (policy.h BaseRequirement).
void base_requirement(Writer& w, const BaseRequirement& b) {
  w.u64(b.min_version);
  w.u64(b.max_version);
  w.str(b.key_id);
}

void rootfs(Writer& w, const Policy& p) {
  w.u8(static_cast<uint8_t>(p.rootfs));
  w.boolean(p.read_only_root);
  w.str(p.base);
  w.str(p.base_sha256);
  base_requirement(w, p.base_requirement);
  w.boolean(p.proc);
  w.u8(static_cast<uint8_t>(p.sys));
  w.u8(static_cast<uint8_t>(p.dev));
  w.list(p.devices, [&](const Device& d) {
    w.u8(static_cast<uint8_t>(d.type));
    w.zeros(3);
    w.u32(d.major);
    w.u32(d.minor);
    w.u32(d.mode);
    w.u32(d.uid);
    w.u32(d.gid);
    w.str(d.path);
  });
}

void namespaces(Writer& w, const Policy& p) {
  for (const Namespace& ns : p.namespaces) {
    w.u8(static_cast<uint8_t>(ns.mode));
    w.str(ns.join);
  }
}

void idmaps(Writer& w, const Policy& p) {
  auto one = [&](const IdMap& m) {
    w.u32(m.inside);
    w.u32(m.outside);
    w.u32(m.count);
  };
  w.list(p.uid_map, one);
  w.list(p.gid_map, one);
}

void security(Writer& w, const Policy& p) {
  w.u64(p.caps.keep);
  w.boolean(p.no_new_privs);
  w.str(p.apparmor_profile);
  w.str(p.selinux_context);
}

void cgroups(Writer& w, const Cgroups& c) {
  w.u64(c.memory_max);
  w.u64(c.memory_swap_max.value_or(0));
  w.u64(c.cpu_quota_us);
  w.u64(c.cpu_period_us);
  w.u32(c.cpu_weight);
  w.u32(c.pids_max);
  w.u32(c.io_weight);
  w.boolean(c.freezer);
  w.boolean(c.memory_swap_max.has_value());
  w.boolean(c.io_weight_best_effort);
  w.zeros(1);
  w.str(c.cpuset_cpus);
  w.str(c.cpuset_mems);
}

void mounts(Writer& w, const Policy& p) {
  w.list(p.mounts, [&](const Mount& m) {
    w.u8(static_cast<uint8_t>(m.kind));
    w.zeros(3);
    w.u32(m.mode);
    w.u32(m.flags);
    w.u32(0);
    w.u64(m.size);
    w.str(m.source);
    w.str(m.target);
    w.str(m.fstype);
    w.boolean(m.owner_set);
    w.zeros(3);
    w.u32(m.uid);
    w.u32(m.gid);
  });
}

void network(Writer& w, const Policy& p) {
  w.u8(static_cast<uint8_t>(p.net));
  w.list(p.interfaces, [&](const Interface& i) {
    w.u8(static_cast<uint8_t>(i.type));
    w.u8(static_cast<uint8_t>(i.macvlan_mode));
    w.u32(i.vlan_id);
    w.u32(i.mtu);
    w.str(i.name);
    w.str(i.parent);
    w.str(i.bridge);
    w.str(i.host_name);
    w.str(i.mac);
    w.strings(i.addresses);
    w.list(i.routes, [&](const Route& r) {
      w.str(r.destination);
      w.str(r.gateway);
    });
  });
}

void rlimits(Writer& w, const Policy& p) {
  w.list(p.rlimits, [&](const Rlimit& r) {
    w.u32(r.resource);
    w.u32(0);
    w.u64(r.soft);
    w.u64(r.hard);
  });
}

void seccomp(Writer& w, const Policy& p) {
  w.u32(static_cast<uint32_t>(p.seccomp.bpf.size()));
  w.raw(p.seccomp.bpf.data(), p.seccomp.bpf.size());
}

// Section 12 (docs/policy-format.md, "Firewall").
void firewall(Writer& w, const Firewall& f) {
  w.boolean(f.enabled);
  w.boolean(f.masquerade);
  w.u8(f.allow_out);
  w.zeros(1);
  w.strings(f.lan);
  w.strings(f.wan);
  w.list(f.allow_in, [&](const FirewallAllow& a) {
    w.str(a.interface);
    w.u8(static_cast<uint8_t>(a.protocol));
    w.u8(a.from);
    w.zeros(2);
    w.list(a.ports, [&](uint16_t port) { w.u16(port); });
  });
}

void hotplug(Writer& w, const Policy& p) {
  w.list(p.hotplug, [&](const HotplugRule& r) {
    w.u8(r.access);
    w.u8(static_cast<uint8_t>(r.devtype));
    w.zeros(2);
    w.u32(r.mode);
    w.u32(r.uid);
    w.u32(r.gid);
    w.str(r.name);
    w.str(r.parent);
    w.str(r.dir);
    w.list(r.properties, [&](const HotplugProperty& prop) {
      w.str(prop.key);
      w.str(prop.value);
    });
  });
}

// Empty without a check, so that policies without [health] keep their bytes.
void health(Writer& w, const Policy& p) {
  if (p.health.argv.empty()) return;
  w.strings(p.health.argv);
  w.u32(p.health.timeout_ms);
}

void ipc(Writer& w, const Policy& p) {
  w.str(p.ipc.ubus_socket);
  w.str(p.ipc.ubus_target);
}

}  // namespace

Result<std::vector<uint8_t>> encode(const Policy& p) {
  Writer w;
  header(w, p);
  auto section = [&](uint16_t tag, auto body) {
    size_t start = w.begin_section(tag);
    body();
    w.end_section(start);
  };
  section(wire::kTagIdentity, [&] { identity(w, p); });
  section(wire::kTagProcess, [&] { process(w, p.process); });
  section(wire::kTagRootfs, [&] { rootfs(w, p); });
  section(wire::kTagNamespaces, [&] { namespaces(w, p); });
  section(wire::kTagIdMaps, [&] { idmaps(w, p); });
  section(wire::kTagSecurity, [&] { security(w, p); });
  section(wire::kTagCgroups, [&] { cgroups(w, p.cgroups); });
  section(wire::kTagMounts, [&] { mounts(w, p); });
  section(wire::kTagNetwork, [&] { network(w, p); });
  section(wire::kTagRlimits, [&] { rlimits(w, p); });
  section(wire::kTagSeccomp, [&] { seccomp(w, p); });
  section(wire::kTagFirewall, [&] { firewall(w, p.firewall); });
  section(wire::kTagHotplug, [&] { hotplug(w, p); });
  section(wire::kTagHealth, [&] { health(w, p); });
  section(wire::kTagIpc, [&] { ipc(w, p); });
  size_t total = w.size();
  w.patch32(offsetof(wire::Header, total_size),
            total > 0xffffffffu ? 0xffffffffu : static_cast<uint32_t>(total));
  std::vector<uint8_t> blob = w.take();
  // The writer never emits what the reader would refuse.
  Result<Policy> check = decode(blob);
  if (!check.ok()) return std::move(check.error().context("encode"));
  return blob;
}

}  // namespace nestbox::policy
