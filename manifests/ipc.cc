#include "manifests/ipc.h"

#include <algorithm>
#include <string_view>

#include "util/host_root.h"

namespace nestbox::manifests {
namespace {

using detail::Diagnostics;
using detail::TableView;

std::optional<uint32_t> map_id(const std::vector<IdMapRange>& map, uint32_t inside) {
  for (const IdMapRange& r : map)
    if (inside >= r.inside && inside - r.inside < r.count) return r.outside + (inside - r.inside);
  return std::nullopt;
}

bool is_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

// ubus object paths as ubusd registers them ("network.interface.wan",
// "hostapd.wlan0"); a trailing '*' makes the grant a prefix, as in ubusd's
// ACL files. A bare "*" (every object) is refused: the section exists to
// grant little.
const char* object_problem(std::string_view s) {
  if (!s.empty() && s.back() == '*') s.remove_suffix(1);
  if (s.empty()) return "a grant must name an object (a bare \"*\" would grant the whole bus)";
  if (s.size() > 255) return "object name longer than 255 bytes";
  for (char c : s)
    if (!is_alnum(c) && c != '.' && c != '_' && c != '-' && c != '/' && c != '@')
      return "object name may hold only letters, digits, '.', '_', '-', '/', '@' and a final '*'";
  return nullptr;
}

const char* method_problem(std::string_view s) {
  if (s == "*") return nullptr;
  if (s.empty() || s.size() > 255) return "method name must be 1..255 bytes (or \"*\")";
  for (char c : s)
    if (!is_alnum(c) && c != '_' && c != '-' && c != '.')
      return "method name may hold only letters, digits, '_', '-' and '.' (or be \"*\")";
  return nullptr;
}

// The account name ubusd resolves with getpwnam(): a portable POSIX user name.
const char* user_problem(std::string_view s) {
  if (s.empty() || s.size() > 32) return "account name must be 1..32 bytes";
  if (!((s[0] >= 'a' && s[0] <= 'z') || s[0] == '_')) return "account name must start with a-z or '_'";
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
      return "account name may hold only a-z, 0-9, '_' and '-'";
  return nullptr;
}

// Absolute, no "." or ".." component, no NUL: what the baked policy accepts.
const char* path_problem(std::string_view s) {
  if (s.empty() || s[0] != '/') return "must be an absolute path";
  if (s == "/") return "must name a file, not /";
  if (s.find('\0') != std::string_view::npos) return "path contains NUL";
  size_t i = 1;
  while (i <= s.size()) {
    size_t j = s.find('/', i);
    if (j == std::string_view::npos) j = s.size();
    std::string_view part = s.substr(i, j - i);
    if (part.empty() || part == "." || part == "..")
      return "path may not hold empty, '.' or '..' components";
    i = j + 1;
  }
  return nullptr;
}

void check(Diagnostics& d, const std::string& path, const char* problem) {
  if (problem) d.error(d.pos(path), path, problem);
}

void for_each_grant(TableView& ub, Manifest& m, Diagnostics& d) {
  const toml::array* arr = ub.array_of_tables("grants");
  if (!arr) return;
  if (arr->empty()) d.error(d.pos("ipc.ubus.grants"), "ipc.ubus.grants", "empty; expected at least one grant");
  for (size_t i = 0; i < arr->size(); ++i) {
    const toml::table* g = (*arr)[i].as_table();
    if (!g) continue;
    std::string key = "ipc.ubus.grants[" + std::to_string(i) + "]";
    TableView view(d, *g, key);
    UbusGrant grant;
    view.require("object", "a ubus object path such as \"network.interface.wan\"");
    if (view.get("object", grant.object)) check(d, key + ".object", object_problem(grant.object));
    view.require("methods", "a list of method names such as [\"status\"]");
    if (view.get_strings("methods", grant.methods)) {
      if (grant.methods.empty()) d.error(d.pos(key + ".methods"), key + ".methods", "empty; expected at least one method");
      for (const std::string& meth : grant.methods) {
        if (const char* why = method_problem(meth)) {
          d.error(d.pos(key + ".methods"), key + ".methods", why);
          break;
        }
      }
    }
    for (const UbusGrant& other : m.ipc.grants)
      if (other.object == grant.object && !grant.object.empty())
        d.error(d.pos(key + ".object"), key + ".object",
                "\"" + grant.object + "\" is granted twice; expected one grant per object");
    view.finish();
    m.ipc.grants.push_back(std::move(grant));
  }
}

}  // namespace

std::optional<std::pair<uint32_t, uint32_t>> host_ids(const Manifest& m) {
  if (!m.users.user_namespace) return std::make_pair(m.process.uid, m.process.gid);
  auto uid = map_id(m.users.uid_map, m.process.uid);
  auto gid = map_id(m.users.gid_map, m.process.gid);
  if (!uid || !gid) return std::nullopt;
  return std::make_pair(*uid, *gid);
}

bool may_join_host_root_group(const Manifest& m) {
  const std::vector<std::string>& caps = m.security.capabilities;
  bool setgid_cap = std::find(caps.begin(), caps.end(), "CAP_SETGID") != caps.end();
  bool own_ns = m.users.user_namespace && m.namespaces.user.mode != NsMode::kJoin;
  return nestbox::may_join_host_root_group(own_ns, m.users.gid_map, m.process.gid, m.process.supplementary_gids,
                                           m.security.no_new_privs, setgid_cap);
}

bool may_become_host_root(const Manifest& m) {
  const std::vector<std::string>& caps = m.security.capabilities;
  bool setuid_cap = std::find(caps.begin(), caps.end(), "CAP_SETUID") != caps.end();
  // A joined user namespace's maps are another container's: not known here.
  bool own_ns = m.users.user_namespace && m.namespaces.user.mode != NsMode::kJoin;
  return nestbox::may_become_host_root(own_ns, m.users.uid_map, m.process.uid,
                                       m.security.no_new_privs, setuid_cap);
}

namespace detail {

void read_ipc(TableView& top, Manifest& m) {
  const toml::table* t = top.table("ipc");
  if (!t) return;
  TableView ipc(top.diag(), *t, "ipc");
  if (const toml::table* u = ipc.table("ubus")) {
    TableView ub(top.diag(), *u, "ipc.ubus");
    Diagnostics& d = top.diag();
    m.ipc.ubus = true;
    if (ub.get("socket", m.ipc.socket)) check(d, "ipc.ubus.socket", path_problem(m.ipc.socket));
    if (ub.get("target", m.ipc.target)) check(d, "ipc.ubus.target", path_problem(m.ipc.target));
    if (m.ipc.target.empty()) m.ipc.target = m.ipc.socket;
    if (ub.get("user", m.ipc.user)) check(d, "ipc.ubus.user", user_problem(m.ipc.user));
    if (m.ipc.user.empty()) m.ipc.user = m.name;
    ub.require("grants", "[{ object = \"network.interface.wan\", methods = [\"status\"] }, ...]");
    for_each_grant(ub, m, d);
    // ubusd checks no ACL for a client of host uid 0: the list would be
    // decoration. Refuse instead of granting the whole bus, also to a process
    // that can become host uid 0 (a setuid-root program without no_new_privs).
    auto ids = host_ids(m);
    if (ids && ids->first == 0)
      d.error(d.pos("ipc.ubus"), "ipc.ubus",
              "the process runs as host uid 0, which ubusd lets call every object whatever its ACL; "
              "expected a user namespace or a non-root process.user");
    else if (may_become_host_root(m))
      d.error(d.pos("ipc.ubus"), "ipc.ubus",
              "the process can become host uid 0 (security.no_new_privs = false or CAP_SETUID, without a user "
              "namespace mapping uid 0 elsewhere: a setuid-root program changes its uid), which ubusd lets call "
              "every object whatever its ACL; expected no_new_privs = true and no CAP_SETUID, or a user namespace");
    ub.finish();
  }
  ipc.finish();
}

}  // namespace detail
}  // namespace nestbox::manifests
