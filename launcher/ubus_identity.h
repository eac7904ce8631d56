// Who ubusd takes a container with [ipc.ubus] for. ubusd names each client
// by getpwuid() and getgrgid() of its SO_PEERCRED ids and grants it every ACL
// entry that names that user or that group (ubusd_acl.c compares names, not
// ids). compose writes the app's account for the firmware to add
// (runtime/NAME/ubus-passwd, `USER:x:UID:GID:nestbox NAME:...`), but the
// device's /etc/passwd and /etc/group decide the names: an app whose `user`
// is "dnsmasq", or whose map lands on a system account's uid, would be
// granted that account's ACL files too.
//
// So before such a container starts, every host uid its processes have or
// can take (its whole map with CAP_SETUID or without no_new_privs) must be
// on no /etc/passwd line (ubusd refuses a client without an account) or be
// named first by this container's own line (comment `nestbox NAME`); that
// name may stand on no other line. Each host gid it can have must be on no
// /etc/group line or be named first by one of those accounts' names, again
// on no other line. Anything else refuses the start, naming the line.
#pragma once

#include <string_view>

#include "policy/policy.h"
#include "util/result.h"

namespace nestbox::launcher {

// Against the contents of /etc/passwd and /etc/group.
Status check_ubus_identity(const policy::Policy& policy, std::string_view passwd, std::string_view group);

// Against the host's files (absent: nobody has an account, nothing to check;
// unreadable or not a regular file: refused).
Status check_ubus_identity(const policy::Policy& policy);

}  // namespace nestbox::launcher
