// Internal: the one description of every Manifest field as it is shown and
// round-tripped, visited by the JSON writer, the JSON reader and the text
// renderer (render.cc). Adding a field here is the only step needed to show
// and round-trip it. (The TOML loader reads the manifest's written syntax,
// with its places and defaults, in loader.cc, ipc.cc and devices.cc; a field
// missing here is dropped by `show --json` and by from_json: Json's
// round-trip test checks the tables the examples use.)
#pragma once

#include "manifests/model.h"

namespace nestbox::manifests::detail {

template <typename V>
void visit(V& v, SourcePos&) { (void)v; }

template <typename V>
void visit_owner(V& v, Owner& o) {
  v.field("uid", o.uid);
  v.field("gid", o.gid);
}

template <typename V>
void visit_namespace(V& v, const char* name, Namespace& ns) {
  v.object(name, [&](V& s) {
    s.enumeration("mode", ns.mode, {NsMode::kNew, NsMode::kHost, NsMode::kJoin});
    s.field("join", ns.join);
  });
}

template <typename V>
void visit_manifest(V& v, Manifest& m) {
  v.field("schema", m.schema);
  v.field("name", m.name);
  v.field("version", m.version);
  v.field("security_version", m.security_version);
  v.field("version_string", m.version_string);
  v.field("description", m.description);
  v.enumeration("arch", m.arch, {Arch::kX86_64, Arch::kAarch64, Arch::kArm, Arch::kMips, Arch::kMipsel,
                                 Arch::kPowerpc, Arch::kRiscv64, Arch::kI386});
  v.field("compat", m.compat);
  v.field("signing_key", m.signing_key);
  v.field("kernel_min", m.kernel_min);

  v.object("process", [&](V& p) {
    p.enumeration("model", m.process.model, {Model::kProcess, Model::kSystem});
    p.field("command", m.process.command);
    p.field("env", m.process.env);
    p.field("cwd", m.process.cwd);
    p.field("user", m.process.uid);
    p.field("group", m.process.gid);
    p.field("groups", m.process.supplementary_gids);
    p.list("services", m.process.services, [](V& s, Service& svc) {
      s.field("name", svc.name);
      s.field("command", svc.command);
      s.enumeration("restart", svc.restart, {Restart::kOnFailure, Restart::kAlways, Restart::kNever});
      s.field("restart_limit", svc.restart_limit);
      s.field("restart_delay_us", svc.restart_delay_us);
    });
  });

  v.object("rootfs", [&](V& r) {
    Rootfs& fs = m.rootfs;
    r.enumeration("strategy", fs.strategy, {RootfsStrategy::kHostHardlink, RootfsStrategy::kTree,
                                            RootfsStrategy::kSquashfs, RootfsStrategy::kOverlay});
    r.field("base", fs.base);
    r.field("base_key", fs.base_key);
    r.field("base_min_version", fs.base_min_version);
    r.field("base_max_version", fs.base_max_version);
    r.field("read_only", fs.read_only);
    r.enumeration("compressor", fs.compressor, {Compressor::kGzip, Compressor::kXz, Compressor::kZstd,
                                                Compressor::kLz4, Compressor::kLzo});
    r.field("block_size", fs.block_size);
    r.field("allow_setuid", fs.allow_setuid);
    r.field("allow_file_caps", fs.allow_file_caps);
    r.field("max_file_size", fs.max_file_size);
    r.list("sources", fs.sources, [](V& s, RootfsSource& src) {
      s.enumeration("type", src.kind, {SourceKind::kDirectory, SourceKind::kTar, SourceKind::kIpk, SourceKind::kDeb});
      s.field("path", src.path);
      s.field("trusted", src.trusted);
    });
    r.field("include", fs.include);
    r.field("exclude", fs.exclude);
    r.field("binaries", fs.binaries);
    r.list("dirs", fs.dirs, [](V& s, ExtraDir& d) {
      s.field("path", d.path);
      s.mode("mode", d.mode);
      visit_owner(s, d.owner);
    });
    r.list("files", fs.files, [](V& s, ExtraFile& f) {
      s.field("path", f.path);
      s.field("source", f.source);
      s.field("content", f.content);
      s.mode("mode", f.mode);
      visit_owner(s, f.owner);
    });
    r.list("symlinks", fs.symlinks, [](V& s, ExtraSymlink& l) {
      s.field("path", l.path);
      s.field("target", l.target);
    });
    r.list("devices", fs.devices, [](V& s, DeviceNode& d) {
      s.field("path", d.path);
      s.enumeration("type", d.type, {DeviceType::kChar, DeviceType::kBlock, DeviceType::kFifo});
      s.field("major", d.major);
      s.field("minor", d.minor);
      s.mode("mode", d.mode);
      visit_owner(s, d.owner);
    });
  });

  v.object("users", [&](V& u) {
    u.field("namespace", m.users.user_namespace);
    auto range = [](V& s, IdMapRange& r) {
      s.field("inside", r.inside);
      s.field("outside", r.outside);
      s.field("count", r.count);
    };
    u.list("uid_map", m.users.uid_map, range);
    u.list("gid_map", m.users.gid_map, range);
    u.field("shift_ownership", m.users.shift_ownership);
  });

  v.object("security", [&](V& s) {
    s.field("capabilities", m.security.capabilities);
    s.field("capability_mask", m.security.capability_mask);
    s.field("no_new_privs", m.security.no_new_privs);
    s.field("apparmor_profile", m.security.apparmor_profile);
    s.field("selinux_context", m.security.selinux_context);
  });

  v.object("namespaces", [&](V& n) {
    visit_namespace(n, "mount", m.namespaces.mount);
    visit_namespace(n, "uts", m.namespaces.uts);
    visit_namespace(n, "ipc", m.namespaces.ipc);
    visit_namespace(n, "pid", m.namespaces.pid);
    visit_namespace(n, "net", m.namespaces.net);
    visit_namespace(n, "user", m.namespaces.user);
    visit_namespace(n, "cgroup", m.namespaces.cgroup);
    n.field("hostname", m.namespaces.hostname);
    n.field("domainname", m.namespaces.domainname);
  });

  v.object("cgroups", [&](V& c) {
    Cgroups& cg = m.cgroups;
    c.field("memory", cg.memory_max);
    c.field("memory_swap", cg.memory_swap_max);
    c.field("cpu_weight", cg.cpu_weight);
    c.field("cpu_quota_us", cg.cpu_quota_us);
    c.field("cpu_period_us", cg.cpu_period_us);
    c.field("pids_max", cg.pids_max);
    c.field("io_weight", cg.io_weight);
    c.field("io_weight_best_effort", cg.io_weight_best_effort);
    c.field("cpuset_cpus", cg.cpuset_cpus);
    c.field("cpuset_mems", cg.cpuset_mems);
    c.field("freezer", cg.freezer);
  });

  const std::initializer_list<SeccompAction> kActions = {SeccompAction::kAllow, SeccompAction::kErrno,
      SeccompAction::kKill, SeccompAction::kLog, SeccompAction::kTrap};
  v.object("seccomp", [&](V& s) {
    s.field("enabled", m.seccomp.enabled);
    s.enumeration("default_action", m.seccomp.default_action, kActions);
    s.field("default_errno", m.seccomp.default_errno);
    s.field("allow", m.seccomp.allow);
    s.list("deny", m.seccomp.deny, [&](V& d, SeccompRule& rule) {
      d.field("syscalls", rule.syscalls);
      d.enumeration("action", rule.action, kActions);
      d.field("errno", rule.errno_value);
    });
  });

  v.object("mounts", [&](V& mt) {
    Mounts& mounts = m.mounts;
    mt.field("proc", mounts.proc);
    mt.enumeration("sys", mounts.sys, {SysMode::kReadOnly, SysMode::kReadWrite, SysMode::kNone});
    mt.enumeration("dev", mounts.dev, {DevMode::kMinimal, DevMode::kNone});
    mt.list("tmpfs", mounts.tmpfs, [](V& s, TmpfsMount& t) {
      s.field("target", t.target);
      s.field("size", t.size);
      s.mode("mode", t.mode);
      s.field("noexec", t.noexec);
      s.field("nosuid", t.nosuid);
      s.field("nodev", t.nodev);
    });
    mt.list("bind", mounts.binds, [](V& s, BindMount& b) {
      s.field("source", b.source);
      s.field("target", b.target);
      s.field("read_only", b.read_only);
      s.field("noexec", b.noexec);
      s.field("nosuid", b.nosuid);
      s.field("nodev", b.nodev);
    });
    mt.list("storage", mounts.storage, [](V& s, StorageMount& st) {
      s.enumeration("kind", st.kind, {StorageKind::kDirectory, StorageKind::kImage, StorageKind::kPartition,
                                      StorageKind::kOverlay});
      s.field("target", st.target);
      s.field("source", st.source);
      s.field("size", st.size);
      s.field("fstype", st.fstype);
      s.field("noexec", st.noexec);
      s.field("nosuid", st.nosuid);
      s.field("nodev", st.nodev);
      s.enumeration("owner_kind", st.owner_kind, {StorageMount::OwnerKind::kUnset, StorageMount::OwnerKind::kIds,
                                                  StorageMount::OwnerKind::kProcess});
      s.field("uid", st.owner.uid);
      s.field("gid", st.owner.gid);
      s.field("mode", st.mode);
    });
  });

  v.object("network", [&](V& n) {
    n.enumeration("mode", m.network.mode, {NetworkMode::kNone, NetworkMode::kEmpty, NetworkMode::kInterfaces});
    n.list("interfaces", m.network.interfaces, [](V& s, NetInterface& i) {
      s.enumeration("type", i.type, {InterfaceType::kPhys, InterfaceType::kVlan, InterfaceType::kVeth,
                                     InterfaceType::kMacvlan});
      s.field("name", i.name);
      s.field("parent", i.parent);
      s.field("vlan_id", i.vlan_id);
      s.field("bridge", i.bridge);
      s.field("host_name", i.host_name);
      s.enumeration("mode", i.macvlan_mode, {MacvlanMode::kVepa, MacvlanMode::kPrivate, MacvlanMode::kBridge,
                                             MacvlanMode::kPassthru});
      s.field("mac", i.mac);
      s.field("addresses", i.addresses);
      s.field("mtu", i.mtu);
      s.list("routes", i.routes, [](V& r, Route& route) {
        r.field("to", route.destination);
        r.field("via", route.gateway);
      });
    });
  });

  v.list("rlimits", m.rlimits, [](V& s, Rlimit& r) {
    s.field("name", r.name);
    s.field("resource", r.resource);
    s.field("soft", r.soft);
    s.field("hard", r.hard);
  });

  v.object("devices", [&](V& d) {
    d.list("hotplug", m.devices.hotplug, [](V& s, HotplugRule& h) {
      s.field("name", h.name);
      s.enumeration("devtype", h.devtype, {HotplugDevtype::kAny, HotplugDevtype::kDisk, HotplugDevtype::kPartition});
      s.field("properties", h.properties);  // [KEY, value glob] pairs
      s.field("parent", h.parent);
      s.field("read_only", h.read_only);    // access = "ro"
      s.field("dir", h.dir);
      s.mode("mode", h.mode);
      visit_owner(s, h.owner);
    });
  });

  v.object("ipc", [&](V& i) {
    i.object("ubus", [&](V& u) {
      u.field("enabled", m.ipc.ubus);  // the [ipc.ubus] table is present
      u.field("socket", m.ipc.socket);
      u.field("target", m.ipc.target);
      u.field("user", m.ipc.user);
      u.list("grants", m.ipc.grants, [](V& s, UbusGrant& g) {
        s.field("object", g.object);
        s.field("methods", g.methods);
      });
    });
  });

  v.object("health", [&](V& h) {
    h.field("command", m.health.command);  // empty: no [health] check
    h.field("timeout_us", m.health.timeout_us);
  });
}

}  // namespace nestbox::manifests::detail
