#include "launcher/devices.h"

#include <fcntl.h>
#include <linux/bpf.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "util/fd.h"

namespace nestbox::launcher {
namespace {

// The minimal /dev of mounts.cc (mount_dev) and the container's own devpts.
constexpr DeviceRule kMinimal[] = {
    {'c', 1, 3}, {'c', 1, 5}, {'c', 1, 7}, {'c', 1, 8}, {'c', 1, 9},  // null zero full random urandom
    {'c', 5, 0}, {'c', 5, 2},                                         // tty, ptmx
    {'c', 136, -1},                                                   // pts/N (UNIX98_PTY_SLAVE_MAJOR)
};

Status write_to(const std::string& path, const std::string& value) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd) return sys_error("open " + path);
  if (::write(fd.get(), value.data(), value.size()) != static_cast<ssize_t>(value.size()))
    return sys_error("write '" + value + "' to " + path);
  return {};
}

// struct bpf_insn, packed into the 8 bytes the kernel reads.
uint64_t insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  bpf_insn i;
  std::memset(&i, 0, sizeof i);
  i.code = code;
  i.dst_reg = dst & 0xf;
  i.src_reg = src & 0xf;
  i.off = off;
  i.imm = imm;
  uint64_t out;
  static_assert(sizeof i == sizeof out);
  std::memcpy(&out, &i, sizeof out);
  return out;
}

long bpf(int cmd, bpf_attr* attr) { return ::syscall(SYS_bpf, cmd, attr, sizeof *attr); }

// Attaches a program of `rules` to `dir`, in place of `replace` when valid;
// the attachment keeps the program (it goes with the cgroup), `*attached`
// receives its fd when asked for.
Status attach_program(const std::string& dir, const std::vector<DeviceRule>& rules, int replace = -1,
                      UniqueFd* attached = nullptr) {
  auto prog = load_device_program(rules);
  if (!prog.ok()) return std::move(prog).error();
  UniqueFd prog_fd(*prog);
  UniqueFd cg(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!cg) return sys_error("open " + dir);
  bpf_attr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.target_fd = static_cast<uint32_t>(cg.get());
  attr.attach_bpf_fd = static_cast<uint32_t>(prog_fd.get());
  attr.attach_type = BPF_CGROUP_DEVICE;
  // As crun: beside programs a manager (systemd) attached to the parents;
  // the kernel runs them all and a device must pass every one.
  attr.attach_flags = BPF_F_ALLOW_MULTI;
  if (replace >= 0) {
    // One step: never a moment with neither program, nor with both.
    attr.attach_flags |= BPF_F_REPLACE;
    attr.replace_bpf_fd = static_cast<uint32_t>(replace);
  }
  if (bpf(BPF_PROG_ATTACH, &attr) != 0)
    return sys_error(std::string(replace >= 0 ? "replace" : "attach") + " the device program of " + dir);
  if (attached) *attached = std::move(prog_fd);
  return {};
}

}  // namespace

std::vector<DeviceRule> device_rules(const policy::Policy& p) {
  std::vector<DeviceRule> rules;  // dev = "none": the declared devices only
  if (p.dev == policy::DevMode::kMinimal) rules.assign(std::begin(kMinimal), std::end(kMinimal));
  for (const policy::Device& d : p.devices)
    rules.push_back({d.type == policy::DeviceType::kBlock ? 'b' : 'c', d.major, d.minor});
  return rules;
}

std::vector<std::string> v1_allow_lines(const std::vector<DeviceRule>& rules) {
  std::vector<std::string> out;
  auto num = [](int64_t v) { return v < 0 ? std::string("*") : std::to_string(v); };
  for (const DeviceRule& r : rules) {
    std::string access;
    if (r.access & kDevRead) access += 'r';
    if (r.access & kDevWrite) access += 'w';
    if (r.access & kDevMknod) access += 'm';
    out.push_back(std::string(1, r.type) + " " + num(r.major) + ":" + num(r.minor) + " " + access);
  }
  return out;
}

std::vector<uint64_t> device_program(const std::vector<DeviceRule>& rules) {
  // r1 = struct bpf_cgroup_dev_ctx {u32 access_type (access << 16 | type); u32 major, minor}
  constexpr uint8_t kLdxW = BPF_LDX | BPF_MEM | BPF_W, kAnd = BPF_ALU | BPF_AND | BPF_K,
                    kRsh = BPF_ALU | BPF_RSH | BPF_K, kJne = BPF_JMP | BPF_JNE | BPF_K,
                    kMov = BPF_ALU64 | BPF_MOV | BPF_K, kExit = BPF_JMP | BPF_EXIT,
                    kMovX = BPF_ALU64 | BPF_MOV | BPF_X, kAnd64 = BPF_ALU64 | BPF_AND | BPF_K;
  std::vector<uint64_t> p = {
      insn(kLdxW, 2, 1, 0, 0), insn(kAnd, 2, 0, 0, 0xffff),  // r2 = type
      insn(kLdxW, 3, 1, 0, 0), insn(kRsh, 3, 0, 0, 16),      // r3 = access
      insn(kLdxW, 4, 1, 4, 0),                               // r4 = major
      insn(kLdxW, 5, 1, 8, 0),                               // r5 = minor
  };
  for (const DeviceRule& r : rules) {
    // Each rule: compare, and on a mismatch jump past its "allow" (r0 = 1; exit).
    std::vector<uint64_t> body;
    std::vector<size_t> jumps;  // their offsets are patched once the body is complete
    auto skip_unless = [&](uint8_t reg, int64_t value) {
      jumps.push_back(body.size());
      body.push_back(insn(kJne, reg, 0, 0, static_cast<int32_t>(value)));
    };
    skip_unless(2, r.type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR);
    if (r.major >= 0) skip_unless(4, r.major);
    if (r.minor >= 0) skip_unless(5, r.minor);
    if ((r.access & kDevAll) != kDevAll) {
      // r6 = the access asked for beyond the rule's: none, or no match.
      body.push_back(insn(kMovX, 6, 3, 0, 0));
      body.push_back(insn(kAnd64, 6, 0, 0, ~r.access & kDevAll));
      skip_unless(6, 0);
    }
    body.push_back(insn(kMov, 0, 0, 0, 1));
    body.push_back(insn(kExit, 0, 0, 0, 0));
    for (size_t j : jumps) {
      bpf_insn i;
      std::memcpy(&i, &body[j], sizeof i);
      i.off = static_cast<int16_t>(body.size() - j - 1);
      std::memcpy(&body[j], &i, sizeof i);
    }
    p.insert(p.end(), body.begin(), body.end());
  }
  p.push_back(insn(kMov, 0, 0, 0, 0));  // no rule matched: deny
  p.push_back(insn(kExit, 0, 0, 0, 0));
  return p;
}

Result<int> load_device_program(const std::vector<DeviceRule>& rules) {
  std::vector<uint64_t> prog = device_program(rules);
  static const char kLicense[] = "GPL";
  bpf_attr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  attr.insns = reinterpret_cast<uint64_t>(prog.data());
  attr.insn_cnt = static_cast<uint32_t>(prog.size());
  attr.license = reinterpret_cast<uint64_t>(kLicense);
  long fd = bpf(BPF_PROG_LOAD, &attr);
  if (fd < 0) return sys_error("load the cgroup device program (BPF_PROG_LOAD, CONFIG_CGROUP_BPF)");
  // bpf() fds are close-on-exec already.
  return static_cast<int>(fd);
}

Status restrict_devices(const Cgroup& cg, const std::vector<DeviceRule>& rules,
                        std::vector<AttachedProgram>* keep) {
  bool applied = false;
  for (const CgroupDir& d : cg.dirs()) {
    if (d.controllers != "devices") continue;
    // Deny everything first, then allow each: never a moment with more.
    NESTBOX_TRY(write_to(d.path + "/devices.deny", "a"));
    for (const std::string& line : v1_allow_lines(rules))
      NESTBOX_TRY(write_to(d.path + "/devices.allow", line));
    applied = true;
  }
  for (const CgroupDir& d : cg.dirs()) {
    if (!d.v2) continue;
    UniqueFd prog;
    Status s = attach_program(d.path, rules, -1, keep ? &prog : nullptr);
    if (s.ok()) {
      applied = true;
      if (keep) keep->push_back({d.path, std::move(prog)});
    } else if (!applied) {
      return std::move(s.error().context("device allow-list"));
    }
    // else: the v1 controller holds the list already; the program is a second layer.
  }
  if (!applied)
    return failure("no device allow-list possible: neither a cgroup v1 devices controller nor cgroup v2 "
                   "(CONFIG_CGROUP_DEVICE / CONFIG_CGROUP_BPF)");
  return {};
}

DeviceAccess::DeviceAccess(const Cgroup& cg, std::vector<DeviceRule> base, std::vector<AttachedProgram> programs)
    : cgroup_(cg), base_(std::move(base)), programs_(std::move(programs)) {}

Status DeviceAccess::replace_programs() {
  std::vector<DeviceRule> all = base_;
  all.insert(all.end(), extra_.begin(), extra_.end());
  for (AttachedProgram& a : programs_) {
    UniqueFd next;
    NESTBOX_TRY(attach_program(a.dir, all, a.prog.get(), &next));
    a.prog = std::move(next);
  }
  return {};
}

Status DeviceAccess::probe() {
  Status s = replace_programs();
  if (!s.ok()) return std::move(s.error().context("hot-plugged devices need a replaceable cgroup v2 device program (Linux 5.6)"));
  return s;
}

Status DeviceAccess::allow(const DeviceRule& r) {
  extra_.push_back(r);
  Status s = replace_programs();
  for (const CgroupDir& d : cgroup_.dirs())
    if (s.ok() && d.controllers == "devices")
      for (const std::string& line : v1_allow_lines({r})) s = write_to(d.path + "/devices.allow", line);
  if (!s.ok()) {
    Status back = revoke(r);
    if (!back.ok()) return std::move(back.error().context("revoke"));  // the worse: access that may stay
  }
  return s;
}

Status DeviceAccess::revoke(const DeviceRule& r) {
  Status first;
  for (const CgroupDir& d : cgroup_.dirs()) {
    if (d.controllers != "devices") continue;
    DeviceRule all = r;
    all.access = kDevAll;
    for (const std::string& line : v1_allow_lines({all})) {
      Status s = write_to(d.path + "/devices.deny", line);
      if (!s.ok() && first.ok()) first = std::move(s);
    }
  }
  extra_.erase(std::remove_if(extra_.begin(), extra_.end(),
                              [&](const DeviceRule& e) {
                                return e.type == r.type && e.major == r.major && e.minor == r.minor;
                              }),
               extra_.end());
  Status s = replace_programs();
  if (!s.ok() && first.ok()) first = std::move(s);
  return first;
}

}  // namespace nestbox::launcher
