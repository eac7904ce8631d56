#include "policy/ubus_acl.h"

#include <unistd.h>

#include <cerrno>
#include <nlohmann/json.hpp>

#include "manifests/ipc.h"
#include "util/file_io.h"

namespace nestbox::policy {

Result<UbusAcl> ubus_acl(const manifests::Manifest& m) {
  if (!m.ipc.ubus) return bad_input(m.name + ": no [ipc.ubus] section");
  auto ids = manifests::host_ids(m);
  if (!ids) return bad_input(m.name + ": [ipc.ubus]: the process user is not mapped into the container");
  // ubusd skips the list for host uid 0; the manifest loader refuses that too.
  if (ids->first == 0) return bad_input(m.name + ": [ipc.ubus]: the process runs as host uid 0");
  if (manifests::may_become_host_root(m))
    return bad_input(m.name + ": [ipc.ubus]: the process can become host uid 0 (no_new_privs off or CAP_SETUID)");
  nlohmann::ordered_json access = nlohmann::ordered_json::object();
  for (const manifests::UbusGrant& g : m.ipc.grants) access[g.object] = {{"methods", g.methods}};
  // "user" only: ubusd reads "user" before "group" and ignores the group then.
  nlohmann::ordered_json doc = {{"user", m.ipc.user}, {"access", access}};
  UbusAcl acl;
  // Replacing, never throwing, on invalid UTF-8 (util/json_text.h): the
  // manifest loader only admits UTF-8 names, but no JSON writer may abort.
  acl.json = doc.dump(1, '\t', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
  std::string uid = std::to_string(ids->first), gid = std::to_string(ids->second);
  acl.passwd = m.ipc.user + ":x:" + uid + ":" + gid + ":nestbox " + m.name + ":/var/empty:/bin/false\n";
  acl.group = m.ipc.user + ":x:" + gid + ":\n";
  return acl;
}

Status write_ubus_acl(const manifests::Manifest& m, const std::string& dir) {
  const char* names[] = {kUbusAclFile, kUbusPasswdFile, kUbusGroupFile};
  if (!m.ipc.ubus) {
    for (const char* n : names) {
      std::string path = dir + "/" + n;
      if (::unlink(path.c_str()) != 0 && errno != ENOENT) return sys_error("remove stale " + path);
    }
    return ok_status();
  }
  auto acl = ubus_acl(m);
  if (!acl.ok()) return std::move(acl).error();
  // ubusd refuses a list that group or others may write (or others execute).
  NESTBOX_TRY(write_file_atomic(dir + "/" + kUbusAclFile, acl->json, 0644));
  NESTBOX_TRY(write_file_atomic(dir + "/" + kUbusPasswdFile, acl->passwd, 0644));
  return write_file_atomic(dir + "/" + kUbusGroupFile, acl->group, 0644);
}

}  // namespace nestbox::policy
