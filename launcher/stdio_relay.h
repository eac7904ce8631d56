// The caller's standard descriptors as a container may hold them. An
// anonymous pipe or a socket is handed over as it is. A regular file, a
// named FIFO, a terminal (a pty, a serial line, /dev/console) or a device
// other than the null device is one of the host's inodes, and a container
// that runs as the host's root owns it: `fchmod(1, 04755)` on an output file
// plants a setuid-root program on the host, `fchmod(0, 0666)` on the caller's
// terminal lets every user read what is typed there, and a container that
// makes the terminal its controlling one (setsid, TIOCSCTTY) types into it
// with TIOCSTI. Such a descriptor is replaced by a pipe, and a relay process
// outside the container copies between the pipe and the original until the
// writers are gone. (The host's /dev/null is replaced inside the container by
// its own: replace_host_null.)
#pragma once

#include <sys/types.h>

#include <vector>

#include "util/result.h"

namespace nestbox::launcher {

class StdioRelay {
 public:
  StdioRelay() = default;
  StdioRelay(StdioRelay&& other) noexcept;
  StdioRelay& operator=(StdioRelay&& other) noexcept;
  StdioRelay(const StdioRelay&) = delete;
  StdioRelay& operator=(const StdioRelay&) = delete;
  ~StdioRelay();

  // Before anything is started: replaces 0-2 as said above (nothing to do,
  // and no process, when every one is an anonymous pipe, a socket or null).
  static Result<StdioRelay> start();

  // When the launcher is done: its ends of the pipes are closed (0-2 become
  // /dev/null), the output relay copies what is left and is waited for, so
  // the caller finds the whole output in its file once nestbox-launch has
  // exited; the input relay is stopped. The destructor does the same.
  // grace_ms >= 0 bounds the wait for the output relay: a write end that a
  // container passed to a process outside it, or that a process left behind
  // in it holds (a daemon `exec`'s command started), keeps the pipe open, and
  // `run`, `boot` and `exec` must still end (the relay is then killed); -1
  // waits for every writer.
  void finish(int grace_ms = -1);

 private:
  pid_t input_ = -1, output_ = -1;
};

// In a relay process just forked: named `name`, deaf to the signals that
// stop a launcher (the container's last words must still be copied), every
// descriptor above 2 but `keep` closed (exits 126 if that fails).
void become_relay(const char* name, std::vector<int> keep);

// In the container, once its /dev is in place: a standard descriptor that is
// the host's null device becomes the container's own /dev/null, so the
// container holds no inode of the host's (procd starts services with
// /dev/null as input; chmod of it from a container would break the router).
// The container's node must be the null device (1:3), else the start fails.
Status replace_host_null();

}  // namespace nestbox::launcher
