#include "launcher/uevent.h"

namespace nestbox::launcher {
namespace {

constexpr size_t kMaxKey = 64, kMaxValue = 1024;

bool printable(std::string_view s) {
  for (char c : s)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
  return true;
}

const char* key_problem(std::string_view k) {
  if (k.empty() || k.size() > kMaxKey) return "key must be 1..64 bytes";
  for (char c : k)
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return "key holds a byte outside [A-Z0-9_]";
  return nullptr;
}

// "/devices/..." without ".", ".." or empty components.
bool valid_devpath(std::string_view p) {
  if (p.size() < 2 || p[0] != '/' || p.size() > 1024 || !printable(p)) return false;
  for (size_t i = 1; i <= p.size();) {
    size_t j = p.find('/', i);
    if (j == std::string_view::npos) j = p.size();
    std::string_view part = p.substr(i, j - i);
    if (part.empty() || part == "." || part == "..") return false;
    i = j + 1;
  }
  return true;
}

bool known_action(std::string_view a) {
  for (const char* k : {"add", "remove", "change", "move", "online", "offline", "bind", "unbind"})
    if (a == k) return true;
  return false;
}

// One "KEY=VALUE" record into `vars`.
Status add_var(std::string_view rec, size_t index, UeventVars& vars) {
  std::string where = "uevent record " + std::to_string(index);
  size_t eq = rec.find('=');
  if (eq == std::string_view::npos) return bad_input(where + ": no '='");
  std::string_view key = rec.substr(0, eq), value = rec.substr(eq + 1);
  if (const char* why = key_problem(key)) return bad_input(where + ": " + why);
  if (value.size() > kMaxValue) return bad_input(where + ": value longer than 1024 bytes");
  if (!printable(value)) return bad_input(where + ": value holds a control byte");
  if (uevent_var(vars, key)) return bad_input(where + ": key " + std::string(key) + " repeated");
  if (vars.size() >= kMaxUeventVars) return bad_input("uevent: more than 64 variables");
  vars.emplace_back(std::string(key), std::string(value));
  return {};
}

}  // namespace

const std::string* uevent_var(const UeventVars& vars, std::string_view key) {
  for (const auto& [k, v] : vars)
    if (k == key) return &v;
  return nullptr;
}

Result<Uevent> parse_uevent(std::span<const uint8_t> msg) {
  if (msg.empty()) return bad_input("uevent: empty message");
  if (msg.size() > kMaxUeventSize) return bad_input("uevent: longer than 8192 bytes");
  if (msg.back() != 0) return bad_input("uevent: last record not NUL-terminated");
  std::string_view all(reinterpret_cast<const char*>(msg.data()), msg.size() - 1);
  Uevent ev;
  size_t index = 0;
  for (size_t i = 0; i <= all.size(); ++index) {
    size_t j = all.find('\0', i);
    if (j == std::string_view::npos) j = all.size();
    std::string_view rec = all.substr(i, j - i);
    i = j + 1;
    if (index == 0) {
      // "libudev" (udev's re-broadcast) and anything else without "@" is no kernel message.
      size_t at = rec.find('@');
      if (at == std::string_view::npos) return bad_input("uevent: header is not ACTION@DEVPATH");
      ev.action = std::string(rec.substr(0, at));
      ev.devpath = std::string(rec.substr(at + 1));
      if (!known_action(ev.action)) return bad_input("uevent: unknown action in the header");
      if (!valid_devpath(ev.devpath)) return bad_input("uevent: header DEVPATH is not a clean sysfs path");
      continue;
    }
    if (rec.empty()) return bad_input("uevent record " + std::to_string(index) + ": empty");
    NESTBOX_TRY(add_var(rec, index, ev.vars));
  }
  const std::string* action = uevent_var(ev.vars, "ACTION");
  const std::string* devpath = uevent_var(ev.vars, "DEVPATH");
  const std::string* subsystem = uevent_var(ev.vars, "SUBSYSTEM");
  if (!action || *action != ev.action) return bad_input("uevent: ACTION missing or not the header's");
  if (!devpath || *devpath != ev.devpath) return bad_input("uevent: DEVPATH missing or not the header's");
  if (!subsystem || subsystem->empty()) return bad_input("uevent: SUBSYSTEM missing");
  ev.subsystem = *subsystem;
  return ev;
}

Result<UeventVars> parse_uevent_file(std::string_view text) {
  if (text.size() > kMaxUeventSize) return bad_input("uevent file: longer than 8192 bytes");
  if (!text.empty() && text.back() != '\n') return bad_input("uevent file: last line not terminated");
  UeventVars vars;
  size_t index = 0;
  for (size_t i = 0; i < text.size(); ++index) {
    size_t j = text.find('\n', i);
    std::string_view rec = text.substr(i, j - i);
    i = j + 1;
    if (rec.empty()) return bad_input("uevent record " + std::to_string(index) + ": empty");
    NESTBOX_TRY(add_var(rec, index, vars));
  }
  return vars;
}

}  // namespace nestbox::launcher
