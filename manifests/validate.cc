#include "manifests/validate.h"

#include "manifests/devices.h"

#include <arpa/inet.h>
#include <linux/capability.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <map>
#include <optional>
#include <set>

#include "manifests/ipc.h"
#include "manifests/manifest.h"
#include "manifests/mount_kind.h"
#include "manifests/units.h"
#include "policy/host_sources.h"
#include "policy/mount_targets.h"
#include "policy/syscall_arch.h"

namespace nestbox::manifests::detail {
namespace {

std::string at_line(const Diagnostics& d, const std::string& path) {
  return path + " (line " + std::to_string(d.pos(path).line) + ")";
}

// A conflict names both keys: reported at one, pointing at the other. When the
// other key was not written, its default is what conflicts: say so.
void conflict(Diagnostics& d, const std::string& key, const std::string& what, const std::string& other,
              const char* other_default = nullptr) {
  if (d.seen(other) || !other_default)
    d.error(d.pos(key), key, what + " " + at_line(d, other) + "; remove one of them");
  else
    d.error(d.pos(key), key, what + " " + other + " (default " + other_default + "); set " + other + " explicitly");
}

bool is_absolute_clean(const std::string& p) {
  if (p.empty() || p[0] != '/') return false;
  // No "." or ".." components and no empty components except the root.
  size_t i = 1;
  while (i <= p.size()) {
    size_t j = p.find('/', i);
    if (j == std::string::npos) j = p.size();
    std::string_view part(p.data() + i, j - i);
    if (part == "." || part == ".." || (part.empty() && p != "/")) return false;
    i = j + 1;
  }
  return true;
}

void check_abs(Diagnostics& d, const std::string& key, const std::string& path) {
  if (!is_absolute_clean(path))
    d.error(d.pos(key), key, in_quotes(path) + " is not a clean absolute path; expected \"/dir/name\" without \".\", \"..\" or \"//\"");
}

// LXC reads an lxc.mount.entry as fstab fields split at whitespace, with
// backslash escapes: a space in a bind source starts the next field
// ("/etc /srv none rbind,rw" became a read-write bind of /etc). No mount path
// may hold either; policy/lxc.cc refuses the same.
void check_mount_path(Diagnostics& d, const std::string& key, const std::string& path) {
  if (path.find_first_of(" \t\n\r\v\f\\") != std::string::npos)
    d.error(d.pos(key), key, in_quotes(path) + " holds whitespace or a backslash, which an LXC mount entry cannot carry; expected a path without them");
}

bool valid_name(const std::string& s, size_t max) {
  if (s.empty() || s.size() > max) return false;
  if (!std::isalnum(static_cast<unsigned char>(s[0]))) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '_';
  });
}

bool valid_hostname(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.';
  });
}

bool valid_cidr(const std::string& s) {
  size_t slash = s.find('/');
  if (slash == std::string::npos) return false;
  std::string addr = s.substr(0, slash), len = s.substr(slash + 1);
  if (len.empty() || len.size() > 3 || !std::all_of(len.begin(), len.end(), ::isdigit)) return false;
  unsigned char buf[16];
  int n = std::stoi(len);
  if (inet_pton(AF_INET, addr.c_str(), buf) == 1) return n <= 32;
  if (inet_pton(AF_INET6, addr.c_str(), buf) == 1) return n <= 128;
  return false;
}

bool valid_ip(const std::string& s) {
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

bool valid_mac(const std::string& s) {
  if (s.size() != 17) return false;
  for (size_t i = 0; i < 17; ++i) {
    if (i % 3 == 2 ? s[i] != ':' : !std::isxdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

// The kernel takes CPU and node numbers below NR_CPUS / MAX_NUMNODES, a few
// dozen at most on the routers nestbox targets; 4095 is far above that. The
// bound keeps the parse itself safe: a number that does not fit is refused,
// not thrown (std::stoul did, and aborted validate and compose).
constexpr unsigned kMaxCpusetNumber = 4095;

// One number of a CPU/node list at `i`, advancing past it; nullopt if there
// is none or it exceeds kMaxCpusetNumber.
std::optional<unsigned> cpuset_number(const std::string& s, size_t& i) {
  unsigned n = 0;
  auto [end, ec] = std::from_chars(s.data() + i, s.data() + s.size(), n);
  if (ec != std::errc() || n > kMaxCpusetNumber) return std::nullopt;
  i = end - s.data();
  return n;
}

bool valid_cpuset(const std::string& s) {
  // "0-3,5,7-8"
  size_t i = 0;
  while (i < s.size()) {
    auto lo = cpuset_number(s, i);
    if (!lo) return false;
    if (i < s.size() && s[i] == '-') {
      ++i;
      auto hi = cpuset_number(s, i);
      if (!hi || *lo > *hi) return false;
    }
    if (i < s.size()) {
      if (s[i] != ',' || i + 1 == s.size()) return false;
      ++i;
    }
  }
  return !s.empty();
}

bool valid_syscall_name(const std::string& s) {
  return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
    return std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '_';
  });
}

// The baked policy's own name rule (policy/decode.cc, Text::kName): what
// compose would refuse for service names, bases, partitions and fstypes.
bool valid_policy_name(const std::string& s, size_t max = 64) {
  if (s.empty() || s.size() > max || !std::isalnum(static_cast<unsigned char>(s[0]))) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
  });
}

// Limits of the baked policy (policy/wire.h): a manifest over them would
// pass here and fail in compose.
constexpr size_t kMaxString = 4096, kMaxArgs = 256, kMaxEnv = 1024, kMaxGroups = 1024,
                 kMaxServices = 64, kMaxIdMaps = 340, kMaxMounts = 128, kMaxInterfaces = 32,
                 kMaxAddresses = 32, kMaxRoutes = 64;

void check_count(Diagnostics& d, const std::string& key, size_t n, size_t max) {
  if (n > max)
    d.error(d.pos(key), key, std::to_string(n) + " entries exceed the limit of " + std::to_string(max));
}

// (uid_t)-1 and the 16-bit -1 mean "leave unchanged" to setresuid(),
// setgroups(), chown() and friends: as an identity the process keeps the
// launcher's (root); as an owner the build host's.
void check_id(Diagnostics& d, const std::string& key, uint32_t id) {
  if (id == kIdUnchanged)
    d.error(d.pos(key), key, "4294967295 is -1, which the kernel reads as \"unchanged\"; expected a real id");
  else if (id == kIdUnchanged16)
    d.error(d.pos(key), key, "65535 is the 16-bit -1, which the kernel reads as \"unchanged\"; expected a real id");
}

// LXC's lxc.execute.cmd quotes with ' or " and has no escape (policy/lxc.cc):
// an argument holding both cannot be written, so compose refuses it.
void check_argv(Diagnostics& d, const std::string& key, const std::vector<std::string>& argv) {
  check_count(d, key, argv.size(), kMaxArgs);
  for (size_t i = 0; i < argv.size(); ++i) {
    std::string k = key + "[" + std::to_string(i) + "]";
    if (argv[i].size() > kMaxString)
      d.error(d.pos(k), k, "is longer than " + std::to_string(kMaxString) + " bytes");
    if (argv[i].find('\'') != std::string::npos && argv[i].find('"') != std::string::npos)
      d.error(d.pos(k), k, "holds both ' and \", which LXC's command line cannot quote; expected at most one kind of quote");
  }
}

// Strings the baked policy carries up to PATH_MAX bytes.
void validate_lengths(Manifest& m, Diagnostics& d) {
  auto len = [&](const std::string& key, const std::string& v) {
    if (v.size() > kMaxString) d.error(d.pos(key), key, "is longer than " + std::to_string(kMaxString) + " bytes");
  };
  len("process.cwd", m.process.cwd);
  len("security.apparmor_profile", m.security.apparmor_profile);
  len("security.selinux_context", m.security.selinux_context);
  for (size_t i = 0; i < m.mounts.tmpfs.size(); ++i)
    len("mounts.tmpfs[" + std::to_string(i) + "].target", m.mounts.tmpfs[i].target);
  for (size_t i = 0; i < m.mounts.binds.size(); ++i) {
    len("mounts.bind[" + std::to_string(i) + "].source", m.mounts.binds[i].source);
    len("mounts.bind[" + std::to_string(i) + "].target", m.mounts.binds[i].target);
  }
  for (size_t i = 0; i < m.mounts.storage.size(); ++i) {
    len("mounts.storage[" + std::to_string(i) + "].source", m.mounts.storage[i].source);
    len("mounts.storage[" + std::to_string(i) + "].target", m.mounts.storage[i].target);
  }
}

void validate_identity(Manifest& m, Diagnostics& d) {
  if (!valid_name(m.name, 32))
    d.error(d.pos("name"), "name", in_quotes(m.name) +
            " is not a container name; expected 1-32 characters of a-z, 0-9, '-' or '_', starting with a letter or digit");
  else if (m.name.starts_with("nestbox"))
    d.error(d.pos("name"), "name", in_quotes(m.name) +
            " starts with \"nestbox\", which is the launcher's own (its log lines, which a container's quoted output "
            "\"NAME: ...\" must not imitate); expected another name");
  if (!m.signing_key.empty() && (m.signing_key.size() != 64 ||
      !std::all_of(m.signing_key.begin(), m.signing_key.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) && !std::isupper(static_cast<unsigned char>(c)); })))
    d.error(d.pos("signing_key"), "signing_key",
            "expected a key id: 64 lowercase hex digits (SHA-256 of the public key), as `nestbox keygen` prints");
}

void validate_process(Manifest& m, Diagnostics& d) {
  const Process& p = m.process;
  if (d.seen("process.command")) {
    if (p.command.empty())
      d.error(d.pos("process.command"), "process.command", "is empty; expected the program and its arguments");
    else
      check_abs(d, "process.command", p.command[0]);
  }
  check_argv(d, "process.command", p.command);
  check_abs(d, "process.cwd", p.cwd);
  check_count(d, "process.env", p.env.size(), kMaxEnv);
  for (const std::string& e : p.env)
    if (e.size() > kMaxString) {
      std::string k = "process.env." + e.substr(0, e.find('='));
      d.error(d.pos(k), k, "is longer than " + std::to_string(kMaxString) + " bytes");
    }
  check_count(d, "process.groups", p.supplementary_gids.size(), kMaxGroups);
  check_count(d, "process.service", p.services.size(), kMaxServices);
  if (p.model == Model::kProcess && !p.services.empty())
    conflict(d, "process.service", "lists services, which need model = \"system\"; conflicts with", "process.model",
             "\"process\"");
  std::set<std::string> names;
  for (size_t i = 0; i < p.services.size(); ++i) {
    std::string key = "process.service[" + std::to_string(i) + "]";
    if (!names.insert(p.services[i].name).second)
      d.error(d.pos("process.service"), key + ".name", in_quotes(p.services[i].name) + " is used twice; expected unique service names");
    else if (!valid_policy_name(p.services[i].name))
      d.error(d.pos(key + ".name"), key + ".name", in_quotes(p.services[i].name) +
              " is not a service name; expected 1-64 characters of letters, digits, '.', '_' or '-', starting with a letter or digit");
    if (p.services[i].command.empty())
      d.error(d.pos("process.service"), key + ".command", "is empty; expected the program and its arguments");
    else if (!is_absolute_clean(p.services[i].command[0]))
      d.error(d.pos("process.service"), key + ".command", in_quotes(p.services[i].command[0]) + " is not an absolute path");
    check_argv(d, key + ".command", p.services[i].command);
    if (p.services[i].restart_delay_us > 60000000ull)
      d.error(d.pos(key + ".restart_delay"), key + ".restart_delay", "is longer than 60s; expected at most \"60s\"");
    else if (p.services[i].restart_delay_us % 1000)
      d.error(d.pos(key + ".restart_delay"), key + ".restart_delay", "is not a whole number of milliseconds");
  }
}

bool is_key_id(const std::string& s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return std::isxdigit(static_cast<unsigned char>(c)) && !std::isupper(static_cast<unsigned char>(c));
         });
}

// The base requirement (rootfs.base_key, base_min_version, base_max_version):
// a named overlay base, the key that must sign it, a sane range.
void validate_base_requirement(const Rootfs& fs, Diagnostics& d) {
  if (!fs.base_key.empty() && !is_key_id(fs.base_key))
    d.error(d.pos("rootfs.base_key"), "rootfs.base_key",
            "expected a key id: 64 lowercase hex digits (SHA-256 of the public key), as `nestbox keygen` prints");
  if (fs.base_key.empty()) {
    for (const char* k : {"rootfs.base_min_version", "rootfs.base_max_version"})
      if (d.seen(k))
        d.error(d.pos(k), k,
                "needs rootfs.base_key, the key that must sign the base; expected it beside the version range "
                "(a range alone would admit a base signed by any trusted key)");
    return;
  }
  if (fs.strategy != RootfsStrategy::kOverlay || fs.base.empty())
    d.error(d.pos("rootfs.base_key"), "rootfs.base_key",
            "requires a named shared base; expected strategy = \"overlay\" and rootfs.base");
  if (fs.base_max_version != 0 && fs.base_max_version < fs.base_min_version)
    d.error(d.pos("rootfs.base_max_version"), "rootfs.base_max_version",
            std::to_string(fs.base_max_version) + " is below rootfs.base_min_version " +
                std::to_string(fs.base_min_version) + "; expected an upper bound at or above it");
}

void validate_rootfs(Manifest& m, Diagnostics& d) {
  const Rootfs& fs = m.rootfs;
  validate_base_requirement(fs, d);
  if (!fs.base.empty() && fs.strategy != RootfsStrategy::kOverlay)
    conflict(d, "rootfs.base", "names a shared base, which needs strategy = \"overlay\"; conflicts with", "rootfs.strategy",
             "\"squashfs\"");
  for (const char* key : {"include", "exclude", "binaries"}) {
    const auto& list = std::string(key) == "include" ? fs.include : std::string(key) == "exclude" ? fs.exclude : fs.binaries;
    for (size_t i = 0; i < list.size(); ++i)
      if (list[i].empty() || list[i][0] != '/')
        d.error(d.pos(std::string("rootfs.") + key), "rootfs." + std::string(key) + "[" + std::to_string(i) + "]",
                in_quotes(list[i]) + " is relative; expected an absolute path or glob inside the rootfs");
  }
  for (size_t i = 0; i < fs.sources.size(); ++i)
    if (fs.sources[i].path.empty())
      d.error(fs.sources[i].pos, "rootfs.source[" + std::to_string(i) + "].path", "is empty; expected a directory or archive path");
  // host-hardlink links the files of the host staging rootfs: compose refuses
  // it without a directory source (composer/strategy_writers.cc).
  if (fs.strategy == RootfsStrategy::kHostHardlink && !fs.sources.empty() &&
      std::none_of(fs.sources.begin(), fs.sources.end(),
                   [](const RootfsSource& s) { return s.kind == SourceKind::kDirectory; }))
    d.error(d.pos("rootfs.strategy"), "rootfs.strategy",
            "\"host-hardlink\" links files of the host staging rootfs, but no [[rootfs.source]] is a directory; "
            "expected a directory source");
  std::set<std::string> paths;
  auto extra = [&](const std::string& key, const std::string& path) {
    check_abs(d, key, path);
    if (!paths.insert(path).second)
      d.error(d.pos(key), key, in_quotes(path) + " is declared twice; expected each extra path once");
  };
  // Only a directory may be "/": a file, link or node there would replace the
  // root of the image. Nothing may sit beneath a declared non-directory.
  std::map<std::string, std::string> leaves;  // path -> key of a declared non-directory
  auto leaf = [&](const std::string& list, size_t i, const std::string& path) {
    std::string key = list + "[" + std::to_string(i) + "].path";
    extra(key, path);
    if (path == "/")
      d.error(d.pos(key), key, "\"/\" is the root directory; expected a path below it");
    leaves.emplace(path, key);
  };
  for (size_t i = 0; i < fs.dirs.size(); ++i) extra("rootfs.dir[" + std::to_string(i) + "].path", fs.dirs[i].path);
  for (size_t i = 0; i < fs.files.size(); ++i) {
    std::string key = "rootfs.file[" + std::to_string(i) + "]";
    leaf("rootfs.file", i, fs.files[i].path);
    if (d.seen(key + ".source") == d.seen(key + ".content"))
      d.error(d.pos("rootfs.file"), key, "expected exactly one of `source` (a host file) or `content` (literal text)");
    // allow_setuid = false promises an image without setuid or setgid files;
    // a file the manifest adds itself is no exception.
    if (!fs.allow_setuid && (fs.files[i].mode & (S_ISUID | S_ISGID))) {
      char mode[16];
      std::snprintf(mode, sizeof mode, "0%o", fs.files[i].mode);
      d.error(d.pos(key + ".mode"), key + ".mode",
              std::string(mode) + " sets the setuid or setgid bit; expected neither (rootfs.allow_setuid = false)");
    }
  }
  for (size_t i = 0; i < fs.symlinks.size(); ++i) {
    const ExtraSymlink& l = fs.symlinks[i];
    std::string key = "rootfs.symlink[" + std::to_string(i) + "].target";
    leaf("rootfs.symlink", i, l.path);
    // Mirrors composer symlink_destination(): a relative target may not climb above "/".
    int depth = 0;
    for (size_t a = 1; a < l.path.size(); ++a) depth += l.path[a] == '/';
    bool climbs = false;
    if (!l.target.empty() && l.target[0] != '/') {
      size_t b = 0;
      while (b <= l.target.size() && !climbs) {
        size_t e = l.target.find('/', b);
        if (e == std::string::npos) e = l.target.size();
        std::string_view c(l.target.data() + b, e - b);
        if (c == "..") climbs = --depth < 0;
        else if (!c.empty() && c != ".") ++depth;
        b = e + 1;
      }
    }
    if (l.target.empty())
      d.error(d.pos(key), key, "is empty; expected the path the link points to");
    else if (climbs)
      d.error(d.pos(key), key, in_quotes(l.target) + " climbs above the root; expected a target inside the rootfs");
  }
  for (size_t i = 0; i < fs.devices.size(); ++i) leaf("rootfs.device", i, fs.devices[i].path);
  auto beneath_leaf = [&](const std::string& key, const std::string& path) {
    // A path that is not clean and absolute was refused above; walking its
    // parents by '/' would never end for "name" (no slash to cut at).
    if (!is_absolute_clean(path)) return;
    for (std::string p = path; p.size() > 1;) {
      p = p.substr(0, std::max<size_t>(p.rfind('/'), 1));
      auto it = leaves.find(p);
      if (it != leaves.end() && p != path) {
        d.error(d.pos(key), key, in_quotes(path) + " lies beneath " + in_quotes(p) + " (" + it->second +
                "), which is not a directory; expected a path under a directory");
        return;
      }
    }
  };
  for (size_t i = 0; i < fs.dirs.size(); ++i) beneath_leaf("rootfs.dir[" + std::to_string(i) + "].path", fs.dirs[i].path);
  for (size_t i = 0; i < fs.files.size(); ++i) beneath_leaf("rootfs.file[" + std::to_string(i) + "].path", fs.files[i].path);
  for (size_t i = 0; i < fs.symlinks.size(); ++i) beneath_leaf("rootfs.symlink[" + std::to_string(i) + "].path", fs.symlinks[i].path);
  for (size_t i = 0; i < fs.devices.size(); ++i) beneath_leaf("rootfs.device[" + std::to_string(i) + "].path", fs.devices[i].path);
  if (!fs.base.empty() && !valid_policy_name(fs.base))
    d.error(d.pos("rootfs.base"), "rootfs.base", in_quotes(fs.base) +
            " is not a base name; expected 1-64 characters of letters, digits, '.', '_' or '-', starting with a letter or digit");
  else if (fs.base.starts_with("nestbox"))  // as the launcher's check_name: its install would refuse it
    d.error(d.pos("rootfs.base"), "rootfs.base", in_quotes(fs.base) +
            " starts with \"nestbox\", which is the launcher's own; expected another name");
  else if (!fs.base.empty() && fs.base == m.name)
    d.error(d.pos("rootfs.base"), "rootfs.base", in_quotes(fs.base) +
            " is the container's own name; a base is installed like a container of its name, expected another name");
  if (fs.strategy == RootfsStrategy::kHostHardlink && d.seen("rootfs.compressor"))
    conflict(d, "rootfs.compressor", "has no effect with hardlinked trees; conflicts with", "rootfs.strategy");
}

void validate_id_map(Diagnostics& d, const std::string& key, const std::vector<IdMapRange>& map) {
  check_count(d, key, map.size(), kMaxIdMaps);
  for (size_t i = 0; i < map.size(); ++i) {
    const IdMapRange& a = map[i];
    // The kernel refuses a range that reaches 4294967295 ((uid_t)-1, never mappable).
    if (uint64_t(a.inside) + a.count >= (1ull << 32) || uint64_t(a.outside) + a.count >= (1ull << 32))
      d.error(d.pos(key), key + "[" + std::to_string(i) + "]", "range reaches 4294967295; expected a smaller count");
    for (size_t j = 0; j < i; ++j) {
      const IdMapRange& b = map[j];
      bool in_overlap = a.inside < uint64_t(b.inside) + b.count && b.inside < uint64_t(a.inside) + a.count;
      bool out_overlap = a.outside < uint64_t(b.outside) + b.count && b.outside < uint64_t(a.outside) + a.count;
      if (in_overlap || out_overlap)
        d.error(d.pos(key), key + "[" + std::to_string(i) + "]",
                "overlaps " + key + "[" + std::to_string(j) + "]; expected disjoint ranges");
    }
  }
}

void validate_users(Manifest& m, Diagnostics& d) {
  Users& u = m.users;
  Namespace& user_ns = m.namespaces.user;
  bool ns_given = d.seen("namespaces.user");
  if (!ns_given) user_ns.mode = u.user_namespace ? NsMode::kNew : NsMode::kHost;
  if (ns_given && d.seen("users.namespace") && u.user_namespace != (user_ns.mode != NsMode::kHost)) {
    conflict(d, "namespaces.user", "disagrees with", "users.namespace");
    return;  // which one the author meant is unknown: checking maps against either would mislead
  }
  if (ns_given && !d.seen("users.namespace")) u.user_namespace = user_ns.mode != NsMode::kHost;
  bool own_ns = user_ns.mode == NsMode::kNew;
  const char* ns_key = ns_given ? "namespaces.user" : "users.namespace";
  for (const char* key : {"users.uid_map", "users.gid_map", "users.shift_ownership"})
    if (d.seen(key) && !own_ns) conflict(d, key, "needs a new user namespace; conflicts with", ns_key, "false");
  // nestbox's init (for the container's whole life) and its exec and health
  // check helpers sit in the container's pid namespace with the launcher's
  // capabilities; only not being dumpable keeps the container from ptracing
  // them, and CAP_SYS_PTRACE overrides that. In a user namespace of its own
  // the capability reaches nothing of the host's. The policy reader refuses
  // it too.
  if (!own_ns && (m.security.capability_mask & (1ull << CAP_SYS_PTRACE)))
    d.error(d.pos("security.capabilities"), "security.capabilities",
            "CAP_SYS_PTRACE without a user namespace would let the container take over nestbox's init, which "
            "holds the host's capabilities; expected a user namespace (users.namespace = true) or no CAP_SYS_PTRACE");
  // CAP_DAC_READ_SEARCH of the initial user namespace makes open_by_handle_at
  // open any inode of a filesystem the container holds a mount of, by its
  // handle, past the container's root (the "shocker" escape): through a host
  // bind, a directory storage, a tree rootfs, even the host's /dev/null that
  // masks /proc files, the host's whole filesystem. In a user namespace of
  // its own the kernel refuses handles. The policy reader refuses it too.
  if (!own_ns && (m.security.capability_mask & (1ull << CAP_DAC_READ_SEARCH)))
    d.error(d.pos("security.capabilities"), "security.capabilities",
            "CAP_DAC_READ_SEARCH without a user namespace would let the container open the host's files by handle "
            "(open_by_handle_at) past its root; expected a user namespace (users.namespace = true) or no "
            "CAP_DAC_READ_SEARCH");
  if (own_ns) {
    if (u.uid_map.empty())
      d.error(d.pos("users"), "users.uid_map", "missing; a new user namespace needs a uid map, e.g. [{ inside = 0, outside = 100000, count = 65536 }]");
    if (u.gid_map.empty())
      d.error(d.pos("users"), "users.gid_map", "missing; a new user namespace needs a gid map, e.g. [{ inside = 0, outside = 100000, count = 65536 }]");
  }
  validate_id_map(d, "users.uid_map", u.uid_map);
  validate_id_map(d, "users.gid_map", u.gid_map);
  auto mapped = [](const std::vector<IdMapRange>& map, uint32_t id) {
    return std::any_of(map.begin(), map.end(), [&](const IdMapRange& r) { return id >= r.inside && id - r.inside < r.count; });
  };
  if (own_ns && !u.uid_map.empty() && !mapped(u.uid_map, m.process.uid))
    d.error(d.pos("process.user"), "process.user", std::to_string(m.process.uid) + " is not inside users.uid_map; expected a mapped uid");
  if (own_ns && !u.gid_map.empty() && !mapped(u.gid_map, m.process.gid))
    d.error(d.pos("process.group"), "process.group",
            std::to_string(m.process.gid) + (d.seen("process.group") ? "" : " (process.user's number: no group is given)") +
                " is not inside users.gid_map; expected a mapped gid");
  // setgroups() of an unmapped gid fails inside the namespace: refuse it here.
  for (size_t i = 0; own_ns && !u.gid_map.empty() && i < m.process.supplementary_gids.size(); ++i) {
    uint32_t g = m.process.supplementary_gids[i];
    std::string key = "process.groups[" + std::to_string(i) + "]";
    if (g != kIdUnchanged && g != kIdUnchanged16 && !mapped(u.gid_map, g))
      d.error(d.pos(key), key, std::to_string(g) + " is not inside users.gid_map; expected a mapped gid");
  }
  // shift_ownership stores every owner at its host id: compose refuses an
  // owner the maps do not cover.
  if (own_ns && u.shift_ownership) {
    auto owner = [&](const std::string& key, const Owner& o) {
      if (!u.uid_map.empty() && o.uid != kIdUnchanged && o.uid != kIdUnchanged16 && !mapped(u.uid_map, o.uid))
        d.error(d.pos(key + ".uid"), key + ".uid", std::to_string(o.uid) + " is not inside users.uid_map; expected a mapped uid (users.shift_ownership)");
      if (!u.gid_map.empty() && o.gid != kIdUnchanged && o.gid != kIdUnchanged16 && !mapped(u.gid_map, o.gid))
        d.error(d.pos(key + ".gid"), key + ".gid", std::to_string(o.gid) + " is not inside users.gid_map; expected a mapped gid (users.shift_ownership)");
    };
    for (size_t i = 0; i < m.rootfs.dirs.size(); ++i) owner("rootfs.dir[" + std::to_string(i) + "]", m.rootfs.dirs[i].owner);
    for (size_t i = 0; i < m.rootfs.files.size(); ++i) owner("rootfs.file[" + std::to_string(i) + "]", m.rootfs.files[i].owner);
    for (size_t i = 0; i < m.rootfs.devices.size(); ++i) owner("rootfs.device[" + std::to_string(i) + "]", m.rootfs.devices[i].owner);
  }
  // /sys files belong to the host's root with mode 0644: a process that *is*
  // the host's root writes them with no capability at all (block queue knobs,
  // driver unbind, LEDs, uevent_helper). The policy reader refuses it too.
  if (m.mounts.sys == SysMode::kReadWrite) {
    uint32_t host_uid = m.process.uid;
    for (const IdMapRange& r : own_ns ? u.uid_map : std::vector<IdMapRange>{})
      if (m.process.uid >= r.inside && m.process.uid - r.inside < r.count) host_uid = r.outside + (m.process.uid - r.inside);
    if (host_uid == 0)
      d.error(d.pos("mounts.sys"), "mounts.sys",
              "\"rw\" for a process that is the host's root (uid 0, no user namespace mapping it elsewhere) would let it "
              "write every root-owned /sys file without capabilities; expected \"ro\", or a process.user or "
              "users.uid_map that is not the host's root");
    // A setuid-root program (from the image, a storage partition, a bind)
    // makes it the host's root without no_new_privs; so does CAP_SETUID.
    else if (may_become_host_root(m))
      d.error(d.pos("mounts.sys"), "mounts.sys",
              "\"rw\" for a process that can become the host's root (security.no_new_privs = false or CAP_SETUID, "
              "without a user namespace mapping uid 0 elsewhere: a setuid-root program changes its uid) would let it "
              "write every root-owned /sys file; expected \"ro\", no_new_privs = true and no CAP_SETUID, or a "
              "user namespace");
    // /sys has files its root group may write too (a PCI device's `remove`).
    else if (may_join_host_root_group(m))
      d.error(d.pos("mounts.sys"), "mounts.sys",
              "\"rw\" for a process that is or can become a member of the host's gid 0 (process.group or "
              "process.groups, or security.no_new_privs = false or CAP_SETGID, without a user namespace mapping gid "
              "0 elsewhere) would let it write the /sys files of the root group (a PCI device's remove); expected "
              "\"ro\", or another group and no_new_privs = true and no CAP_SETGID, or a user namespace");
  }
}

// Every id the manifest names, against the "unchanged" markers.
void validate_ids(Manifest& m, Diagnostics& d) {
  check_id(d, "process.user", m.process.uid);
  // An unwritten group is the user's number (the loader): refused above once.
  if (d.seen("process.group") || m.process.gid != m.process.uid) check_id(d, "process.group", m.process.gid);
  for (size_t i = 0; i < m.process.supplementary_gids.size(); ++i)
    check_id(d, "process.groups[" + std::to_string(i) + "]", m.process.supplementary_gids[i]);
  auto owner = [&](const std::string& key, const Owner& o) {
    check_id(d, key + ".uid", o.uid);
    check_id(d, key + ".gid", o.gid);
  };
  for (size_t i = 0; i < m.rootfs.dirs.size(); ++i) owner("rootfs.dir[" + std::to_string(i) + "]", m.rootfs.dirs[i].owner);
  for (size_t i = 0; i < m.rootfs.files.size(); ++i) owner("rootfs.file[" + std::to_string(i) + "]", m.rootfs.files[i].owner);
  for (size_t i = 0; i < m.rootfs.devices.size(); ++i) owner("rootfs.device[" + std::to_string(i) + "]", m.rootfs.devices[i].owner);
  for (const char* map : {"uid_map", "gid_map"}) {
    const auto& ranges = std::string(map) == "uid_map" ? m.users.uid_map : m.users.gid_map;
    for (size_t i = 0; i < ranges.size(); ++i) {
      std::string key = std::string("users.") + map + "[" + std::to_string(i) + "]";
      check_id(d, key + ".inside", ranges[i].inside);
      check_id(d, key + ".outside", ranges[i].outside);
    }
  }
}

void validate_namespaces(Manifest& m, Diagnostics& d) {
  Namespaces& ns = m.namespaces;
  const std::pair<const char*, Namespace*> all[] = {{"mount", &ns.mount}, {"uts", &ns.uts}, {"ipc", &ns.ipc},
      {"pid", &ns.pid}, {"net", &ns.net}, {"user", &ns.user}, {"cgroup", &ns.cgroup}};
  for (auto [name, n] : all)
    if (n->mode == NsMode::kJoin && n->join == m.name)
      d.error(d.pos(std::string("namespaces.") + name), std::string("namespaces.") + name,
              "joins its own container; expected another container's name");
  if (ns.mount.mode == NsMode::kHost)
    d.error(d.pos("namespaces.mount"), "namespaces.mount",
            "\"host\" would expose the host's mounts and rootfs; expected \"new\" or \"container:NAME\"");
  for (const char* key : {"hostname", "domainname"}) {
    const std::string& v = std::string(key) == "hostname" ? ns.hostname : ns.domainname;
    std::string path = std::string("namespaces.") + key;
    if (!v.empty() && ns.uts.mode != NsMode::kNew)
      conflict(d, path, "needs its own UTS namespace; conflicts with", "namespaces.uts");
    else if (!v.empty() && !valid_hostname(v))
      d.error(d.pos(path), path, in_quotes(v) + " is not a host name; expected 1-64 characters of letters, digits, '-' or '.'");
  }
  if (ns.hostname.empty() && ns.uts.mode == NsMode::kNew) ns.hostname = m.name;
}

void validate_network(Manifest& m, Diagnostics& d) {
  Network& net = m.network;
  Namespace& ns = m.namespaces.net;
  bool ns_given = d.seen("namespaces.net");
  if (net.mode == NetworkMode::kNone && d.seen("network.interface"))
    conflict(d, "network.interface", "adds interfaces, but the container shares the host network; conflicts with", "network.mode");
  if (net.mode == NetworkMode::kEmpty && d.seen("network.mode") && d.seen("network.interface"))
    conflict(d, "network.interface", "adds interfaces to a loopback-only network; conflicts with", "network.mode");
  if (!ns_given) {
    ns.mode = net.mode == NetworkMode::kNone ? NsMode::kHost : NsMode::kNew;
  } else if (ns.mode == NsMode::kHost && net.mode != NetworkMode::kNone && (d.seen("network.mode") || d.seen("network.interface"))) {
    conflict(d, "namespaces.net", "shares the host network; conflicts with",
             d.seen("network.interface") ? "network.interface" : "network.mode");
  } else if (ns.mode == NsMode::kHost) {
    net.mode = NetworkMode::kNone;
  } else if (ns.mode == NsMode::kJoin && d.seen("network.interface")) {
    conflict(d, "network.interface", "adds interfaces to a joined network namespace; conflicts with", "namespaces.net");
  } else if (net.mode == NetworkMode::kNone && d.seen("network.mode")) {
    conflict(d, "network.mode", "\"none\" shares the host network; conflicts with", "namespaces.net");
  }
  std::set<std::string> names, host_names;
  check_count(d, "network.interface", net.interfaces.size(), kMaxInterfaces);
  for (size_t i = 0; i < net.interfaces.size(); ++i) {
    NetInterface& itf = net.interfaces[i];
    std::string key = "network.interface[" + std::to_string(i) + "]";
    check_count(d, key + ".addresses", itf.addresses.size(), kMaxAddresses);
    check_count(d, key + ".routes", itf.routes.size(), kMaxRoutes);
    if (itf.name.empty()) itf.name = "eth" + std::to_string(i);
    auto need = [&](const std::string& value, const char* field, const char* what) {
      if (value.empty()) d.error(itf.pos, key + "." + field, std::string("missing; a ") + to_string(itf.type) + " interface needs " + what);
    };
    switch (itf.type) {
      case InterfaceType::kPhys: need(itf.parent, "parent", "the host device to move in"); break;
      case InterfaceType::kVlan:
        need(itf.parent, "parent", "the parent device");
        if (itf.vlan_id == 0) d.error(itf.pos, key + ".vlan_id", "missing; a vlan interface needs an id from 1 to 4094");
        break;
      case InterfaceType::kMacvlan: need(itf.parent, "parent", "the parent device"); break;
      case InterfaceType::kVeth: break;
    }
    if (itf.type != InterfaceType::kVeth && (!itf.bridge.empty() || !itf.host_name.empty()))
      d.error(itf.pos, key + (itf.bridge.empty() ? ".host_name" : ".bridge"),
              std::string("only applies to veth interfaces; this one is ") + to_string(itf.type));
    if (itf.type != InterfaceType::kVlan && itf.vlan_id != 0)
      d.error(itf.pos, key + ".vlan_id", std::string("only applies to vlan interfaces; this one is ") + to_string(itf.type));
    for (const std::string* n : {&itf.name, &itf.host_name}) {
      if (!n->empty() && (n->size() > 15 || n->find_first_of("/ :") != std::string::npos))
        d.error(itf.pos, key + (n == &itf.name ? ".name" : ".host_name"),
                in_quotes(*n) + " is not an interface name; expected at most 15 characters without '/', ':' or spaces");
    }
    if (!names.insert(itf.name).second)
      d.error(itf.pos, key + ".name", in_quotes(itf.name) + " is used by another interface; expected unique names");
    if (!itf.host_name.empty() && !host_names.insert(itf.host_name).second)
      d.error(itf.pos, key + ".host_name", in_quotes(itf.host_name) + " is used by another interface; expected unique names");
    if (!itf.mac.empty() && !valid_mac(itf.mac))
      d.error(itf.pos, key + ".mac", in_quotes(itf.mac) + " is not a MAC address; expected \"02:00:00:00:00:01\"");
    for (size_t a = 0; a < itf.addresses.size(); ++a)
      if (!valid_cidr(itf.addresses[a]))
        d.error(itf.pos, key + ".addresses[" + std::to_string(a) + "]",
                in_quotes(itf.addresses[a]) + " is not an address with prefix; expected \"192.168.1.2/24\" or \"fd00::2/64\"");
    for (size_t r = 0; r < itf.routes.size(); ++r) {
      const Route& route = itf.routes[r];
      std::string rkey = key + ".routes[" + std::to_string(r) + "]";
      if (route.destination != "default" && !valid_cidr(route.destination))
        d.error(itf.pos, rkey + ".to", in_quotes(route.destination) + " is not a destination; expected \"default\" or a CIDR");
      if (!route.gateway.empty() && !valid_ip(route.gateway))
        d.error(itf.pos, rkey + ".via", in_quotes(route.gateway) + " is not an IP address");
    }
  }
}

void validate_cgroups(Manifest& m, Diagnostics& d) {
  const Cgroups& c = m.cgroups;
  if (c.memory_swap_max && !c.memory_max)
    d.error(d.pos("cgroups.memory_swap"), "cgroups.memory_swap", "limits swap on top of memory; expected cgroups.memory to be set too");
  if (c.io_weight_best_effort && !c.io_weight)
    d.error(d.pos("cgroups.io_weight_best_effort"), "cgroups.io_weight_best_effort",
            "says how to apply io_weight, which is not set; expected cgroups.io_weight too");
  if (c.memory_max && *c.memory_max < (1u << 20))
    d.error(d.pos("cgroups.memory"), "cgroups.memory", std::to_string(*c.memory_max) + " bytes is too small to start anything; expected at least 1M");
  // The kernel and the OCI runtimes read these as int64, and cgroup v1 and OCI
  // take memory + swap as one number: past INT64_MAX the sum wrapped into a
  // swap limit below the memory limit (policy::memory_plus_swap refuses it).
  constexpr uint64_t kMaxBytes = INT64_MAX;
  if (c.memory_max && *c.memory_max > kMaxBytes)
    d.error(d.pos("cgroups.memory"), "cgroups.memory", std::to_string(*c.memory_max) +
            " bytes is more than the kernel takes; expected at most 9223372036854775807");
  else if (c.memory_swap_max && *c.memory_swap_max > kMaxBytes - c.memory_max.value_or(0))
    d.error(d.pos("cgroups.memory_swap"), "cgroups.memory_swap", std::to_string(*c.memory_swap_max) +
            " bytes on top of cgroups.memory makes more than the kernel takes; expected memory + swap at most 9223372036854775807");
  if (c.cpu_quota_us && *c.cpu_quota_us < 1000)
    d.error(d.pos("cgroups.cpu_quota"), "cgroups.cpu_quota", "is below the kernel's minimum; expected at least \"1ms\"");
  if (c.cpu_period_us < 1000 || c.cpu_period_us > 1000000)
    d.error(d.pos("cgroups.cpu_period"), "cgroups.cpu_period", "is out of range; expected from \"1ms\" to \"1s\"");
  if (d.seen("cgroups.cpu_period") && !c.cpu_quota_us)
    d.error(d.pos("cgroups.cpu_period"), "cgroups.cpu_period", "has no effect without cgroups.cpu_quota; expected both or neither");
  for (const char* key : {"cpuset_cpus", "cpuset_mems"}) {
    const std::string& v = std::string(key) == "cpuset_cpus" ? c.cpuset_cpus : c.cpuset_mems;
    if (v.size() > 256)
      d.error(d.pos(std::string("cgroups.") + key), std::string("cgroups.") + key, "is longer than 256 bytes");
    else if (!v.empty() && !valid_cpuset(v))
      d.error(d.pos(std::string("cgroups.") + key), std::string("cgroups.") + key,
              in_quotes(v) + " is not a CPU/node list; expected a list such as \"0-1,3\" of numbers up to " +
                  std::to_string(kMaxCpusetNumber));
  }
}

void validate_seccomp(Manifest& m, Diagnostics& d) {
  const Seccomp& s = m.seccomp;
  if (!s.enabled) return;
  if (s.default_action == SeccompAction::kAllow && !s.allow.empty())
    conflict(d, "seccomp.allow", "lists allowed syscalls, which means nothing when everything is allowed; conflicts with", "seccomp.default_action");
  if (s.default_action != SeccompAction::kAllow && s.allow.empty())
    d.error(d.pos("seccomp.allow"), "seccomp.allow",
            std::string("is empty while seccomp.default_action is ") + in_quotes(to_string(s.default_action)) +
            "; expected the syscalls the container may use");
  std::set<std::string> allowed;
  for (size_t i = 0; i < s.allow.size(); ++i) {
    if (!valid_syscall_name(s.allow[i]))
      d.error(d.pos("seccomp.allow"), "seccomp.allow[" + std::to_string(i) + "]", in_quotes(s.allow[i]) + " is not a syscall name");
    if (!allowed.insert(s.allow[i]).second)
      d.error(d.pos("seccomp.allow"), "seccomp.allow[" + std::to_string(i) + "]", in_quotes(s.allow[i]) + " is listed twice");
  }
  // The compiler resolves names for the manifest's arch: a name of another
  // arch would silently vanish from the filter, so both are refused here.
  auto on_arch = [&](const std::string& key, const std::string& name) {
    switch (policy::resolve_syscall(name, m.arch)) {
      case policy::SyscallOnArch::kExists: return;
      case policy::SyscallOnArch::kOtherArch:
        d.error(d.pos(key), key, in_quotes(name) + " does not exist on " + to_string(m.arch) +
                "; expected a system call of the manifest's arch");
        return;
      case policy::SyscallOnArch::kUnknown:
        d.error(d.pos(key), key, in_quotes(name) + " is not a system call known to libseccomp");
        return;
    }
  };
  for (size_t i = 0; i < s.allow.size(); ++i)
    if (valid_syscall_name(s.allow[i])) on_arch("seccomp.allow[" + std::to_string(i) + "]", s.allow[i]);
  std::map<std::string, size_t> denied;  // name -> first rule
  for (size_t i = 0; i < s.deny.size(); ++i) {
    std::string key = "seccomp.deny[" + std::to_string(i) + "]";
    if (s.deny[i].action == SeccompAction::kAllow)
      d.error(d.pos("seccomp.deny"), key + ".action", "\"allow\" in a deny rule; expected \"errno\", \"kill\", \"log\" or \"trap\"");
    if (s.deny[i].syscalls.empty())
      d.error(d.pos(key + ".syscalls"), key + ".syscalls", "is empty; expected the syscalls this rule denies");
    for (size_t j = 0; j < s.deny[i].syscalls.size(); ++j) {
      const std::string& name = s.deny[i].syscalls[j];
      std::string ekey = key + ".syscalls[" + std::to_string(j) + "]";
      if (!valid_syscall_name(name)) {
        d.error(d.pos("seccomp.deny"), key + ".syscalls", in_quotes(name) + " is not a syscall name");
        continue;
      }
      if (allowed.count(name)) {
        conflict(d, "seccomp.deny", in_quotes(name) + " is denied here but allowed by", "seccomp.allow");
        continue;
      }
      auto [it, fresh] = denied.emplace(name, i);
      if (!fresh && it->second != i)
        d.error(d.pos(ekey), ekey, in_quotes(name) + " is also denied by seccomp.deny[" + std::to_string(it->second) +
                "]; expected one rule per syscall");
      on_arch(ekey, name);
    }
  }
}

const char* storage_kind_name(StorageKind kind) {
  for (const auto& [name, k] : storage_kind_names())
    if (k == kind) return name;
  return "this";
}

void validate_mounts(Manifest& m, Diagnostics& d) {
  Mounts& mt = m.mounts;
  std::set<std::string> targets;
  check_count(d, "mounts", mt.tmpfs.size() + mt.binds.size() + mt.storage.size(), kMaxMounts);
  auto target = [&](const std::string& list, size_t i, const std::string& path) {
    std::string key = list + "[" + std::to_string(i) + "].target";
    check_abs(d, key, path);
    check_mount_path(d, key, path);
    // Only a persistent overlay store covers "/" (it sits over the image);
    // any other mount there would hide the verified rootfs.
    bool root_overlay = list == "mounts.storage" && mt.storage[i].kind == StorageKind::kOverlay;
    if (path == "/" && !root_overlay)
      d.error(d.pos(key), key, "\"/\" would cover the verified rootfs; expected a directory below \"/\"");
    if (!targets.insert(path).second)
      d.error(d.pos(key), key, in_quotes(path) + " is mounted twice; expected one mount per target");
  };
  for (size_t i = 0; i < mt.tmpfs.size(); ++i) target("mounts.tmpfs", i, mt.tmpfs[i].target);
  for (size_t i = 0; i < mt.binds.size(); ++i) {
    target("mounts.bind", i, mt.binds[i].target);
    check_abs(d, "mounts.bind[" + std::to_string(i) + "].source", mt.binds[i].source);
    check_mount_path(d, "mounts.bind[" + std::to_string(i) + "].source", mt.binds[i].source);
  }
  for (size_t i = 0; i < mt.storage.size(); ++i) {
    StorageMount& s = mt.storage[i];
    std::string key = "mounts.storage[" + std::to_string(i) + "]";
    target("mounts.storage", i, s.target);
    if (s.kind == StorageKind::kPartition && !valid_policy_name(s.source))
      d.error(d.pos(key + ".source"), key + ".source", in_quotes(s.source) +
              " is not a partition name; expected 1-64 characters of letters, digits, '.', '_' or '-'");
    if ((s.kind == StorageKind::kImage || s.kind == StorageKind::kPartition) && !valid_policy_name(s.fstype))
      d.error(d.pos(key + ".fstype"), key + ".fstype", in_quotes(s.fstype) + " is not a file system type; expected a name such as \"ext4\"");
    if (s.kind == StorageKind::kImage && s.size == 0)
      d.error(d.pos("mounts.storage"), key + ".size", "missing; an image store needs a size such as \"16M\"");
    // Only an image's size is enforced (its file's length); on the other
    // kinds it would be a limit nothing applies.
    if (s.kind != StorageKind::kImage && (s.size != 0 || d.seen(key + ".size")))
      d.error(d.pos(key + ".size"), key + ".size", std::string("is not enforced on ") + storage_kind_name(s.kind) +
              " storage (it has no size limit); expected kind = \"image\" for a store of limited size, or no size");
    if ((s.kind == StorageKind::kDirectory || s.kind == StorageKind::kImage || s.kind == StorageKind::kOverlay) && !s.source.empty())
      check_abs(d, key + ".source", s.source);
    if (s.kind != StorageKind::kPartition) check_mount_path(d, key + ".source", s.source);  // a name: checked above
    if (s.kind == StorageKind::kOverlay && m.rootfs.strategy != RootfsStrategy::kSquashfs && m.rootfs.strategy != RootfsStrategy::kOverlay)
      conflict(d, "mounts.storage", "an overlay store needs an image rootfs (squashfs or overlay); conflicts with", "rootfs.strategy");
    if (s.kind == StorageKind::kOverlay && s.target == "/" && (s.owner_kind != StorageMount::OwnerKind::kUnset || s.mode))
      d.error(d.pos(key + (s.mode ? ".mode" : s.owner_kind == StorageMount::OwnerKind::kProcess ? ".owner" : ".uid")),
              key + (s.mode ? ".mode" : s.owner_kind == StorageMount::OwnerKind::kProcess ? ".owner" : ".uid"),
              "is not taken by an overlay over \"/\" (the root's owner and mode come from the rootfs); expected a storage at another target");
    if (s.owner_kind == StorageMount::OwnerKind::kIds) {
      check_id(d, key + ".uid", s.owner.uid);
      check_id(d, key + ".gid", s.owner.gid);
      // The launcher maps the owner through the user namespace: an id the
      // maps do not cover has no host id to give the storage.
      const Users& u = m.users;
      auto mapped = [](const std::vector<IdMapRange>& map, uint32_t id) {
        return std::any_of(map.begin(), map.end(), [&](const IdMapRange& r) { return id >= r.inside && id - r.inside < r.count; });
      };
      if (!u.uid_map.empty() && !mapped(u.uid_map, s.owner.uid))
        d.error(d.pos(key + ".uid"), key + ".uid", std::to_string(s.owner.uid) + " is not inside users.uid_map; expected a mapped uid");
      if (!u.gid_map.empty() && !mapped(u.gid_map, s.owner.gid))
        d.error(d.pos(key + ".gid"), key + ".gid", std::to_string(s.owner.gid) + " is not inside users.gid_map; expected a mapped gid");
    }
  }
  // No host source below one the container can write (policy/host_sources.h:
  // the device refuses the same).
  std::vector<policy::HostSource> sources;
  std::vector<std::string> keys;
  for (size_t i = 0; i < mt.binds.size(); ++i) {
    keys.push_back("mounts.bind[" + std::to_string(i) + "].source");
    policy::add_host_sources(policy::MountKind::kBind, mt.binds[i].source, mt.binds[i].read_only, keys.size() - 1, sources);
  }
  for (size_t i = 0; i < mt.storage.size(); ++i) {
    keys.push_back("mounts.storage[" + std::to_string(i) + "].source");
    policy::add_host_sources(mount_kind(mt.storage[i].kind), mt.storage[i].source, false, keys.size() - 1, sources);
  }
  if (m.ipc.ubus) {
    keys.push_back("ipc.ubus.socket");
    sources.push_back({m.ipc.socket, false, keys.size() - 1});
  }
  if (auto nested = policy::source_below_writable(sources))
    d.error(d.pos(keys[nested->first.mount]), keys[nested->first.mount],
            in_quotes(nested->first.path) + " lies below " + in_quotes(nested->second.path) + " (" +
                keys[nested->second.mount] + "), which the container can write and could replace with a symlink; "
                "expected host sources that do not nest in a writable one");
  // No mount target below one whose contents the container keeps
  // (policy/mount_targets.h: the device refuses the same).
  std::vector<policy::HostSource> nested_targets;
  std::vector<std::string> target_keys;
  for (size_t i = 0; i < mt.tmpfs.size(); ++i) {
    target_keys.push_back("mounts.tmpfs[" + std::to_string(i) + "].target");
    policy::add_mount_target(policy::MountKind::kTmpfs, mt.tmpfs[i].target, false, target_keys.size() - 1, nested_targets);
  }
  for (size_t i = 0; i < mt.binds.size(); ++i) {
    target_keys.push_back("mounts.bind[" + std::to_string(i) + "].target");
    policy::add_mount_target(policy::MountKind::kBind, mt.binds[i].target, mt.binds[i].read_only, target_keys.size() - 1, nested_targets);
  }
  for (size_t i = 0; i < mt.storage.size(); ++i) {
    target_keys.push_back("mounts.storage[" + std::to_string(i) + "].target");
    policy::add_mount_target(mount_kind(mt.storage[i].kind), mt.storage[i].target, false, target_keys.size() - 1, nested_targets);
  }
  if (m.ipc.ubus) {
    target_keys.push_back(d.seen("ipc.ubus.target") ? "ipc.ubus.target" : "ipc.ubus.socket");
    nested_targets.push_back({m.ipc.target.empty() ? m.ipc.socket : m.ipc.target, false, target_keys.size() - 1});
  }
  if (auto nested = policy::source_below_writable(nested_targets))
    d.error(d.pos(target_keys[nested->first.mount]), target_keys[nested->first.mount],
            in_quotes(nested->first.path) + " lies below " + in_quotes(nested->second.path) + " (" +
                target_keys[nested->second.mount] + "), whose contents the container keeps: a symlink it left there "
                "would move this mount at the next start; expected mount targets outside storage");
  if (mt.proc && m.namespaces.pid.mode == NsMode::kHost && d.seen("namespaces.pid"))
    conflict(d, "mounts.proc", "would show every host process; mount it only with a new pid namespace, conflicts with", "namespaces.pid");
}

void validate_health(Manifest& m, Diagnostics& d) {
  const Health& h = m.health;
  if (!d.seen("health")) return;
  if (h.command.empty())
    d.error(d.pos("health.command"), "health.command", "is empty; expected the check's program and its arguments");
  else
    check_abs(d, "health.command", h.command[0]);
  check_argv(d, "health.command", h.command);
  // The launcher's judge waits for it: between 1 ms and 5 minutes.
  if (h.timeout_us < 1000 || h.timeout_us > 300000000ull)
    d.error(d.pos("health.timeout"), "health.timeout", "is outside 1ms..300s; expected a duration such as \"10s\"");
}

void validate_rlimits(Manifest& m, Diagnostics& d) {
  for (const Rlimit& r : m.rlimits)
    if (r.soft > r.hard)
      d.error(d.pos("rlimits." + r.name), "rlimits." + r.name, "soft limit exceeds hard limit; expected soft <= hard");
}

}  // namespace

void validate(Manifest& m, Diagnostics& d) {
  validate_identity(m, d);
  validate_process(m, d);
  validate_rootfs(m, d);
  validate_users(m, d);
  validate_ids(m, d);
  validate_namespaces(m, d);
  validate_network(m, d);
  validate_firewall(m, d);
  validate_cgroups(m, d);
  validate_seccomp(m, d);
  validate_mounts(m, d);
  validate_rlimits(m, d);
  validate_health(m, d);
  validate_lengths(m, d);
  validate_devices(m, d);  // after validate_namespaces (the user namespace's mode)
}

}  // namespace nestbox::manifests::detail
