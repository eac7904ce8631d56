#include "launcher/service_board.h"

#include <cstdlib>

namespace nestbox::launcher {
namespace {

bool known_state(const std::string& s) {
  for (const char* k : {"running", "backoff", "exited", "failed", "stopping", "stopped"})
    if (s == k) return true;
  return false;
}

bool parse_count(const std::string& s, uint32_t& out) {
  if (s.empty() || s.size() > 9) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  out = static_cast<uint32_t>(std::strtoul(s.c_str(), nullptr, 10));
  return true;
}

// Splits at single spaces, at most `n` fields (the last takes the rest).
std::vector<std::string> fields(const std::string& l, size_t n) {
  std::vector<std::string> out;
  size_t i = 0;
  while (out.size() + 1 < n) {
    size_t sp = l.find(' ', i);
    if (sp == std::string::npos) break;
    out.push_back(l.substr(i, sp - i));
    i = sp + 1;
  }
  out.push_back(l.substr(i));
  return out;
}

}  // namespace

ServiceBoard::ServiceBoard(const policy::Policy& p) {
  for (const policy::Service& s : p.process.services) services_.push_back({s.name, "starting", 0});
}

bool ServiceBoard::feed(const char* data, size_t n) {
  pending_.append(data, n);
  bool changed = false;
  size_t nl;
  while ((nl = pending_.find('\n')) != std::string::npos) {
    changed |= line(pending_.substr(0, nl));
    pending_.erase(0, nl + 1);
  }
  if (pending_.size() > 4096) pending_.clear();  // no line is this long: garbage
  return changed;
}

bool ServiceBoard::line(const std::string& l) {
  if (l.size() > 1024) return false;
  for (char c : l)
    if (static_cast<unsigned char>(c) < 0x20) return false;
  auto f = fields(l, l.rfind("F ", 0) == 0 ? 3 : 4);
  for (ServiceStatus& s : services_) {
    if (f.size() < 3 || f[1] != s.name) continue;
    if (f[0] == "F" && failure_.empty()) {
      failure_ = s.name + ": " + f[2];
      return false;
    }
    uint32_t restarts;
    if (f[0] != "S" || f.size() != 4 || !known_state(f[2]) || !parse_count(f[3], restarts)) return false;
    s.state = f[2];
    s.restarts = restarts;
    return true;
  }
  return false;
}

std::string ServiceBoard::render() const {
  std::string out;
  for (const ServiceStatus& s : services_)
    out += s.name + " " + s.state + " " + std::to_string(s.restarts) + "\n";
  return out;
}

std::vector<ServiceStatus> parse_services(const std::string& text) {
  std::vector<ServiceStatus> out;
  size_t i = 0;
  while (i < text.size()) {
    size_t nl = text.find('\n', i);
    if (nl == std::string::npos) nl = text.size();
    auto f = fields(text.substr(i, nl - i), 3);
    uint32_t restarts;
    if (f.size() == 3 && parse_count(f[2], restarts)) out.push_back({f[0], f[1], restarts});
    i = nl + 1;
  }
  return out;
}

}  // namespace nestbox::launcher
