// ubusd's access-control list for one container ([ipc.ubus] in the manifest),
// in the format OpenWrt's ubusd loads from /usr/share/acl.d/*.json:
//   { "user": NAME, "access": { OBJECT: { "methods": [METHOD, ...] }, ... } }
// ubusd resolves NAME with getpwnam() and compares the uid with the
// connecting process's SO_PEERCRED uid as the host sees it, so NAME must be a
// host account whose uid is the container's process user mapped through the
// user namespace; the account lines come with the list. Written at compose
// time beside the baked policy (docs/manifest.md "[ipc.ubus]"). Host only.
#pragma once

#include <string>

#include "manifests/model.h"
#include "util/result.h"

namespace nestbox::policy {

// File names inside runtime/NAME/ and where the firmware installs them.
inline constexpr const char* kUbusAclFile = "ubus-acl.json";  // /usr/share/acl.d/nestbox-NAME.json
inline constexpr const char* kUbusPasswdFile = "ubus-passwd";  // a line for /etc/passwd
inline constexpr const char* kUbusGroupFile = "ubus-group";    // a line for /etc/group

struct UbusAcl {
  std::string json;    // the ACL file, tab-indented, newline-terminated
  std::string passwd;  // "NAME:x:UID:GID:nestbox NAME:/var/empty:/bin/false\n"
  std::string group;   // "NAME:x:GID:\n"
};

// Fails when the manifest has no [ipc.ubus] or its process user is not mapped.
Result<UbusAcl> ubus_acl(const manifests::Manifest& m);

// Writes the three files into `dir` (each aside, renamed into place) when the
// manifest has [ipc.ubus]; removes stale ones when it has not.
Status write_ubus_acl(const manifests::Manifest& m, const std::string& dir);

}  // namespace nestbox::policy
