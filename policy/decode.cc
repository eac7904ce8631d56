// Bounds-checked reader of the baked policy (layout: policy/wire.h). Every
// field is checked; the first problem names its offset and field.
#include <arpa/inet.h>
#include <linux/capability.h>

#include <cstring>
#include <set>
#include <string_view>

#include "kernel-check/features.h"
#include "policy/arch.h"
#include "policy/bpf_check.h"
#include "policy/format.h"
#include "policy/host_sources.h"
#include "policy/mount_targets.h"
#include "policy/hotplug.h"
#include "policy/wire.h"
#include "util/host_root.h"

namespace nestbox::policy {
namespace {

using std::string;

enum class Text {
  kAny,       // no NUL
  kPath,      // absolute, no NUL, no "." or ".." component, or empty when allowed
  kName,      // [A-Za-z0-9][A-Za-z0-9._-]*
  kHostname,  // letters, digits, '-', '.'
  kIfName,    // 1..15 bytes, no '/', ':' or whitespace
  kCpuList,   // digits, ',' and '-'
  kSha256,    // exactly 64 lowercase hex digits
};

const char* text_problem(std::string_view s, Text kind) {
  if (s.find('\0') != std::string_view::npos) return "string contains NUL";
  switch (kind) {
    case Text::kAny: return nullptr;
    case Text::kPath: {
      if (s.empty() || s[0] != '/') return "path is not absolute";
      size_t i = 0;
      while (i < s.size()) {
        size_t j = s.find('/', i);
        if (j == std::string_view::npos) j = s.size();
        std::string_view part = s.substr(i, j - i);
        if (part == "." || part == "..") return "path has a '.' or '..' component";
        i = j + 1;
      }
      return nullptr;
    }
    case Text::kName:
      if (s.empty()) return "name is empty";
      for (size_t i = 0; i < s.size(); ++i) {
        char c = s[i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-')))
          return "name must match [A-Za-z0-9][A-Za-z0-9._-]*";
      }
      return nullptr;
    case Text::kSha256:
      if (s.size() != 64) return "digest must be 64 hex digits";
      for (char c : s)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return "digest must be lowercase hex";
      return nullptr;
    case Text::kHostname:
      for (char c : s) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '.';
        if (!ok) return "host name may hold only letters, digits, '-' and '.'";
      }
      return nullptr;
    case Text::kIfName:
      if (s.empty() || s.size() > 15) return "interface name must be 1..15 bytes";
      if (s == "." || s == "..") return "interface name may not be '.' or '..'";
      for (char c : s)
        if (c == '/' || c == ':' || c == ' ' || c == '\t' || c == '\n')
          return "interface name may not hold '/', ':' or whitespace";
      return nullptr;
    case Text::kCpuList:
      for (char c : s)
        if (!((c >= '0' && c <= '9') || c == ',' || c == '-'))
          return "cpu/node list may hold only digits, ',' and '-'";
      return nullptr;
  }
  return nullptr;
}

bool valid_ip(const string& s) {
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

// "10.0.0.2/24", "fd00::1/64"
bool valid_cidr(const string& s) {
  size_t slash = s.find('/');
  if (slash == string::npos || slash + 1 >= s.size() || s.size() - slash > 4) return false;
  string ip = s.substr(0, slash);
  unsigned prefix = 0;
  for (size_t i = slash + 1; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    prefix = prefix * 10 + static_cast<unsigned>(s[i] - '0');
  }
  unsigned char buf[16];
  if (inet_pton(AF_INET, ip.c_str(), buf) == 1) return prefix <= 32;
  if (inet_pton(AF_INET6, ip.c_str(), buf) == 1) return prefix <= 128;
  return false;
}

bool valid_mac(const string& s) {
  if (s.size() != 17) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (i % 3 == 2) {
      if (c != ':') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
      return false;
    }
  }
  return true;
}

string idx(std::string_view field, size_t i) {
  string s(field);
  return s.append("[").append(std::to_string(i)).append("]");
}

class Reader {
 public:
  explicit Reader(std::span<const uint8_t> b) : b_(b), end_(b.size()) {}

  Error fail(size_t at, std::string_view field, std::string_view why) const {
    string m = "policy: offset " + std::to_string(at) + ": ";
    return bad_input(m.append(field).append(": ").append(why));
  }
  size_t pos() const { return pos_; }
  size_t end() const { return end_; }
  void set_end(size_t e) { end_ = e; }

  Status need(size_t n, std::string_view field) const {
    if (end_ - pos_ < n)
      return fail(pos_, field,
                  "truncated: needs " + std::to_string(n) + " bytes, " +
                      std::to_string(end_ - pos_) + " left");
    return ok_status();
  }
  Result<uint64_t> uint(int bytes, std::string_view field) {
    NESTBOX_TRY(need(static_cast<size_t>(bytes), field));
    uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v |= uint64_t{b_[pos_ + static_cast<size_t>(i)]} << (8 * i);
    pos_ += static_cast<size_t>(bytes);
    return v;
  }
  Result<uint8_t> u8(std::string_view f) { return narrow<uint8_t>(uint(1, f)); }
  Result<uint16_t> u16(std::string_view f) { return narrow<uint16_t>(uint(2, f)); }
  Result<uint32_t> u32(std::string_view f) { return narrow<uint32_t>(uint(4, f)); }
  Result<uint64_t> u64(std::string_view f) { return uint(8, f); }
  // A uid or gid the process or a node gets. 4294967295 is (uid_t)-1, which
  // setresuid()/setresgid()/chown() read as "unchanged": the launcher's root
  // would stay. 65535 is the same for the 16-bit calls. A signed policy not
  // made by `nestbox compose` (which refuses both) must not get them either.
  Result<uint32_t> id(std::string_view f) {
    size_t at = pos_;
    auto v = u32(f);
    if (v.ok() && (*v == 0xffffffffu || *v == 0xffffu))
      return fail(at, f, std::to_string(*v) + " is the kernel's \"unchanged\" id (-1): refused");
    return v;
  }

  Result<uint8_t> enumeration(std::string_view field, uint8_t count) {
    size_t at = pos_;
    auto v = u8(field);
    if (v.ok() && *v >= count)
      return fail(at, field, "value " + std::to_string(*v) + " out of range 0.." + std::to_string(count - 1));
    return v;
  }
  Result<bool> boolean(std::string_view field) {
    size_t at = pos_;
    auto v = u8(field);
    if (!v.ok()) return std::move(v).error();
    if (*v > 1) return fail(at, field, "boolean must be 0 or 1, got " + std::to_string(*v));
    return *v == 1;
  }
  Status zeros(size_t n, std::string_view field) {
    size_t at = pos_;
    NESTBOX_TRY(need(n, field));
    for (size_t i = 0; i < n; ++i)
      if (b_[pos_ + i] != 0) return fail(at + i, field, "reserved byte is not zero");
    pos_ += n;
    return ok_status();
  }
  // u16 length + bytes. `optional`: empty is accepted whatever `kind` says.
  Result<string> str(std::string_view field, size_t max, Text kind, bool optional = true) {
    size_t at = pos_;
    auto n = u16(field);
    if (!n.ok()) return std::move(n).error();
    if (*n > max)
      return fail(at, field, "string of " + std::to_string(*n) + " bytes exceeds the limit of " + std::to_string(max));
    NESTBOX_TRY(need(*n, field));
    string s(reinterpret_cast<const char*>(b_.data() + pos_), *n);
    pos_ += *n;
    if (s.empty() && optional) return s;
    if (const char* why = text_problem(s, kind)) return fail(at, field, why);
    return s;
  }
  Result<size_t> count(std::string_view field, size_t max, size_t min = 0) {
    size_t at = pos_;
    auto n = u16(field);
    if (!n.ok()) return std::move(n).error();
    if (*n > max) return fail(at, field, "count " + std::to_string(*n) + " exceeds the limit of " + std::to_string(max));
    if (*n < min) return fail(at, field, "count " + std::to_string(*n) + " is below the minimum of " + std::to_string(min));
    return static_cast<size_t>(*n);
  }
  Result<std::vector<uint8_t>> bytes(size_t n, std::string_view field) {
    NESTBOX_TRY(need(n, field));
    std::vector<uint8_t> v(b_.begin() + static_cast<std::ptrdiff_t>(pos_),
                           b_.begin() + static_cast<std::ptrdiff_t>(pos_ + n));
    pos_ += n;
    return v;
  }

 private:
  template <typename T>
  static Result<T> narrow(Result<uint64_t> r) {
    if (!r.ok()) return std::move(r).error();
    return static_cast<T>(*r);
  }
  std::span<const uint8_t> b_;
  size_t pos_ = 0;
  size_t end_;
};

#define READ(lhs, expr)                              \
  do {                                               \
    auto nb_read_ = (expr);                          \
    if (!nb_read_.ok()) return std::move(nb_read_).error(); \
    lhs = std::move(*nb_read_);                      \
  } while (0)

// Inside Decoder: fails with `field` and `why` when `ok` is false; the two
// strings are only built then.
#define CHECK(at, ok, field, why)                    \
  do {                                               \
    if (!(ok)) return r_.fail((at), (field), (why)); \
  } while (0)

Result<std::vector<string>> argv(Reader& r, std::string_view field, size_t min = 1) {
  size_t n;
  READ(n, r.count(field, wire::kMaxArgs, min));
  std::vector<string> v(n);
  for (size_t i = 0; i < n; ++i) {
    Text kind = i == 0 ? Text::kPath : Text::kAny;
    READ(v[i], r.str(idx(field, i), wire::kMaxString, kind, i != 0));
  }
  return v;
}

class Decoder {
 public:
  explicit Decoder(std::span<const uint8_t> blob) : r_(blob), size_(blob.size()) {}

  Result<Policy> run() {
    NESTBOX_TRY(header());
    using Fn = Status (Decoder::*)();
    static constexpr struct {
      uint16_t tag;
      const char* name;
      Fn fn;
    } kSections[] = {
        {wire::kTagIdentity, "identity", &Decoder::identity},
        {wire::kTagProcess, "process", &Decoder::process},
        {wire::kTagRootfs, "rootfs", &Decoder::rootfs},
        {wire::kTagNamespaces, "namespaces", &Decoder::namespaces},
        {wire::kTagIdMaps, "idmaps", &Decoder::idmaps},
        {wire::kTagSecurity, "security", &Decoder::security},
        {wire::kTagCgroups, "cgroups", &Decoder::cgroups},
        {wire::kTagMounts, "mounts", &Decoder::mounts},
        {wire::kTagNetwork, "network", &Decoder::network},
        {wire::kTagRlimits, "rlimits", &Decoder::rlimits},
        {wire::kTagSeccomp, "seccomp", &Decoder::seccomp},
        {wire::kTagFirewall, "firewall", &Decoder::firewall},
        {wire::kTagHotplug, "hotplug", &Decoder::hotplug},
        {wire::kTagHealth, "health", &Decoder::health},
        {wire::kTagIpc, "ipc", &Decoder::ipc},
    };
    static_assert(sizeof(kSections) / sizeof(kSections[0]) == wire::kLastTag - wire::kFirstTag + 1);
    for (const auto& s : kSections) NESTBOX_TRY(section(s.tag, s.name, s.fn));
    NESTBOX_TRY(sources_apart());
    NESTBOX_TRY(targets_apart());
    if (r_.pos() != size_)
      return r_.fail(r_.pos(), "file", std::to_string(size_ - r_.pos()) + " bytes after the last section");
    return std::move(p_);
  }

 private:
  Status header() {
    if (size_ > wire::kMaxTotalSize)
      return r_.fail(0, "file", "size " + std::to_string(size_) + " exceeds the limit of " +
                                    std::to_string(wire::kMaxTotalSize));
    NESTBOX_TRY(r_.need(sizeof(wire::Header), "header"));
    std::vector<uint8_t> magic;
    READ(magic, r_.bytes(4, "header.magic"));
    if (std::memcmp(magic.data(), wire::kMagic, 4) != 0)
      return r_.fail(0, "header.magic", "not a nestbox policy (expected \"NBXP\")");
    size_t at = r_.pos();
    uint16_t version, header_size;
    READ(version, r_.u16("header.version"));
    if (version != wire::kVersion)
      return r_.fail(at, "header.version", "unsupported version " + std::to_string(version) + ", expected " +
                                               std::to_string(wire::kVersion));
    at = r_.pos();
    READ(header_size, r_.u16("header.header_size"));
    CHECK(at, header_size == sizeof(wire::Header), "header.header_size",
                      "expected 32, got " + std::to_string(header_size));
    at = r_.pos();
    uint32_t total, flags;
    READ(total, r_.u32("header.total_size"));
    CHECK(at, total == size_, "header.total_size",
                      "says " + std::to_string(total) + " bytes, blob has " + std::to_string(size_));
    at = r_.pos();
    READ(flags, r_.u32("header.flags"));
    CHECK(at, flags == 0, "header.flags", "unknown flags " + std::to_string(flags));
    at = r_.pos();
    READ(p_.required_features, r_.u64("header.required_features"));
    // Feature bits are appended as kernel-check learns facilities
    // (kernel-check/features.h), without a format version: a bit this build
    // does not know is a facility a newer compose requires and this launcher
    // cannot probe. Ignoring it would start the container without it.
    constexpr uint64_t kKnown = kernel_check::kFeatureCount >= 64 ? ~uint64_t{0}
                                                                  : (uint64_t{1} << kernel_check::kFeatureCount) - 1;
    if (uint64_t unknown = p_.required_features & ~kKnown; unknown != 0) {
      int first = 0;
      while (!(unknown & (uint64_t{1} << first))) ++first;
      return r_.fail(at, "header.required_features",
                     "requires kernel feature bit " + std::to_string(first) + ", unknown to this build (it knows bits 0.." +
                         std::to_string(kernel_check::kFeatureCount - 1) + "); refusing to run without it");
    }
    return r_.zeros(8, "header.reserved");
  }

  Status section(uint16_t tag, const char* name, Status (Decoder::*fn)()) {
    string field = string("section ") + name;
    size_t at = r_.pos();
    uint16_t got, flags;
    uint32_t length;
    READ(got, r_.u16(field + ".tag"));
    if (got != tag)
      return r_.fail(at, field + ".tag", "expected tag " + std::to_string(tag) + ", got " + std::to_string(got));
    at = r_.pos();
    READ(flags, r_.u16(field + ".flags"));
    CHECK(at, flags == 0, field + ".flags", "unknown flags " + std::to_string(flags));
    at = r_.pos();
    READ(length, r_.u32(field + ".length"));
    if (length > r_.end() - r_.pos())
      return r_.fail(at, field + ".length",
                     "section of " + std::to_string(length) + " bytes runs past the end of the blob (" +
                         std::to_string(r_.end() - r_.pos()) + " left)");
    size_t outer_end = r_.end();
    size_t end = r_.pos() + length;
    r_.set_end(end);
    NESTBOX_TRY((this->*fn)());
    if (r_.pos() != end)
      return r_.fail(r_.pos(), field, std::to_string(end - r_.pos()) + " unread bytes at the end of the section");
    r_.set_end(outer_end);
    return ok_status();
  }

  Status identity() {
    READ(p_.name, r_.str("name", wire::kMaxName, Text::kName, false));
    size_t at = r_.pos();
    READ(p_.arch, r_.str("arch", wire::kMaxName, Text::kAny, false));
    arch_ = find_arch(p_.arch);
    if (!arch_) return r_.fail(at, "arch", "unknown architecture \"" + p_.arch + "\"");
    READ(p_.hostname, r_.str("hostname", wire::kMaxHostname, Text::kHostname));
    READ(p_.domainname, r_.str("domainname", wire::kMaxHostname, Text::kHostname));
    return ok_status();
  }

  Status process() {
    Process& pr = p_.process;
    uint8_t model;
    READ(model, r_.enumeration("process.model", 2));
    pr.model = static_cast<Model>(model);
    size_t argv_at = r_.pos();
    READ(pr.argv, argv(r_, "process.argv", 0));
    size_t n;
    READ(n, r_.count("process.env", wire::kMaxEnv));
    pr.env.resize(n);
    for (size_t i = 0; i < n; ++i) {
      size_t at = r_.pos();
      READ(pr.env[i], r_.str(idx("process.env", i), wire::kMaxString, Text::kAny, false));
      size_t eq = pr.env[i].find('=');
      CHECK(at, eq != string::npos && eq > 0, idx("process.env", i), "expected KEY=value");
    }
    READ(pr.cwd, r_.str("process.cwd", wire::kMaxString, Text::kPath, false));
    READ(pr.uid, r_.id("process.uid"));
    READ(pr.gid, r_.id("process.gid"));
    READ(n, r_.count("process.groups", wire::kMaxGroups));
    pr.groups.resize(n);
    for (size_t i = 0; i < n; ++i) READ(pr.groups[i], r_.id(idx("process.groups", i)));
    size_t at = r_.pos();
    READ(n, r_.count("process.services", wire::kMaxServices));
    CHECK(at, n == 0 || pr.model == Model::kSystem, "process.services",
                      "services are only allowed with model system");
    pr.services.resize(n);
    for (size_t i = 0; i < n; ++i) {
      string f = idx("process.services", i);
      READ(pr.services[i].name, r_.str(f + ".name", wire::kMaxName, Text::kName, false));
      Service& svc = pr.services[i];
      READ(svc.argv, argv(r_, f + ".argv"));
      uint8_t restart;
      READ(restart, r_.enumeration(f + ".restart", 3));
      svc.restart = static_cast<Restart>(restart);
      NESTBOX_TRY(r_.zeros(3, f + ".reserved"));
      size_t lat = r_.pos();
      READ(svc.restart_limit, r_.u32(f + ".restart_limit"));
      CHECK(lat, svc.restart_limit <= wire::kMaxRestartLimit, f + ".restart_limit",
            "must be at most " + std::to_string(wire::kMaxRestartLimit));
      lat = r_.pos();
      READ(svc.restart_delay_ms, r_.u32(f + ".restart_delay_ms"));
      CHECK(lat, svc.restart_delay_ms <= wire::kMaxRestartDelayMs, f + ".restart_delay_ms",
            "must be at most " + std::to_string(wire::kMaxRestartDelayMs));
    }
    // No program of its own: nestbox's init supervises the services.
    CHECK(argv_at, !pr.argv.empty() || (pr.model == Model::kSystem && !pr.services.empty()),
          "process.argv", "is empty; only model system with services may leave it to nestbox's init");
    return ok_status();
  }

  // Version 4: the base requirement (policy.h BaseRequirement), right after base_sha256.
  Status base_requirement() {
    BaseRequirement& b = p_.base_requirement;
    READ(b.min_version, r_.u64("rootfs.base_min_version"));
    size_t at = r_.pos();
    READ(b.max_version, r_.u64("rootfs.base_max_version"));
    CHECK(at, b.max_version == 0 || b.max_version >= b.min_version, "rootfs.base_max_version",
          "is below rootfs.base_min_version");
    at = r_.pos();
    READ(b.key_id, r_.str("rootfs.base_key_id", 64, Text::kSha256));
    CHECK(at, b.key_id.empty() || !p_.base.empty(), "rootfs.base_key_id", "a base requirement is only allowed with a base");
    CHECK(at, b.key_id.empty() || p_.base_sha256.empty(), "rootfs.base_key_id",
          "a base is either pinned (base_sha256) or required (base_key_id), not both");
    CHECK(at, !b.key_id.empty() || (b.min_version == 0 && b.max_version == 0), "rootfs.base_key_id",
          "is empty, but a base version range is set; a range needs the key that must sign the base");
    return ok_status();
  }

  Status rootfs() {
    uint8_t v;
    READ(v, r_.enumeration("rootfs.kind", 4));
    p_.rootfs = static_cast<RootfsKind>(v);
    READ(p_.read_only_root, r_.boolean("rootfs.read_only"));
    size_t at = r_.pos();
    READ(p_.base, r_.str("rootfs.base", wire::kMaxName, Text::kName));
    CHECK(at, p_.base.empty() || p_.rootfs == RootfsKind::kOverlay, "rootfs.base",
                      "a base is only allowed with kind overlay");
    at = r_.pos();
    READ(p_.base_sha256, r_.str("rootfs.base_sha256", 64, Text::kSha256));
    CHECK(at, p_.base_sha256.empty() || !p_.base.empty(), "rootfs.base_sha256",
                      "a base digest is only allowed with a base");
    NESTBOX_TRY(base_requirement());
    READ(p_.proc, r_.boolean("rootfs.proc"));
    READ(v, r_.enumeration("rootfs.sys", 3));
    p_.sys = static_cast<SysMode>(v);
    READ(v, r_.enumeration("rootfs.dev", 2));
    p_.dev = static_cast<DevMode>(v);
    size_t n;
    READ(n, r_.count("rootfs.devices", wire::kMaxDevices));
    p_.devices.resize(n);
    for (size_t i = 0; i < n; ++i) {
      string f = idx("rootfs.devices", i);
      READ(v, r_.enumeration(f + ".type", 2));
      p_.devices[i].type = static_cast<DeviceType>(v);
      NESTBOX_TRY(r_.zeros(3, f + ".reserved"));
      Device& d = p_.devices[i];
      READ(d.major, r_.u32(f + ".major"));
      READ(d.minor, r_.u32(f + ".minor"));
      size_t at = r_.pos();
      READ(d.mode, r_.u32(f + ".mode"));
      CHECK(at, (d.mode & ~07777u) == 0, f + ".mode", "not a permission mode");
      READ(d.uid, r_.id(f + ".uid"));
      READ(d.gid, r_.id(f + ".gid"));
      READ(d.path, r_.str(f + ".path", wire::kMaxString, Text::kPath, false));
    }
    return ok_status();
  }

  Status namespaces() {
    static const char* kNames[kNsCount] = {"mount", "uts", "ipc", "pid", "net", "user", "cgroup"};
    for (int i = 0; i < kNsCount; ++i) {
      string f = string("namespaces.") + kNames[i];
      uint8_t mode;
      READ(mode, r_.enumeration(f + ".mode", 3));
      Namespace& ns = p_.namespaces[i];
      ns.mode = static_cast<NsMode>(mode);
      size_t at = r_.pos();
      READ(ns.join, r_.str(f + ".join", wire::kMaxName, Text::kName));
      CHECK(at, ns.join.empty() == (ns.mode != NsMode::kJoin), f + ".join",
                        ns.mode == NsMode::kJoin ? "mode join needs a container name"
                                                 : "a container name is only allowed with mode join");
      CHECK(at, ns.join != p_.name, f + ".join", "a container cannot join itself");
    }
    return ok_status();
  }

  Status idmap(const string& field, std::vector<IdMap>& out) {
    size_t at = r_.pos();
    size_t n;
    READ(n, r_.count(field, wire::kMaxIdMaps));
    CHECK(at, n == 0 || p_.namespaces[kNsUser].mode == NsMode::kNew, field,
                      "id maps need a new user namespace");
    out.resize(n);
    for (size_t i = 0; i < n; ++i) {
      string f = idx(field, i);
      at = r_.pos();
      READ(out[i].inside, r_.u32(f + ".inside"));
      READ(out[i].outside, r_.u32(f + ".outside"));
      READ(out[i].count, r_.u32(f + ".count"));
      const IdMap& m = out[i];
      CHECK(at, m.count > 0, f + ".count", "must be at least 1");
      CHECK(at, uint64_t{m.inside} + m.count <= 0x100000000ull &&
                                    uint64_t{m.outside} + m.count <= 0x100000000ull,
                        f, "range overflows 32-bit ids");
    }
    return ok_status();
  }

  Status idmaps() {
    NESTBOX_TRY(idmap("uid_map", p_.uid_map));
    size_t at = r_.pos();
    NESTBOX_TRY(idmap("gid_map", p_.gid_map));
    bool own = p_.namespaces[kNsUser].mode == NsMode::kNew;
    CHECK(at, !own || (!p_.uid_map.empty() && !p_.gid_map.empty()), "gid_map",
          "a new user namespace needs a uid_map and a gid_map");
    return ok_status();
  }

  // An id inside the container as the host sees it (maps already decoded).
  uint32_t host_uid(uint32_t inside) const {
    if (p_.namespaces[kNsUser].mode != NsMode::kNew) return inside;
    for (const IdMap& m : p_.uid_map)
      if (inside >= m.inside && inside - m.inside < m.count) return m.outside + (inside - m.inside);
    return inside;
  }

  Status security() {
    size_t at = r_.pos();
    READ(p_.caps.keep, r_.u64("security.capabilities"));
    CHECK(at, (p_.caps.keep >> (wire::kLastCap + 1)) == 0, "security.capabilities",
                      "bits above CAP_CHECKPOINT_RESTORE (40) are set");
    // It would reach nestbox's init, which holds the host's capabilities
    // (manifests/validate.cc says why).
    CHECK(at, !(p_.caps.keep & (1ull << CAP_SYS_PTRACE)) || p_.namespaces[kNsUser].mode == NsMode::kNew,
          "security.capabilities", "CAP_SYS_PTRACE without a user namespace of its own");
    // open_by_handle_at past the container's root (manifests/validate.cc says why).
    CHECK(at, !(p_.caps.keep & (1ull << CAP_DAC_READ_SEARCH)) || p_.namespaces[kNsUser].mode == NsMode::kNew,
          "security.capabilities", "CAP_DAC_READ_SEARCH without a user namespace of its own");
    READ(p_.no_new_privs, r_.boolean("security.no_new_privs"));
    READ(p_.apparmor_profile, r_.str("security.apparmor_profile", wire::kMaxString, Text::kAny));
    READ(p_.selinux_context, r_.str("security.selinux_context", wire::kMaxString, Text::kAny));
    // A writable /sys for the host's root: every 0644 root-owned knob is its
    // to write without a capability (manifests/validate.cc says it too). A
    // process that can become the host's root (a setuid-root program without
    // no_new_privs, CAP_SETUID) counts as it (util/host_root.h).
    CHECK(at, p_.sys != SysMode::kReadWrite || host_uid(p_.process.uid) != 0, "rootfs.sys",
          "rw for a process that is the host's root; expected ro, or a user namespace mapping it elsewhere");
    CHECK(at, p_.sys != SysMode::kReadWrite || !may_become_host_root(), "rootfs.sys",
          "rw for a process that can become the host's root (no_new_privs off, or CAP_SETUID, where host uid 0 is "
          "reachable: a setuid-root program changes its uid); expected ro, no_new_privs and no CAP_SETUID, or a "
          "user namespace mapping uid 0 elsewhere");
    // /sys has files its root group may write too (a PCI device's `remove`).
    CHECK(at, p_.sys != SysMode::kReadWrite || !may_join_host_root_group(), "rootfs.sys",
          "rw for a process that is or can become a member of the host's gid 0 (its gid or a supplementary group; "
          "or no_new_privs off, or CAP_SETGID, where host gid 0 is reachable); expected ro, or a user namespace "
          "mapping gid 0 elsewhere");
    return ok_status();
  }

  bool may_become_host_root() const {
    return nestbox::may_become_host_root(p_.namespaces[kNsUser].mode == NsMode::kNew, p_.uid_map, p_.process.uid,
                                         p_.no_new_privs, (p_.caps.keep >> CAP_SETUID) & 1);
  }

  bool may_join_host_root_group() const {
    return nestbox::may_join_host_root_group(p_.namespaces[kNsUser].mode == NsMode::kNew, p_.gid_map,
                                             p_.process.gid, p_.process.groups, p_.no_new_privs,
                                             (p_.caps.keep >> CAP_SETGID) & 1);
  }

  Status weight(const string& f, uint32_t& out) {
    size_t at = r_.pos();
    READ(out, r_.u32(f));
    CHECK(at, out == 0 || (out >= 1 && out <= 10000), f,
          "must be 0 (unset) or 1..10000, got " + std::to_string(out));
    return ok_status();
  }

  Status cgroups() {
    Cgroups& c = p_.cgroups;
    READ(c.memory_max, r_.u64("cgroups.memory_max"));
    size_t at = r_.pos();
    uint64_t swap;
    READ(swap, r_.u64("cgroups.memory_swap_max"));
    size_t swap_at = at;
    at = r_.pos();
    READ(c.cpu_quota_us, r_.u64("cgroups.cpu_quota_us"));
    CHECK(at, c.cpu_quota_us == 0 || c.cpu_quota_us >= 1000, "cgroups.cpu_quota_us",
                      "must be 0 (unset) or at least 1000");
    at = r_.pos();
    READ(c.cpu_period_us, r_.u64("cgroups.cpu_period_us"));
    CHECK(at, c.cpu_period_us >= 1000 && c.cpu_period_us <= 1000000, "cgroups.cpu_period_us",
                      "must be 1000..1000000, got " + std::to_string(c.cpu_period_us));
    NESTBOX_TRY(weight("cgroups.cpu_weight", c.cpu_weight));
    READ(c.pids_max, r_.u32("cgroups.pids_max"));
    NESTBOX_TRY(weight("cgroups.io_weight", c.io_weight));
    READ(c.freezer, r_.boolean("cgroups.freezer"));
    at = r_.pos();
    bool swap_set;
    READ(swap_set, r_.boolean("cgroups.memory_swap_set"));
    CHECK(at, swap_set || swap == 0, "cgroups.memory_swap_set",
          "a swap limit of " + std::to_string(swap) + " without memory_swap_set");
    CHECK(swap_at, !swap_set || c.memory_max != 0, "cgroups.memory_swap_max", "a swap limit needs memory_max");
    if (swap_set) c.memory_swap_max = swap;
    at = r_.pos();
    READ(c.io_weight_best_effort, r_.boolean("cgroups.io_weight_best_effort"));
    CHECK(at, !c.io_weight_best_effort || c.io_weight != 0, "cgroups.io_weight_best_effort",
          "set without an io_weight");
    NESTBOX_TRY(r_.zeros(1, "cgroups.reserved"));
    READ(c.cpuset_cpus, r_.str("cgroups.cpuset_cpus", 256, Text::kCpuList));
    READ(c.cpuset_mems, r_.str("cgroups.cpuset_mems", 256, Text::kCpuList));
    return ok_status();
  }

  Status mount(const string& f, Mount& m) {
    uint8_t kind;
    READ(kind, r_.enumeration(f + ".kind", 6));
    m.kind = static_cast<MountKind>(kind);
    NESTBOX_TRY(r_.zeros(3, f + ".reserved"));
    size_t at = r_.pos();
    READ(m.mode, r_.u32(f + ".mode"));
    CHECK(at, m.mode <= 07777, f + ".mode", "mode has bits above 07777");
    at = r_.pos();
    READ(m.flags, r_.u32(f + ".flags"));
    CHECK(at, (m.flags & ~0xfu) == 0, f + ".flags", "unknown mount flags");
    NESTBOX_TRY(r_.zeros(4, f + ".reserved2"));
    at = r_.pos();
    READ(m.size, r_.u64(f + ".size"));
    // A size is a limit only where the launcher applies it: a tmpfs's and a
    // storage image's. On a directory, overlay or partition it would be a
    // limit silently not enforced.
    bool sized = m.kind == MountKind::kTmpfs || m.kind == MountKind::kStorageImage;
    CHECK(at, sized || m.size == 0, f + ".size",
          "only tmpfs and image storage take a size (a directory, overlay or partition is not limited by one)");
    CHECK(at, m.kind != MountKind::kStorageImage || m.size != 0, f + ".size",
          "an image store needs its size (the most of the host's storage it may take)");
    at = r_.pos();
    bool source_is_path = m.kind != MountKind::kTmpfs && m.kind != MountKind::kStoragePartition;
    if (m.kind == MountKind::kStoragePartition) {
      READ(m.source, r_.str(f + ".source", wire::kMaxName, Text::kName, false));
    } else {
      READ(m.source, r_.str(f + ".source", wire::kMaxString, Text::kPath, !source_is_path));
      CHECK(at, source_is_path || m.source.empty(), f + ".source", "tmpfs takes no source");
    }
    READ(m.target, r_.str(f + ".target", wire::kMaxString, Text::kPath, false));
    at = r_.pos();
    READ(m.fstype, r_.str(f + ".fstype", wire::kMaxName, Text::kName));
    bool needs_fstype = m.kind == MountKind::kStorageImage || m.kind == MountKind::kStoragePartition;
    CHECK(at, m.fstype.empty() != needs_fstype, f + ".fstype",
                      needs_fstype ? "image and partition mounts need a filesystem type"
                                   : "only image and partition mounts take a filesystem type");
    bool storage = m.kind != MountKind::kTmpfs && m.kind != MountKind::kBind;
    at = r_.pos();
    READ(m.owner_set, r_.boolean(f + ".owner_set"));
    CHECK(at, !m.owner_set || storage, f + ".owner_set", "only storage mounts take an owner");
    NESTBOX_TRY(r_.zeros(3, f + ".reserved3"));
    at = r_.pos();
    READ(m.uid, r_.id(f + ".uid"));
    CHECK(at, m.owner_set || m.uid == 0, f + ".uid", "an owner without owner_set");
    at = r_.pos();
    READ(m.gid, r_.id(f + ".gid"));
    CHECK(at, m.owner_set || m.gid == 0, f + ".gid", "an owner without owner_set");
    return ok_status();
  }

  Status mounts() {
    size_t n;
    size_t at = r_.pos();
    READ(n, r_.count("mounts", wire::kMaxMounts));
    p_.mounts.resize(n);
    for (size_t i = 0; i < n; ++i) NESTBOX_TRY(mount(idx("mounts", i), p_.mounts[i]));
    mounts_at_ = at;
    return ok_status();
  }

  // No host source below one the container can write (policy/host_sources.h);
  // the ubus socket counts as a read-only source.
  Status sources_apart() {
    std::vector<HostSource> sources;
    for (size_t i = 0; i < p_.mounts.size(); ++i) {
      const Mount& m = p_.mounts[i];
      add_host_sources(m.kind, m.source, (m.flags & kMountReadOnly) != 0, i, sources);
    }
    if (!p_.ipc.ubus_socket.empty()) sources.push_back({p_.ipc.ubus_socket, false, p_.mounts.size()});
    auto nested = source_below_writable(sources);
    CHECK(mounts_at_, !nested, "mounts",
          nested ? "\"" + nested->first.path + "\" lies below \"" + nested->second.path +
                       "\", which the container can write (it could be replaced by a symlink); expected host sources apart"
                 : "");
    return ok_status();
  }

  // No mount target below one whose contents the container keeps
  // (policy/mount_targets.h); the ubus socket's target counts too.
  Status targets_apart() {
    auto nested = target_below_kept(p_.mounts, p_.ipc.ubus_target);
    CHECK(mounts_at_, !nested, "mounts",
          nested ? "target \"" + nested->first.path + "\" lies below \"" + nested->second.path +
                       "\", whose contents the container keeps (a symlink it left there would move this mount at "
                       "the next start); expected mount targets outside storage"
                 : "");
    return ok_status();
  }

  Status interface(const string& f, Interface& in) {
    uint8_t v;
    READ(v, r_.enumeration(f + ".type", 4));
    in.type = static_cast<IfType>(v);
    READ(v, r_.enumeration(f + ".macvlan_mode", 4));
    in.macvlan_mode = static_cast<MacvlanMode>(v);
    size_t at = r_.pos();
    READ(in.vlan_id, r_.u32(f + ".vlan_id"));
    bool vlan = in.type == IfType::kVlan;
    CHECK(at, vlan ? (in.vlan_id >= 1 && in.vlan_id <= 4094) : in.vlan_id == 0,
                      f + ".vlan_id", vlan ? "must be 1..4094" : "only vlan interfaces take a vlan id");
    at = r_.pos();
    READ(in.mtu, r_.u32(f + ".mtu"));
    CHECK(at, in.mtu == 0 || (in.mtu >= 68 && in.mtu <= 65535), f + ".mtu",
                      "must be 0 (unset) or 68..65535");
    READ(in.name, r_.str(f + ".name", 15, Text::kIfName, false));
    at = r_.pos();
    READ(in.parent, r_.str(f + ".parent", 15, Text::kIfName));
    bool needs_parent = in.type != IfType::kVeth;
    CHECK(at, in.parent.empty() != needs_parent, f + ".parent",
                      needs_parent ? "phys, vlan and macvlan interfaces need a parent device"
                                   : "veth interfaces take no parent (use bridge)");
    at = r_.pos();
    READ(in.bridge, r_.str(f + ".bridge", 15, Text::kIfName));
    CHECK(at, in.bridge.empty() || in.type == IfType::kVeth, f + ".bridge",
                      "only veth interfaces attach to a bridge");
    at = r_.pos();
    READ(in.host_name, r_.str(f + ".host_name", 15, Text::kIfName));
    CHECK(at, in.host_name.empty() || in.type == IfType::kVeth, f + ".host_name",
                      "only veth interfaces have a host end");
    at = r_.pos();
    READ(in.mac, r_.str(f + ".mac", 17, Text::kAny));
    CHECK(at, in.mac.empty() || valid_mac(in.mac), f + ".mac", "expected xx:xx:xx:xx:xx:xx");
    size_t n;
    READ(n, r_.count(f + ".addresses", wire::kMaxAddresses));
    in.addresses.resize(n);
    for (size_t i = 0; i < n; ++i) {
      at = r_.pos();
      READ(in.addresses[i], r_.str(idx(f + ".addresses", i), 64, Text::kAny, false));
      CHECK(at, valid_cidr(in.addresses[i]), idx(f + ".addresses", i),
                        "expected an IPv4 or IPv6 address with /prefix");
    }
    READ(n, r_.count(f + ".routes", wire::kMaxRoutes));
    in.routes.resize(n);
    for (size_t i = 0; i < n; ++i) {
      string rf = idx(f + ".routes", i);
      Route& rt = in.routes[i];
      at = r_.pos();
      READ(rt.destination, r_.str(rf + ".destination", 64, Text::kAny, false));
      CHECK(at, rt.destination == "default" || valid_cidr(rt.destination),
                        rf + ".destination", "expected \"default\" or an address with /prefix");
      at = r_.pos();
      READ(rt.gateway, r_.str(rf + ".gateway", 64, Text::kAny));
      CHECK(at, rt.gateway.empty() || valid_ip(rt.gateway), rf + ".gateway",
                        "expected an IPv4 or IPv6 address");
    }
    return ok_status();
  }

  Status network() {
    uint8_t v;
    READ(v, r_.enumeration("network.mode", 3));
    p_.net = static_cast<NetMode>(v);
    size_t at = r_.pos();
    size_t n;
    READ(n, r_.count("network.interfaces", wire::kMaxInterfaces));
    CHECK(at, n == 0 || p_.net == NetMode::kInterfaces, "network.interfaces",
                      "interfaces are only allowed with mode interfaces");
    p_.interfaces.resize(n);
    for (size_t i = 0; i < n; ++i) NESTBOX_TRY(interface(idx("network.interfaces", i), p_.interfaces[i]));
    return ok_status();
  }

  Status rlimits() {
    size_t n;
    READ(n, r_.count("rlimits", wire::kMaxRlimits));
    p_.rlimits.resize(n);
    uint32_t seen = 0;
    for (size_t i = 0; i < n; ++i) {
      string f = idx("rlimits", i);
      Rlimit& rl = p_.rlimits[i];
      size_t at = r_.pos();
      READ(rl.resource, r_.u32(f + ".resource"));
      CHECK(at, rl.resource < wire::kMaxRlimits, f + ".resource",
                        "unknown resource " + std::to_string(rl.resource));
      CHECK(at, (seen & (1u << rl.resource)) == 0, f + ".resource", "resource listed twice");
      seen |= 1u << rl.resource;
      NESTBOX_TRY(r_.zeros(4, f + ".reserved"));
      READ(rl.soft, r_.u64(f + ".soft"));
      at = r_.pos();
      READ(rl.hard, r_.u64(f + ".hard"));
      CHECK(at, rl.soft <= rl.hard, f + ".hard", "soft limit above the hard limit");
    }
    return ok_status();
  }

  Status seccomp() {
    size_t at = r_.pos();
    uint32_t len;
    READ(len, r_.u32("seccomp.length"));
    CHECK(at, len % wire::kBpfInsnSize == 0, "seccomp.length",
                      "BPF length " + std::to_string(len) + " is not a multiple of 8");
    CHECK(at, len / wire::kBpfInsnSize <= wire::kMaxBpfInsns, "seccomp.length",
                      "BPF program of " + std::to_string(len / wire::kBpfInsnSize) +
                          " instructions exceeds the limit of 4096");
    size_t prog = r_.pos();
    READ(p_.seccomp.bpf, r_.bytes(len, "seccomp.bpf"));
    if (len == 0) return ok_status();
    BpfProblem bad = check_seccomp_bpf(p_.seccomp.bpf, *arch_);
    if (bad.what)
      return r_.fail(prog + bad.insn * wire::kBpfInsnSize, idx("seccomp.bpf", bad.insn), bad.what);
    return ok_status();
  }

  // Section hotplug (wire::HotplugRecord). Needs the container's own mount
  // namespace and the launcher's /dev (the nodes go into its tmpfs) and the
  // host's user namespace (device nodes on a filesystem mounted in another
  // user namespace never open).
  Status hotplug_rule(const string& f, HotplugRule& h) {
    size_t at = r_.pos();
    READ(h.access, r_.u8(f + ".access"));
    CHECK(at, (h.access & kHotplugRead) && (h.access & ~(kHotplugRead | kHotplugWrite)) == 0, f + ".access",
          "must be 1 (read) or 3 (read and write)");
    uint8_t v;
    READ(v, r_.enumeration(f + ".devtype", 3));
    h.devtype = static_cast<HotplugDevtype>(v);
    NESTBOX_TRY(r_.zeros(2, f + ".reserved"));
    at = r_.pos();
    READ(h.mode, r_.u32(f + ".mode"));
    CHECK(at, (h.mode & ~0777u) == 0, f + ".mode", "not a permission mode (0777 at most)");
    READ(h.uid, r_.id(f + ".uid"));
    READ(h.gid, r_.id(f + ".gid"));
    auto text = [&](const string& field, string& out, size_t max, const char* (*problem)(std::string_view),
                    bool optional) -> Status {
      size_t sat = r_.pos();
      READ(out, r_.str(field, max, Text::kAny, optional));
      if (out.empty() && optional) return ok_status();
      if (const char* why = problem(out)) return r_.fail(sat, field, why);
      return ok_status();
    };
    NESTBOX_TRY(text(f + ".name", h.name, 64, hotplug_name_problem, false));
    NESTBOX_TRY(text(f + ".parent", h.parent, 32, hotplug_parent_problem, true));
    NESTBOX_TRY(text(f + ".dir", h.dir, 128, hotplug_dir_problem, false));
    size_t n;
    READ(n, r_.count(f + ".properties", wire::kMaxHotplugProperties));
    h.properties.resize(n);
    for (size_t i = 0; i < n; ++i) {
      string pf = idx(f + ".properties", i);
      NESTBOX_TRY(text(pf + ".key", h.properties[i].key, 64, hotplug_key_problem, false));
      NESTBOX_TRY(text(pf + ".value", h.properties[i].value, 256, hotplug_value_problem, false));
    }
    return ok_status();
  }

  // Section 12 (docs/policy-format.md, "Firewall"). Needs the network
  // section (decoded before): rules name its veth interfaces.
  Status firewall() {
    Firewall& f = p_.firewall;
    size_t at = r_.pos();
    READ(f.enabled, r_.boolean("firewall.enabled"));
    if (f.enabled) {
      CHECK(at, p_.net == NetMode::kInterfaces && !p_.interfaces.empty(), "firewall.enabled",
            "a firewall needs network mode interfaces");
      // macvlan/vlan/phys interfaces are filtered inside the container's own
      // namespace: only while it cannot change that filter.
      bool on_link = false;
      for (const Interface& in : p_.interfaces) on_link = on_link || filtered_in_container(in);
      CHECK(at, !on_link || !(p_.caps.keep & (1ull << CAP_NET_ADMIN)), "firewall.enabled",
            "a macvlan/vlan/phys interface is filtered in the container's namespace, which CAP_NET_ADMIN (kept) could undo");
      CHECK(at, !on_link || !(p_.caps.keep & (1ull << CAP_NET_RAW)), "firewall.enabled",
            "a macvlan/vlan/phys interface is filtered in the container's namespace, which CAP_NET_RAW (kept: packet sockets) bypasses");
    }
    at = r_.pos();
    READ(f.masquerade, r_.boolean("firewall.masquerade"));
    CHECK(at, f.enabled || !f.masquerade, "firewall.masquerade", "set without a firewall");
    at = r_.pos();
    READ(f.allow_out, r_.u8("firewall.allow_out"));
    CHECK(at, (f.allow_out & ~kZoneAll) == 0, "firewall.allow_out", "unknown zone bits");
    CHECK(at, f.enabled || f.allow_out == 0, "firewall.allow_out", "set without a firewall");
    NESTBOX_TRY(r_.zeros(1, "firewall.reserved"));
    NESTBOX_TRY(zone_devices("firewall.lan", f.lan));
    at = r_.pos();
    NESTBOX_TRY(zone_devices("firewall.wan", f.wan));
    CHECK(at, !f.wan.empty() || (!f.masquerade && !(f.allow_out & kZoneWan)), "firewall.wan",
          "masquerade and allow_out wan need wan devices");
    CHECK(at, !f.lan.empty() || !(f.allow_out & kZoneLan), "firewall.lan", "allow_out lan needs lan devices");
    bool veth = false;
    for (const Interface& in : p_.interfaces) {
      veth = veth || !filtered_in_container(in);
      CHECK(at, !f.enabled || !filtered_in_container(in) || segment_zone(f, in) != 0, "firewall.lan",
            "the parent '" + in.parent + "' of interface '" + in.name + "' is in no zone");
    }
    CHECK(at, !f.masquerade || veth, "firewall.masquerade", "set without a veth interface to NAT");
    size_t n;
    at = r_.pos();
    READ(n, r_.count("firewall.allow_in", wire::kMaxFirewallRules));
    CHECK(at, f.enabled || n == 0, "firewall.allow_in", "set without a firewall");
    f.allow_in.resize(n);
    for (size_t i = 0; i < n; ++i) NESTBOX_TRY(firewall_allow(idx("firewall.allow_in", i), f.allow_in[i]));
    return ok_status();
  }

  Status zone_devices(const string& field, std::vector<string>& out) {
    size_t at = r_.pos();
    size_t n;
    READ(n, r_.count(field, wire::kMaxFirewallZoneDevices));
    CHECK(at, p_.firewall.enabled || n == 0, field, "set without a firewall");
    out.resize(n);
    for (size_t i = 0; i < n; ++i) READ(out[i], r_.str(idx(field, i), 15, Text::kIfName, false));
    return ok_status();
  }

  Status firewall_allow(const string& f, FirewallAllow& a) {
    size_t at = r_.pos();
    READ(a.interface, r_.str(f + ".interface", 15, Text::kIfName, false));
    bool known = false;
    for (const Interface& in : p_.interfaces) known = known || in.name == a.interface;
    CHECK(at, known, f + ".interface", "no interface '" + a.interface + "' in the network section");
    uint8_t on_link_zone = 0;
    for (const Interface& in : p_.interfaces)
      if (in.name == a.interface && filtered_in_container(in)) on_link_zone = segment_zone(p_.firewall, in);
    for (const Interface& in : p_.interfaces)
      for (const auto* zone : {&p_.firewall.lan, &p_.firewall.wan})
        for (const string& d : *zone)
          CHECK(at, in.name != a.interface || in.bridge.empty() || in.bridge != d, f + ".interface",
                "'" + a.interface + "' is bridged into the zone device '" + d + "': its traffic is not routed by the host");
    uint8_t v;
    READ(v, r_.enumeration(f + ".protocol", 3));
    a.protocol = static_cast<FwProtocol>(v);
    at = r_.pos();
    READ(a.from, r_.u8(f + ".from"));
    CHECK(at, a.from != 0 && (a.from & ~kZoneAll) == 0, f + ".from", "must name 1..3 known zones");
    CHECK(at, on_link_zone == 0 || (a.from & on_link_zone), f + ".from",
          "never matches: '" + a.interface + "' is on a segment of a zone it does not name");
    NESTBOX_TRY(r_.zeros(2, f + ".reserved"));
    size_t n;
    at = r_.pos();
    READ(n, r_.count(f + ".ports", wire::kMaxFirewallPorts));
    bool icmp = a.protocol == FwProtocol::kIcmp;
    CHECK(at, icmp ? n == 0 : n > 0, f + ".ports", icmp ? "icmp takes no ports" : "tcp and udp need ports");
    a.ports.resize(n);
    for (size_t i = 0; i < n; ++i) {
      at = r_.pos();
      READ(a.ports[i], r_.u16(idx(f + ".ports", i)));
      CHECK(at, a.ports[i] != 0, idx(f + ".ports", i), "port 0");
    }
    return ok_status();
  }

  Status hotplug() {
    size_t at = r_.pos();
    size_t n;
    READ(n, r_.count("hotplug", wire::kMaxHotplugRules));
    if (n == 0) return ok_status();
    CHECK(at, p_.dev == DevMode::kMinimal && p_.namespaces[kNsMount].mode == NsMode::kNew, "hotplug",
          "hot-plugged devices need dev \"minimal\" in a mount namespace of the container's own");
    CHECK(at, p_.namespaces[kNsUser].mode == NsMode::kHost, "hotplug",
          "hot-plugged devices need the host's user namespace (device nodes never open on a filesystem "
          "mounted in another)");
    p_.hotplug.resize(n);
    for (size_t i = 0; i < n; ++i) NESTBOX_TRY(hotplug_rule(idx("hotplug", i), p_.hotplug[i]));
    return ok_status();
  }

  // Empty: no check. Else its argv (at least the program) and its timeout.
  Status health() {
    if (r_.pos() == r_.end()) return ok_status();
    READ(p_.health.argv, argv(r_, "health.argv"));
    size_t at = r_.pos();
    READ(p_.health.timeout_ms, r_.u32("health.timeout_ms"));
    CHECK(at, p_.health.timeout_ms >= 1 && p_.health.timeout_ms <= 300000, "health.timeout_ms", "must be 1..300000");
    return ok_status();
  }

  // The ubus socket and its place inside the container: both set (absolute,
  // no "." or ".."), or both empty.
  Status ipc() {
    size_t at = r_.pos();
    READ(p_.ipc.ubus_socket, r_.str("ipc.ubus_socket", wire::kMaxString, Text::kPath, true));
    READ(p_.ipc.ubus_target, r_.str("ipc.ubus_target", wire::kMaxString, Text::kPath, true));
    CHECK(at, p_.ipc.ubus_socket.empty() == p_.ipc.ubus_target.empty(), "ipc",
          "ubus socket and target must both be set or both be empty");
    CHECK(at, p_.ipc.ubus_target != "/", "ipc.ubus_target", "the socket cannot be bound over the root");
    return ok_status();
  }

  Reader r_;
  size_t size_;
  size_t mounts_at_ = 0;
  Policy p_;
  const ArchInfo* arch_ = nullptr;
};

}  // namespace

Result<Policy> decode(std::span<const uint8_t> blob) { return Decoder(blob).run(); }

}  // namespace nestbox::policy
