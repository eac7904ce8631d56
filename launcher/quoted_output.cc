#include "launcher/quoted_output.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <utility>

#include "launcher/stdio_relay.h"
#include "util/file_io.h"

namespace nestbox::launcher {
namespace {

bool continuation(unsigned char c) { return c >= 0x80 && c <= 0xbf; }

// The length of the UTF-8 character at `p` (`n` bytes available), or 0 when
// it is not one (an invalid, overlong or cut sequence, a surrogate) or is a C1
// control (U+0080..U+009F: CSI and its kind for some terminals).
size_t utf8_char(const unsigned char* p, size_t n) {
  unsigned char c = p[0];
  size_t len = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
  if (len == 0 || len > n) return 0;
  for (size_t i = 1; i < len; ++i)
    if (!continuation(p[i])) return 0;
  unsigned char d = p[1];
  if ((c == 0xc2 && d < 0xa0) || (c == 0xe0 && d < 0xa0) || (c == 0xed && d > 0x9f) || (c == 0xf0 && d < 0x90) ||
      (c == 0xf4 && d > 0x8f))
    return 0;
  return len;
}

}  // namespace

std::string LineQuoter::line(size_t from, size_t len) const {
  std::string out = prefix_;
  const auto* s = reinterpret_cast<const unsigned char*>(pending_.data()) + from;
  for (size_t i = 0; i < len;) {
    unsigned char c = s[i];
    if (c < 0x80) {
      out += (c < 0x20 && c != '\t') || c == 0x7f ? '?' : static_cast<char>(c);
      ++i;
    } else if (size_t n = utf8_char(s + i, len - i)) {
      out.append(pending_, from + i, n);
      i += n;
    } else {
      out += '?';
      ++i;
    }
  }
  out += '\n';
  return out;
}

// Lines are taken from a moving start and what is left is moved once per
// call: erasing each line from the front made a read of 16 KiB of bare
// newlines move ~130 MB.
std::string LineQuoter::feed(const char* data, size_t n) {
  pending_.append(data, n);
  std::string out;
  size_t start = 0;
  for (;;) {
    size_t nl = pending_.find('\n', start);
    if (nl != std::string::npos && nl - start <= kMaxLine) {
      out += line(start, nl - start);
      start = nl + 1;
      continue;
    }
    if (pending_.size() - start <= kMaxLine) break;
    // Over-long: cut at kMaxLine, not inside a UTF-8 character.
    size_t cut = kMaxLine;
    for (int back = 0; back < 3 && continuation(static_cast<unsigned char>(pending_[start + cut])); ++back) --cut;
    out += line(start, cut);
    start += cut;
  }
  pending_.erase(0, start);
  return out;
}

std::string LineQuoter::end() {
  if (pending_.empty()) return "";
  std::string out = line(0, pending_.size());
  pending_.clear();
  return out;
}

namespace {

// Each stream: {the pipe's read end, this process's descriptor}.
[[noreturn]] void copy_quoted(const std::string& name, int out_r, int err_r) {
  struct Stream {
    int from, to;
    LineQuoter quoter;
  };
  Stream streams[2] = {{out_r, 1, LineQuoter(name + ": ")}, {err_r, 2, LineQuoter(name + ": ")}};
  pollfd p[2] = {{out_r, POLLIN, 0}, {err_r, POLLIN, 0}};
  int open = 2;
  char buf[16384];
  while (open > 0) {
    if (::poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t n = ::read(p[i].fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      std::string quoted = n > 0 ? streams[i].quoter.feed(buf, static_cast<size_t>(n)) : streams[i].quoter.end();
      // Whole lines per write, each write at most PIPE_BUF (atomic on a
      // pipe): the launcher writes its own lines to the same pipe, and one
      // landing inside a longer write would leave the rest of a container's
      // line at the start of a log line. A full disk or a gone reader loses
      // output, never the relay (the container would block).
      for (size_t at = 0; at < quoted.size();) {
        size_t end = quoted.find('\n', at) + 1;  // one line always fits
        for (size_t next; end < quoted.size() && (next = quoted.find('\n', end) + 1) - at <= PIPE_BUF;) end = next;
        (void)write_all(streams[i].to, quoted.data() + at, end - at, "");
        at = end;
      }
      if (n <= 0) {
        p[i].fd = -1;  // poll skips negative descriptors
        --open;
      }
    }
  }
  ::_exit(0);
}

}  // namespace

Result<QuotedOutput> QuotedOutput::start(const std::string& name) {
  QuotedOutput q;
  int o[2], e[2];
  if (::pipe2(o, O_CLOEXEC) != 0) return sys_error("pipe for the container's output");
  UniqueFd out_r(o[0]);
  q.out_.reset(o[1]);
  if (::pipe2(e, O_CLOEXEC) != 0) return sys_error("pipe for the container's output");
  UniqueFd err_r(e[0]);
  q.err_.reset(e[1]);
  std::fflush(stdout);
  std::fflush(stderr);
  pid_t pid = ::fork();
  if (pid < 0) return sys_error("fork the output relay of " + name);
  if (pid == 0) {
    become_relay("nestbox-relay", {out_r.get(), err_r.get()});  // the write ends go too
    copy_quoted(name, out_r.get(), err_r.get());
  }
  q.relay_ = pid;
  return q;
}

QuotedOutput::QuotedOutput(QuotedOutput&& other) noexcept
    : out_(std::move(other.out_)), err_(std::move(other.err_)), relay_(std::exchange(other.relay_, -1)) {}

QuotedOutput::~QuotedOutput() { finish(0); }

void QuotedOutput::finish(int grace_ms) {
  out_.reset();
  err_.reset();
  if (relay_ < 0) return;
  for (int waited = 0;; waited += 10) {
    pid_t r = ::waitpid(relay_, nullptr, WNOHANG);
    if (r == relay_ || (r < 0 && errno != EINTR)) {
      relay_ = -1;
      return;
    }
    if (waited >= grace_ms) break;
    timespec tick{0, 10 * 1000000L};
    ::nanosleep(&tick, nullptr);
  }
  ::kill(relay_, SIGKILL);
  while (::waitpid(relay_, nullptr, 0) < 0 && errno == EINTR) {
  }
  relay_ = -1;
}

}  // namespace nestbox::launcher
