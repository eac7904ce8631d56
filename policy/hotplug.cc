#include "policy/hotplug.h"

namespace nestbox::policy {
namespace {

bool alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

}  // namespace

const char* hotplug_name_problem(std::string_view s) {
  if (s.empty() || s.size() > 64) return "device name pattern must be 1..64 bytes";
  if (s == "." || s == "..") return "device name pattern may not be '.' or '..'";
  for (char c : s) {
    bool ok = alnum(c) || c == '.' || c == '_' || c == '+' || c == ':' || c == '!' || c == '-' || c == '*' ||
              c == '?' || c == '[' || c == ']';
    if (!ok) return "device name pattern may hold only letters, digits, '._+:!-' and the globs '*?[]'";
  }
  return nullptr;
}

const char* hotplug_key_problem(std::string_view s) {
  if (s.empty() || s.size() > 64) return "uevent key must be 1..64 bytes";
  for (char c : s)
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
      return "uevent key may hold only A-Z, 0-9 and '_'";
  if (s.substr(0, 3) == "ID_")
    return "ID_* properties come from udev, not the kernel: match the kernel's keys (DEVTYPE, MAJOR, ...) or "
           "`parent` (a bus in the device's sysfs path, e.g. \"usb\")";
  return nullptr;
}

const char* hotplug_value_problem(std::string_view s) {
  if (s.empty() || s.size() > 256) return "uevent value pattern must be 1..256 bytes";
  for (char c : s)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return "uevent value pattern holds a control character";
  return nullptr;
}

const char* hotplug_parent_problem(std::string_view s) {
  if (s.empty() || s.size() > 32) return "subsystem must be 1..32 bytes";
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
      return "subsystem may hold only a-z, 0-9, '_' and '-'";
  return nullptr;
}

const char* hotplug_dir_problem(std::string_view s) {
  if (s.substr(0, 4) != "/dev" || (s.size() > 4 && s[4] != '/'))
    return "hot-plugged nodes must appear in /dev or a directory below it";
  if (s.size() > 128) return "directory longer than 128 bytes";
  int depth = 0;
  for (size_t i = 5; i < s.size();) {
    size_t j = s.find('/', i);
    if (j == std::string_view::npos) j = s.size();
    std::string_view part = s.substr(i, j - i);
    if (part.empty() || part == "." || part == "..") return "directory has an empty, '.' or '..' component";
    for (char c : part)
      if (!alnum(c) && c != '.' && c != '_' && c != '-')
        return "directory components may hold only letters, digits and '._-'";
    if (++depth > 4) return "directory more than 4 levels below /dev";
    i = j + 1;
  }
  if (s.size() > 4 && s.back() == '/') return "directory has an empty, '.' or '..' component";
  return nullptr;
}

}  // namespace nestbox::policy
