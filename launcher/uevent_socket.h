// The kernel's uevent broadcast (NETLINK_KOBJECT_UEVENT, group 1), as the
// launcher reads it: only messages the kernel sent (sender port 0 and
// SCM_CREDENTIALS pid 0 uid 0: on some kernels any local process may send to
// the group), parsed strictly (launcher/uevent.h).
#pragma once

#include <optional>

#include "launcher/uevent.h"
#include "util/fd.h"
#include "util/result.h"

namespace nestbox::launcher {

class UeventSocket {
 public:
  // Non-blocking, close-on-exec, with a large receive buffer.
  static Result<UeventSocket> open();
  int fd() const { return fd_.get(); }

  enum class Got { kNone, kEvent, kDropped, kLost };
  struct Message {
    Got got = Got::kNone;  // kNone: nothing pending; kDropped: refused (why in `why`);
                           // kLost: the kernel dropped messages (ENOBUFS): resynchronise
    Uevent event;
    std::string why;
  };
  // One pending message.
  Message receive();

 private:
  explicit UeventSocket(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
};

}  // namespace nestbox::launcher
