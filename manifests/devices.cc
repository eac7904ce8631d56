#include "manifests/devices.h"

#include "policy/hotplug.h"
#include "policy/wire.h"

namespace nestbox::manifests::detail {
namespace {

// A string checked by one of policy/hotplug.h's rules (the reader's too).
void checked(TableView& t, const char* key, std::string& out, const char* (*problem)(std::string_view)) {
  std::string v;
  if (!t.get(key, v)) return;
  if (const char* why = problem(v)) {
    t.diag().error(t.diag().pos(t.path_of(key)), t.path_of(key), why);
    return;
  }
  out = v;
}

void read_properties(TableView& h, HotplugRule& rule) {
  const toml::table* props = h.table("properties");
  if (!props) return;
  for (auto&& [key, value] : *props) {
    std::string name(key.str());
    std::string path = h.path_of("properties") + "." + name;
    if (const char* why = policy::hotplug_key_problem(name)) {
      h.diag().error(key.source(), path, why);
      continue;
    }
    if (!value.is_string()) {
      h.diag().error(value.source(), path, std::string("got ") + type_name(value) + "; expected a string");
      continue;
    }
    std::string v = value.as_string()->get();
    if (const char* why = policy::hotplug_value_problem(v)) {
      h.diag().error(value.source(), path, why);
      continue;
    }
    h.diag().remember(path, value.source());
    rule.properties.emplace_back(name, v);
  }
  TableView(h.diag(), *props, h.path_of("properties"));  // every key was handled above
}

}  // namespace

void read_devices(TableView& top, Manifest& m) {
  const toml::table* t = top.table("devices");
  if (!t) return;
  TableView d(top.diag(), *t, "devices");
  const toml::array* arr = d.array_of_tables("hotplug");
  for (size_t i = 0; arr && i < arr->size(); ++i) {
    const toml::table* ht = (*arr)[i].as_table();
    if (!ht) continue;
    TableView h(d.diag(), *ht, d.path_of("hotplug") + "[" + std::to_string(i) + "]");
    HotplugRule rule;
    rule.pos = h.diag().to_pos(ht->source());
    std::string subsystem = "block";
    if (h.get("subsystem", subsystem) && subsystem != "block")
      h.diag().error(h.diag().pos(h.path_of("subsystem")), h.path_of("subsystem"),
                     in_quotes(subsystem) + " is not supported; expected \"block\" (hot-plugged storage)");
    h.require("name", "a pattern over the kernel's device name, e.g. \"sd*\"");
    checked(h, "name", rule.name, policy::hotplug_name_problem);
    h.get_enum("devtype", rule.devtype, hotplug_devtype_names());
    read_properties(h, rule);
    checked(h, "parent", rule.parent, policy::hotplug_parent_problem);
    std::string access = "rw";
    if (h.get("access", access)) {
      if (access != "rw" && access != "ro")
        h.diag().error(h.diag().pos(h.path_of("access")), h.path_of("access"),
                       in_quotes(access) + " is not a valid value; expected \"rw\" or \"ro\"");
      rule.read_only = access == "ro";
    }
    checked(h, "dir", rule.dir, policy::hotplug_dir_problem);
    if (h.get_mode("mode", rule.mode) && (rule.mode & ~0777u))
      h.diag().error(h.diag().pos(h.path_of("mode")), h.path_of("mode"),
                     "a device node takes permission bits only (0777 at most)");
    h.get_u32("uid", rule.owner.uid);
    h.get_u32("gid", rule.owner.gid);
    h.finish();
    m.devices.hotplug.push_back(std::move(rule));
  }
  d.finish();
}

void validate_devices(const Manifest& m, Diagnostics& d) {
  const auto& rules = m.devices.hotplug;
  if (rules.empty()) return;
  const SourcePos& at = rules[0].pos;
  if (rules.size() > policy::wire::kMaxHotplugRules)
    d.error(at, "devices.hotplug", "at most " + std::to_string(policy::wire::kMaxHotplugRules) + " rules");
  for (size_t i = 0; i < rules.size(); ++i)
    for (uint32_t id : {rules[i].owner.uid, rules[i].owner.gid})
      if (id == kIdUnchanged || id == kIdUnchanged16)
        d.error(rules[i].pos, "devices.hotplug[" + std::to_string(i) + "]",
                std::to_string(id) + " is the kernel's \"unchanged\" id (-1); expected a real owner");
  for (size_t i = 0; i < rules.size(); ++i)
    if (rules[i].properties.size() > policy::wire::kMaxHotplugProperties)
      d.error(rules[i].pos, "devices.hotplug[" + std::to_string(i) + "].properties",
              "at most " + std::to_string(policy::wire::kMaxHotplugProperties) + " properties");
  // The launcher makes the nodes in its own /dev tmpfs, in the container's
  // mount namespace, as the host's root.
  if (m.mounts.dev != DevMode::kMinimal || m.namespaces.mount.mode != NsMode::kNew)
    d.error(at, "devices.hotplug", "hot-plugged devices need mounts.dev = \"minimal\" and a mount namespace of the container's own");
  if (m.namespaces.user.mode != NsMode::kHost)
    d.error(at, "devices.hotplug",
            "hot-plugged devices need the host's user namespace: device nodes on a filesystem mounted in a user "
            "namespace never open");
}

}  // namespace nestbox::manifests::detail
