// A container's output as `boot` logs it. Under procd (the shipped init
// script) boot's stdout and stderr are the pipes procd copies to syslog, and
// boot's own lines ("nestbox-launch boot: NAME: ...") go there too: what a
// container wrote reached the log as it was, so it could write lines that
// read like boot's ("... passed its health check: committed"), leave a line
// without its newline for boot's next line to finish, and put terminal
// escape sequences into what `logread` later prints on the operator's
// terminal (move up, erase the launcher's last lines).
//
// Instead each container writes to pipes of its own, and a relay process
// outside it copies them line by line to boot's stdout and stderr: each line
// prefixed "NAME: ", control bytes (but a tab), DEL, C1 controls and bytes
// that are not UTF-8 shown as '?', at most kMaxLine bytes of a line per log
// line (the rest follows on the next, prefixed again), a last line without
// newline ended by one, each line one write below PIPE_BUF (never split by
// one of the launcher's). A launcher line never starts with a container's name.
// `run` and `exec` keep the output as it is: their caller asked for it.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string>

#include "util/fd.h"
#include "util/result.h"

namespace nestbox::launcher {

// Turns a byte stream into quoted log lines (see above).
class LineQuoter {
 public:
  static constexpr size_t kMaxLine = 1024;
  explicit LineQuoter(std::string prefix) : prefix_(std::move(prefix)) {}
  // The complete lines `data` ends (and over-long ones cut), quoted.
  std::string feed(const char* data, size_t n);
  // What is left, as a last line.
  std::string end();

 private:
  std::string line(size_t from, size_t len) const;
  std::string prefix_, pending_;
};

class QuotedOutput {
 public:
  // Forks the relay: it writes to this process's stdout and stderr.
  static Result<QuotedOutput> start(const std::string& name);
  QuotedOutput(QuotedOutput&& other) noexcept;
  QuotedOutput& operator=(QuotedOutput&&) = delete;
  ~QuotedOutput();

  // The write ends the container's stdout and stderr become.
  int out() const { return out_.get(); }
  int err() const { return err_.get(); }
  // Closes the write ends and waits for the relay to copy what is left: at
  // most grace_ms once the container is gone (a process that got a write end
  // out of it may hold it open), then the relay is killed.
  void finish(int grace_ms);

 private:
  QuotedOutput() = default;
  UniqueFd out_, err_;
  pid_t relay_ = -1;
};

}  // namespace nestbox::launcher
