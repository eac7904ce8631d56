#include "launcher/ubus_identity.h"

#include <errno.h>
#include <linux/capability.h>

#include <charconv>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "launcher/namespaces.h"
#include "util/file_io.h"

namespace nestbox::launcher {
namespace {

// One line of /etc/passwd (`name:x:uid:gid:comment:home:shell`) or
// /etc/group (`name:x:gid:members`).
struct Account {
  std::string_view name;
  uint32_t id = 0;
  std::string_view comment;  // passwd only
  size_t line = 0;
};

bool parse_id(std::string_view s, uint32_t* out) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return !s.empty() && ec == std::errc() && end == s.data() + s.size();
}

// The lines libc's getpwent/getgrent would return, in file order; lines they
// skip (blank, comments, a field missing, an id that is not a number) are
// skipped here too.
std::vector<Account> parse_accounts(std::string_view text, bool passwd) {
  std::vector<Account> out;
  size_t line_no = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    ++line_no;
    std::vector<std::string_view> fields;
    for (;;) {
      size_t colon = line.find(':');
      fields.push_back(line.substr(0, colon));
      if (colon == std::string_view::npos) break;
      line.remove_prefix(colon + 1);
    }
    Account a;
    if (fields.size() < (passwd ? 7u : 4u) || fields[0].empty() || !parse_id(fields[2], &a.id)) continue;
    a.name = fields[0];
    if (passwd) a.comment = fields[4];
    a.line = line_no;
    out.push_back(a);
  }
  return out;
}

struct IdRange {
  uint64_t first = 0, count = 0;
};

// The host ids a process with `id` inside can have, and with `can_change`
// (the capability, or setuid/setgid programs without no_new_privs) take.
std::vector<IdRange> reachable_host_ids(bool own_user_ns, const std::vector<policy::IdMap>& map, uint32_t id,
                                        bool can_change) {
  if (!own_user_ns) return {can_change ? IdRange{0, uint64_t{1} << 32} : IdRange{id, 1}};
  std::vector<IdRange> out;
  for (const policy::IdMap& m : map) {
    if (can_change)
      out.push_back({m.outside, m.count});
    else if (id >= m.inside && id - m.inside < m.count)
      out.push_back({uint64_t{m.outside} + (id - m.inside), 1});
  }
  return out;
}

bool within(const std::vector<IdRange>& ranges, uint32_t id) {
  for (const IdRange& r : ranges)
    if (id >= r.first && id - r.first < r.count) return true;
  return false;
}

size_t count_named(const std::vector<Account>& accounts, std::string_view name) {
  size_t n = 0;
  for (const Account& a : accounts) n += a.name == name;
  return n;
}

std::string at(const char* file, const Account& a) {
  return std::string(file) + " line " + std::to_string(a.line);
}

}  // namespace

Status check_ubus_identity(const policy::Policy& p, std::string_view passwd, std::string_view group) {
  const std::string comment = "nestbox " + p.name;
  const std::string intro = "policy " + p.name + " [ipc.ubus]: ";
  bool own_ns = ns_new(p, policy::kNsUser);
  auto uids = reachable_host_ids(own_ns, p.uid_map, p.process.uid,
                                 !p.no_new_privs || ((p.caps.keep >> CAP_SETUID) & 1));
  auto gids = reachable_host_ids(own_ns, p.gid_map, p.process.gid,
                                 !p.no_new_privs || ((p.caps.keep >> CAP_SETGID) & 1));

  // getpwuid() returns the first line with the id: that name is the client's.
  std::vector<Account> users = parse_accounts(passwd, true);
  std::set<uint32_t> seen;
  std::set<std::string_view> names;
  for (const Account& u : users) {
    if (!within(uids, u.id) || !seen.insert(u.id).second) continue;
    std::string who = "host uid " + std::to_string(u.id) + " (which the container's processes have or can take) is '" +
                      std::string(u.name) + "' (" + at("/etc/passwd", u) + ")";
    if (u.comment != comment)
      return bad_input(intro + who + ", not the account compose wrote for this container (comment '" + comment +
                       "'): ubusd would grant the container what its ACL files grant '" + std::string(u.name) + "'");
    if (count_named(users, u.name) > 1)
      return bad_input(intro + who + ", a name another line of /etc/passwd has too: ubusd would grant the container "
                                     "what the ACL files of that account grant");
    names.insert(u.name);
  }
  // No account: ubusd refuses the client at connect, nothing is granted.
  if (names.empty()) return {};

  std::vector<Account> groups = parse_accounts(group, false);
  seen.clear();
  for (const Account& g : groups) {
    if (!within(gids, g.id) || !seen.insert(g.id).second) continue;
    std::string who = "host gid " + std::to_string(g.id) + " (which the container's processes have or can take) is '" +
                      std::string(g.name) + "' (" + at("/etc/group", g) + ")";
    if (!names.count(g.name))
      return bad_input(intro + who + ", not the group compose wrote for this container ('" + std::string(*names.begin()) +
                       "'): ubusd would grant the container what its ACL files grant group '" + std::string(g.name) +
                       "'");
    if (count_named(groups, g.name) > 1)
      return bad_input(intro + who + ", a name another line of /etc/group has too: ubusd would grant the container "
                                     "what the ACL files of that group grant");
  }
  return {};
}

Status check_ubus_identity(const policy::Policy& p) {
  std::string text[2];
  const char* files[2] = {"/etc/passwd", "/etc/group"};
  for (int i = 0; i < 2; ++i) {
    auto r = read_regular_file(files[i]);
    if (r.ok())
      text[i] = std::move(*r);
    else if (r.error().sys_errno != ENOENT)
      return std::move(r).error().context("policy " + p.name + " [ipc.ubus]: the accounts ubusd names clients by");
  }
  return check_ubus_identity(p, text[0], text[1]);
}

}  // namespace nestbox::launcher
