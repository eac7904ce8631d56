// Descriptors passed over a unix socket (SCM_RIGHTS): one place for the
// control-message layout, and for refusing descriptors nobody asked for.
// Target-safe: libc only.
#pragma once

#include <string>

#include "util/fd.h"
#include "util/result.h"

namespace nestbox {

// `byte` with `fd` attached. MSG_NOSIGNAL: a peer that went away is an error
// here, not a SIGPIPE that takes this process with it.
Status send_fd(int sock, char byte, int fd);

// One message of up to 4096 bytes ("" at EOF) and the one descriptor sent
// with it, if any, into `*passed` (close-on-exec). A descriptor that came
// when none was asked for (`passed` null), or more than one, is closed, and
// a truncated control message is refused: a peer cannot leave descriptors
// in this process.
Result<std::string> receive_with_fd(int sock, UniqueFd* passed);

}  // namespace nestbox
