// TOML -> Manifest: types, units and unknown keys. Semantic rules that relate
// several keys live in validate.cc.
#include <algorithm>
#include <cstring>
#include <filesystem>

#include "manifests/devices.h"
#include "manifests/ipc.h"
#include "manifests/manifest.h"
#include "manifests/toml_reader.h"
#include "manifests/units.h"
#include "manifests/validate.h"
#include "policy/names.h"
#include "util/file_io.h"

namespace nestbox::manifests {
namespace {

using detail::Diagnostics;
using detail::in_quotes;
using detail::TableView;

// Runs `fn(view, index)` for each table of an array of tables, then finishes it.
template <typename Fn>
void for_each_table(TableView& parent, const char* key, Fn fn) {
  const toml::array* arr = parent.array_of_tables(key);
  if (!arr) return;
  for (size_t i = 0; i < arr->size(); ++i) {
    const toml::table* t = (*arr)[i].as_table();
    if (!t) continue;
    TableView view(parent.diag(), *t, parent.path_of(key) + "[" + std::to_string(i) + "]");
    fn(view, i);
    view.finish();
  }
}

void read_owner(TableView& t, Owner& owner) {
  t.get_u32("uid", owner.uid);
  t.get_u32("gid", owner.gid);
}

void read_identity(TableView& top, Manifest& m) {
  uint64_t schema = 1;
  if (top.get_uint("schema", schema, 0, UINT32_MAX) && schema != 1)
    top.diag().error(top.diag().pos("schema"), "schema",
                     "unsupported schema version " + std::to_string(schema) + "; expected 1");
  top.require("name", "the container name, a string");
  top.get("name", m.name);
  top.require("version", "a monotonic integer version (for anti-rollback)");
  top.get_uint("version", m.version, 0, UINT64_MAX >> 1);
  top.get_uint("security_version", m.security_version, 0, UINT64_MAX >> 1);
  top.get("version_string", m.version_string);
  top.get_text("description", m.description);
  top.get_enum("arch", m.arch, arch_names());
  top.get("compat", m.compat);
  top.get("signing_key", m.signing_key);
  std::string kernel;
  if (top.get("kernel_min", kernel)) {
    if (auto v = parse_kernel_version(kernel))
      m.kernel_min = *v;
    else
      top.diag().error(top.diag().pos("kernel_min"), "kernel_min",
                       in_quotes(kernel) + " is not a kernel version; expected \"MAJOR.MINOR[.PATCH]\"");
  }
}

void read_process(TableView& top, Manifest& m) {
  const toml::table* t = top.table("process");
  if (!t) {
    top.require("process", "a [process] table with at least `command`");
    return;
  }
  TableView p(top.diag(), *t, "process");
  Process& proc = m.process;
  p.get_enum("model", proc.model, model_names());
  // model = "system" with services may leave the init to nestbox (checked by validate).
  if (proc.model == Model::kSystem && !p.raw("service"))
    p.require("command", "an array of strings: the program and its arguments, or [[process.service]] entries for nestbox's init");
  else if (proc.model != Model::kSystem)
    p.require("command", "an array of strings: the program and its arguments");
  p.get_strings("command", proc.command);
  p.get("cwd", proc.cwd);
  p.get_u32("user", proc.uid);
  // Without `group`, the user's own number, as a login's primary group: gid 0
  // would put a non-root user in the root group (root's group-writable files,
  // /sys's 0220 ones), which nobody asked for.
  if (!p.get_u32("group", proc.gid)) proc.gid = proc.uid;
  if (const toml::node* groups = p.raw("groups")) {
    if (!groups->is_array()) {
      top.diag().error(groups->source(), "process.groups",
                       std::string("got ") + detail::type_name(*groups) + "; expected an array of integers");
    } else {
      for (const toml::node& g : *groups->as_array()) {
        if (auto v = g.value<int64_t>(); v && *v >= 0 && *v <= UINT32_MAX) {
          top.diag().remember("process.groups[" + std::to_string(proc.supplementary_gids.size()) + "]", g.source());
          proc.supplementary_gids.push_back(static_cast<uint32_t>(*v));
        } else
          top.diag().error(g.source(), "process.groups", "expected an integer group id");
      }
    }
  }
  if (const toml::table* env = p.table("env")) {
    for (auto&& [key, value] : *env) {
      std::string name(key.str());
      if (!value.is_string()) {
        top.diag().error(value.source(), "process.env." + name,
                         std::string("got ") + detail::type_name(value) + "; expected a string");
        continue;
      }
      // The kernel splits "KEY=value" at the first '=': a key holding one
      // (or empty) would set another variable than the one written.
      if (name.empty() || name.find('=') != std::string::npos || detail::text_problem(name)) {
        top.diag().error(key.source(), "process.env." + name,
                         "is not a variable name; expected a non-empty name without '=', NUL or control characters");
        continue;
      }
      if (const char* why = detail::text_problem(value.as_string()->get())) {
        top.diag().error(value.source(), "process.env." + name, why);
        continue;
      }
      proc.env.push_back(name + "=" + value.as_string()->get());
    }
    std::sort(proc.env.begin(), proc.env.end());
  }
  for_each_table(p, "service", [&](TableView& s, size_t) {
    Service svc;
    s.require("name", "a string");
    s.get("name", svc.name);
    s.require("command", "an array of strings");
    s.get_strings("command", svc.command);
    s.get_enum("restart", svc.restart, restart_names());
    s.get_u32("restart_limit", svc.restart_limit, 0, 1000);
    s.get_duration_us("restart_delay", svc.restart_delay_us);
    proc.services.push_back(std::move(svc));
  });
  p.finish();
}

SourceKind infer_source_kind(const std::string& path) {
  auto ends = [&](const char* s) { return path.ends_with(s); };
  if (ends(".ipk")) return SourceKind::kIpk;
  if (ends(".deb")) return SourceKind::kDeb;
  for (const char* s : {".tar", ".tar.gz", ".tgz", ".tar.xz", ".txz", ".tar.bz2", ".tar.zst", ".tar.lz4"})
    if (ends(s)) return SourceKind::kTar;
  return SourceKind::kDirectory;
}

void read_rootfs(TableView& top, Manifest& m) {
  const toml::table* t = top.table("rootfs");
  if (!t) {
    top.require("rootfs", "a [rootfs] table with at least one [[rootfs.source]]");
    return;
  }
  TableView r(top.diag(), *t, "rootfs");
  Rootfs& fs = m.rootfs;
  fs.pos = top.diag().pos("rootfs");
  r.get_enum("strategy", fs.strategy, strategy_names());
  r.get("base", fs.base);
  fs.base_pos = top.diag().pos("rootfs.base");
  r.get("base_key", fs.base_key);
  r.get_uint("base_min_version", fs.base_min_version, 0, UINT64_MAX >> 1);
  r.get_uint("base_max_version", fs.base_max_version, 1, UINT64_MAX >> 1);
  r.get("read_only", fs.read_only);
  r.get_enum("compressor", fs.compressor, compressor_names());
  fs.compressor_pos = top.diag().pos("rootfs.compressor");
  uint64_t block = fs.block_size;
  if (r.get_size("block_size", block)) {
    if (block < 4096 || block > (1u << 20) || (block & (block - 1)))
      top.diag().error(top.diag().pos("rootfs.block_size"), "rootfs.block_size",
                       std::to_string(block) + " bytes is not allowed; expected a power of two from 4K to 1M");
    else
      fs.block_size = static_cast<uint32_t>(block);
  }
  r.get("allow_setuid", fs.allow_setuid);
  r.get("allow_file_caps", fs.allow_file_caps);
  r.get_size("max_file_size", fs.max_file_size);
  r.get_strings("include", fs.include);
  r.get_strings("exclude", fs.exclude);
  r.get_strings("binaries", fs.binaries);
  r.require("source", "at least one [[rootfs.source]] with a `path`");
  for_each_table(r, "source", [&](TableView& s, size_t) {
    RootfsSource src;
    src.pos = top.diag().to_pos(s.toml_table().source());
    s.require("path", "a staging directory or a .tar/.ipk/.deb archive");
    s.get("path", src.path);
    src.kind = infer_source_kind(src.path);
    s.get_enum("type", src.kind, source_kind_names());
    // Archives are what third parties hand over: untrusted unless the
    // manifest says otherwise. A staging directory is the build's own.
    src.trusted = src.kind == SourceKind::kDirectory;
    s.get("trusted", src.trusted);
    fs.sources.push_back(std::move(src));
  });
  for_each_table(r, "dir", [&](TableView& d, size_t) {
    ExtraDir dir;
    d.require("path", "an absolute path inside the rootfs");
    d.get("path", dir.path);
    d.get_mode("mode", dir.mode);
    read_owner(d, dir.owner);
    fs.dirs.push_back(std::move(dir));
  });
  for_each_table(r, "file", [&](TableView& f, size_t) {
    ExtraFile file;
    f.require("path", "an absolute path inside the rootfs");
    f.get("path", file.path);
    f.get("source", file.source);
    f.get_text("content", file.content);
    f.get_mode("mode", file.mode);
    read_owner(f, file.owner);
    fs.files.push_back(std::move(file));
  });
  for_each_table(r, "symlink", [&](TableView& l, size_t) {
    ExtraSymlink link;
    l.require("path", "an absolute path inside the rootfs");
    l.get("path", link.path);
    l.require("target", "the link target");
    l.get("target", link.target);
    fs.symlinks.push_back(std::move(link));
  });
  for_each_table(r, "device", [&](TableView& d, size_t) {
    DeviceNode dev;
    d.require("path", "an absolute path inside the rootfs");
    d.get("path", dev.path);
    d.require("type", "\"char\", \"block\" or \"fifo\"");
    d.get_enum("type", dev.type, device_type_names());
    d.get_u32("major", dev.major, 0, 4095);
    d.get_u32("minor", dev.minor, 0, 1048575);
    d.get_mode("mode", dev.mode);
    read_owner(d, dev.owner);
    fs.devices.push_back(std::move(dev));
  });
  r.finish();
}

void read_id_map(TableView& u, const char* key, std::vector<IdMapRange>& out) {
  for_each_table(u, key, [&](TableView& e, size_t) {
    IdMapRange range;
    e.require("inside", "the first id inside the container");
    e.get_u32("inside", range.inside);
    e.require("outside", "the first host id");
    e.get_u32("outside", range.outside);
    e.require("count", "how many ids the range maps");
    e.get_u32("count", range.count, 1, UINT32_MAX);
    out.push_back(range);
  });
}

void read_users(TableView& top, Manifest& m) {
  const toml::table* t = top.table("users");
  if (!t) return;
  TableView u(top.diag(), *t, "users");
  u.get("namespace", m.users.user_namespace);
  read_id_map(u, "uid_map", m.users.uid_map);
  read_id_map(u, "gid_map", m.users.gid_map);
  u.get("shift_ownership", m.users.shift_ownership);
  u.finish();
}

void read_security(TableView& top, Manifest& m) {
  const toml::table* t = top.table("security");
  if (!t) return;
  TableView s(top.diag(), *t, "security");
  std::vector<std::string> caps;
  if (s.get_strings("capabilities", caps)) {
    std::vector<std::string> known(policy::capability_names().begin(), policy::capability_names().end());
    for (size_t i = 0; i < caps.size(); ++i) {
      auto n = policy::capability_number(caps[i]);
      if (!n) {
        std::string upper = caps[i];
        std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);
        if (!upper.starts_with("CAP_")) upper = "CAP_" + upper;
        std::string hint = policy::capability_number(upper) ? upper : did_you_mean(upper, known);
        top.diag().error(top.diag().pos("security.capabilities"),
                         "security.capabilities[" + std::to_string(i) + "]",
                         in_quotes(caps[i]) + " is not a Linux capability; " +
                             (hint.empty() ? std::string("expected a name such as \"CAP_NET_BIND_SERVICE\"")
                                           : "did you mean " + in_quotes(hint) + "?"));
        continue;
      }
      m.security.capability_mask |= 1ull << *n;
    }
    for (size_t i = 0; i < policy::capability_names().size(); ++i)
      if (m.security.capability_mask & (1ull << i)) m.security.capabilities.push_back(policy::capability_names()[i]);
  }
  s.get("no_new_privs", m.security.no_new_privs);
  s.get("apparmor_profile", m.security.apparmor_profile);
  s.get("selinux_context", m.security.selinux_context);
  s.finish();
}

void read_namespace(TableView& n, const char* key, Namespace& ns) {
  std::string text;
  if (!n.get(key, text)) return;
  if (text == "new") {
    ns.mode = NsMode::kNew;
  } else if (text == "host") {
    ns.mode = NsMode::kHost;
  } else if (text.starts_with("container:") && text.size() > 10) {
    ns.mode = NsMode::kJoin;
    ns.join = text.substr(10);
  } else {
    n.diag().error(n.diag().pos(n.path_of(key)), n.path_of(key),
                   in_quotes(text) + " is not a namespace mode; expected \"new\", \"host\" or \"container:NAME\"");
  }
}

void read_namespaces(TableView& top, Manifest& m) {
  const toml::table* t = top.table("namespaces");
  if (!t) return;
  TableView n(top.diag(), *t, "namespaces");
  Namespaces& ns = m.namespaces;
  read_namespace(n, "mount", ns.mount);
  read_namespace(n, "uts", ns.uts);
  read_namespace(n, "ipc", ns.ipc);
  read_namespace(n, "pid", ns.pid);
  read_namespace(n, "net", ns.net);
  read_namespace(n, "user", ns.user);
  read_namespace(n, "cgroup", ns.cgroup);
  n.get("hostname", ns.hostname);
  n.get("domainname", ns.domainname);
  n.finish();
}

void read_cgroups(TableView& top, Manifest& m) {
  const toml::table* t = top.table("cgroups");
  if (!t) return;
  TableView c(top.diag(), *t, "cgroups");
  Cgroups& cg = m.cgroups;
  uint64_t v;
  uint32_t w;
  if (c.get_size("memory", v)) cg.memory_max = v;
  if (c.get_size("memory_swap", v)) cg.memory_swap_max = v;
  if (c.get_u32("cpu_weight", w, 1, 10000)) cg.cpu_weight = w;
  if (c.get_duration_us("cpu_quota", v)) cg.cpu_quota_us = v;
  c.get_duration_us("cpu_period", cg.cpu_period_us);
  if (c.get_u32("pids_max", w, 1, 4194304)) cg.pids_max = w;
  if (c.get_u32("io_weight", w, 1, 10000)) cg.io_weight = w;
  c.get("io_weight_best_effort", cg.io_weight_best_effort);
  c.get("cpuset_cpus", cg.cpuset_cpus);
  c.get("cpuset_mems", cg.cpuset_mems);
  c.get("freezer", cg.freezer);
  c.finish();
}

bool read_errno(TableView& t, const char* key, int& out) {
  std::string text;
  if (const toml::node* n = t.raw(key); n && n->is_integer()) text = std::to_string(n->as_integer()->get());
  else if (!t.get(key, text)) return false;
  if (auto v = errno_value(text)) {
    out = *v;
    return true;
  }
  t.diag().error(t.diag().pos(t.path_of(key)), t.path_of(key),
                 in_quotes(text) + " is not an errno; expected a name such as \"EPERM\" or a number from 1 to 4095");
  return false;
}

void read_seccomp(TableView& top, Manifest& m) {
  const toml::table* t = top.table("seccomp");
  if (!t) return;
  TableView s(top.diag(), *t, "seccomp");
  Seccomp& sc = m.seccomp;
  sc.enabled = true;
  s.get("enabled", sc.enabled);
  s.get_enum("default_action", sc.default_action, seccomp_action_names());
  read_errno(s, "default_errno", sc.default_errno);
  s.get_strings("allow", sc.allow);
  for_each_table(s, "deny", [&](TableView& d, size_t) {
    SeccompRule rule;
    d.require("syscalls", "an array of syscall names");
    d.get_strings("syscalls", rule.syscalls);
    d.get_enum("action", rule.action, seccomp_action_names());
    read_errno(d, "errno", rule.errno_value);
    sc.deny.push_back(std::move(rule));
  });
  s.finish();
}

void read_mount_flags(TableView& t, bool& noexec, bool& nosuid, bool& nodev) {
  t.get("noexec", noexec);
  t.get("nosuid", nosuid);
  t.get("nodev", nodev);
}

void read_mounts(TableView& top, Manifest& m) {
  const toml::table* t = top.table("mounts");
  if (!t) return;
  TableView mt(top.diag(), *t, "mounts");
  Mounts& mounts = m.mounts;
  mt.get("proc", mounts.proc);
  mt.get_enum("sys", mounts.sys, sys_mode_names());
  mt.get_enum("dev", mounts.dev, dev_mode_names());
  for_each_table(mt, "tmpfs", [&](TableView& e, size_t) {
    TmpfsMount tm;
    e.require("target", "an absolute path inside the container");
    e.get("target", tm.target);
    e.get_size("size", tm.size);
    e.get_mode("mode", tm.mode);
    read_mount_flags(e, tm.noexec, tm.nosuid, tm.nodev);
    mounts.tmpfs.push_back(std::move(tm));
  });
  for_each_table(mt, "bind", [&](TableView& e, size_t) {
    BindMount b;
    e.require("source", "an absolute host path");
    e.get("source", b.source);
    e.require("target", "an absolute path inside the container");
    e.get("target", b.target);
    e.get("read_only", b.read_only);
    read_mount_flags(e, b.noexec, b.nosuid, b.nodev);
    mounts.binds.push_back(std::move(b));
  });
  for_each_table(mt, "storage", [&](TableView& e, size_t) {
    StorageMount s;
    e.require("kind", "\"directory\", \"image\", \"partition\" or \"overlay\"");
    e.get_enum("kind", s.kind, storage_kind_names());
    e.require("target", "an absolute path inside the container");
    e.get("target", s.target);
    e.require("source", "a host directory, an image file or a partition name");
    e.get("source", s.source);
    e.get_size("size", s.size);
    e.get("fstype", s.fstype);
    read_mount_flags(e, s.noexec, s.nosuid, s.nodev);
    std::string owner;
    if (e.get("owner", owner)) {
      if (owner == "process")
        s.owner_kind = StorageMount::OwnerKind::kProcess;
      else
        e.diag().error(e.diag().pos(e.path_of("owner")), e.path_of("owner"),
                       in_quotes(owner) + " is not an owner; expected \"process\" (or uid/gid)");
    }
    bool uid = e.get_u32("uid", s.owner.uid), gid = e.get_u32("gid", s.owner.gid);
    if (uid || gid) {
      if (s.owner_kind == StorageMount::OwnerKind::kProcess)
        e.diag().error(e.diag().pos(e.path_of(uid ? "uid" : "gid")), e.path_of(uid ? "uid" : "gid"),
                       "conflicts with owner = \"process\"; expected one of them");
      else
        s.owner_kind = StorageMount::OwnerKind::kIds;
    }
    if (e.get_mode("mode", s.mode) && s.mode == 0)
      e.diag().error(e.diag().pos(e.path_of("mode")), e.path_of("mode"),
                     "\"0000\" leaves the storage to nobody; expected a mode such as \"0770\"");
    mounts.storage.push_back(std::move(s));
  });
  mt.finish();
}

void read_network(TableView& top, Manifest& m) {
  const toml::table* t = top.table("network");
  if (!t) return;
  TableView n(top.diag(), *t, "network");
  n.get_enum("mode", m.network.mode,
             {{"none", NetworkMode::kNone}, {"empty", NetworkMode::kEmpty}});
  for_each_table(n, "interface", [&](TableView& e, size_t) {
    NetInterface itf;
    itf.pos = top.diag().to_pos(e.toml_table().source());
    e.require("type", "\"phys\", \"vlan\", \"veth\" or \"macvlan\"");
    e.get_enum("type", itf.type, interface_type_names());
    e.get("name", itf.name);
    e.get("parent", itf.parent);
    e.get_u32("vlan_id", itf.vlan_id, 1, 4094);
    e.get("bridge", itf.bridge);
    e.get("host_name", itf.host_name);
    e.get_enum("mode", itf.macvlan_mode, macvlan_mode_names());
    e.get("mac", itf.mac);
    e.get_strings("addresses", itf.addresses);
    e.get_u32("mtu", itf.mtu, 68, 65535);
    for_each_table(e, "routes", [&](TableView& r, size_t) {
      Route route;
      r.require("to", "\"default\" or a destination CIDR");
      r.get("to", route.destination);
      r.get("via", route.gateway);
      itf.routes.push_back(std::move(route));
    });
    m.network.interfaces.push_back(std::move(itf));
  });
  if (!m.network.interfaces.empty() && !top.diag().seen("network.mode"))
    m.network.mode = NetworkMode::kInterfaces;
  detail::read_firewall(n, m);
  n.finish();
}

void read_rlimits(TableView& top, Manifest& m) {
  const toml::table* t = top.table("rlimits");
  if (!t) return;
  std::vector<std::string> names(policy::rlimit_short_names().begin(), policy::rlimit_short_names().end());
  auto limit_value = [&](const toml::node& v, const std::string& path, uint64_t& out) {
    if (v.is_integer() && v.as_integer()->get() >= 0) {
      out = static_cast<uint64_t>(v.as_integer()->get());
      return true;
    }
    if (v.is_string() && v.as_string()->get() == "unlimited") {
      out = UINT64_MAX;
      return true;
    }
    top.diag().error(v.source(), path,
                     std::string("got ") + detail::type_name(v) +
                         "; expected a non-negative integer, \"unlimited\", or [soft, hard]");
    return false;
  };
  for (auto&& [key, value] : *t) {
    std::string name(key.str());
    std::string path = "rlimits." + name;
    auto resource = policy::rlimit_resource(name);
    if (!resource) {
      std::string hint = did_you_mean(name, names);
      top.diag().error(key.source(), path,
                       "unknown resource limit; " + (hint.empty() ? "expected one of nofile, nproc, core, stack, ..."
                                                                  : "did you mean " + in_quotes(hint) + "?"));
      continue;
    }
    top.diag().remember(path, value.source());
    Rlimit lim{name, static_cast<int>(*resource), 0, 0};
    if (const toml::array* pair = value.as_array()) {
      if (pair->size() != 2) {
        top.diag().error(value.source(), path, "expected [soft, hard], got " + std::to_string(pair->size()) + " values");
        continue;
      }
      if (!limit_value((*pair)[0], path, lim.soft) || !limit_value((*pair)[1], path, lim.hard)) continue;
    } else {
      if (!limit_value(value, path, lim.soft)) continue;
      lim.hard = lim.soft;
    }
    m.rlimits.push_back(lim);
  }
  std::sort(m.rlimits.begin(), m.rlimits.end(), [](const Rlimit& a, const Rlimit& b) { return a.name < b.name; });
  TableView(top.diag(), *t, "rlimits");  // every key was handled above
}

void read_health(TableView& top, Manifest& m) {
  const toml::table* t = top.table("health");
  if (!t) return;
  TableView h(top.diag(), *t, "health");
  h.require("command", "an array of strings: the check run inside the container, exit 0 when healthy");
  h.get_strings("command", m.health.command);
  h.get_duration_us("timeout", m.health.timeout_us);
  h.finish();
}

}  // namespace

Result<Manifest> load_string(std::string_view text, const std::string& file) {
  Diagnostics diag(file);
  Manifest m;
  m.file = file;
  m.dir = std::filesystem::path(file).parent_path().string();
  if (m.dir.empty()) m.dir = ".";

  toml::table doc;
  try {
    doc = toml::parse(text, file);
  } catch (const toml::parse_error& e) {
    diag.error(e.source(), "", "syntax error: " + std::string(e.description()));
    return bad_input(diag.message());
  }

  TableView top(diag, doc, "");
  read_identity(top, m);
  read_process(top, m);
  read_rootfs(top, m);
  read_users(top, m);
  read_security(top, m);
  read_namespaces(top, m);
  read_cgroups(top, m);
  read_seccomp(top, m);
  read_mounts(top, m);
  read_network(top, m);
  top.raw("rlimits");
  read_rlimits(top, m);
  detail::read_devices(top, m);
  detail::read_ipc(top, m);
  read_health(top, m);
  top.finish();

  if (!diag.failed()) detail::validate(m, diag);
  if (diag.failed()) return bad_input(diag.message());
  return m;
}

Result<Manifest> load_file(const std::string& path) {
  auto text = read_file(path);
  if (!text.ok()) return bad_input(text.error().message);
  return load_string(*text, path);
}

}  // namespace nestbox::manifests
