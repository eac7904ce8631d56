#include "launcher/profile.h"

#include <cstdio>
#include <cstdlib>

namespace nestbox::launcher {
namespace {

std::string hex(const std::vector<uint8_t>& bytes) {
  static const char* d = "0123456789abcdef";
  std::string out;
  for (uint8_t b : bytes) {
    out += d[b >> 4];
    out += d[b & 15];
  }
  return out;
}

int nibble(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

}  // namespace

ExecProfile profile_from(const policy::Policy& p) {
  ExecProfile e;
  e.uid = p.process.uid;
  e.gid = p.process.gid;
  e.groups = p.process.groups;
  e.caps = p.caps.keep;
  e.no_new_privs = p.no_new_privs;
  e.rlimits = p.rlimits;
  e.apparmor = p.apparmor_profile;
  e.selinux = p.selinux_context;
  e.seccomp = p.seccomp.bpf;
  e.env = p.process.env;
  e.cwd = p.process.cwd.empty() ? "/" : p.process.cwd;
  return e;
}

std::string serialize(const ExecProfile& e) {
  std::string out = "uid " + std::to_string(e.uid) + "\ngid " + std::to_string(e.gid) + "\n";
  for (uint32_t g : e.groups) out += "group " + std::to_string(g) + "\n";
  out += "caps " + std::to_string(e.caps) + "\nnnp " + (e.no_new_privs ? "1" : "0") + "\n";
  for (const policy::Rlimit& r : e.rlimits)
    out += "rlimit " + std::to_string(r.resource) + " " + std::to_string(r.soft) + " " +
           std::to_string(r.hard) + "\n";
  if (!e.apparmor.empty()) out += "apparmor " + e.apparmor + "\n";
  if (!e.selinux.empty()) out += "selinux " + e.selinux + "\n";
  if (!e.seccomp.empty()) out += "seccomp " + hex(e.seccomp) + "\n";
  for (const std::string& v : e.env) out += "env " + v + "\n";
  return out + "cwd " + e.cwd + "\n";
}

Result<ExecProfile> deserialize(const std::string& text) {
  ExecProfile e;
  e.cwd.clear();
  size_t pos = 0;
  int line_no = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    size_t sp = line.find(' ');
    std::string key = line.substr(0, sp), val = sp == std::string::npos ? "" : line.substr(sp + 1);
    const char* v = val.c_str();
    if (key == "uid") e.uid = std::strtoul(v, nullptr, 10);
    else if (key == "gid") e.gid = std::strtoul(v, nullptr, 10);
    else if (key == "group") e.groups.push_back(std::strtoul(v, nullptr, 10));
    else if (key == "caps") e.caps = std::strtoull(v, nullptr, 10);
    else if (key == "nnp") e.no_new_privs = val == "1";
    else if (key == "apparmor") e.apparmor = val;
    else if (key == "selinux") e.selinux = val;
    else if (key == "env") e.env.push_back(val);
    else if (key == "cwd") e.cwd = val;
    else if (key == "rlimit") {
      policy::Rlimit r;
      char* p = nullptr;
      r.resource = std::strtoul(v, &p, 10);
      r.soft = std::strtoull(p, &p, 10);
      r.hard = std::strtoull(p, &p, 10);
      e.rlimits.push_back(r);
    } else if (key == "seccomp") {
      if (val.size() % 2) return bad_input("exec profile:" + std::to_string(line_no) + ": odd hex");
      for (size_t i = 0; i < val.size(); i += 2) {
        int hi = nibble(val[i]), lo = nibble(val[i + 1]);
        if (hi < 0 || lo < 0) return bad_input("exec profile:" + std::to_string(line_no) + ": bad hex");
        e.seccomp.push_back(static_cast<uint8_t>(hi << 4 | lo));
      }
    } else if (!key.empty()) {
      return bad_input("exec profile:" + std::to_string(line_no) + ": unknown key '" + key + "'");
    }
  }
  if (e.cwd.empty()) return bad_input("exec profile: no cwd (truncated?)");
  return e;
}

}  // namespace nestbox::launcher
