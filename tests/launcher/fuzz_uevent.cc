// libFuzzer target for the kernel uevent parsers (launcher/uevent.h): any
// bytes, from the netlink socket or a sysfs file, give a checked value or a
// bad_input error, never a crash or an overrun; what is accepted keeps the
// promises the hot-plug code relies on.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "launcher/hotplug.h"
#include "launcher/uevent.h"

namespace {

void check_vars(const nestbox::launcher::UeventVars& vars) {
  if (vars.size() > nestbox::launcher::kMaxUeventVars) __builtin_trap();
  for (const auto& [k, v] : vars) {
    if (k.empty() || k.size() > 64) __builtin_trap();
    for (char c : k)
      if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) __builtin_trap();
    for (char c : v)
      if (static_cast<unsigned char>(c) < 0x20) __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace nestbox::launcher;
  auto ev = parse_uevent(std::span<const uint8_t>(data, size));
  if (ev.ok()) {
    check_vars(ev->vars);
    const std::string* action = uevent_var(ev->vars, "ACTION");
    if (!action || *action != ev->action || ev->subsystem.empty()) __builtin_trap();
    if (ev->devpath.find("/..") != std::string::npos) __builtin_trap();
    // The matcher over what was accepted (glob patterns from the message).
    nestbox::policy::HotplugRule rule;
    rule.name = ev->action + "*";
    rule.properties = {{"SUBSYSTEM", ev->subsystem}};
    BlockDevice dev{ev->devpath, ev->vars, {ev->subsystem}};
    (void)hotplug_matches(rule, dev);
  }
  auto file = parse_uevent_file(std::string_view(reinterpret_cast<const char*>(data), size));
  if (file.ok()) check_vars(*file);
  return 0;
}
