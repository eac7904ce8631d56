// [ipc.ubus] at run time (launcher/ipc_bind.h): the host's ubusd socket bound
// into a root, for real, in a private mount namespace of a child process.
// The source must be the socket itself (not a symlink, not another file); the
// target is resolved beneath the root, so a symlink in the image cannot
// redirect the bind outside it.
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "launcher/ipc_bind.h"
#include "util/fd.h"
#include "util/file_io.h"
#include "util/temp_path.h"

namespace nestbox::launcher {
namespace {

class IpcBind : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (mounts)";
    auto d = TempDir::create("/tmp/nestbox-ipc-bind.");
    ASSERT_TRUE(d.ok());
    dir_ = std::move(*d);
    host_ = dir_.path() + "/host";
    root_ = dir_.path() + "/root";
    sock_ = host_ + "/ubus.sock";
    ASSERT_EQ(::mkdir(host_.c_str(), 0755), 0);
    for (const char* p : {"", "/var", "/var/run", "/var/run/ubus"})
      ASSERT_EQ(::mkdir((root_ + p).c_str(), 0755), 0) << p;
    listener_ = UniqueFd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    ASSERT_TRUE(listener_);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, sock_.c_str(), sizeof a.sun_path - 1);
    ASSERT_EQ(::bind(listener_.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    ASSERT_EQ(::listen(listener_.get(), 4), 0);
  }

  // Runs bind_socket_in_root(source, root, target) in a child with its own
  // mount namespace; then, if it worked, connects through the bound path.
  // Returns "" on success or the error message; `connected` says whether
  // the connection through the root reached the host socket.
  std::string bind_in_child(const std::string& source, const std::string& target, bool* connected = nullptr,
                            std::string via = "", const std::vector<std::string>& writable = {}) {
    if (via.empty()) via = root_ + target;
    int pipefd[2];
    EXPECT_EQ(::pipe2(pipefd, O_CLOEXEC), 0);
    pid_t pid = ::fork();
    if (pid == 0) {
      ::close(pipefd[0]);
      if (::unshare(CLONE_NEWNS) != 0 || ::mount("", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) _exit(3);
      UniqueFd root(::open(root_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
      Status st = bind_socket_in_root(source, root.get(), target, writable);
      std::string msg = st.ok() ? "" : st.error().message;
      if (!msg.empty() && ::write(pipefd[1], msg.data(), msg.size()) < 0) _exit(4);
      if (!st.ok()) _exit(1);
      int c = ::socket(AF_UNIX, SOCK_STREAM, 0);
      sockaddr_un a{};
      a.sun_family = AF_UNIX;
      std::strncpy(a.sun_path, via.c_str(), sizeof a.sun_path - 1);
      _exit(::connect(c, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 ? 0 : 2);
    }
    ::close(pipefd[1]);
    std::string msg;
    char buf[512];
    ssize_t n;
    while ((n = ::read(pipefd[0], buf, sizeof buf)) > 0) msg.append(buf, n);
    ::close(pipefd[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFEXITED(status));
    int code = WEXITSTATUS(status);
    if (connected) *connected = code == 0;
    if (code == 0 || code == 2) return "";
    return msg.empty() ? "child exit " + std::to_string(code) : msg;
  }

  // The number of connections the listener has waiting.
  int pending() {
    int n = 0;
    ::fcntl(listener_.get(), F_SETFL, O_NONBLOCK);
    for (;;) {
      int c = ::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) return n;
      ::close(c);
      ++n;
    }
  }

  TempDir dir_;
  std::string host_, root_, sock_;
  UniqueFd listener_;
};

TEST_F(IpcBind, TheSocketIsBoundAndAClientInTheRootReachesIt) {
  ASSERT_TRUE(write_file_atomic(root_ + "/var/run/ubus/ubus.sock", "").ok());
  bool connected = false;
  EXPECT_EQ(bind_in_child(sock_, "/var/run/ubus/ubus.sock", &connected), "");
  EXPECT_TRUE(connected);
  EXPECT_EQ(pending(), 1);
  // The mount was the child's alone: the image's file is untouched here.
  struct stat st;
  ASSERT_EQ(::lstat((root_ + "/var/run/ubus/ubus.sock").c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
}

TEST_F(IpcBind, ASourceThatIsNotASocketIsRefused) {
  ASSERT_TRUE(write_file_atomic(root_ + "/var/run/ubus/ubus.sock", "").ok());
  std::string file = host_ + "/file", dir = host_ + "/dir", link = host_ + "/link", fifo = host_ + "/fifo";
  ASSERT_TRUE(write_file_atomic(file, "x").ok());
  ASSERT_EQ(::mkdir(dir.c_str(), 0755), 0);
  ASSERT_EQ(::symlink(sock_.c_str(), link.c_str()), 0);  // even to the real socket
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const std::string t = "/var/run/ubus/ubus.sock";
  EXPECT_EQ(bind_in_child(file, t), "ubus socket " + file + " is a regular file, not a socket");
  EXPECT_EQ(bind_in_child(dir, t), "ubus socket " + dir + " is a directory, not a socket");
  EXPECT_EQ(bind_in_child(link, t), "ubus socket " + link + " is a symlink, not a socket");
  EXPECT_EQ(bind_in_child(fifo, t), "ubus socket " + fifo + " is a FIFO, not a socket");
  EXPECT_EQ(bind_in_child(host_ + "/absent", t),
            "ubus socket " + host_ + "/absent: No such file or directory");
  EXPECT_EQ(pending(), 0);
}

TEST_F(IpcBind, ATargetThatIsNotTheEmptyFileIsRefused) {
  // No mount point at all, a directory, a symlink to a file in the root.
  EXPECT_EQ(bind_in_child(sock_, "/var/run/ubus/ubus.sock"),
            "ubus socket target (compose makes it): /var/run/ubus/ubus.sock: No such file or directory");
  ASSERT_EQ(::mkdir((root_ + "/var/run/ubus/ubus.sock").c_str(), 0755), 0);
  EXPECT_EQ(bind_in_child(sock_, "/var/run/ubus/ubus.sock"),
            "ubus socket target /var/run/ubus/ubus.sock is a directory in the image; expected the empty "
            "regular file compose makes");
  ASSERT_TRUE(write_file_atomic(root_ + "/etc-file", "").ok());
  ASSERT_EQ(::symlink("/etc-file", (root_ + "/var/run/ubus/link.sock").c_str()), 0);
  EXPECT_EQ(bind_in_child(sock_, "/var/run/ubus/link.sock"),
            "ubus socket target /var/run/ubus/link.sock is a symlink in the image; expected the empty "
            "regular file compose makes");
  EXPECT_EQ(pending(), 0);
}

TEST_F(IpcBind, ASymlinkInTheImageCannotRedirectTheBindOutsideTheRoot) {
  // Outside the root, a file where the bind would land if the image's
  // symlinks were followed on the host.
  std::string outside = dir_.path() + "/outside";
  ASSERT_EQ(::mkdir(outside.c_str(), 0755), 0);
  ASSERT_TRUE(write_file_atomic(outside + "/ubus.sock", "").ok());
  ASSERT_EQ(::rmdir((root_ + "/var/run/ubus").c_str()), 0);
  // Absolute and climbing symlinks at a directory on the way.
  for (const std::string& dest : {outside, "../../../../../../../../.." + outside}) {
    ASSERT_EQ(::symlink(dest.c_str(), (root_ + "/var/run/ubus").c_str()), 0);
    EXPECT_EQ(bind_in_child(sock_, "/var/run/ubus/ubus.sock"),
              "ubus socket target (compose makes it): /var/run/ubus/ubus.sock: No such file or directory")
        << dest;
    ASSERT_EQ(::unlink((root_ + "/var/run/ubus").c_str()), 0);
  }
  // The same directories inside the root: the link resolves there, and the
  // bind lands inside the root, not on the host's file of that name.
  ASSERT_EQ(::mkdir((root_ + "/tmp").c_str(), 0755), 0);
  std::string inside = root_ + outside;
  ASSERT_EQ(std::system(("mkdir -p '" + inside + "'").c_str()), 0);
  ASSERT_TRUE(write_file_atomic(inside + "/ubus.sock", "").ok());
  ASSERT_EQ(::symlink(outside.c_str(), (root_ + "/var/run/ubus").c_str()), 0);
  bool connected = false;
  EXPECT_EQ(bind_in_child(sock_, "/var/run/ubus/ubus.sock", &connected, inside + "/ubus.sock"), "");
  EXPECT_TRUE(connected);
  EXPECT_EQ(pending(), 1);
  // Through the host's view of the link, the host's file is still a file.
  EXPECT_EQ(bind_in_child(sock_, "/var/run/ubus/ubus.sock", &connected, outside + "/ubus.sock"), "");
  EXPECT_FALSE(connected);
  EXPECT_EQ(pending(), 0);
  struct stat st;
  ASSERT_EQ(::lstat((outside + "/ubus.sock").c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
}

// The socket's name may pass through the host's own links (OpenWrt's /var is
// a link to /tmp); where it really lies must be a place only root or the
// socket's owner can change, and not one the container can write: otherwise
// whoever can rename there puts another socket (another daemon's) in its
// place for the next start.
TEST_F(IpcBind, TheSocketMustLieWhereOnlyRootOrItsOwnerCanChangeIt) {
  ASSERT_TRUE(write_file_atomic(root_ + "/var/run/ubus/ubus.sock", "").ok());
  const std::string t = "/var/run/ubus/ubus.sock";
  // Through a root-owned link, like /var/run on OpenWrt and Debian: bound.
  std::string link = dir_.path() + "/var";
  ASSERT_EQ(::symlink(host_.c_str(), link.c_str()), 0);
  bool connected = false;
  EXPECT_EQ(bind_in_child(link + "/ubus.sock", t, &connected), "");
  EXPECT_TRUE(connected);
  EXPECT_EQ(pending(), 1);

  // A directory on the way that others may rename in (no sticky bit).
  ASSERT_EQ(::chmod(host_.c_str(), 0777), 0);
  EXPECT_EQ(bind_in_child(sock_, t), "ubus socket " + sock_ + ": the directory " + host_ +
                                         " on its way is writable by group or others without the sticky bit; "
                                         "expected only its owner to rename what lies in it");
  ASSERT_EQ(::chmod(host_.c_str(), 0775), 0);
  EXPECT_NE(bind_in_child(sock_, t).find("writable by group or others"), std::string::npos);
  // Sticky, like /tmp: only an entry's owner renames it.
  ASSERT_EQ(::chmod(host_.c_str(), 01777), 0);
  EXPECT_EQ(bind_in_child(sock_, t, &connected), "");
  EXPECT_TRUE(connected);
  EXPECT_EQ(pending(), 1);
  ASSERT_EQ(::chmod(host_.c_str(), 0755), 0);

  // A directory of another user: refused; of the socket's owner (ubusd runs
  // as its own user on OpenWrt): bound.
  ASSERT_EQ(::chown(host_.c_str(), 4321, 4321), 0);
  EXPECT_EQ(bind_in_child(sock_, t), "ubus socket " + sock_ + ": the directory " + host_ +
                                         " on its way belongs to uid 4321; expected root or the socket's owner (0)");
  ASSERT_EQ(::chown(sock_.c_str(), 4321, 4321), 0);
  EXPECT_EQ(bind_in_child(sock_, t, &connected), "");
  EXPECT_TRUE(connected);
  EXPECT_EQ(pending(), 1);
}

TEST_F(IpcBind, ASocketBelowAWritableHostSourceIsRefusedWhateverItsName) {
  ASSERT_TRUE(write_file_atomic(root_ + "/var/run/ubus/ubus.sock", "").ok());
  const std::string t = "/var/run/ubus/ubus.sock";
  // The container writes host_ through a bind; the manifest names the socket
  // through a link, so the names do not nest but the directories do.
  std::string link = dir_.path() + "/run";
  ASSERT_EQ(::symlink(host_.c_str(), link.c_str()), 0);
  for (const std::string& w : {host_, dir_.path(), std::string("/")})
    EXPECT_EQ(bind_in_child(link + "/ubus.sock", t, nullptr, "", {w}),
              "ubus socket " + link + "/ubus.sock lies at " + sock_ + ", below \"" + w +
                  "\", which the container can write (it could put another socket there); expected it outside "
                  "the container's writable host sources")
        << w;
  // A writable source beside it, or one that only shares a prefix: bound.
  bool connected = false;
  EXPECT_EQ(bind_in_child(link + "/ubus.sock", t, &connected, "", {host_ + "/ubus", host_ + ".d", host_ + "x"}), "");
  EXPECT_TRUE(connected);
  EXPECT_EQ(pending(), 1);
}

}  // namespace
}  // namespace nestbox::launcher
